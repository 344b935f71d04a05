package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
)

const topic = "acme.shop.public.items"

func testSpec() *jobspec.Spec {
	return &jobspec.Spec{
		Version: 1, Platform: "lake", Stream: "shop", Datastore: "shop",
		Source: jobspec.Source{Kind: jobspec.SourceDebezium, Debezium: &jobspec.DebeziumSource{
			Container: "minio", Bucket: "landing", Prefix: "cdc",
			Encoding: jobspec.Encoding{DecimalHandling: "string", TimePrecision: "adaptive_time_microseconds", BinaryHandling: "base64"},
		}},
		Target: jobspec.Target{Catalog: "lake", CatalogKind: "sql", Warehouse: "s3://unused/wh", Namespace: "shop"},
		Tables: []jobspec.Table{{
			Dataset: "items", SourceTable: "public.items", Topic: topic, Name: "items", Mode: jobspec.ModeLive,
			PrimaryKey: []string{"id"}, WriteMode: "merge_on_read",
			Columns: []jobspec.Column{
				{Name: "id", Type: "int64"},
				{Name: "name", Type: "varchar", Length: 50, Nullable: true},
			},
		}},
		Batch: jobspec.Batch{MaxEvents: 2},
	}
}

// event is a Debezium PostgreSQL event whose commit order is its time:
// source.sequence is [ts, ts] (SourceInfo#sequence).
func event(op string, id int, name string, ts int64) string {
	img := fmt.Sprintf(`{"id":%d,"name":%q}`, id, name)
	before, after := "null", img
	if op == "d" {
		before, after = img, "null"
	}
	return fmt.Sprintf(`{"before":%s,"after":%s,"source":{"connector":"postgresql","name":"acme","ts_ms":%d,"db":"shop","sequence":"[\"%d\",\"%d\"]","schema":"public","table":"items","lsn":%d},"op":%q,"ts_ms":%d}`, before, after, ts, ts, ts, ts, op, ts)
}

// fixture is a job spec file, a landing folder and a state folder.
type fixture struct{ dir, job, events, state string }

func newFixture(t *testing.T, spec *jobspec.Spec, lines ...string) fixture {
	t.Helper()
	dir := t.TempDir()
	f := fixture{dir: dir, job: filepath.Join(dir, "job.json"), events: filepath.Join(dir, "events"), state: filepath.Join(dir, "state")}
	b, err := jobspec.Marshal(spec)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(f.job, b, 0o644))
	part := filepath.Join(f.events, "cdc", topic, "partition=0")
	require.NoError(t, os.MkdirAll(part, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(part, topic+"+0+0000000000.json"), []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	return f
}

func (f fixture) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func lastLine(t *testing.T, s string) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(s), "\n")
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &m), s)
	return m
}

func TestRunStatusMaintain(t *testing.T) {
	t.Setenv(envCatalogURI, "")
	t.Setenv(envWarehouse, "")
	f := newFixture(t, testSpec(),
		event("c", 1, "a", 1000), event("c", 2, "b", 1001), event("u", 1, "a2", 1002), event("d", 2, "b", 1003), event("c", 3, "c", 1004))
	code, out, stderr := f.run(t, "run", "--job", f.job, "--events", f.events, "--state", f.state)
	require.Equal(t, exitOK, code, stderr)
	sum := lastLine(t, out)
	assert.Equal(t, "ok", sum["status"])
	assert.EqualValues(t, 5, sum["events"])
	assert.EqualValues(t, 3, sum["rows_inserted"])
	assert.EqualValues(t, 1, sum["rows_updated"])
	assert.EqualValues(t, 1, sum["rows_deleted"])
	assert.EqualValues(t, 3, sum["batches"])
	assert.Greater(t, sum["files"], 0.0)
	assert.Greater(t, sum["bytes"], 0.0)
	assert.Greater(t, sum["lag_seconds"], 0.0)
	assert.Contains(t, stderr, `"msg":"batch committed"`)

	code, out, stderr = f.run(t, "status", "--job", f.job, "--state", f.state, "--json")
	require.Equal(t, exitOK, code, stderr)
	var st []tableStatus
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	require.Len(t, st, 1)
	assert.Equal(t, `{"0":5}`, st[0].Position)
	assert.EqualValues(t, 3, st[0].Batch)
	assert.EqualValues(t, 1004, st[0].SourceTsMs)
	assert.Positive(t, st[0].DataFiles)

	code, out, stderr = f.run(t, "maintain", "--job", f.job, "--state", f.state, "--min-input-files", "2", "--keep-last", "1", "--keep-newer-than", "0s")
	require.Equal(t, exitOK, code, stderr)
	assert.Equal(t, "ok", lastLine(t, out)["status"])

	code, out, _ = f.run(t, "status", "--job", f.job, "--state", f.state)
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, `shop.items  {"0":5}`)

	// The job spec from the environment, as the DAG passes it.
	b, err := os.ReadFile(f.job)
	require.NoError(t, err)
	t.Setenv("TEST_JOB_SPEC", string(b))
	code, out, stderr = f.run(t, "run", "--job", "env:TEST_JOB_SPEC", "--events", f.events, "--state", f.state)
	require.Equal(t, exitOK, code, stderr)
	assert.EqualValues(t, 0, lastLine(t, out)["events"])
}

func TestExitCodes(t *testing.T) {
	t.Setenv(envCatalogURI, "")
	t.Setenv(envWarehouse, "")
	good := newFixture(t, testSpec(), event("c", 1, "a", 1000))
	bad := newFixture(t, testSpec(), event("c", 1, "a", 1000), `{"before":null,"after":{"id":"x"`)
	rekeyed := testSpec()
	rekeyed.Tables[0].PrimaryKey = []string{"name"}
	rekeyed.Tables[0].Columns[1].Nullable = false
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no job", []string{"run"}, exitConfig, `required flag(s) "job" not set`},
		{"unknown flag", []string{"run", "--job", good.job, "--bogus"}, exitConfig, "unknown flag"},
		{"missing spec file", []string{"run", "--job", filepath.Join(good.dir, "nope.json")}, exitConfig, "no such file"},
		{"unset env spec", []string{"run", "--job", "env:NOT_SET_ANYWHERE"}, exitConfig, "NOT_SET_ANYWHERE is not set"},
		{"bad catalog uri", []string{"run", "--job", good.job, "--events", good.events, "--catalog-uri", "mysql://x"}, exitConfig, "use sqlite:PATH"},
		{"events not a folder", []string{"run", "--job", good.job, "--events", good.job}, exitConfig, "not a folder"},
		{"bad input", []string{"run", "--job", bad.job, "--events", bad.events, "--state", bad.state}, exitBadInput, "line 2 (partition 0, offset 1)"},
		{"catalog unreachable", []string{"run", "--job", good.job, "--events", good.events, "--catalog-uri", "postgresql://127.0.0.1:1/none?connect_timeout=2", "--warehouse", good.dir}, exitRetryable, "127.0.0.1:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := good.run(t, tc.args...)
			assert.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", out, stderr)
			assert.Contains(t, out+stderr, tc.want)
		})
	}
	// A key change against an existing table is a configuration error.
	code, _, stderr := good.run(t, "run", "--job", good.job, "--events", good.events, "--state", good.state)
	require.Equal(t, exitOK, code, stderr)
	b, err := jobspec.Marshal(rekeyed)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(good.job, b, 0o644))
	code, out, _ := good.run(t, "run", "--job", good.job, "--events", good.events, "--state", good.state)
	assert.Equal(t, exitConfig, code)
	assert.Contains(t, out, "a key change is not an allowed evolution")
}
