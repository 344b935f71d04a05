package merge

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/badinput"
	"github.com/datasurface/datasurface/merge-runner/internal/pgsource"
	"github.com/datasurface/datasurface/merge-runner/internal/testenv"
)

// productsSpec reads catalogue.products, a table of many types.
func productsSpec(kind, mode string) *jobspec.Spec {
	name := "products"
	if mode == jobspec.ModeForensic {
		name = "products_history"
	}
	src := &jobspec.PostgresSource{Container: "pg", Credential: "reader"}
	if kind == jobspec.SourceWatermark {
		src.WatermarkColumn = "updated_at"
	}
	return &jobspec.Spec{
		Version: 1, Platform: "lake", Stream: "products", Datastore: "catalogue",
		Source: jobspec.Source{Kind: kind, Postgres: src},
		Target: jobspec.Target{Catalog: "lake", CatalogKind: "sql", Namespace: "catalogue"},
		Tables: []jobspec.Table{{
			Dataset: "products", SourceTable: "catalogue.products", Name: name, Mode: mode,
			PrimaryKey: []string{"sku"}, WriteMode: "merge_on_read",
			Columns: []jobspec.Column{
				{Name: "sku", Type: "varchar", Length: 20},
				{Name: "title", Type: "text", Nullable: true},
				{Name: "price", Type: "decimal", Precision: 10, Scale: 2, Nullable: true},
				{Name: "tags", Type: "list", Nullable: true, Element: &jobspec.Column{Name: "element", Type: "text", Nullable: true}},
				{Name: "attrs", Type: "map", Nullable: true, Key: &jobspec.Column{Name: "key", Type: "text"}, Value: &jobspec.Column{Name: "value", Type: "text", Nullable: true}},
				{Name: "ref", Type: "uuid", Nullable: true},
				{Name: "blob", Type: "binary", Nullable: true},
				{Name: "born", Type: "date", Nullable: true},
				{Name: "seen", Type: "timestamptz", Nullable: true},
				{Name: "updated_at", Type: "timestamp"},
			},
		}},
		Batch: jobspec.Batch{MaxEvents: 2},
	}
}

func sourceDB(t *testing.T) (*pgx.Conn, *pgsource.Source) {
	t.Helper()
	ctx := context.Background()
	dsn := newPostgresDSN(t)
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(ctx) })
	_, err = conn.Exec(ctx, `CREATE SCHEMA catalogue;
CREATE TABLE catalogue.products (sku varchar(20) PRIMARY KEY, title text, price numeric(10,2), tags text[], attrs jsonb,
  ref uuid, blob bytea, born date, seen timestamptz, updated_at timestamp NOT NULL, extra int);
INSERT INTO catalogue.products VALUES
  ('a', 'Apple', 1.50, ARRAY['fruit','red'], '{"origin":"NZ"}', 'c4b76a36-e9e9-a146-4459-b35b8d620641', '\x0102', '2020-02-29', '2024-01-01 10:00:00.123456+02', '2024-01-01 00:00:01'),
  ('b', 'Bean ''quoted''', NULL, ARRAY[]::text[], NULL, NULL, NULL, NULL, NULL, '2024-01-01 00:00:02'),
  ('c', NULL, 1234567.89, ARRAY['x', NULL], '{"k":null}', NULL, '\x', '1969-07-20', '1969-07-20 20:17:40+00', '2024-01-01 00:00:02'),
  ('d', 'Date', 0.01, NULL, '{}', NULL, NULL, NULL, NULL, '2024-01-01 00:00:03')`)
	require.NoError(t, err)
	src, err := pgsource.Open(ctx, dsn, "", "")
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close(ctx) })
	return conn, src
}

func newPostgresDSN(t *testing.T) string {
	t.Helper()
	return testenv.Postgres(t)
}

