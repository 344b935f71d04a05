package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/testenv"
)

// The plan spreads its keys over the whole key space, in key order, and
// makes every kind of difference in the proportions it says.
func TestReconPlan(t *testing.T) {
	picks, err := reconPlan(10_000_000, 0.0001)
	require.NoError(t, err)
	require.Len(t, picks, 1000)
	assert.EqualValues(t, 5000, picks[0].ID)
	assert.EqualValues(t, 9_995_000, picks[len(picks)-1].ID, "the last key is near the end of the key space")
	for i := 1; i < len(picks); i++ {
		require.Greater(t, picks[i].ID, picks[i-1].ID, "keys in order, no key twice")
	}
	c := planCounts(10_000_000, picks)
	assert.Equal(t, ReconCounts{
		LegacyRows: 9_999_800, NewRows: 9_999_800, Matching: 9_999_000, OnlyLegacy: 200, OnlyNew: 200, Changed: 600,
		ByColumn: map[string]int64{"name": 150, "price": 150, "qty": 150, "active": 150, "updated_at": 150, "born": 150, "score": 150, "note": 150},
	}, c)

	picks, err = reconPlan(7, 0.0001)
	require.NoError(t, err)
	assert.Equal(t, []pick{{ID: 3, Kind: pickChanged}}, picks, "at least one key differs")

	for _, f := range []float64{0, -0.1, 1.5} {
		_, err := reconPlan(100, f)
		assert.ErrorContains(t, err, "--fraction", "fraction %v", f)
	}
	_, err = reconPlan(0, 0.1)
	assert.ErrorContains(t, err, "snap-prepare")
}

func TestReconCountsMismatches(t *testing.T) {
	want := ReconCounts{LegacyRows: 10, NewRows: 9, Matching: 7, OnlyLegacy: 1, OnlyNew: 0, Changed: 2, ByColumn: map[string]int64{"name": 2}}
	assert.Empty(t, want.mismatches(want))
	got := want
	got.Changed, got.ByColumn = 1, map[string]int64{"name": 1, "qty": 1}
	assert.Equal(t, []string{"changed 1, want 2", "changed_by_column[name] 1, want 2", "changed_by_column[qty] 1, want 0"}, want.mismatches(got))
}

// The legacy copy differs from orders as planned, by the database's own
// count; the Iceberg table merged from orders afterwards has the rows the
// counts say, and the job spec opens that table's catalog.
func TestReconLegacySmall(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.Postgres(t)
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, SnapPrepare(ctx, &out, SnapOptions{DSN: dsn, Dir: dir, Rows: 2000, Tables: 1}))
	out.Reset()
	require.NoError(t, ReconLegacy(ctx, &out, ReconOptions{DSN: dsn, Dir: dir, Fraction: 0.01}))
	var r Result
	require.NoError(t, json.Unmarshal(out.Bytes(), &r), out.String())
	assert.Equal(t, "recon-legacy", r.Step)
	assert.EqualValues(t, 20, r.Events)
	assert.Contains(t, r.Note, "only_legacy=4 only_new=4 changed=12")

	var made ReconCounts
	require.NoError(t, readJSON(filepath.Join(dir, "reconcile-expected.json"), &made))
	assert.Equal(t, ReconCounts{LegacyRows: 1996, NewRows: 1996, Matching: 1980, OnlyLegacy: 4, OnlyNew: 4, Changed: 12,
		ByColumn: map[string]int64{"name": 3, "price": 3, "qty": 3, "active": 3, "updated_at": 3, "born": 3, "score": 3, "note": 3}}, made)

	require.NoError(t, SnapMerge(ctx, &out, SnapOptions{DSN: dsn, Dir: dir, Rows: 2000, Tables: 1}))
	out.Reset()
	require.NoError(t, IcebergScan(ctx, &out, dir))
	require.NoError(t, json.Unmarshal(out.Bytes(), &r))
	assert.Equal(t, "iceberg-scan", r.Step)
	assert.EqualValues(t, made.NewRows, r.Rows)

	out.Reset()
	require.NoError(t, ReconCopy(ctx, &out, ReconOptions{DSN: dsn, Dir: dir}))
	require.NoError(t, json.Unmarshal(out.Bytes(), &r))
	assert.EqualValues(t, made.LegacyRows, r.Rows)

	b, err := os.ReadFile(filepath.Join(dir, "job.json"))
	require.NoError(t, err)
	spec, err := jobspec.Parse(b)
	require.NoError(t, err)
	assert.Equal(t, "lake", spec.Target.Catalog, "the name openCatalog gives the SQLite catalog")
	assert.Equal(t, []string{"id"}, spec.Tables[0].PrimaryKey)
}

func TestSummarize(t *testing.T) {
	lines := `{"step":"snap-prepare","seconds":9}
bench-reconcile: a log line
{"step":"recon-copy","rows":1000,"seconds":2.5,"peak_rss_mib":20}
{"step":"iceberg-scan","rows":1000,"seconds":1.5,"peak_rss_mib":200}
{"step":"recon-run","rows":1000,"seconds":6,"peak_rss_mib":1500,"cpu_seconds":7}
`
	var out bytes.Buffer
	require.NoError(t, Summarize(strings.NewReader(lines), &out))
	var s ReconSummary
	require.NoError(t, json.Unmarshal(out.Bytes(), &s))
	assert.Equal(t, ReconSummary{Step: "summary", Rows: 1000, ReconcileSeconds: 6, ReconcileRSSMiB: 1500, ReconcileCPU: 7,
		CopySeconds: 2.5, ScanSeconds: 1.5, BaselineSeconds: 4, Ratio: 1.5}, s)

	err := Summarize(strings.NewReader(`{"step":"recon-copy","seconds":1}`), &out)
	assert.ErrorContains(t, err, "no recon-run line")
}
