package encode

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/debezium"
	"github.com/datasurface/datasurface/merge-runner/internal/landing"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

func intPtr(i int) *int { return &i }

// allTypes has a column of every job spec type, in several precisions.
func allTypes() *jobspec.Table {
	return &jobspec.Table{
		Dataset: "every", SourceTable: "public.every", Topic: "acme.crm.public.every", Name: "every", Mode: jobspec.ModeLive,
		PrimaryKey: []string{"id"}, WriteMode: "merge_on_read",
		Columns: []jobspec.Column{
			{Name: "id", Type: "int64"},
			{Name: "flag", Type: "boolean", Nullable: true},
			{Name: "tiny", Type: "int8", Nullable: true},
			{Name: "small", Type: "int16", Nullable: true},
			{Name: "qty", Type: "int32"},
			{Name: "ratio", Type: "float32", Nullable: true},
			{Name: "score", Type: "float64", Nullable: true},
			{Name: "price", Type: "decimal", Precision: 12, Scale: 2, Nullable: true},
			{Name: "big", Type: "decimal", Precision: 38, Scale: 10, Nullable: true},
			{Name: "whole", Type: "decimal", Precision: 38, Scale: 0, Nullable: true},
			{Name: "num", Type: "decimal", Scale: 5, Nullable: true}, // numeric without precision
			{Name: "code", Type: "char", Length: 3, Nullable: true},
			{Name: "name", Type: "varchar", Length: 10},
			{Name: "notes", Type: "text", Nullable: true},
			{Name: "born", Type: "date", Nullable: true},
			{Name: "opens", Type: "time", Nullable: true},
			{Name: "opens_ms", Type: "time", TimePrecision: intPtr(3), Nullable: true},
			{Name: "seen_at", Type: "timestamp", Nullable: true},
			{Name: "logged_at", Type: "timestamp", TimePrecision: intPtr(3), Nullable: true},
			{Name: "stamp0", Type: "timestamp", TimePrecision: intPtr(0), Nullable: true},
			{Name: "created_at", Type: "timestamptz"},
			{Name: "tz3", Type: "timestamptz", TimePrecision: intPtr(3), Nullable: true},
			{Name: "tz0", Type: "timestamptz", TimePrecision: intPtr(0), Nullable: true},
			{Name: "ref", Type: "uuid", Nullable: true},
			{Name: "blob", Type: "binary", Nullable: true},
			{Name: "doc", Type: "json", Nullable: true},
			{Name: "geo", Type: "struct", Nullable: true, Fields: []jobspec.Column{
				{Name: "lat", Type: "float64"},
				{Name: "lon", Type: "float64"},
				{Name: "label", Type: "varchar", Length: 20, Nullable: true},
				{Name: "amounts", Type: "list", Nullable: true, Element: &jobspec.Column{Name: "element", Type: "decimal", Precision: 10, Scale: 2, Nullable: true}},
				{Name: "at", Type: "struct", Nullable: true, Fields: []jobspec.Column{
					{Name: "day", Type: "date"},
					{Name: "when", Type: "timestamp", Nullable: true},
				}},
			}},
			{Name: "tags", Type: "list", Nullable: true, Element: &jobspec.Column{Name: "element", Type: "varchar", Length: 40, Nullable: true}},
			{Name: "counts", Type: "list", Nullable: true, Element: &jobspec.Column{Name: "element", Type: "int64", Nullable: true}},
			{Name: "attrs", Type: "map", Nullable: true,
				Key:   &jobspec.Column{Name: "key", Type: "varchar", Length: 40},
				Value: &jobspec.Column{Name: "value", Type: "text", Nullable: true}},
			{Name: "flags", Type: "map", Nullable: true,
				Key:   &jobspec.Column{Name: "key", Type: "int32"},
				Value: &jobspec.Column{Name: "value", Type: "boolean", Nullable: true}},
			{Name: "stamps", Type: "map", Nullable: true,
				Key:   &jobspec.Column{Name: "key", Type: "uuid"},
				Value: &jobspec.Column{Name: "value", Type: "timestamptz", Nullable: true}},
			{Name: "blobs", Type: "map", Nullable: true,
				Key:   &jobspec.Column{Name: "key", Type: "binary"},
				Value: &jobspec.Column{Name: "value", Type: "list", Nullable: true, Element: &jobspec.Column{Name: "element", Type: "decimal", Precision: 6, Scale: 3, Nullable: true}}},
		},
	}
}

