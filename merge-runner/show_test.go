package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/iceberg-go/table"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// TestShowAppliesDeletes: a table whose files still hold rows that later
// batches deleted or replaced shows the rows a query returns, in every
// format, now and as an earlier snapshot left it.
func TestShowAppliesDeletes(t *testing.T) {
	t.Setenv(envCatalogURI, "")
	t.Setenv(envWarehouse, "")
	f := newFixture(t, testSpec(),
		event("c", 1, "a", 1000), event("c", 2, "b", 1001), event("u", 1, "a2", 1002), event("d", 2, "b", 1003), event("c", 3, "c, \"q\"", 1004))
	code, out, stderr := f.run(t, "run", "--job", f.job, "--events", f.events, "--state", f.state)
	require.Equal(t, exitOK, code, stderr)
	require.EqualValues(t, 3, lastLine(t, out)["batches"], "three snapshots, the files hold five row versions")

	code, out, stderr = f.run(t, "show", "--job", f.job, "--state", f.state, "--table", "items", "--format", "json")
	require.Equal(t, exitOK, code, stderr)
	var rows []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		rows = append(rows, m["name"].(string))
		assert.IsType(t, float64(0), m["id"])
	}
	sort.Strings(rows)
	assert.Equal(t, []string{"a2", "c, \"q\""}, rows)

	code, out, stderr = f.run(t, "show", "--job", f.job, "--state", f.state, "--table", "items", "--format", "csv")
	require.Equal(t, exitOK, code, stderr)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, []string{"id", "name"}, recs[0])
	assert.Len(t, recs, 3)

	code, out, stderr = f.run(t, "show", "--job", f.job, "--state", f.state, "--table", "items", "--limit", "1")
	require.Equal(t, exitOK, code, stderr)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2, out)
	assert.Regexp(t, `^ID\s+NAME$`, lines[0])
	assert.Contains(t, stderr, "1 rows of shop.items (the first 1; --limit 0 shows all)")

	// The first snapshot held a and b.
	code, out, _ = f.run(t, "status", "--job", f.job, "--state", f.state, "--json")
	require.Equal(t, exitOK, code)
	var st []tableStatus
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	first := firstSnapshot(t, f)
	require.NotEqual(t, st[0].SnapshotID, first)
	code, out, stderr = f.run(t, "show", "--job", f.job, "--state", f.state, "--table", "items", "--format", "csv", "--snapshot", itoa(first))
	require.Equal(t, exitOK, code, stderr)
	assert.Equal(t, "id,name\n1,a\n2,b\n", out)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--table", "nope"}, `--table "nope" is not a table of job spec shop; its tables are items`},
		{[]string{"--table", "items", "--format", "xml"}, `--format "xml": use table, json or csv`},
		{[]string{"--table", "items", "--snapshot", "12345"}, "has no snapshot 12345"},
	} {
		code, out, stderr := f.run(t, append([]string{"show", "--job", f.job, "--state", f.state}, tc.args...)...)
		assert.Equal(t, exitConfig, code, out+stderr)
		assert.Contains(t, out+stderr, tc.want)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// firstSnapshot is the id of the items table's first snapshot.
func firstSnapshot(t *testing.T, f fixture) int64 {
	t.Helper()
	cat, err := target.OpenCatalog(context.Background(), target.CatalogConfig{
		Name: "lake", URI: "sqlite:" + filepath.Join(f.state, "catalog.db"), Warehouse: filepath.Join(f.state, "warehouse"),
	})
	require.NoError(t, err)
	defer func() { _ = target.CloseCatalog(cat) }()
	tbl, err := cat.LoadTable(context.Background(), table.Identifier{"shop", "items"})
	require.NoError(t, err)
	return tbl.Metadata().Snapshots()[0].SnapshotID
}
