package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/testenv"
)

// reconcileEnv is a source table merged into a live Iceberg table by the
// run command (a postgres_snapshot spec), and a connection to make legacy
// copies of the source table beside it.
type reconcileEnv struct {
	f    fixture
	conn *pgx.Conn
}

func newReconcileEnv(t *testing.T) *reconcileEnv {
	dsn := testenv.Postgres(t)
	conn, err := pgx.Connect(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	_, err = conn.Exec(context.Background(), `CREATE TABLE orders (
	id bigint PRIMARY KEY, name text NOT NULL, code char(5), amount numeric(12,2), score double precision,
	placed timestamp, updated timestamptz NOT NULL, paid boolean, due date);
INSERT INTO orders VALUES
	(1, 'anna', 'AB', 10.50, 0.1, '2026-11-24 16:00:00.123456', '2026-11-24 16:00:00+00', true, '2026-12-01'),
	(2, 'ben', 'CD', 20.00, 1.5, '2026-11-24 17:00:00.000999', '2026-11-24 17:00:00+00', false, '2026-12-02'),
	(3, 'cleo', NULL, NULL, NULL, NULL, '2026-11-24 18:00:00+00', NULL, NULL),
	(4, 'dan', 'EFGHI', 99.99, -2.25, '2026-11-25 09:30:00.5', '2026-11-25 09:30:00+00', true, '2026-12-03');
CREATE SCHEMA legacy;`)
	require.NoError(t, err)
	spec := &jobspec.Spec{
		Version: 1, Platform: "lake", Stream: "shop", Datastore: "shop",
		Source: jobspec.Source{Kind: jobspec.SourceSnapshot, Postgres: &jobspec.PostgresSource{Container: "pg", Credential: "reader"}},
		Target: jobspec.Target{Catalog: "lake", CatalogKind: "sql", Namespace: "shop"},
		Tables: []jobspec.Table{{Dataset: "orders", SourceTable: "public.orders", Name: "orders", Mode: jobspec.ModeLive,
			PrimaryKey: []string{"id"}, WriteMode: "merge_on_read", Columns: []jobspec.Column{
				{Name: "id", Type: "int64"}, {Name: "name", Type: "text"}, {Name: "code", Type: "char", Length: 5, Nullable: true},
				{Name: "amount", Type: "decimal", Precision: 12, Scale: 2, Nullable: true}, {Name: "score", Type: "float64", Nullable: true},
				{Name: "placed", Type: "timestamp", Nullable: true}, {Name: "updated", Type: "timestamptz"},
				{Name: "paid", Type: "boolean", Nullable: true}, {Name: "due", Type: "date", Nullable: true},
			}}},
		Batch: jobspec.Batch{MaxEvents: 100000},
	}
	f := newFixture(t, spec)
	t.Setenv(envCatalogURI, "")
	t.Setenv(envWarehouse, "")
	t.Setenv(envSourceURI, dsn)
	t.Setenv(envLegacyURI, "")
	code, out, stderr := f.run(t, "run", "--job", f.job, "--state", f.state)
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", out, stderr)
	return &reconcileEnv{f: f, conn: conn}
}

// legacy makes legacy.<name>, a copy of the source table, and changes it.
func (e *reconcileEnv) legacy(t *testing.T, name, changes string) string {
	t.Helper()
	_, err := e.conn.Exec(context.Background(), `CREATE TABLE legacy.`+name+` (LIKE orders INCLUDING ALL);
INSERT INTO legacy.`+name+` SELECT * FROM orders;
`+strings.ReplaceAll(changes, "$T", "legacy."+name))
	require.NoError(t, err)
	return "legacy." + name
}

func (e *reconcileEnv) reconcile(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return e.f.run(t, append([]string{"reconcile", "--job", e.f.job, "--state", e.f.state, "--table", "orders"}, args...)...)
}

func (e *reconcileEnv) reconcileJSON(t *testing.T, args ...string) (int, map[string]any) {
	t.Helper()
	code, out, stderr := e.reconcile(t, append(args, "--format", "json")...)
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &m), "stdout: %s\nstderr: %s", out, stderr)
	return code, m
}

