package target

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
	"github.com/datasurface/datasurface/merge-runner/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func twoTables(t *testing.T, uri string) (catalog.Catalog, []*table.Table) {
	t.Helper()
	ctx := context.Background()
	cat, err := OpenCatalog(ctx, CatalogConfig{Name: "lake", URI: uri, Warehouse: filepath.Join(t.TempDir(), "wh")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = CloseCatalog(cat) })
	var out []*table.Table
	for _, name := range []string{"a", "b"} {
		spec := &jobspec.Table{Name: name, Mode: jobspec.ModeLive, PrimaryKey: []string{"id"}, Columns: []jobspec.Column{{Name: "id", Type: "int64"}}}
		tbl, _, err := Ensure(ctx, cat, "ns", spec)
		require.NoError(t, err)
		out = append(out, tbl)
	}
	return cat, out
}

func appendRows(t *testing.T, tbl *table.Table, ids ...int64) *table.Transaction {
	t.Helper()
	sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
	require.NoError(t, err)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues(ids, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	tx := tbl.NewTransaction()
	rdr, err := array.NewRecordReader(sc, []arrow.RecordBatch{rec})
	require.NoError(t, err)
	require.NoError(t, tx.Append(context.Background(), rdr, nil))
	return tx
}

func count(t *testing.T, cat catalog.Catalog, name string) int {
	t.Helper()
	tbl, err := cat.LoadTable(context.Background(), table.Identifier{"ns", name})
	require.NoError(t, err)
	n := 0
	require.NoError(t, Scan(context.Background(), tbl, iceberg.AlwaysTrue{}, []string{"id"}, func([]row.Value) error { n++; return nil }))
	return n
}

// TestCommitTablesAllOrNone: two tables' changes commit as one; when
// another writer moved one of them first, neither changes.
func TestCommitTablesAllOrNone(t *testing.T) {
	for name, uri := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "cat.db") },
		"postgres": func(t *testing.T) string { return testenv.Postgres(t) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			cat, tbls := twoTables(t, uri(t))
			require.NoError(t, CommitTables(ctx, cat, []*table.Transaction{appendRows(t, tbls[0], 1, 2), appendRows(t, tbls[1], 3)}))
			assert.Equal(t, 2, count(t, cat, "a"))
			assert.Equal(t, 1, count(t, cat, "b"))

			a, err := cat.LoadTable(ctx, table.Identifier{"ns", "a"})
			require.NoError(t, err)
			b, err := cat.LoadTable(ctx, table.Identifier{"ns", "b"})
			require.NoError(t, err)
			txA, txB := appendRows(t, a, 4), appendRows(t, b, 5)
			// Another writer commits to b first.
			_, err = appendRows(t, b, 6).Commit(ctx)
			require.NoError(t, err)
			err = CommitTables(ctx, cat, []*table.Transaction{txA, txB})
			require.Error(t, err)
			assert.True(t, errors.Is(err, table.ErrCommitFailed), "%v", err)
			assert.Equal(t, 2, count(t, cat, "a"), "a is unchanged: all or none")
			assert.Equal(t, 2, count(t, cat, "b"), "b has the other writer's row only")
		})
	}
}
