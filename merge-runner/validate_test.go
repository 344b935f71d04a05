package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
)

func TestValidateCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, s *jobspec.Spec) string {
		b, err := jobspec.Marshal(s)
		require.NoError(t, err)
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	floatKey := testSpec()
	floatKey.Tables[0].Columns[0].Type = "float64"
	snapshotNoKey := testSpec()
	snapshotNoKey.Source = jobspec.Source{Kind: jobspec.SourceSnapshot, Postgres: &jobspec.PostgresSource{Container: "pg", Credential: "r"}}
	snapshotNoKey.Tables[0].PrimaryKey = nil
	badEncoding := testSpec()
	badEncoding.Source.Debezium.Encoding.TimePrecision = "nanos"
	b, err := os.ReadFile("../golden/matrix/platforms/grid/jobs/snapshot_multi.json")
	require.NoError(t, err)
	t.Setenv("TEST_VALIDATE_SPEC", string(b))

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stream string
		tables []any
		err    string
	}{
		{"a good spec", []string{"validate", "--job", write("good.json", testSpec())}, exitOK, "shop",
			[]any{map[string]any{"table": "shop.items", "mode": "live", "write_mode": "merge_on_read"}}, ""},
		{"a golden spec from the environment", []string{"validate", "--job", "env:TEST_VALIDATE_SPEC"}, exitOK, "snapshot_multi", []any{
			map[string]any{"table": "snapshot_multi.a", "mode": "live", "write_mode": "merge_on_read"},
			map[string]any{"table": "snapshot_multi.a_history", "mode": "forensic", "write_mode": "merge_on_read"},
			map[string]any{"table": "snapshot_multi.b", "mode": "live", "write_mode": "copy_on_write"},
			map[string]any{"table": "snapshot_multi.b_history", "mode": "forensic", "write_mode": "copy_on_write"},
		}, ""},
		{"a key Iceberg refuses", []string{"validate", "--job", write("float.json", floatKey)}, exitConfig, "shop",
			[]any{map[string]any{"table": "shop.items", "mode": "live", "write_mode": "merge_on_read"}},
			"table items: primary key column id has type float64, which cannot be an Iceberg identifier field"},
		{"a snapshot without a key", []string{"validate", "--job", write("nokey.json", snapshotNoKey)}, exitConfig, "shop",
			[]any{map[string]any{"table": "shop.items", "mode": "live", "write_mode": "merge_on_read"}},
			"table shop.items: a snapshot capture needs a primary key to tell rows apart"},
		{"an encoding the contract refuses", []string{"validate", "--job", write("enc.json", badEncoding)}, exitConfig, "", []any{},
			`source.debezium.encoding.time_precision "nanos" is not one the merge-runner decodes`},
		{"no such file", []string{"validate", "--job", filepath.Join(dir, "nope.json")}, exitConfig, "", []any{}, "no such file"},
		{"an unset variable", []string{"validate", "--job", "env:NOT_SET_ANYWHERE"}, exitConfig, "", []any{}, "NOT_SET_ANYWHERE is not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := fixture{}.run(t, tc.args...)
			require.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", out, stderr)
			sum := lastLine(t, out)
			assert.EqualValues(t, tc.code, sum["exit_code"])
			assert.Equal(t, tc.stream, sum["stream"])
			assert.Equal(t, tc.tables, sum["tables"])
			if tc.err == "" {
				assert.Equal(t, "ok", sum["status"])
				assert.NotContains(t, sum, "error")
			} else {
				assert.Equal(t, "failed", sum["status"])
				assert.Contains(t, sum["error"], tc.err)
			}
		})
	}

	// Without --job there is nothing to check: a usage error, exit 2.
	code, _, stderr := fixture{}.run(t, "validate")
	assert.Equal(t, exitConfig, code)
	assert.Contains(t, stderr, `required flag(s) "job" not set`)
}