func TestReconcile(t *testing.T) {
	e := newReconcileEnv(t)

	t.Run("equal tables", func(t *testing.T) {
		lt := e.legacy(t, "same", "")
		code, out, stderr := e.reconcile(t, "--legacy-table", lt)
		require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", out, stderr)
		assert.Contains(t, out, "equal within the tolerances")
		assert.Contains(t, out, "| rows | 4 | 4 |")
		assert.NotContains(t, out, "Differing keys")

		code, m := e.reconcileJSON(t, "--legacy-table", lt)
		assert.Equal(t, exitOK, code)
		assert.Equal(t, true, m["equal"])
		assert.EqualValues(t, 4, m["legacy_rows"])
		assert.EqualValues(t, 4, m["new_rows"])
		assert.EqualValues(t, 4, m["matching_rows"])
		assert.Empty(t, m["diffs"])
	})

	t.Run("extra and missing keys", func(t *testing.T) {
		lt := e.legacy(t, "keys", `DELETE FROM $T WHERE id IN (1, 4);
INSERT INTO $T VALUES (0, 'zed', NULL, NULL, NULL, NULL, '2026-11-20 00:00:00+00', NULL, NULL), (7, 'eve', NULL, NULL, NULL, NULL, '2026-11-20 00:00:00+00', NULL, NULL)`)
		code, m := e.reconcileJSON(t, "--legacy-table", lt)
		assert.Equal(t, exitDiffer, code)
		assert.Equal(t, false, m["equal"])
		assert.EqualValues(t, 4, m["legacy_rows"])
		assert.EqualValues(t, 4, m["new_rows"])
		assert.EqualValues(t, 2, m["only_legacy"])
		assert.EqualValues(t, 2, m["only_new"])
		assert.EqualValues(t, 0, m["changed"])
		var got []string
		for _, d := range m["diffs"].([]any) {
			d := d.(map[string]any)
			got = append(got, fmt.Sprintf("%s:%v", d["kind"], d["key"].(map[string]any)["id"]))
		}
		assert.Equal(t, []string{"only_legacy:0", "only_new:1", "only_new:4", "only_legacy:7"}, got, "in key order")

		code, out, _ := e.reconcile(t, "--legacy-table", lt)
		assert.Equal(t, exitDiffer, code)
		assert.Contains(t, out, "**different**")
		assert.Contains(t, out, "| keys only here | 2 | 2 |")
		assert.Contains(t, out, "| 0 | only in legacy | | | |")
		assert.Contains(t, out, "| 4 | only in new | | | |")

		code, m = e.reconcileJSON(t, "--legacy-table", lt, "--max-diffs", "1")
		assert.Equal(t, exitDiffer, code)
		assert.Len(t, m["diffs"], 1)
		assert.Equal(t, true, m["diffs_truncated"])
		assert.EqualValues(t, 2, m["only_new"], "the counts cover every key")
	})

	t.Run("changed values in several types", func(t *testing.T) {
		lt := e.legacy(t, "changed", `UPDATE $T SET name = 'Anna', amount = 10.51, paid = NULL WHERE id = 1;
UPDATE $T SET score = 1.25, placed = '2026-11-24 17:00:00.001', due = '2026-12-12', code = 'CX' WHERE id = 2;
UPDATE $T SET updated = '2026-11-24 18:00:01+00', code = 'Q' WHERE id = 3`)
		code, m := e.reconcileJSON(t, "--legacy-table", lt)
		assert.Equal(t, exitDiffer, code)
		assert.EqualValues(t, 3, m["changed"])
		assert.EqualValues(t, 1, m["matching_rows"])
		assert.Equal(t, map[string]any{"name": 1.0, "amount": 1.0, "paid": 1.0, "score": 1.0, "placed": 1.0, "due": 1.0, "code": 2.0, "updated": 1.0},
			m["changed_by_column"])
		diffs := m["diffs"].([]any)
		require.Len(t, diffs, 3)
		cols := func(i int) map[string][2]any {
			out := map[string][2]any{}
			for _, c := range diffs[i].(map[string]any)["columns"].([]any) {
				c := c.(map[string]any)
				out[c["column"].(string)] = [2]any{c["legacy"], c["new"]}
			}
			return out
		}
		assert.Equal(t, map[string][2]any{"name": {"Anna", "anna"}, "amount": {10.51, 10.5}, "paid": {nil, true}}, cols(0))
		assert.Equal(t, [2]any{"CX   ", "CD   "}, cols(1)["code"], "char(5) as stored, padded")
		assert.Equal(t, [2]any{"Q    ", nil}, cols(2)["code"])

		code, out, _ := e.reconcile(t, "--legacy-table", lt)
		assert.Equal(t, exitDiffer, code)
		assert.Contains(t, out, "| 1 | changed | amount | 10.51 | 10.50 |")
		assert.Contains(t, out, "| 2 | changed | due | 2026-12-12 | 2026-12-02 |")
		assert.Contains(t, out, "| 1 | changed | paid | NULL | true |")
	})

	t.Run("each tolerance", func(t *testing.T) {
		for _, tc := range []struct {
			name, changes string
			flag          []string
		}{
			// placed has microseconds on the new side; the legacy copy kept milliseconds.
			{"ms", `UPDATE $T SET placed = date_trunc('milliseconds', placed)`, []string{"--timestamp-precision", "ms"}},
			{"float", `UPDATE $T SET score = score + 1e-9`, []string{"--float-epsilon", "1e-6"}},
			{"trim", `UPDATE $T SET name = name || '   '`, []string{"--trim-text"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				lt := e.legacy(t, "tol_"+tc.name, tc.changes)
				code, m := e.reconcileJSON(t, "--legacy-table", lt)
				assert.Equal(t, exitDiffer, code, "without the tolerance")
				assert.NotZero(t, m["changed"])
				if tc.name == "trim" {
					c := m["diffs"].([]any)[0].(map[string]any)["columns"].([]any)[0].(map[string]any)
					assert.Equal(t, []any{"name", "anna   ", "anna"}, []any{c["column"], c["legacy"], c["new"]}, "the padding shows")
				}
				code, m = e.reconcileJSON(t, append([]string{"--legacy-table", lt}, tc.flag...)...)
				assert.Equal(t, exitOK, code, "with %v: %v", tc.flag, m)
				assert.EqualValues(t, 4, m["matching_rows"])
			})
		}
		// A tolerance too small still reports the difference.
		lt := e.legacy(t, "tol_small", `UPDATE $T SET score = score + 1e-3`)
		code, _ := e.reconcileJSON(t, "--legacy-table", lt, "--float-epsilon", "1e-6")
		assert.Equal(t, exitDiffer, code)
	})

	t.Run("freshness", func(t *testing.T) {
		// The legacy copy has a newer row: the new table is an hour behind.
		lt := e.legacy(t, "fresh", `UPDATE $T SET updated = '2026-11-25 10:30:00+00' WHERE id = 4`)
		code, m := e.reconcileJSON(t, "--legacy-table", lt, "--freshness-column", "updated")
		assert.Equal(t, exitDiffer, code)
		fr := m["freshness"].(map[string]any)
		assert.Equal(t, "updated", fr["column"])
		// RFC 3339's date-time (section 5.6), what a monitor parses.
		assert.Equal(t, "2026-11-25T10:30:00Z", fr["legacy_newest"])
		assert.Equal(t, "2026-11-25T09:30:00Z", fr["new_newest"])
		assert.EqualValues(t, 3600, fr["behind_seconds"])
		_, out, _ := e.reconcile(t, "--legacy-table", lt, "--freshness-column", "updated")
		assert.Contains(t, out, "The new table is 1h0m0s behind the legacy one")
	})

	t.Run("configuration errors", func(t *testing.T) {
		lt := e.legacy(t, "cfg", "")
		_, err := e.conn.Exec(context.Background(), `CREATE TABLE legacy.narrow (id bigint PRIMARY KEY, name text)`)
		require.NoError(t, err)
		for _, args := range [][]string{
			{"--legacy-table", lt, "--timestamp-precision", "fortnight"},
			{"--legacy-table", lt, "--format", "yaml"},
			{"--legacy-table", lt, "--freshness-column", "nope"},
			{"--legacy-table", "legacy.narrow"},
			{"--legacy-table", "legacy.absent"},
			{"--legacy-table", lt, "--spill-dir", "/nonexistent/spill"},
		} {
			code, out, stderr := e.reconcile(t, args...)
			assert.Equal(t, exitConfig, code, "%v: %s %s", args, out, stderr)
			assert.NotEmpty(t, stderr, "%v says what is wrong", args)
		}
		// A legacy table without a unique key that holds one twice: a
		// retry reads the same rows, so it is the table to fix (exit 2),
		// not a failure for the DAG to retry.
		_, err = e.conn.Exec(context.Background(), `CREATE TABLE legacy.dup AS SELECT * FROM `+lt+`;
INSERT INTO legacy.dup SELECT * FROM `+lt+` WHERE id = 2`)
		require.NoError(t, err)
		code, out, stderr := e.reconcile(t, "--legacy-table", "legacy.dup")
		assert.Equal(t, exitConfig, code, "%s %s", out, stderr)
		assert.Contains(t, stderr, "key (id=2)")
		assert.Contains(t, stderr, "primary key")

		code, _, stderr = e.f.run(t, "reconcile", "--job", e.f.job, "--state", e.f.state, "--table", "nope", "--legacy-table", lt)
		assert.Equal(t, exitConfig, code)
		assert.Contains(t, stderr, "its tables are orders")
		t.Setenv(envSourceURI, "")
		code, _, stderr = e.reconcile(t, "--legacy-table", lt)
		assert.Equal(t, exitConfig, code)
		assert.Contains(t, stderr, envLegacyURI)
	})
}

