package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// TestMaintainReportsEveryTable: of three tables, one is maintained, one
// may not have its snapshots expired (a configuration error) and one no run
// has created yet (retryable); the summary has all three, and the exit code
// is the configuration error's.
func TestMaintainReportsEveryTable(t *testing.T) {
	t.Setenv(envCatalogURI, "")
	t.Setenv(envWarehouse, "")
	spec := testSpec()
	second := spec.Tables[0]
	second.Name = "items_kept"
	spec.Tables = append(spec.Tables, second)
	f := newFixture(t, spec,
		event("c", 1, "a", 1000), event("c", 2, "b", 1001), event("u", 1, "a2", 1002), event("d", 2, "b", 1003), event("c", 3, "c", 1004))
	code, _, stderr := f.run(t, "run", "--job", f.job, "--events", f.events, "--state", f.state)
	require.Equal(t, exitOK, code, stderr)

	cat, err := target.OpenCatalog(context.Background(), target.CatalogConfig{
		Name: "lake", URI: "sqlite:" + filepath.Join(f.state, "catalog.db"), Warehouse: filepath.Join(f.state, "warehouse"),
	})
	require.NoError(t, err)
	tbl, err := cat.LoadTable(context.Background(), table.Identifier{"shop", "items_kept"})
	require.NoError(t, err)
	tx := tbl.NewTransaction()
	require.NoError(t, tx.SetProperties(iceberg.Properties{table.GCEnabledKey: "false"}))
	_, err = tx.Commit(context.Background())
	require.NoError(t, err)
	require.NoError(t, target.CloseCatalog(cat))

	third := spec.Tables[0]
	third.Name = "items_new"
	spec.Tables = append(spec.Tables, third)
	b, err := jobspec.Marshal(spec)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(f.job, b, 0o644))

	code, out, stderr := f.run(t, "maintain", "--job", f.job, "--state", f.state, "--min-input-files", "2", "--keep-last", "1", "--keep-newer-than", "0s")
	assert.Equal(t, exitConfig, code, stderr)
	assert.Equal(t, 1, strings.Count(out, "\n"), "stdout is the summary line: %s", out)
	assert.NotContains(t, stderr, "merge-runner: ", "the summary reported the error")
	sum := lastLine(t, out)
	assert.Equal(t, "failed", sum["status"])
	assert.EqualValues(t, exitConfig, sum["exit_code"])
	assert.Contains(t, sum["error"], "gc.enabled=false")
	assert.NotContains(t, sum["error"], "items_new")
	tables, _ := sum["tables"].([]any)
	require.Len(t, tables, 3, out)
	byName := map[string]map[string]any{}
	for _, v := range tables {
		m := v.(map[string]any)
		byName[m["table"].(string)] = m
	}

	ok := byName["shop.items"]
	assert.Equal(t, "ok", ok["status"])
	assert.EqualValues(t, exitOK, ok["exit_code"])
	assert.NotContains(t, ok, "error")
	assert.Greater(t, ok["rewritten_files"], 0.0)
	assert.Greater(t, ok["expired_snapshots"], 0.0)

	kept := byName["shop.items_kept"]
	assert.Equal(t, "failed", kept["status"])
	assert.EqualValues(t, exitConfig, kept["exit_code"])
	assert.Contains(t, kept["error"], "table shop.items_kept: expiring snapshots: ")
	assert.Greater(t, kept["rewritten_files"], 0.0, "compacted before expiry failed")

	// A table no merge has created yet has nothing to maintain.
	missing := byName["shop.items_new"]
	assert.Equal(t, "absent", missing["status"])
	assert.EqualValues(t, exitOK, missing["exit_code"])
	assert.NotContains(t, missing, "error")

	// Both existing tables keep their position.
	code, out, stderr = f.run(t, "status", "--job", f.job, "--state", f.state, "--json")
	require.Equal(t, exitOK, code, stderr)
	var st []tableStatus
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	require.Len(t, st, 3)
	for _, s := range st[:2] {
		assert.Equal(t, `{"0":5}`, s.Position, s.Table)
		assert.EqualValues(t, 3, s.Batch, s.Table)
	}
	assert.Equal(t, 1, st[0].Snapshots, "expired down to the compaction snapshot")
	assert.Greater(t, st[1].Snapshots, 1, "not expired")
}