func TestSnapshotReplacesTheTable(t *testing.T) {
	conn, src := sourceDB(t)
	e := newEnv(t)
	spec := productsSpec(jobspec.SourceSnapshot, jobspec.ModeLive)
	ctx := context.Background()
	st, err := RunSQL(ctx, e.catalog, spec, src, e.opts())
	require.NoError(t, err)
	assert.EqualValues(t, 4, st[0].Inserted)
	want := []string{
		"a|Apple|1.50|[\"fruit\", \"red\"]|map[\"origin\": \"NZ\"]|c4b76a36-e9e9-a146-4459-b35b8d620641|0x0102|date(18321)|timestamptz(1704096000123456us)|timestamp(1704067201000000us)",
		"b|Bean 'quoted'|NULL|[]|NULL|NULL|NULL|NULL|NULL|timestamp(1704067202000000us)",
		"c|NULL|1234567.89|[\"x\", NULL]|map[\"k\": NULL]|NULL|0x|date(-165)|timestamptz(-14182940000000us)|timestamp(1704067202000000us)",
		"d|Date|0.01|NULL|map[]|NULL|NULL|NULL|NULL|timestamp(1704067203000000us)",
	}
	assert.Equal(t, want, e.rows(t, spec, 0))

	// The source changes: a row goes, one changes, one comes; the next
	// snapshot makes the table equal again.
	_, err = conn.Exec(ctx, `DELETE FROM catalogue.products WHERE sku = 'b';
UPDATE catalogue.products SET price = 2.00 WHERE sku = 'a';
INSERT INTO catalogue.products (sku, title, updated_at) VALUES ('e', 'Egg', '2024-01-02')`)
	require.NoError(t, err)
	_, err = RunSQL(ctx, e.catalog, spec, src, e.opts())
	require.NoError(t, err)
	got := e.rows(t, spec, 0)
	require.Len(t, got, 4)
	assert.True(t, strings.HasPrefix(got[0], "a|Apple|2.00|"))
	assert.True(t, strings.HasPrefix(got[3], "e|Egg|NULL|"))
	for _, r := range got {
		assert.False(t, strings.HasPrefix(r, "b|"), "b was deleted at the source")
	}
}

func TestWatermarkAppliesWhatGrew(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []string{jobspec.ModeLive, jobspec.ModeForensic} {
		t.Run(mode, func(t *testing.T) {
			conn, src := sourceDB(t)
			e := newEnv(t)
			spec := productsSpec(jobspec.SourceWatermark, mode)
			st, err := RunSQL(ctx, e.catalog, spec, src, e.opts())
			require.NoError(t, err)
			// MaxEvents 2: b and c share a watermark, so the batches are {a, b, c} and {d}.
			assert.EqualValues(t, 2, st[0].Batches)
			assert.Equal(t, "2024-01-01 00:00:03", st[0].Position)
			assert.Len(t, e.rows(t, spec, 0), 4)

			st, err = RunSQL(ctx, e.catalog, spec, src, e.opts())
			require.NoError(t, err)
			assert.Zero(t, st[0].Events, "nothing grew")

			_, err = conn.Exec(ctx, `UPDATE catalogue.products SET title = 'Apple '||'`+mode+`', updated_at = '2024-01-05' WHERE sku = 'a'`)
			require.NoError(t, err)
			st, err = RunSQL(ctx, e.catalog, spec, src, e.opts())
			require.NoError(t, err)
			assert.EqualValues(t, 1, st[0].Events)
			rows := e.rows(t, spec, 0)
			sort.Strings(rows)
			if mode == jobspec.ModeLive {
				assert.Len(t, rows, 4)
				assert.True(t, strings.HasPrefix(rows[0], "a|Apple live|"), rows[0])
			} else {
				assert.Len(t, rows, 5, "a has two versions")
				assert.Contains(t, rows[0]+rows[1], "|Apple|")
			}
		})
	}
}

func TestSnapshotBadRowIsBadInput(t *testing.T) {
	_, src := sourceDB(t)
	spec := productsSpec(jobspec.SourceSnapshot, jobspec.ModeLive)
	spec.Tables[0].Columns[2].Precision = 3 // the spec says less than the source holds
	e := newEnv(t)
	_, err := RunSQL(context.Background(), e.catalog, spec, src, e.opts())
	require.Error(t, err)
	_, isBad := badinput.As(err)
	assert.True(t, isBad, "exit 3: retrying cannot help")
	assert.Contains(t, err.Error(), "postgres table catalogue.products")
	assert.Contains(t, err.Error(), "does not fit decimal(3,2)")
}