// Every type a snapshot reads (README's source-type table), through a real
// PostgreSQL and a real Iceberg table: a legacy copy equal to the source is
// equal (each type reads back from Iceberg as it was read from PostgreSQL),
// and one column changed in one row is reported as that column, for each.
func TestReconcileEveryType(t *testing.T) {
	dsn := testenv.Postgres(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	_, err = conn.Exec(ctx, `CREATE TYPE pt AS (x float8, y float8);
CREATE TABLE things (id int8, code char(3), flag boolean, small int2, medium int4, ratio float4, score float8,
  price numeric(12,2), big numeric(38,4), name varchar(20), notes text, born date, opens time, seen_at timestamp,
  created_at timestamptz, ref uuid, blob bytea, doc json, docb jsonb, tags text[], nums int4[], attrs jsonb, point pt,
  PRIMARY KEY (code, id));
INSERT INTO things VALUES
 (1, 'ab', true, -32768, 2147483647, 1.5, -2.25e300, 12345678.90, -99999999999999999999999999999999.9999, 'Zoë', E'line\nnext "q"',
  '1900-02-28', '23:59:59.999999', '2024-03-01 10:15:30.123456', '1969-12-31 23:59:59.5+00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '\x00ff10', '{"b": [1, 2.50], "a": null}', '{"b": [1, 2.50], "a": null}', ARRAY['x', NULL, 'y'], ARRAY[1, NULL, -3],
  '{"k": "v", "n": null}', ROW(1.5, NULL)),
 (2, 'B', NULL, NULL, NULL, 'NaN', 'Infinity', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '{}', NULL, NULL, NULL),
 (3, 'ab', false, 0, 0, -0.0, 0, 0, 0.0001, '', '', '2099-12-31', '00:00', '1970-01-01', '2038-01-19 03:14:08+00',
  '00000000-0000-0000-0000-000000000000', '\x', '[]', '[]', ARRAY[]::text[], ARRAY[]::int4[], '{}', ROW(NULL, NULL));
CREATE SCHEMA legacy;`)
	require.NoError(t, err)
	nullable := func(c jobspec.Column) jobspec.Column { c.Nullable = true; return c }
	spec := &jobspec.Spec{
		Version: 1, Platform: "lake", Stream: "shop", Datastore: "shop",
		Source: jobspec.Source{Kind: jobspec.SourceSnapshot, Postgres: &jobspec.PostgresSource{Container: "pg", Credential: "reader"}},
		Target: jobspec.Target{Catalog: "lake", CatalogKind: "sql", Namespace: "shop"},
		Tables: []jobspec.Table{{Dataset: "things", SourceTable: "public.things", Name: "things", Mode: jobspec.ModeLive,
			PrimaryKey: []string{"code", "id"}, WriteMode: "merge_on_read", Columns: []jobspec.Column{
				{Name: "id", Type: "int64"}, {Name: "code", Type: "char", Length: 3},
				nullable(jobspec.Column{Name: "flag", Type: "boolean"}), nullable(jobspec.Column{Name: "small", Type: "int16"}),
				nullable(jobspec.Column{Name: "medium", Type: "int32"}), nullable(jobspec.Column{Name: "ratio", Type: "float32"}),
				nullable(jobspec.Column{Name: "score", Type: "float64"}), nullable(jobspec.Column{Name: "price", Type: "decimal", Precision: 12, Scale: 2}),
				nullable(jobspec.Column{Name: "big", Type: "decimal", Precision: 38, Scale: 4}), nullable(jobspec.Column{Name: "name", Type: "varchar", Length: 20}),
				nullable(jobspec.Column{Name: "notes", Type: "text"}), nullable(jobspec.Column{Name: "born", Type: "date"}),
				nullable(jobspec.Column{Name: "opens", Type: "time"}), nullable(jobspec.Column{Name: "seen_at", Type: "timestamp"}),
				nullable(jobspec.Column{Name: "created_at", Type: "timestamptz"}), nullable(jobspec.Column{Name: "ref", Type: "uuid"}),
				nullable(jobspec.Column{Name: "blob", Type: "binary"}), nullable(jobspec.Column{Name: "doc", Type: "json"}),
				nullable(jobspec.Column{Name: "docb", Type: "json"}),
				nullable(jobspec.Column{Name: "tags", Type: "list", Element: &jobspec.Column{Name: "element", Type: "text", Nullable: true}}),
				nullable(jobspec.Column{Name: "nums", Type: "list", Element: &jobspec.Column{Name: "element", Type: "int32", Nullable: true}}),
				nullable(jobspec.Column{Name: "attrs", Type: "map", Key: &jobspec.Column{Name: "key", Type: "text"}, Value: &jobspec.Column{Name: "value", Type: "text", Nullable: true}}),
				nullable(jobspec.Column{Name: "point", Type: "struct", Fields: []jobspec.Column{{Name: "x", Type: "float64", Nullable: true}, {Name: "y", Type: "float64", Nullable: true}}}),
			}}},
		Batch: jobspec.Batch{MaxEvents: 100000},
	}
	f := newFixture(t, spec)
	t.Setenv(envCatalogURI, "")
	t.Setenv(envWarehouse, "")
	t.Setenv(envSourceURI, dsn)
	t.Setenv(envLegacyURI, "")
	code, out, stderr := f.run(t, "run", "--job", f.job, "--state", f.state)
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", out, stderr)

	reconcileJSON := func(t *testing.T, name, change string) (int, map[string]any) {
		t.Helper()
		_, err := conn.Exec(ctx, `CREATE TABLE legacy.`+name+` (LIKE things INCLUDING ALL);
INSERT INTO legacy.`+name+` SELECT * FROM things;`+change)
		require.NoError(t, err)
		code, out, stderr := f.run(t, "reconcile", "--job", f.job, "--state", f.state, "--table", "things",
			"--legacy-table", "legacy."+name, "--format", "json", "--quiet")
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &m), "stdout: %s\nstderr: %s", out, stderr)
		return code, m
	}
	code, m := reconcileJSON(t, "same", "")
	require.Equal(t, exitOK, code, "%v", m)
	assert.EqualValues(t, 3, m["matching_rows"])

	for col, set := range map[string]string{
		"flag": "false", "small": "1", "medium": "1", "ratio": "2.5", "score": "3", "price": "1.01", "big": "1",
		"name": "'Zoe'", "notes": "'line'", "born": "born + 1", "opens": "'12:00'",
		"seen_at": "seen_at + interval '1 microsecond'", "created_at": "created_at + interval '1 microsecond'",
		"ref": "'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "blob": `'\x00ff11'`, "doc": `'{"a": 1}'`, "docb": `'{"a": 1}'`,
		"tags": "ARRAY['x', NULL, 'z']", "nums": "ARRAY[1, NULL, 3]", "attrs": `'{"k": "w", "n": null}'`, "point": "ROW(1.5, 2)",
	} {
		t.Run(col, func(t *testing.T) {
			code, m := reconcileJSON(t, "c_"+col, "UPDATE legacy.c_"+col+" SET "+col+" = "+set+" WHERE id = 1")
			assert.Equal(t, exitDiffer, code)
			assert.EqualValues(t, 1, m["changed"])
			assert.EqualValues(t, 2, m["matching_rows"])
			assert.Equal(t, map[string]any{col: float64(1)}, m["changed_by_column"])
			diffs := m["diffs"].([]any)
			require.Len(t, diffs, 1)
			d := diffs[0].(map[string]any)
			assert.Equal(t, map[string]any{"code": "ab ", "id": float64(1)}, d["key"])
			c := d["columns"].([]any)[0].(map[string]any)
			assert.Equal(t, col, c["column"])
			assert.NotEqual(t, c["legacy"], c["new"])
		})
	}
}