// compositeKey has a primary key of six columns in another order than the
// columns'.
func compositeKey() *jobspec.Table {
	return &jobspec.Table{
		Dataset: "ck", SourceTable: "sales.ck", Topic: "acme.crm.sales.ck", Name: "ck", Mode: jobspec.ModeForensic,
		PrimaryKey: []string{"k_uuid", "k_str", "k_dec", "k_ts", "k_date", "k_bin"}, WriteMode: "merge_on_read",
		Columns: []jobspec.Column{
			{Name: "payload", Type: "text", Nullable: true},
			{Name: "k_ts", Type: "timestamptz"},
			{Name: "k_dec", Type: "decimal", Precision: 20, Scale: 4},
			{Name: "k_str", Type: "varchar", Length: 50},
			{Name: "k_uuid", Type: "uuid"},
			{Name: "k_bin", Type: "binary"},
			{Name: "k_date", Type: "date"},
			{Name: "amount", Type: "decimal", Precision: 18, Scale: 6},
		},
	}
}

// The encodings the tests cover: every decimal, time and binary mode, with
// and without the envelope.
func allEncodings() []jobspec.Encoding {
	var out []jobspec.Encoding
	for _, dec := range []string{"precise", "string", "double"} {
		for _, tp := range []string{"adaptive_time_microseconds", "adaptive", "connect"} {
			for _, bin := range []string{"base64", "hex", "bytes", "base64-url-safe"} {
				for _, env := range []bool{false, true} {
					out = append(out, jobspec.Encoding{DecimalHandling: dec, TimePrecision: tp, BinaryHandling: bin,
						SchemasEnabled: env, TombstonesOnDelete: !env})
				}
			}
		}
	}
	return out
}

func encName(enc jobspec.Encoding) string {
	env := "plain"
	if enc.SchemasEnabled {
		env = "envelope"
	}
	return enc.DecimalHandling + "/" + enc.TimePrecision + "/" + enc.BinaryHandling + "/" + env
}

// gen makes random values, with edge cases mixed in.
type gen struct {
	r      *rand.Rand
	double bool // decimals will be written as doubles: stay below the precision's limit
	noNaN  bool // no NaNs, whose payloads do not survive
}

func newGen(seed uint64, enc jobspec.Encoding) *gen {
	return &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), double: enc.DecimalHandling == "double"}
}

// Edge-case strings: quotes, backslashes, control characters, line
// separators, non-BMP characters.
var edgeRunes = []rune("aZ09 \"\\/\b\f\n\r\t\x01\x1f\x7féü✓€😀𝄞\u2028\u2029\ufeff\U0010FFFF<>&'")

func (g *gen) str(maxRunes int) string {
	n := g.r.IntN(maxRunes + 1)
	var sb strings.Builder
	for range n {
		if g.r.IntN(3) == 0 {
			sb.WriteRune(edgeRunes[g.r.IntN(len(edgeRunes))])
		} else {
			sb.WriteRune(rune('a' + g.r.IntN(26)))
		}
	}
	return sb.String()
}

const (
	minTs = -62135596800000000 // 0001-01-01T00:00:00Z
	maxTs = 253402300799999999 // 9999-12-31T23:59:59.999999Z
)

func (g *gen) decimal(c *jobspec.Column) row.Value {
	p := c.Precision
	if p == 0 {
		p = 30
	}
	digits := 1 + g.r.IntN(p)
	if g.double && digits == p {
		digits-- // a double of p nines rounds to 10^p, which does not fit
	}
	var sb strings.Builder
	for range digits {
		sb.WriteByte(byte('0' + g.r.IntN(10)))
	}
	u, _ := new(big.Int).SetString(sb.String(), 10)
	if g.r.IntN(2) == 0 {
		u.Neg(u)
	}
	return row.BigDecimal(u, int32(c.Scale))
}

