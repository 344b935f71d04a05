package pgsource

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
	"github.com/datasurface/datasurface/merge-runner/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func intp(i int) *int { return &i }

// allTypes has a column of every model type, read from the PostgreSQL
// types the model accepts for it.
var allTypes = jobspec.Table{Name: "things", SourceTable: "public.things", Mode: jobspec.ModeLive, PrimaryKey: []string{"code", "id"}, Columns: []jobspec.Column{
	{Name: "id", Type: "int64"},
	{Name: "code", Type: "char", Length: 3},
	{Name: "flag", Type: "boolean", Nullable: true},
	{Name: "small", Type: "int16", Nullable: true},
	{Name: "medium", Type: "int32", Nullable: true},
	{Name: "ratio", Type: "float32", Nullable: true},
	{Name: "score", Type: "float64", Nullable: true},
	{Name: "price", Type: "decimal", Precision: 12, Scale: 2, Nullable: true},
	{Name: "big", Type: "decimal", Precision: 38, Scale: 4, Nullable: true},
	{Name: "name", Type: "varchar", Length: 20, Nullable: true},
	{Name: "notes", Type: "text", Nullable: true},
	{Name: "born", Type: "date", Nullable: true},
	{Name: "opens", Type: "time", Nullable: true},
	{Name: "seen_at", Type: "timestamp", Nullable: true},
	{Name: "created_at", Type: "timestamptz", Nullable: true},
	{Name: "ref", Type: "uuid", Nullable: true},
	{Name: "blob", Type: "binary", Nullable: true},
	{Name: "doc", Type: "json", Nullable: true},
	{Name: "docb", Type: "json", Nullable: true},
	{Name: "tags", Type: "list", Nullable: true, Element: &jobspec.Column{Name: "element", Type: "text", Nullable: true}},
	{Name: "nums", Type: "list", Nullable: true, Element: &jobspec.Column{Name: "element", Type: "int32", Nullable: true}},
	{Name: "attrs", Type: "map", Nullable: true, Key: &jobspec.Column{Name: "key", Type: "text"}, Value: &jobspec.Column{Name: "value", Type: "text", Nullable: true}},
	{Name: "point", Type: "struct", Nullable: true, Fields: []jobspec.Column{{Name: "x", Type: "float64", Nullable: true}, {Name: "y", Type: "float64", Nullable: true}}},
}}

const allTypesDDL = `CREATE TYPE pt AS (x float8, y float8);
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
  '00000000-0000-0000-0000-000000000000', '\x', '[]', '[]', ARRAY[]::text[], ARRAY[]::int4[], '{}', ROW(NULL, NULL)),
 (4, 'a' || chr(9), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`

func open(t *testing.T, ddl string) (*Source, *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	dsn := testenv.Postgres(t)
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	_, err = conn.Exec(ctx, ddl)
	require.NoError(t, err)
	src, err := Open(ctx, strings.Replace(dsn, "postgres://", "postgresql://", 1), "", "")
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close(context.Background()) })
	return src, conn
}

// TestSnapshotReadsWhatToJSONBReads: the binary COPY path gives every value
// exactly as PostgreSQL's own to_jsonb rendering of the same rows does, in
// primary-key order under row.CompareKeys.
func TestSnapshotReadsWhatToJSONBReads(t *testing.T) {
	src, _ := open(t, allTypesDDL)
	ctx := context.Background()
	var viaJSON []string
	byKey := map[string]string{}
	require.NoError(t, src.Rows(ctx, &allTypes, "", nil, func(r []row.Value, _ string) error {
		s := render(r)
		viaJSON = append(viaJSON, s)
		byKey[row.KeyString([]row.Value{r[1], r[0]})] = s
		return nil
	}))
	var viaCopy []string
	var last []row.Value
	require.NoError(t, src.Snapshot(ctx, []*jobspec.Table{&allTypes}, func(i int, r []row.Value) error {
		key := []row.Value{r[1], r[0]}
		if last != nil {
			assert.Equal(t, -1, row.CompareKeys(last, key), "key order: %v then %v", last, key)
		}
		last = key
		s := render(r)
		assert.Equal(t, byKey[row.KeyString(key)], s)
		viaCopy = append(viaCopy, s)
		return nil
	}))
	assert.ElementsMatch(t, viaJSON, viaCopy)
	assert.Len(t, viaCopy, 4)
}

func render(r []row.Value) string {
	parts := make([]string, len(r))
	for i, v := range r {
		if v.Kind() == row.KindJSON {
			// to_jsonb(row) turns a json column into jsonb (keys sorted,
			// spacing dropped); COPY keeps json's text as written.
			var x any
			if json.Unmarshal([]byte(v.Text()), &x) == nil {
				b, _ := json.Marshal(x)
				v = row.String(string(b))
			}
		}
		parts[i] = v.String()
	}
	return strings.Join(parts, " | ")
}

func TestSnapshotRefusesWhatTheModelCannotRead(t *testing.T) {
	src, _ := open(t, `CREATE TABLE t (id int8 PRIMARY KEY, v numeric, w text)`)
	ctx := context.Background()
	for _, tc := range []struct {
		col    jobspec.Column
		reason string
	}{
		{jobspec.Column{Name: "v", Type: "float64", Nullable: true}, "the source column is numeric; a float64 column reads real, double precision"},
		{jobspec.Column{Name: "missing", Type: "text", Nullable: true}, "the source table has no such column"},
		{jobspec.Column{Name: "w", Type: "list", Nullable: true, Element: &jobspec.Column{Name: "element", Type: "text"}}, "the source column is text; a list column reads"},
	} {
		tbl := jobspec.Table{Name: "t", SourceTable: "t", PrimaryKey: []string{"id"}, Columns: []jobspec.Column{{Name: "id", Type: "int64"}, tc.col}}
		err := src.Snapshot(ctx, []*jobspec.Table{&tbl}, func(int, []row.Value) error { return nil })
		var ce *ColumnError
		require.True(t, errors.As(err, &ce), "%v", err)
		assert.Contains(t, err.Error(), tc.reason)
		assert.Equal(t, tc.col.Name, ce.Column)
	}
}

// TestQuickDecimalAgreesWithDecimal: the fast path reads what the exact
// path reads, or leaves the value to it.
func TestQuickDecimalAgreesWithDecimal(t *testing.T) {
	c := &jobspec.Column{Name: "d", Type: "decimal", Precision: 12, Scale: 3}
	r := rand.New(rand.NewPCG(1, 2))
	cases := []string{"0", "-0", "0.000", "1.5", "-1.500", "999999999.999", "1000000000.000", "0.0001", "12345678901234567890", "007.25", "-0.001"}
	for range 2000 {
		s := strconv.FormatInt(r.Int64N(1e13)-5e12, 10)
		if d := r.IntN(5); d > 0 && len(s) > d {
			s = s[:len(s)-d] + "." + s[len(s)-d:]
		}
		cases = append(cases, s)
	}
	for _, s := range cases {
		want, werr := decimal(s, c)
		got, ok := quickDecimal(c, []byte(s))
		if !ok {
			continue
		}
		require.NoError(t, werr, s)
		assert.True(t, row.Equal(want, got), "%s: %v != %v", s, want, got)
	}
}
