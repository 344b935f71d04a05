package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/iceberg-go/table"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// ensureSpec is testSpec with a partitioned live table and its
// copy-on-write history table.
func ensureSpec() *jobspec.Spec {
	s := testSpec()
	live := &s.Tables[0]
	live.Columns = append(live.Columns, jobspec.Column{Name: "region", Type: "char", Length: 2, Nullable: true})
	live.PartitionBy = []string{"region"}
	h := *live
	h.Columns = append([]jobspec.Column(nil), live.Columns...)
	h.Name, h.Mode, h.WriteMode = "items_history", jobspec.ModeForensic, jobspec.WriteCopyOnWrite
	s.Tables = append(s.Tables, h)
	return s
}

func writeSpec(t *testing.T, path string, s *jobspec.Spec) {
	t.Helper()
	b, err := jobspec.Marshal(s)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

// loadTable opens the fixture's embedded catalog and loads a table of shop.
func loadTable(t *testing.T, f fixture, name string) *table.Table {
	t.Helper()
	cat, err := target.OpenCatalog(context.Background(), target.CatalogConfig{
		Name: "lake", URI: "sqlite:" + filepath.Join(f.state, "catalog.db"), Warehouse: filepath.Join(f.state, "warehouse"),
	})
	require.NoError(t, err)
	defer func() { _ = target.CloseCatalog(cat) }()
	tbl, err := cat.LoadTable(context.Background(), table.Identifier{"shop", name})
	require.NoError(t, err)
	return tbl
}

func fieldNames(tbl *table.Table) []string {
	var out []string
	for _, f := range tbl.Schema().Fields() {
		out = append(out, f.Name)
	}
	return out
}

// TestEnsureCreatesEvolvesAndIsIdempotent: ensure creates every table of a
// spec as a run would (schema, key, partitioning, write mode) and commits
// no data; run again it does nothing; after the model adds a column, widens
// one and changes a write mode it evolves the tables; a change that is not
// an allowed evolution stops it with exit 2; a run then merges into the
// tables ensure made.
func TestEnsureCreatesEvolvesAndIsIdempotent(t *testing.T) {
	t.Setenv(envCatalogURI, "")
	t.Setenv(envWarehouse, "")
	f := newFixture(t, ensureSpec(), event("c", 1, "a", 1000), event("c", 2, "b", 1001))
	ensure := func() (int, map[string]any, string) {
		code, out, stderr := f.run(t, "ensure", "--job", f.job, "--state", f.state)
		return code, lastLine(t, out), stderr
	}

	code, sum, stderr := ensure()
	require.Equal(t, exitOK, code, stderr)
	assert.Equal(t, "ok", sum["status"])
	assert.Equal(t, "shop", sum["stream"])
	assert.Equal(t, []any{
		map[string]any{"table": "shop.items", "action": "created", "write_mode": "merge_on_read"},
		map[string]any{"table": "shop.items_history", "action": "created", "write_mode": "copy_on_write"},
	}, sum["tables"])
	live, hist := loadTable(t, f, "items"), loadTable(t, f, "items_history")
	assert.Equal(t, []string{"id", "name", "region"}, fieldNames(live))
	assert.Equal(t, []string{"id", "name", "region", jobspec.ColValidFrom, jobspec.ColValidTo, jobspec.ColBatchIn, jobspec.ColBatchOut}, fieldNames(hist))
	assert.Len(t, live.Schema().IdentifierFieldIDs, 1, "the primary key is the identifier field")
	spec := live.Spec()
	var parts []string
	for _, pf := range spec.Fields() {
		parts = append(parts, pf.Name+":"+pf.Transform.String())
	}
	assert.Equal(t, []string{"region:identity"}, parts, "partitioned by the spec's columns")
	assert.Equal(t, "merge-on-read", live.Properties()["write.delete.mode"])
	assert.Equal(t, "copy-on-write", hist.Properties()["write.update.mode"])
	assert.Nil(t, live.CurrentSnapshot(), "no data is committed")
	assert.Nil(t, hist.CurrentSnapshot(), "no data is committed")
	assert.Empty(t, hist.Metadata().Snapshots())

	code, sum, stderr = ensure()
	require.Equal(t, exitOK, code, stderr)
	assert.Equal(t, []any{
		map[string]any{"table": "shop.items", "action": "unchanged", "write_mode": "merge_on_read"},
		map[string]any{"table": "shop.items_history", "action": "unchanged", "write_mode": "copy_on_write"},
	}, sum["tables"], "a second ensure changes nothing")
	assert.Equal(t, live.Metadata().LastUpdatedMillis(), loadTable(t, f, "items").Metadata().LastUpdatedMillis(), "nothing was committed")

	// The model adds a nullable column, widens name and makes the live
	// table copy-on-write.
	evolved := ensureSpec()
	for i := range evolved.Tables {
		tb := &evolved.Tables[i]
		tb.Columns[1].Length = 200
		tb.Columns = append(tb.Columns, jobspec.Column{Name: "note", Type: "text", Nullable: true})
	}
	evolved.Tables[0].WriteMode = jobspec.WriteCopyOnWrite
	writeSpec(t, f.job, evolved)
	code, sum, stderr = ensure()
	require.Equal(t, exitOK, code, stderr)
	tables := sum["tables"].([]any)
	require.Len(t, tables, 2)
	liveSum, histSum := tables[0].(map[string]any), tables[1].(map[string]any)
	assert.Equal(t, "evolved", liveSum["action"])
	assert.Equal(t, true, liveSum["write_mode_set"])
	assert.Len(t, liveSum["evolutions"], 1, "varchar lengths are not Iceberg types: only the added column changes the schema")
	assert.Contains(t, liveSum["evolutions"].([]any)[0], "note")
	assert.Equal(t, "evolved", histSum["action"])
	assert.NotContains(t, histSum, "write_mode_set", "the history table was copy-on-write already")
	assert.Equal(t, []string{"id", "name", "region", "note"}, fieldNames(loadTable(t, f, "items")))
	assert.Equal(t, "copy-on-write", loadTable(t, f, "items").Properties()["write.delete.mode"])

	// A narrowing is not an allowed evolution: exit 2, naming the table
	// and column, and the table is left as it was.
	narrowed := ensureSpec()
	narrowed.Tables[0].Columns[0].Type = "int32"
	writeSpec(t, f.job, narrowed)
	code, sum, _ = ensure()
	assert.Equal(t, exitConfig, code)
	assert.Equal(t, "failed", sum["status"])
	assert.EqualValues(t, exitConfig, sum["exit_code"])
	assert.Contains(t, sum["error"], "shop.items")
	assert.Contains(t, sum["error"], "id")

	// A run merges into the tables ensure made.
	writeSpec(t, f.job, evolved)
	code, out, stderr := f.run(t, "run", "--job", f.job, "--events", f.events, "--state", f.state)
	require.Equal(t, exitOK, code, stderr)
	assert.EqualValues(t, 4, lastLine(t, out)["rows_inserted"], "two rows into each of the two tables")
	assert.NotNil(t, loadTable(t, f, "items").CurrentSnapshot())
}

// TestEnsureRefusesABadSpec: the spec is checked as run checks it, before
// any catalog is opened.
func TestEnsureRefusesABadSpec(t *testing.T) {
	t.Setenv(envCatalogURI, "")
	s := testSpec()
	s.Tables[0].Columns[0].Type = "float64" // not a key Iceberg accepts
	f := newFixture(t, s)
	code, out, _ := f.run(t, "ensure", "--job", f.job, "--state", f.state)
	assert.Equal(t, exitConfig, code)
	sum := lastLine(t, out)
	assert.Contains(t, sum["error"], "primary key column id has type float64")
	_, err := os.Stat(filepath.Join(f.state, "catalog.db"))
	assert.True(t, os.IsNotExist(err), "no catalog was created for a spec a run would refuse")

	code, _, stderr := fixture{}.run(t, "ensure")
	assert.Equal(t, exitConfig, code)
	assert.Contains(t, stderr, "required flag")
}
