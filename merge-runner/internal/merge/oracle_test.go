package merge

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
	"github.com/datasurface/datasurface/merge-runner/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func intp(i int) *int { return &i }

// oracleTable has a column of every type the PostgreSQL connector captures
// as a scalar or an array, and a two-column key.
func oracleTable(partitionBy []string) jobspec.Table {
	return jobspec.Table{
		Dataset: "things", SourceTable: "public.things", Topic: "acme.db.public.things", Name: "things", Mode: jobspec.ModeLive,
		PrimaryKey: []string{"id", "region"}, PartitionBy: partitionBy, WriteMode: "merge_on_read",
		Columns: []jobspec.Column{
			{Name: "id", Type: "int64"},
			{Name: "region", Type: "varchar", Length: 8},
			{Name: "flag", Type: "boolean", Nullable: true},
			{Name: "small", Type: "int16", Nullable: true},
			{Name: "qty", Type: "int32"},
			{Name: "ratio", Type: "float32", Nullable: true},
			{Name: "score", Type: "float64", Nullable: true},
			{Name: "price", Type: "decimal", Precision: 12, Scale: 2, Nullable: true},
			{Name: "big", Type: "decimal", Precision: 38, Scale: 4, Nullable: true},
			{Name: "code", Type: "char", Length: 3},
			{Name: "name", Type: "varchar", Length: 40},
			{Name: "notes", Type: "text", Nullable: true},
			{Name: "born", Type: "date", Nullable: true},
			{Name: "opens", Type: "time", Nullable: true},
			{Name: "seen_at", Type: "timestamp", Nullable: true},
			{Name: "logged_at", Type: "timestamp", TimePrecision: intp(3), Nullable: true},
			{Name: "created_at", Type: "timestamptz"},
			{Name: "ref", Type: "uuid", Nullable: true},
			{Name: "blob", Type: "binary", Nullable: true},
			{Name: "doc", Type: "json", Nullable: true},
			{Name: "tags", Type: "list", Nullable: true, Element: &jobspec.Column{Name: "element", Type: "text", Nullable: true}},
			{Name: "nums", Type: "list", Nullable: true, Element: &jobspec.Column{Name: "element", Type: "int32", Nullable: true}},
		},
	}
}

// oracleDDL stores notes and blob out of line, uncompressed, once a row
// passes the TOAST threshold (about 2 kB), so that updates leaving them
// alone decode as unchanged-TOAST values.
const oracleDDL = `CREATE TABLE things (
  id int8, region varchar(8), flag boolean, small int2, qty int4 NOT NULL, ratio float4, score float8,
  price numeric(12,2), big numeric(38,4), code char(3) NOT NULL, name varchar(40) NOT NULL, notes text,
  born date, opens time(6), seen_at timestamp(6), logged_at timestamp(3), created_at timestamptz(6) NOT NULL,
  ref uuid, blob bytea, doc json, tags text[], nums int4[], PRIMARY KEY (id, region));
  ALTER TABLE things ALTER COLUMN notes SET STORAGE EXTERNAL, ALTER COLUMN blob SET STORAGE EXTERNAL`

// gen makes random column values.
type gen struct{ r *rand.Rand }

func (g gen) maybe(v row.Value) row.Value {
	if g.r.IntN(6) == 0 {
		return row.Null()
	}
	return v
}

func (g gen) text(n int) string {
	const alphabet = "abcxyz ÄéΩ\"'\\,{}\n\t😀"
	rs := []rune(alphabet)
	var b strings.Builder
	for i := 0; i < g.r.IntN(n+1); i++ {
		b.WriteRune(rs[g.r.IntN(len(rs))])
	}
	return b.String()
}

func (g gen) decimal(digits int, scale int32) row.Value {
	u := new(big.Int)
	for i := 0; i < 1+g.r.IntN(digits); i++ {
		u.Mul(u, big.NewInt(10)).Add(u, big.NewInt(int64(g.r.IntN(10))))
	}
	if g.r.IntN(2) == 0 {
		u.Neg(u)
	}
	return row.BigDecimal(u, scale)
}