func (g *gen) value(c *jobspec.Column) row.Value {
	if c.Nullable && g.r.IntN(6) == 0 {
		return row.Null()
	}
	r := g.r
	switch c.Type {
	case "boolean":
		return row.Bool(r.IntN(2) == 0)
	case "int8":
		return row.Int32(int32(r.IntN(256) - 128))
	case "int16":
		return row.Int32(int32(r.IntN(65536) - 32768))
	case "int32":
		return row.Int32(int32(r.Uint32()))
	case "int64":
		return row.Int64(int64(r.Uint64()))
	case "float32":
		if g.noNaN {
			return row.Float32(float32(r.NormFloat64()))
		}
		switch r.IntN(8) {
		case 0:
			return row.Float32(float32(r.NormFloat64()))
		case 1:
			return row.Float32([]float32{0, float32(math.Copysign(0, -1)), math.MaxFloat32, math.SmallestNonzeroFloat32, float32(math.Inf(1)), float32(math.NaN()), 1e7, 1e-3, 9.999999e6}[r.IntN(9)])
		}
		return row.Float32(math.Float32frombits(r.Uint32()))
	case "float64":
		if g.noNaN {
			return row.Float64(math.Float64frombits(r.Uint64() &^ (1 << 62))) // exponent never all ones
		}
		switch r.IntN(8) {
		case 0:
			return row.Float64(r.NormFloat64() * 1e3)
		case 1:
			return row.Float64([]float64{0, math.Copysign(0, -1), math.MaxFloat64, math.SmallestNonzeroFloat64, math.Inf(-1), math.NaN(), 1e7, 1e-3, 0.1}[r.IntN(9)])
		}
		return row.Float64(math.Float64frombits(r.Uint64()))
	case "decimal":
		return g.decimal(c)
	case "char", "varchar":
		return row.String(g.str(c.Length))
	case "text":
		return row.String(g.str(60))
	case "json":
		return row.JSON(`{"k":` + `"` + strings.ReplaceAll(strings.ReplaceAll(g.str(10), `\`, `\\`), `"`, `\"`) + `","n":[1,2.5e3,null]}`)
	case "date":
		return row.Date(int32(r.IntN(2932896+719162+1) - 719162))
	case "time":
		if r.IntN(10) == 0 {
			return row.Time([]int64{0, 86400000000, 86399999999, 1}[r.IntN(4)])
		}
		return row.Time(r.Int64N(86400000001))
	case "timestamp":
		if r.IntN(10) == 0 {
			return row.Timestamp([]int64{minTs, maxTs, -1, -999, -1001, 0, 1}[r.IntN(7)])
		}
		return row.Timestamp(minTs + r.Int64N(maxTs-minTs+1))
	case "timestamptz":
		if r.IntN(10) == 0 {
			return row.TimestampTZ([]int64{minTs, maxTs, -1, -500000, 1, math.MaxInt64, math.MinInt64}[r.IntN(7)])
		}
		return row.TimestampTZ(minTs + r.Int64N(maxTs-minTs+1))
	case "uuid":
		var u [16]byte
		for i := range u {
			u[i] = byte(r.Uint32())
		}
		return row.UUID(u)
	case "binary":
		b := make([]byte, r.IntN(24))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return row.Binary(string(b))
	case "struct":
		fields := make([]row.Value, len(c.Fields))
		for i := range c.Fields {
			fields[i] = g.value(&c.Fields[i])
		}
		return row.Struct(fields)
	case "list":
		elems := make([]row.Value, r.IntN(4))
		for i := range elems {
			elems[i] = g.value(c.Element)
		}
		return row.List(elems)
	case "map":
		entries := make([]row.MapEntry, r.IntN(4))
		for i := range entries {
			entries[i] = row.MapEntry{Key: g.value(c.Key), Value: g.value(c.Value)}
		}
		return row.Map(entries)
	}
	panic("no generator for " + c.Type)
}

func (g *gen) row(t *jobspec.Table) []row.Value {
	r := make([]row.Value, len(t.Columns))
	for i := range t.Columns {
		r[i] = g.value(&t.Columns[i])
	}
	return r
}

// edgeRows are fixed rows of allTypes: every nullable column null, and the
// extremes of each type.
func edgeRows(double bool) [][]row.Value {
	t := allTypes()
	nulls := make([]row.Value, len(t.Columns))
	nulls[0], nulls[4], nulls[12], nulls[20] = row.Int64(math.MinInt64), row.Int32(math.MinInt32), row.String(""), row.TimestampTZ(minTs)

	maxDec := func(p, s int, neg bool) row.Value {
		if double && p > 15 {
			p = 15
		}
		u := new(big.Int).Sub(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(p)), nil), big.NewInt(1))
		if neg {
			u.Neg(u)
		}
		return row.BigDecimal(u, int32(s))
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	hi := []row.Value{
		row.Int64(math.MaxInt64),
		row.Bool(true),
		row.Int32(math.MaxInt8),
		row.Int32(math.MinInt16),
		row.Int32(math.MaxInt32),
		row.Float32(math.MaxFloat32),
		row.Float64(-math.SmallestNonzeroFloat64),
		maxDec(12, 2, true),
		maxDec(38, 10, false),
		maxDec(38, 0, true),
		row.BigDecimal(big.NewInt(-1), 5),
		row.String("é\"\\"),
		row.String("\n\r\t\b\f\x01\x1f😀𝄞\u2028"),
		row.String(strings.Repeat("line \"quoted\" \\ back\\slash\n", 50)),
		row.Date(-719162),
		row.Time(86400000000),
		row.Time(1),
		row.Timestamp(-1),
		row.Timestamp(-1001),
		row.Timestamp(-1),
		row.TimestampTZ(math.MaxInt64),
		row.TimestampTZ(-1),
		row.TimestampTZ(-500001),
		row.UUID([16]byte{0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00}),
		row.Binary(string(all)),
		row.JSON(`{"a":"\"quoted\" \\ \u00e9","b":[1,{"c":null}]}`),
		row.Struct([]row.Value{row.Float64(math.Inf(1)), row.Float64(math.Copysign(0, -1)), row.Null(), row.List([]row.Value{row.Null(), row.Decimal(-99999999, 2)}),
			row.Struct([]row.Value{row.Date(2932896), row.Timestamp(maxTs)})}),
		row.List([]row.Value{}),
		row.List([]row.Value{row.Int64(math.MinInt64), row.Null(), row.Int64(math.MaxInt64)}),
		row.Map([]row.MapEntry{}),
		row.Map([]row.MapEntry{{Key: row.Int32(math.MinInt32), Value: row.Null()}, {Key: row.Int32(0), Value: row.Bool(false)}}),
		row.Map([]row.MapEntry{{Key: row.UUID([16]byte{1}), Value: row.TimestampTZ(minTs)}}),
		row.Map([]row.MapEntry{{Key: row.Binary(""), Value: row.List([]row.Value{row.Decimal(-1, 3)})}, {Key: row.Binary("\xff\xfe"), Value: row.Null()}}),
	}
	lo := append([]row.Value(nil), hi...)
	lo[0], lo[2], lo[3], lo[4] = row.Int64(0), row.Int32(math.MinInt8), row.Int32(math.MaxInt16), row.Int32(0)
	lo[5], lo[6] = row.Float32(float32(math.Copysign(0, -1))), row.Float64(math.NaN())
	lo[7], lo[8], lo[9], lo[10] = maxDec(12, 2, false), maxDec(38, 10, true), row.Decimal(0, 0), row.BigDecimal(new(big.Int).Exp(big.NewInt(10), big.NewInt(25), nil), 5)
	lo[14], lo[15], lo[16] = row.Date(2932896), row.Time(0), row.Time(86399999999)
	lo[17], lo[18], lo[19] = row.Timestamp(minTs), row.Timestamp(maxTs), row.Timestamp(1)
	lo[20], lo[21], lo[22] = row.TimestampTZ(math.MinInt64), row.TimestampTZ(maxTs), row.TimestampTZ(1_500_000)
	lo[24] = row.Binary("")
	return [][]row.Value{nulls, hi, lo}
}

func decodeLine(t testing.TB, d *debezium.Decoder, line []byte) debezium.Event {
	t.Helper()
	ev, err := d.Decode(landing.Record{Object: "test", Line: 1, Data: line})
	require.NoError(t, err, "%s", line)
	return ev
}

// assertRow compares rows value by value.
func assertRow(t testing.TB, tbl *jobspec.Table, what string, want, got []row.Value) {
	t.Helper()
	if want == nil || got == nil {
		require.Equal(t, want == nil, got == nil, "%s: want %v, got %v", what, want, got)
		return
	}
	require.Len(t, got, len(want), what)
	for i := range want {
		name := "key"
		if len(want) == len(tbl.Columns) {
			name = tbl.Columns[i].Name
		}
		require.True(t, row.Equal(want[i], got[i]), "%s: column %s (%d): want %s, got %s", what, name, i, want[i], got[i])
	}
}
