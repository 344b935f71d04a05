package debezium

import (
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/badinput"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

func bigInt(s string) *big.Int {
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return b
}

var refUUID = [16]byte{0x55, 0x0e, 0x84, 0x00, 0xe2, 0x9b, 0x41, 0xd4, 0xa7, 0x16, 0x44, 0x66, 0x55, 0x44, 0x00, 0x00}

// wantAfter is sinkAfter decoded.
var wantAfter = []row.Value{
	row.Int64(42),
	row.Bool(true),
	row.Int32(-7),
	row.Int32(1234),
	row.Int32(100000),
	row.Float32(1.5),
	row.Float64(3.141592653589793),
	row.Decimal(1234567, 2),
	row.BigDecimal(bigInt("123456789012345678901234567"), 4),
	row.Decimal(-1234500, 5),
	row.String("ABC"),
	row.String("Zoë ✓"),
	row.String("line1\nline2 \"quoted\" é 😀"),
	row.Date(7305),
	row.Time(34200123456),
	row.Timestamp(1529507596945104),
	row.Timestamp(1529507596945000),
	row.TimestampTZ(1709288130123456),
	row.UUID(refUUID),
	row.Binary("\x00\x01\x02\xff"),
	row.JSON(`{"a": [1, 2]}`),
	row.Struct([]row.Value{row.Float64(51.5), row.Float64(-0.12), row.Null()}),
	row.List([]row.Value{row.String("red"), row.String("blue")}),
	row.Map([]row.MapEntry{{Key: row.String("color"), Value: row.String("red")}, {Key: row.String("size"), Value: row.Null()}}),
}

func assertRow(t *testing.T, want, got []row.Value) {
	t.Helper()
	cols := sinkTable().Columns
	require.Len(t, got, len(want))
	for i := range want {
		assert.True(t, row.Equal(want[i], got[i]), "column %s: want %s, got %s", cols[i].Name, want[i], got[i])
	}
}

func TestDecodeEveryType(t *testing.T) {
	for _, enc := range encodings {
		t.Run(enc.name, func(t *testing.T) {
			d := newSinkDecoder(t, preciseEncoding)
			ev, err := decodeLine(d, enc.wrap(payload("c", "", sinkAfter)))
			require.NoError(t, err)
			assert.Equal(t, OpCreate, ev.Op)
			assertRow(t, wantAfter, ev.After)
			assert.Nil(t, ev.Before)
			require.Len(t, ev.Key, 1)
			assert.True(t, row.Equal(row.Int64(42), ev.Key[0]))
			assert.Equal(t, int64(1709288130123), ev.SourceTsMs)
			assert.Equal(t, int64(1709288130456), ev.TsMs)
			assert.Equal(t, int64(24023128), ev.LSN)
			assert.Equal(t, int64(555), ev.TxID)
			assert.Equal(t, testRecord.Object, ev.Object)
			assert.Equal(t, 7, ev.Line)
			assert.Equal(t, int32(2), ev.Partition)
			assert.Equal(t, int64(46), ev.Offset)

			ev, err = decodeLine(d, enc.wrap(payload("r", "", sinkMinimal)))
			require.NoError(t, err)
			assert.Equal(t, OpRead, ev.Op)
			want := make([]row.Value, len(wantAfter))
			want[0], want[4], want[11], want[17] = row.Int64(7), row.Int32(1), row.String("x"), row.TimestampTZ(-500000)
			assertRow(t, want, ev.After)
		})
	}
}

func TestDecodeOps(t *testing.T) {
	update := replaceField(sinkAfter, "qty", "100000", "5")
	deleteBefore := `{"id":42,"flag":null,"tiny":null,"small":null,"qty":0,"ratio":null,"score":null,"price":null,"big":null,"num":null,"code":null,"name":"","notes":null,"born":null,"opens":null,"seen_at":null,"logged_at":null,"created_at":"1970-01-01T00:00:00Z","ref":null,"blob":null,"doc":null,"geo":null,"tags":null,"attrs":null}`
	for _, enc := range encodings {
		cases := []struct {
			name      string
			line      string
			op        Op
			key       []row.Value
			beforeKey []row.Value
			before    bool
			after     bool
		}{
			{"create", enc.wrap(payload("c", "", sinkAfter)), OpCreate, []row.Value{row.Int64(42)}, nil, false, true},
			{"read", enc.wrap(payload("r", "", sinkAfter)), OpRead, []row.Value{row.Int64(42)}, nil, false, true},
			{"update", enc.wrap(payload("u", "", update)), OpUpdate, []row.Value{row.Int64(42)}, nil, false, true},
			{"update with full before", enc.wrap(payload("u", sinkAfter, update)), OpUpdate, []row.Value{row.Int64(42)}, []row.Value{row.Int64(42)}, true, true},
			{"update changing the key", enc.wrap(payload("u", replaceField(sinkAfter, "id", "42", "41"), update)), OpUpdate, []row.Value{row.Int64(42)}, []row.Value{row.Int64(41)}, true, true},
			{"delete (default replica identity)", enc.wrap(payload("d", deleteBefore, "")), OpDelete, []row.Value{row.Int64(42)}, []row.Value{row.Int64(42)}, true, false},
			{"delete with only the key", enc.wrap(payload("d", `{"id":42}`, "")), OpDelete, []row.Value{row.Int64(42)}, []row.Value{row.Int64(42)}, true, false},
			{"truncate", enc.wrap(truncatePayload()), OpTruncate, nil, nil, false, false},
		}
		for _, c := range cases {
			t.Run(enc.name+"/"+c.name, func(t *testing.T) {
				d := newSinkDecoder(t, preciseEncoding)
				ev, err := decodeLine(d, c.line)
				require.NoError(t, err)
				assert.Equal(t, c.op, ev.Op)
				assert.Equal(t, c.key, ev.Key)
				assert.Equal(t, c.beforeKey, ev.BeforeKey)
				assert.Equal(t, c.before, ev.Before != nil)
				assert.Equal(t, c.after, ev.After != nil)
				assert.Equal(t, int64(1709288130123), ev.SourceTsMs)
				assert.Equal(t, int64(24023128), ev.LSN)
			})
		}
	}
	t.Run("tombstones", func(t *testing.T) {
		d := newSinkDecoder(t, preciseEncoding)
		for _, line := range []string{"null", " null \r", `{"schema":null,"payload":null}`} {
			ev, err := decodeLine(d, line)
			require.NoError(t, err, line)
			assert.Equal(t, OpTombstone, ev.Op, line)
			assert.Nil(t, ev.Key)
		}
	})
	t.Run("update values", func(t *testing.T) {
		d := newSinkDecoder(t, preciseEncoding)
		ev, err := decodeLine(d, payload("u", "", update))
		require.NoError(t, err)
		assert.True(t, row.Equal(row.Int32(5), ev.After[4]))
	})
}

// TestDecodeTOAST reads unchanged TOAST values in the forms the connector
// writes them (PostgresValueConverter#convertString, #handleUnknownData and
// UnchangedToastedPlaceholder): the placeholder for text and json, [p] for
// a varchar[], {p: p} for an hstore. In base64 mode a bytea's placeholder
// and a precise numeric's fail the column's schema and arrive as null
// (TestBinaryTOASTByMode); the base64 of the placeholder's bytes is then
// data like any other.
func TestDecodeTOAST(t *testing.T) {
	toasted := sinkAfter
	toasted = replaceField(toasted, "notes", `"line1\nline2 \"quoted\" \u00e9 \ud83d\ude00"`, `"__debezium_unavailable_value"`)
	toasted = replaceField(toasted, "doc", `"{\"a\": [1, 2]}"`, `"__debezium_unavailable_value"`)
	toasted = replaceField(toasted, "blob", `"AAEC/w=="`, `null`)
	toasted = replaceField(toasted, "tags", `["red","blue"]`, `["__debezium_unavailable_value"]`)
	toasted = replaceField(toasted, "attrs", `{"color":"red","size":null}`, `{"__debezium_unavailable_value":"__debezium_unavailable_value"}`)
	toasted = replaceField(toasted, "big", `"Zh798VjyqCyfS4c="`, `null`)
	for _, enc := range encodings {
		t.Run(enc.name, func(t *testing.T) {
			d := newSinkDecoder(t, preciseEncoding)
			ev, err := decodeLine(d, enc.wrap(payload("u", "", toasted)))
			require.NoError(t, err)
			want := append([]row.Value(nil), wantAfter...)
			for _, i := range []int{12, 20, 22, 23} {
				want[i] = row.Unavailable()
			}
			want[8], want[19] = row.Null(), row.Null()
			assertRow(t, want, ev.After)

			// The placeholder's bytes in base64 are data in base64 mode.
			ev, err = decodeLine(d, enc.wrap(payload("u", "", replaceField(sinkAfter, "blob", `"AAEC/w=="`, `"X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ=="`))))
			require.NoError(t, err)
			assert.True(t, row.Equal(row.Binary(DefaultPlaceholder), ev.After[19]), "%s", ev.After[19])
			// The placeholder inside a longer text[] or hstore is text.
			ev, err = decodeLine(d, enc.wrap(payload("u", "", replaceField(replaceField(sinkAfter, "tags", `["red","blue"]`, `["red","__debezium_unavailable_value"]`),
				"attrs", `{"color":"red","size":null}`, `{"__debezium_unavailable_value":"x"}`))))
			require.NoError(t, err)
			assert.True(t, row.Equal(row.List([]row.Value{row.String("red"), row.String(DefaultPlaceholder)}), ev.After[22]), "%s", ev.After[22])
			assert.True(t, row.Equal(row.Map([]row.MapEntry{{Key: row.String(DefaultPlaceholder), Value: row.String("x")}}), ev.After[23]), "%s", ev.After[23])
		})
	}
}

func TestDecodeEncodingModes(t *testing.T) {
	table := &jobspec.Table{Name: "m", Topic: "m", Mode: jobspec.ModeLive, PrimaryKey: []string{"id"}, Columns: []jobspec.Column{
		{Name: "id", Type: "int32"},
		{Name: "amount", Type: "decimal", Precision: 10, Scale: 2, Nullable: true},
		{Name: "t", Type: "time", TimePrecision: intPtr(3), Nullable: true},
		{Name: "ts", Type: "timestamp", Nullable: true},
		{Name: "bin", Type: "binary", Nullable: true},
		{Name: "m", Type: "map", Nullable: true, Key: &jobspec.Column{Type: "int32"}, Value: &jobspec.Column{Type: "boolean"}},
		{Name: "f", Type: "float64", Nullable: true},
	}}
	cases := []struct {
		name string
		enc  jobspec.Encoding
		line string
		want []row.Value
	}{
		{"decimal string, adaptive time, hex binary",
			jobspec.Encoding{DecimalHandling: "string", TimePrecision: "adaptive", BinaryHandling: "hex"},
			`{"op":"c","after":{"id":1,"amount":"-12.5","t":1500,"ts":1529507596945104,"bin":"00ff","m":[[1,true],[2,false]],"f":"NaN"}}`,
			[]row.Value{row.Int32(1), row.Decimal(-1250, 2), row.Time(1500000), row.Timestamp(1529507596945104), row.Binary("\x00\xff"),
				row.Map([]row.MapEntry{{Key: row.Int32(1), Value: row.Bool(true)}, {Key: row.Int32(2), Value: row.Bool(false)}}), row.Float64(math.NaN())}},
		{"decimal double rounded, connect time, url-safe binary",
			jobspec.Encoding{DecimalHandling: "double", TimePrecision: "connect", BinaryHandling: "base64-url-safe"},
			`{"op":"c","after":{"id":2,"amount":1.2345E3,"t":1500,"ts":1529507596945,"bin":"_-8=","m":{"7":true},"f":"-Infinity"}}`,
			[]row.Value{row.Int32(2), row.Decimal(123450, 2), row.Time(1500000), row.Timestamp(1529507596945000), row.Binary("\xff\xef"),
				row.Map([]row.MapEntry{{Key: row.Int32(7), Value: row.Bool(true)}}), row.Float64(math.Inf(-1))}},
		{"double mode rounds half to even",
			jobspec.Encoding{DecimalHandling: "double"},
			`{"op":"c","after":{"id":3,"amount":0.125,"f":1e300}}`,
			[]row.Value{row.Int32(3), row.Decimal(12, 2), row.Null(), row.Null(), row.Null(), row.Null(), row.Float64(1e300)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := NewDecoder(table, c.enc)
			require.NoError(t, err)
			ev, err := decodeLine(d, c.line)
			require.NoError(t, err)
			require.Len(t, ev.After, len(c.want))
			for i := range c.want {
				assert.True(t, row.Equal(c.want[i], ev.After[i]), "column %s: want %s, got %s", table.Columns[i].Name, c.want[i], ev.After[i])
			}
		})
	}
}

func TestDecodeZonedTimestamps(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"2024-03-01T10:15:30.123456Z", 1709288130123456},
		{"2024-03-01T10:15:30Z", 1709288130000000},
		{"2024-03-01T11:15:30+01:00", 1709288130000000},
		{"2024-03-01T10:15:30.1Z", 1709288130100000},
		{"2024-03-01T10:15:30.123456789Z", 1709288130123456},
		{"1969-12-31T23:59:59.5Z", -500000},
		{"0001-01-01T00:00:00Z", -62135596800000000},
		{"2024-02-29T00:00:00Z", 1709164800000000},
		{"infinity", 1<<63 - 1},
		{"-infinity", -1 << 63},
	} {
		got, err := parseZoned([]byte(c.in))
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want, got, c.in)
	}
	// java.time writes years past 9999 with a plus sign and years before 1
	// AD (year 0 is 1 BC) with a minus sign and at least four digits.
	utc := func(y int, mo time.Month, d, h, mi, s, us int) int64 {
		return time.Date(y, mo, d, h, mi, s, us*1000, time.UTC).UnixMicro()
	}
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"0000-01-01T00:00:00.000000Z", utc(0, 1, 1, 0, 0, 0, 0)},
		{"+10000-01-01T00:00:00.000000Z", utc(10000, 1, 1, 0, 0, 0, 0)},
		{"+200000-12-31T23:59:59.999999Z", utc(200000, 12, 31, 23, 59, 59, 999999)},
		{"+294247-01-10T04:00:54.775806Z", 1<<63 - 2},
		{"-0001-01-01T00:00:00.000000Z", utc(-1, 1, 1, 0, 0, 0, 0)},
		{"-4712-01-01T00:00:00Z", utc(-4712, 1, 1, 0, 0, 0, 0)},
		{"-4713-11-24T00:00:00Z", utc(-4713, 11, 24, 0, 0, 0, 0)},
		{"-0004-02-29T12:00:00+02:00", utc(-4, 2, 29, 10, 0, 0, 0)},
		{"+2024-03-01T10:15:30Z", 1709288130000000},
		{"-10000-06-15T00:00:00.5Z", utc(-10000, 6, 15, 0, 0, 0, 500000)},
		{"+infinity", 1<<63 - 1},
	} {
		got, err := parseZoned([]byte(c.in))
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want, got, c.in)
	}
	for _, bad := range []string{"2023-02-29T00:00:00Z", "2024-03-01 10:15:30", "yesterday", "2024-13-01T00:00:00Z",
		"+999-01-01T00:00:00Z", "-999-01-01T00:00:00Z", "10000-01-01T00:00:00Z", "+-1000-01-01T00:00:00Z", "+10000-02-30T00:00:00Z",
		"-0001-01-01T00:00:00", "+", "-", "infinityZ"} {
		_, err := parseZoned([]byte(bad))
		assert.Error(t, err, bad)
	}
	// Beyond int64 microseconds since 1970 (PostgreSQL goes on to 294276
	// AD), and the two values that are infinity and -infinity.
	for _, out := range []string{"+294247-01-10T04:00:54.775807Z", "+294276-12-31T23:59:59.999999Z", "+1000000000-01-01T00:00:00Z",
		"-290309-01-01T00:00:00Z", "-999999999-01-01T00:00:00Z"} {
		_, err := parseZoned([]byte(out))
		assert.ErrorIs(t, err, errZonedRange, out)
	}
	tbl := &jobspec.Table{Name: "z", Topic: "z", Mode: jobspec.ModeLive, PrimaryKey: []string{"id"},
		Columns: []jobspec.Column{{Name: "id", Type: "int32"}, {Name: "tz", Type: "timestamptz"}}}
	d, err := NewDecoder(tbl, preciseEncoding)
	require.NoError(t, err)
	ev, err := decodeLine(d, `{"op":"c","after":{"id":1,"tz":"-4712-01-01T00:00:00.000000Z"}}`)
	require.NoError(t, err)
	assert.True(t, row.Equal(row.TimestampTZ(utc(-4712, 1, 1, 0, 0, 0, 0)), ev.After[1]))
	_, err = decodeLine(d, `{"op":"c","after":{"id":1,"tz":"+294276-01-01T00:00:00Z"}}`)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"+294276-01-01T00:00:00Z" is out of the range of a timestamptz here`)
}

// listTable has lists of every element type whose unchanged-TOAST
// placeholder has its own form, and of some that have not.
func listTable() *jobspec.Table {
	list := func(name, elem string) jobspec.Column {
		return jobspec.Column{Name: name, Type: "list", Nullable: true, Element: &jobspec.Column{Type: elem}}
	}
	return &jobspec.Table{Name: "l", Topic: "l", Mode: jobspec.ModeLive, PrimaryKey: []string{"id"}, Columns: []jobspec.Column{
		{Name: "id", Type: "int32"},
		list("ints", "int32"), list("bigs", "int64"), list("days", "date"), list("ids", "uuid"),
		list("smalls", "int16"), list("texts", "text"), list("stamps", "timestamp"),
	}}
}

const listRowFields = `[
  {"type":"int32","optional":false,"field":"id"},
  {"type":"array","items":{"type":"int32","optional":true},"optional":true,"field":"ints"},
  {"type":"array","items":{"type":"int64","optional":true},"optional":true,"field":"bigs"},
  {"type":"array","items":{"type":"int32","optional":true,"name":"io.debezium.time.Date","version":1},"optional":true,"field":"days"},
  {"type":"array","items":{"type":"string","optional":true,"name":"io.debezium.data.Uuid","version":1},"optional":true,"field":"ids"},
  {"type":"array","items":{"type":"int16","optional":true},"optional":true,"field":"smalls"},
  {"type":"array","items":{"type":"string","optional":true},"optional":true,"field":"texts"},
  {"type":"array","items":{"type":"int64","optional":true,"name":"io.debezium.time.MicroTimestamp","version":1},"optional":true,"field":"stamps"}
]`

// phBytes is the default placeholder as integer[] writes it.
const phBytes = `[95,95,100,101,98,101,122,105,117,109,95,117,110,97,118,97,105,108,97,98,108,101,95,118,97,108,117,101]`

func TestDecodeListPlaceholders(t *testing.T) {
	const phUUIDList = `["b68a35a7-17ad-35b3-af2a-ae46edb4545a"]`
	const phString = `["__debezium_unavailable_value"]`
	assert.Equal(t, "b68a35a7-17ad-35b3-af2a-ae46edb4545a", row.UUID(javaNameUUID([]byte(DefaultPlaceholder))).String())
	plain := func(p string) string { return p }
	envelope := func(p string) string { return enveloped(envelopeSchema(compact(listRowFields)), p) }
	line := func(fields string) string { return `{"op":"u","after":{"id":1,` + fields + `}}` }
	notAll := `[95,95,100,101,98,101,122,105,117,109,95,117,110,97,118,97,105,108,97,98,108,101,95,118,97,108,117]`
	for _, c := range []struct {
		name   string
		wrap   func(string) string
		fields string
		toast  []bool // by column after id
	}{
		{"element-typed forms", plain, `"ints":` + phBytes + `,"bigs":` + phBytes + `,"days":` + phBytes + `,"ids":` + phUUIDList,
			[]bool{true, true, true, true, false, false, false}},
		{"element-typed forms, envelope", envelope, `"ints":` + phBytes + `,"bigs":` + phBytes + `,"days":` + phBytes + `,"ids":` + phUUIDList,
			[]bool{true, true, true, true, false, false, false}},
		// text[] is UNCHANGED_TEXT_ARRAY_TOAST_VALUE: Arrays.asList(p).
		{"string form", plain, `"texts":` + phString, []bool{false, false, false, false, false, true, false}},
		{"string form, envelope", envelope, `"texts":` + phString, []bool{false, false, false, false, false, true, false}},
		// Only the element types whose arrays get the bytes form read it as
		// the placeholder: smallint[], text[] and timestamp[] do not.
		{"bytes where they are data", plain, `"smalls":` + phBytes + `,"stamps":` + phBytes, []bool{false, false, false, false, false, false, false}},
		{"bytes where they are data, envelope", envelope, `"smalls":` + phBytes + `,"stamps":` + phBytes, []bool{false, false, false, false, false, false, false}},
		{"almost the placeholder", plain, `"ints":` + notAll + `,"bigs":[95],"days":[],"ids":["b68a35a7-17ad-35b3-af2a-ae46edb4545a","b68a35a7-17ad-35b3-af2a-ae46edb4545a"]`,
			[]bool{false, false, false, false, false, false, false}},
		{"placeholder UUID among others", plain, `"ids":["00000000-0000-0000-0000-000000000000","b68a35a7-17ad-35b3-af2a-ae46edb4545a"]`,
			[]bool{false, false, false, false, false, false, false}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := NewDecoder(listTable(), preciseEncoding)
			require.NoError(t, err)
			ev, err := decodeLine(d, c.wrap(line(c.fields)))
			require.NoError(t, err)
			for i, toast := range c.toast {
				assert.Equal(t, toast, ev.After[i+1].IsUnavailable(), "column %s: %s", listTable().Columns[i+1].Name, ev.After[i+1])
			}
		})
	}
	// The other arrays never carry [p]: it is bad input there.
	for _, col := range []string{"ints", "bigs", "days", "ids", "smalls", "stamps"} {
		d, err := NewDecoder(listTable(), preciseEncoding)
		require.NoError(t, err)
		_, err = decodeLine(d, line(`"`+col+`":`+phString))
		require.Error(t, err, col)
		be, ok := badinput.As(err)
		require.True(t, ok)
		assert.Equal(t, col+"[]", be.Column)
	}
	// The source's element type, from the envelope, decides: integer[] in
	// an int16 list has the bytes form; smallint[] in an int32 list has not.
	t.Run("envelope says the source type", func(t *testing.T) {
		tbl := listTable()
		tbl.Columns[1].Element.Type, tbl.Columns[5].Element.Type = "int16", "int32"
		fields := strings.Replace(listRowFields, `"items":{"type":"int32","optional":true},"optional":true,"field":"ints"`,
			`"items":{"type":"int32","optional":true},"optional":true,"field":"smalls"`, 1)
		fields = strings.Replace(fields, `"items":{"type":"int16","optional":true},"optional":true,"field":"smalls"`,
			`"items":{"type":"int16","optional":true},"optional":true,"field":"ints"`, 1)
		d, err := NewDecoder(tbl, preciseEncoding)
		require.NoError(t, err)
		l := line(`"ints":` + phBytes + `,"smalls":` + phBytes)
		ev, err := decodeLine(d, l)
		require.NoError(t, err)
		assert.False(t, ev.After[1].IsUnavailable(), "plain: an int16 list is never the bytes form")
		assert.True(t, ev.After[5].IsUnavailable(), "plain: an int32 list reads the bytes form")
		ev, err = decodeLine(d, enveloped(envelopeSchema(compact(fields)), l))
		require.NoError(t, err)
		assert.False(t, ev.After[1].IsUnavailable(), "envelope: smallint[] items")
		assert.True(t, ev.After[5].IsUnavailable(), "envelope: integer[] items")
	})
}

// TestListItemsOptional: Debezium declares every array's items optional;
// a list whose spec elements are not nullable accepts that schema (and one
// that declares them required), and still refuses a null element.
func TestListItemsOptional(t *testing.T) {
	for _, items := range []string{`{"type":"string","optional":true}`, `{"type":"string","optional":false}`} {
		fields := strings.Replace(sinkRowFields, `{"type":"string","optional":true},"optional":true,"field":"tags"`, items+`,"optional":true,"field":"tags"`, 1)
		require.Contains(t, fields, items+`,"optional":true,"field":"tags"`)
		wrap := func(p string) string { return enveloped(envelopeSchema(fields), p) }
		d := newSinkDecoder(t, preciseEncoding)
		require.False(t, sinkTable().Columns[22].Element.Nullable)
		ev, err := decodeLine(d, wrap(payload("c", "", sinkAfter)))
		require.NoError(t, err, items)
		assertRow(t, wantAfter, ev.After)
		_, err = decodeLine(d, wrap(payload("c", "", replaceField(sinkAfter, "tags", `["red","blue"]`, `["red",null]`))))
		require.Error(t, err, items)
		be, ok := badinput.As(err)
		require.True(t, ok)
		assert.Equal(t, "tags[]", be.Column)
		assert.Contains(t, be.Reason, "null element in a list whose elements are not nullable")
	}
	// The check is relaxed for list items only: a required column or map
	// key still refuses an optional schema.
	fields := strings.Replace(sinkRowFields, `"keys":{"type":"string","optional":false}`, `"keys":{"type":"string","optional":true}`, 1)
	d := newSinkDecoder(t, preciseEncoding)
	_, err := decodeLine(d, enveloped(envelopeSchema(fields), payload("c", "", sinkAfter)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the event schema allows null (optional) but the column is not nullable")
}

// TestBeforeImageFallbacks: a before image is used only for its key. A
// REPLICA IDENTITY DEFAULT delete writes type fallbacks for the other NOT
// NULL columns, some of which do not parse ("" for a uuid); a non-key value
// that does not parse is Null. A key that does not parse, and JSON that
// does not, are still bad input.
func TestBeforeImageFallbacks(t *testing.T) {
	tbl := sinkTable()
	for i := range tbl.Columns {
		if tbl.Columns[i].Name == "ref" {
			tbl.Columns[i].Nullable = false
		}
	}
	before := `{"id":42,"flag":null,"tiny":null,"small":null,"qty":"zero","ratio":null,"score":null,"price":"!","big":null,` +
		`"num":{"scale":"0","value":1},"code":null,"name":"much too long for varchar(10)","notes":null,"born":null,"opens":-1,"seen_at":null,"logged_at":null,` +
		`"created_at":"","ref":"","blob":"%","doc":null,"geo":{"lat":null},"tags":["red",null],"attrs":[1]}`
	refRequired := strings.Replace(sinkRowFields, `"optional":true,"name":"io.debezium.data.Uuid"`, `"optional":false,"name":"io.debezium.data.Uuid"`, 1)
	for _, enc := range encodings {
		if enc.name == "envelope" {
			enc.wrap = func(p string) string { return enveloped(envelopeSchema(refRequired), p) }
		}
		t.Run(enc.name, func(t *testing.T) {
			d, err := NewDecoder(tbl, preciseEncoding)
			require.NoError(t, err)
			ev, err := decodeLine(d, enc.wrap(payload("d", before, "")))
			require.NoError(t, err)
			assert.Equal(t, OpDelete, ev.Op)
			assert.Equal(t, []row.Value{row.Int64(42)}, ev.Key)
			assert.Equal(t, []row.Value{row.Int64(42)}, ev.BeforeKey)
			for i, v := range ev.Before[1:] {
				assert.True(t, v.IsNull(), "column %s: %s", tbl.Columns[i+1].Name, v)
			}
			// An update's before image, too; its after image is checked.
			ev, err = decodeLine(d, enc.wrap(payload("u", before, sinkAfter)))
			require.NoError(t, err)
			assert.True(t, ev.Before[18].IsNull())
			assertRow(t, wantAfter, ev.After)
			_, err = decodeLine(d, enc.wrap(payload("u", sinkAfter, strings.Replace(sinkAfter, `"ref":"550e8400-e29b-41d4-a716-446655440000"`, `"ref":""`, 1))))
			require.Error(t, err)
			assert.Contains(t, err.Error(), `column "ref": "" is not a uuid`)
			// The key must parse.
			_, err = decodeLine(d, enc.wrap(payload("d", strings.Replace(before, `"id":42`, `"id":"42"`, 1), "")))
			require.Error(t, err)
			assert.Contains(t, err.Error(), `column "id": expected an integer`)
			// Bad JSON in a skipped value is still bad JSON.
			_, err = decodeLine(d, enc.wrap(payload("d", strings.Replace(before, `"qty":"zero"`, `"qty":"ze\qo"`, 1), "")))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "undecodable JSON: invalid escape")
			_, err = decodeLine(d, enc.wrap(payload("d", strings.Replace(before, `"tags":["red",null]`, `"tags":["red",null,]`, 1), "")))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "undecodable JSON")
		})
	}
}

// TestDoubleModeTooWide: in decimal.handling.mode=double the double nearest
// a value of the column's full precision may not fit the column. It is bad
// input, saying that double mode loses precision.
func TestDoubleModeTooWide(t *testing.T) {
	tbl := &jobspec.Table{Name: "d", Topic: "d", Mode: jobspec.ModeLive, PrimaryKey: []string{"id"},
		Columns: []jobspec.Column{{Name: "id", Type: "int32"}, {Name: "v", Type: "decimal", Precision: 38, Scale: 0}}}
	d, err := NewDecoder(tbl, jobspec.Encoding{DecimalHandling: "double"})
	require.NoError(t, err)
	ev, err := decodeLine(d, `{"op":"c","after":{"id":1,"v":9.999999999999999E37}}`)
	require.NoError(t, err)
	assert.True(t, row.Equal(row.BigDecimal(bigInt("99999999999999990000000000000000000000"), 0), ev.After[1]))
	_, err = decodeLine(d, `{"op":"c","after":{"id":1,"v":1.0E38}}`)
	require.Error(t, err)
	be, ok := badinput.As(err)
	require.True(t, ok)
	assert.Equal(t, "v", be.Column)
	assert.Contains(t, be.Reason, "100000000000000000000000000000000000000 does not fit decimal(38, 0); with decimal.handling.mode=double values arrive as doubles")
	assert.Contains(t, be.Reason, "use decimal.handling.mode=precise")
	// Precise mode's own errors do not mention double mode.
	d, err = NewDecoder(tbl, preciseEncoding)
	require.NoError(t, err)
	_, err = decodeLine(d, `{"op":"c","after":{"id":1,"v":"S7Tk6PhRUgIEAAAAAAAAAAA="}}`)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "does not fit decimal(38, 0)")
	assert.NotContains(t, err.Error(), "double")
}

func TestDecodeBadInput(t *testing.T) {
	mismatchSchema := func(from, to string) func(string) string {
		return func(p string) string {
			fields := strings.Replace(sinkRowFields, from, to, 1)
			if fields == sinkRowFields {
				panic("no " + from)
			}
			return enveloped(envelopeSchema(fields), p)
		}
	}
	plain := func(p string) string { return p }
	after := func(name, old, new string) string { return payload("c", "", replaceField(sinkAfter, name, old, new)) }
	cases := []struct {
		name   string
		wrap   func(string) string
		line   string
		column string
		reason string
	}{
		{"undecodable JSON", plain, `{"before":null,"after":{"id":42,`, "", "undecodable JSON: unexpected end of input, expected a field name at byte 32"},
		{"trailing data", plain, payload("c", "", sinkAfter) + "}", "", "undecodable JSON: unexpected data after the event"},
		{"not an object", plain, `[1,2]`, "", "undecodable JSON: unexpected '[', expected an object at byte 0"},
		{"bad escape", plain, after("notes", `"line1\nline2 \"quoted\" \u00e9 \ud83d\ude00"`, `"a\qb"`), "", "undecodable JSON: invalid escape"},
		{"missing key column in after", plain, payload("c", "", strings.Replace(sinkAfter, `"id":42,`, "", 1)), "id", "key column missing from the after image"},
		{"missing key column in before of a delete", plain, payload("d", `{"qty":1}`, ""), "id", "key column missing from the before image"},
		{"null key", plain, after("id", "42", "null"), "id", "null in key column of the after image"},
		{"delete without before", plain, payload("d", "", ""), "", "a delete event without a before image"},
		{"create without after", plain, payload("c", "", ""), "", "a create event without an after image"},
		{"300 into int8", plain, after("tiny", "-7", "300"), "tiny", "300 does not fit int8"},
		{"70000 into int16", plain, after("small", "1234", "70000"), "small", "70000 does not fit int16"},
		{"int64 overflow", plain, after("id", "42", "9223372036854775808"), "id", "9223372036854775808 does not fit int64"},
		{"fraction into an integer", plain, after("qty", "100000", "1.5"), "qty", "1.5 does not fit int32"},
		{"string into an integer", plain, after("qty", "100000", `"12"`), "qty", `expected an integer (column type int32), found the string "12"`},
		{"string too long for varchar(10)", plain, after("name", `"Zoë ✓"`, `"ëëëëëëëëëëë"`), "name", "a string of 11 characters does not fit varchar(10)"},
		{"string too long for char(3)", plain, after("code", `"ABC"`, `"ABCD"`), "code", "a string of 4 characters does not fit char(3)"},
		{"decimal whose scale differs", plain, after("num", `{"scale":3,"value":"z8c="}`, `{"scale":6,"value":"z8c="}`), "num", "-0.012345 has scale 6; it does not fit decimal(20, 5)"},
		{"decimal too many digits", plain, after("price", `"EtaH"`, `"AOjUpRAA"`), "price", "10000000000.00 does not fit decimal(12, 2)"},
		{"decimal not base64", plain, after("price", `"EtaH"`, `"12.5"`), "price", `"12.5" is not a base64 decimal`},
		{"null in a non-nullable column", plain, after("qty", "100000", "null"), "qty", "null in a column that is not nullable"},
		{"missing non-nullable column", plain, payload("c", "", strings.Replace(sinkAfter, `"qty":100000,`, "", 1)), "qty", "missing from the after image, and the column is not nullable"},
		{"null in a non-nullable struct field", plain, after("geo", `{"lat":51.5,"lon":-0.12,"label":null}`, `{"lat":null,"lon":1}`), "geo.lat", "null in a field that is not nullable"},
		{"missing struct field", plain, after("geo", `{"lat":51.5,"lon":-0.12,"label":null}`, `{"lat":1}`), "geo.lon", "missing, and the field is not nullable"},
		{"null list element", plain, after("tags", `["red","blue"]`, `["red",null]`), "tags[]", "null element in a list whose elements are not nullable"},
		{"long list element", plain, after("tags", `["red","blue"]`, `["red","`+strings.Repeat("x", 41)+`"]`), "tags[]", "a string of 41 characters does not fit varchar(40)"},
		{"time out of range", plain, after("opens", "34200123456", "86400000001"), "opens", "86400000001 microseconds is not a time of day"},
		{"bad uuid", plain, after("ref", `"550e8400-e29b-41d4-a716-446655440000"`, `"550e8400e29b41d4a716446655440000"`), "ref", "is not a uuid"},
		{"bad timestamptz", plain, after("created_at", `"2024-03-01T10:15:30.123456Z"`, `"2024-03-01 10:15"`), "created_at", "is not an ISO-8601 timestamp with offset"},
		{"bad base64", plain, after("blob", `"AAEC/w=="`, `"AAEC/w="`), "blob", "is not binary in the base64 encoding"},
		{"object into a string", plain, after("name", `"Zoë ✓"`, `{"a":1}`), "name", "expected a string (column type varchar), found an object"},
		{"duplicate field", plain, payload("c", "", strings.Replace(sinkAfter, `"qty":100000,`, `"qty":1,"qty":2,`, 1)), "qty", "appears twice in the after image"},
		{"placeholder in an integer key", plain, after("id", "42", `"__debezium_unavailable_value"`), "id", "found the unavailable-value placeholder, which the PostgreSQL connector does not write for such a column"},
		{"unknown op", plain, payload("x", "", sinkAfter), "", `unknown op "x"`},
		{"no op", plain, strings.Replace(payload("c", "", sinkAfter), `"op":"c",`, "", 1), "", "the event has no op"},
		{"message event", plain, payload("m", "", ""), "", "a logical decoding message event (op m) is not a table change"},
		{"empty object", plain, `{}`, "", "the event is an empty object"},
		{"envelope without payload", plain, `{"schema":null}`, "", "the envelope has no payload"},
		{"schema: decimal scale differs", mismatchSchema(`"parameters":{"scale":"2","connect.decimal.precision":"12"}`, `"parameters":{"scale":"3","connect.decimal.precision":"12"}`),
			payload("c", "", sinkAfter), "price", "the event's decimal has scale 3, the column's scale is 2"},
		{"schema: decimal precision wider", mismatchSchema(`"connect.decimal.precision":"12"`, `"connect.decimal.precision":"14"`),
			payload("c", "", sinkAfter), "price", "the event's decimal has precision 14, wider than the column's 12"},
		{"schema: optional field for a required column", mismatchSchema(`{"type":"int32","optional":false,"field":"qty"}`, `{"type":"int32","optional":true,"field":"qty"}`),
			payload("c", "", sinkAfter), "qty", "the event schema allows null (optional) but the column is not nullable"},
		{"schema: wrong type", mismatchSchema(`"name":"io.debezium.time.ZonedTimestamp","version":1,"field":"created_at"`, `"name":"io.debezium.time.MicroTimestamp","version":1,"field":"created_at"`),
			payload("c", "", sinkAfter), "created_at", "the event has string io.debezium.time.MicroTimestamp, which does not fit a timestamptz column"},
		{"schema: double into float32", mismatchSchema(`{"type":"float","optional":true,"field":"ratio"}`, `{"type":"double","optional":true,"field":"ratio"}`),
			payload("c", "", sinkAfter), "ratio", "the event has double, which does not fit a float32 column"},
		{"schema: missing required column", mismatchSchema(`{"type":"int32","optional":false,"field":"qty"},`, ``),
			payload("c", "", sinkAfter), "qty", "not in the event schema, and the column is not nullable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := newSinkDecoder(t, preciseEncoding)
			_, err := decodeLine(d, c.wrap(c.line))
			require.Error(t, err)
			be, ok := badinput.As(err)
			require.True(t, ok, "want a *badinput.Error, got %T: %v", err, err)
			assert.Equal(t, testRecord.Object, be.Object)
			assert.Equal(t, 7, be.Line)
			assert.Equal(t, int32(2), be.Partition)
			assert.Equal(t, int64(46), be.Offset)
			assert.Equal(t, c.column, be.Column)
			assert.Contains(t, be.Reason, c.reason)
			assert.Contains(t, err.Error(), testWhere)
		})
	}
}

func TestSchemaCache(t *testing.T) {
	d := newSinkDecoder(t, preciseEncoding)
	s1 := envelopeSchema(sinkRowFields)
	for i := 0; i < 3; i++ {
		_, err := decodeLine(d, enveloped(s1, payload("c", "", sinkAfter)))
		require.NoError(t, err)
	}
	assert.Len(t, d.schemas.entries, 1)
	// A new table version: a column's schema changes (a wider decimal).
	s2 := envelopeSchema(strings.Replace(sinkRowFields, `"connect.decimal.precision":"38"`, `"connect.decimal.precision":"30"`, 1))
	_, err := decodeLine(d, enveloped(s2, payload("c", "", sinkAfter)))
	require.NoError(t, err)
	_, err = decodeLine(d, enveloped(s1, payload("c", "", sinkAfter)))
	require.NoError(t, err)
	assert.Len(t, d.schemas.entries, 2)
	// The payload may come first.
	ev, err := decodeLine(d, `{"payload":`+payload("c", "", sinkAfter)+`,"schema":`+s1+`}`)
	require.NoError(t, err)
	assertRow(t, wantAfter, ev.After)
}

func TestDecodeGoldenCustomerSpec(t *testing.T) {
	spec, err := jobspec.Read("../../../golden/customer-cdc/platforms/lakehouse/jobs/customer_db.json")
	require.NoError(t, err)
	var customers *jobspec.Table
	for i := range spec.Tables {
		if spec.Tables[i].Name == "customers" {
			customers = &spec.Tables[i]
		}
	}
	require.NotNil(t, customers)
	d, err := NewDecoder(customers, spec.Source.Debezium.Encoding)
	require.NoError(t, err)
	line := `{"before":null,"after":{"id":"C-1001","first_name":"Anne","last_name":"Kretchmar","dob":7305,"email":"annek@noanswer.org","phone":null,"credit_limit":"AYag","created_at":"2024-03-01T10:15:30.123456Z"},"source":{"version":"2.7.3.Final","connector":"postgresql","name":"acme.customer_db","ts_ms":1709288130123,"snapshot":"false","db":"crm","sequence":"[\"24023119\",\"24023128\"]","ts_us":1709288130123456,"ts_ns":1709288130123456000,"schema":"public","table":"customers","txId":555,"lsn":24023128,"xmin":null},"transaction":null,"op":"c","ts_ms":1709288130456,"ts_us":1709288130456789,"ts_ns":1709288130456789000}`
	ev, err := decodeLine(d, line)
	require.NoError(t, err)
	want := []row.Value{row.String("C-1001"), row.String("Anne"), row.String("Kretchmar"), row.Date(7305),
		row.String("annek@noanswer.org"), row.Null(), row.Decimal(100000, 2), row.TimestampTZ(1709288130123456)}
	require.Len(t, ev.After, len(want))
	for i := range want {
		assert.True(t, row.Equal(want[i], ev.After[i]), "column %s: want %s, got %s", customers.Columns[i].Name, want[i], ev.After[i])
	}
}

func TestNewDecoderRefusesBadSpecs(t *testing.T) {
	for _, c := range []struct {
		name  string
		table jobspec.Table
		want  string
	}{
		{"no key", jobspec.Table{Name: "t", Columns: []jobspec.Column{{Name: "a", Type: "int32"}}}, "has no primary key"},
		{"key not a column", jobspec.Table{Name: "t", PrimaryKey: []string{"b"}, Columns: []jobspec.Column{{Name: "a", Type: "int32"}}}, "primary key column b is not a column"},
		{"unknown type", jobspec.Table{Name: "t", PrimaryKey: []string{"a"}, Columns: []jobspec.Column{{Name: "a", Type: "money"}}}, `unknown type "money"`},
		{"list without element", jobspec.Table{Name: "t", PrimaryKey: []string{"a"}, Columns: []jobspec.Column{{Name: "a", Type: "int32"}, {Name: "l", Type: "list"}}}, "list has no element type"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewDecoder(&c.table, preciseEncoding)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}