// row makes a full row for key (id, region).
func (g gen) row(id int64, region string) []row.Value {
	day := int32(-20000 + g.r.IntN(60000)) // 1915..2134
	micros := int64(day)*86_400_000_000 + g.r.Int64N(86_400_000_000)
	var u [16]byte
	for i := range u {
		u[i] = byte(g.r.IntN(256))
	}
	blob := make([]byte, g.r.IntN(20))
	if g.r.IntN(5) == 0 {
		blob = make([]byte, 2500+g.r.IntN(2000)) // stored out of line
	}
	for i := range blob {
		blob[i] = byte(g.r.IntN(256))
	}
	tags := make([]row.Value, g.r.IntN(4))
	for i := range tags {
		tags[i] = g.maybe(row.String(g.text(6)))
	}
	nums := make([]row.Value, g.r.IntN(4))
	for i := range nums {
		nums[i] = g.maybe(row.Int32(g.r.Int32() - 1<<30))
	}
	notes := g.text(30)
	if g.r.IntN(4) == 0 {
		notes = strings.Repeat(notes+"x", 300) // long enough to be TOASTed
	}
	return []row.Value{
		row.Int64(id), row.String(region),
		g.maybe(row.Bool(g.r.IntN(2) == 0)),
		g.maybe(row.Int32(int32(int16(g.r.Uint32())))),
		row.Int32(g.r.Int32() - 1<<30),
		g.maybe(row.Float32(float32(g.r.NormFloat64() * 1000))),
		g.maybe(row.Float64(g.r.NormFloat64() * 1e9)),
		g.maybe(g.decimal(10, 2)),
		g.maybe(g.decimal(34, 4)),
		row.String(fmt.Sprintf("%c%c%c", 'A'+g.r.IntN(3), 'a'+g.r.IntN(26), '0'+g.r.IntN(10))),
		row.String(g.text(40)),
		g.maybe(row.String(notes)),
		g.maybe(row.Date(day)),
		g.maybe(row.Time(g.r.Int64N(86_400_000_000))),
		g.maybe(row.Timestamp(micros)),
		g.maybe(row.Timestamp(micros / 1000 * 1000)),
		row.TimestampTZ(micros + 12345),
		g.maybe(row.UUID(u)),
		g.maybe(row.Binary(string(blob))),
		g.maybe(row.JSON(fmt.Sprintf(`{"k": %q, "n": [1, 2.5]}`, g.text(5)))),
		g.maybe(row.List(tags)),
		g.maybe(row.List(nums)),
	}
}

// pgLiteral renders a value as a PostgreSQL literal of its column's type.
func pgLiteral(v row.Value, c jobspec.Column) string {
	if v.IsNull() {
		return "NULL"
	}
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	switch c.Type {
	case "boolean":
		return strconv.FormatBool(v.Bool())
	case "int16", "int32", "int64":
		return strconv.FormatInt(v.Int(), 10)
	case "float32":
		return q(strconv.FormatFloat(v.Float(), 'g', -1, 32)) + "::float4"
	case "float64":
		return q(strconv.FormatFloat(v.Float(), 'g', -1, 64)) + "::float8"
	case "decimal":
		return row.FormatDecimal(v.Unscaled(), v.Scale())
	case "char", "varchar", "text":
		return q(v.Text())
	case "json":
		return q(v.Text()) + "::json"
	case "date":
		return q(time.UnixMicro(v.Int()*86_400_000_000).UTC().Format("2006-01-02")) + "::date"
	case "time":
		return q(time.UnixMicro(v.Int()).UTC().Format("15:04:05.999999")) + "::time"
	case "timestamp":
		return q(time.UnixMicro(v.Int()).UTC().Format("2006-01-02 15:04:05.999999")) + "::timestamp"
	case "timestamptz":
		return q(time.UnixMicro(v.Int()).UTC().Format("2006-01-02 15:04:05.999999Z07:00")) + "::timestamptz"
	case "uuid":
		return q(uuid.UUID(v.UUIDBytes()).String()) + "::uuid"
	case "binary":
		return `'\x` + hex.EncodeToString(v.Bytes()) + `'::bytea`
	case "list":
		parts := make([]string, len(v.Elems()))
		for i, e := range v.Elems() {
			parts[i] = pgLiteral(e, *c.Element)
		}
		typ := "text[]"
		if c.Element.Type == "int32" {
			typ = "int4[]"
		}
		return "ARRAY[" + strings.Join(parts, ",") + "]::" + typ
	}
	panic("no literal for " + c.Type)
}

// pgValue reads a column's text (as the query below selects it) back into
// a row.Value of the column's kind.
func pgValue(t *testing.T, s *string, c jobspec.Column) row.Value {
	if s == nil {
		return row.Null()
	}
	parseTime := func(layout, v string) time.Time {
		tm, err := time.Parse(layout, v)
		require.NoError(t, err, v)
		return tm
	}
	switch c.Type {
	case "boolean":
		return row.Bool(*s == "true" || *s == "t")
	case "int16", "int32":
		n, err := strconv.ParseInt(*s, 10, 32)
		require.NoError(t, err)
		return row.Int32(int32(n))
	case "int64":
		n, err := strconv.ParseInt(*s, 10, 64)
		require.NoError(t, err)
		return row.Int64(n)
	case "float32":
		f, err := strconv.ParseFloat(*s, 32)
		require.NoError(t, err)
		return row.Float32(float32(f))
	case "float64":
		f, err := strconv.ParseFloat(*s, 64)
		require.NoError(t, err)
		return row.Float64(f)
	case "decimal":
		u, ok := new(big.Int).SetString(strings.Replace(*s, ".", "", 1), 10)
		require.True(t, ok, *s)
		return row.BigDecimal(u, int32(c.Scale))
	case "char", "varchar", "text", "json":
		return row.String(*s)
	case "date":
		return row.Date(int32(parseTime("2006-01-02", *s).Unix() / 86400))
	case "time":
		tm := parseTime("15:04:05.999999", *s)
		return row.Time(int64(tm.Hour())*3_600_000_000 + int64(tm.Minute())*60_000_000 + int64(tm.Second())*1_000_000 + int64(tm.Nanosecond()/1000))
	case "timestamp":
		return row.Timestamp(parseTime("2006-01-02 15:04:05.999999", *s).UnixMicro())
	case "timestamptz":
		return row.TimestampTZ(parseTime("2006-01-02 15:04:05.999999-07", *s).UnixMicro())
	case "uuid":
		return row.UUID(uuid.MustParse(*s))
	case "binary":
		b, err := hex.DecodeString(strings.TrimPrefix(*s, `\x`))
		require.NoError(t, err)
		return row.Binary(string(b))
	case "list":
		var elems []*json.RawMessage
		require.NoError(t, json.Unmarshal([]byte(*s), &elems))
		out := make([]row.Value, len(elems))
		for i, e := range elems {
			if e == nil {
				out[i] = row.Null()
				continue
			}
			var text string
			if c.Element.Type == "int32" {
				text = string(*e)
			} else {
				require.NoError(t, json.Unmarshal(*e, &text))
			}
			out[i] = pgValue(t, &text, *c.Element)
		}
		return row.List(out)
	}
	t.Fatalf("no reader for %s", c.Type)
	return row.Null()
}

// canonical renders a row for comparison; json values compare as text.
func canonical(r []row.Value) string {
	parts := make([]string, len(r))
	for i, v := range r {
		if v.Kind() == row.KindJSON {
			v = row.String(v.Text())
		}
		parts[i] = v.String()
	}
	return strings.Join(parts, " | ")
}

func oracleRows(t *testing.T, conn *pgx.Conn, tbl jobspec.Table) []string {
	ctx := context.Background()
	sel := make([]string, len(tbl.Columns))
	for i, c := range tbl.Columns {
		sel[i] = c.Name + "::text"
		if c.Type == "list" {
			sel[i] = "array_to_json(" + c.Name + ")::text"
		}
	}
	rows, err := conn.Query(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM things")
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		texts := make([]*string, len(tbl.Columns))
		ptrs := make([]any, len(texts))
		for i := range texts {
			ptrs[i] = &texts[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		r := make([]row.Value, len(texts))
		for i, s := range texts {
			r[i] = pgValue(t, s, tbl.Columns[i])
		}
		out = append(out, canonical(r))
	}
	require.NoError(t, rows.Err())
	sort.Strings(out)
	return out
}

// icebergRows reads the spec's columns of table i of the spec, sorted; a
// history table gives its current versions only.
func icebergRows(t *testing.T, e *env, spec *jobspec.Spec, i int) []string {
	t.Helper()
	tb := spec.Tables[i]
	tbl, err := e.catalog.LoadTable(context.Background(), table.Identifier{spec.Target.Namespace, tb.Name})
	require.NoError(t, err)
	cols := make([]string, len(tb.Columns))
	for i, c := range tb.Columns {
		cols[i] = c.Name
	}
	var filter iceberg.BooleanExpression = iceberg.AlwaysTrue{}
	if tb.Mode == jobspec.ModeForensic {
		filter = iceberg.IsNull(iceberg.Reference(jobspec.ColValidTo))
	}
	var out []string
	require.NoError(t, target.Scan(context.Background(), tbl, filter, cols, func(r []row.Value) error {
		out = append(out, canonical(r))
		return nil
	}))
	sort.Strings(out)
	return out
}

// sameRows fails with the first rows that differ, shortened, rather than
// two whole tables.
func sameRows(t *testing.T, want, got []string, round int) {
	t.Helper()
	short := func(s string) string {
		if len(s) > 400 {
			return s[:400] + "..."
		}
		return s
	}
	if len(want) != len(got) {
		t.Fatalf("round %d: PostgreSQL has %d rows, Iceberg %d", round, len(want), len(got))
	}
	for i := range want {
		if want[i] != got[i] {
			t.Fatalf("round %d: row %d differs\nPostgreSQL: %s\nIceberg:    %s", round, i, short(want[i]), short(got[i]))
		}
	}
}
