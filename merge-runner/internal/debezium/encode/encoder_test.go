package encode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/debezium"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

// want is what a line should decode to.
type want struct {
	op            debezium.Op
	before, after []row.Value // as encoded; Expect gives the decoded form
	beforeKey     bool        // the event carries the before image's key
	src           Source
}

// roundTrip checks that every line decodes to the event it encodes.
type roundTrip struct {
	t   *testing.T
	tbl *jobspec.Table
	enc jobspec.Encoding
	e   *Encoder
	d   *debezium.Decoder
	ts  int64
	lsn int64
}

func newRoundTrip(t *testing.T, tbl *jobspec.Table, enc jobspec.Encoding) *roundTrip {
	e, err := NewEncoder(tbl, enc, Meta{Database: "crm"})
	require.NoError(t, err)
	d, err := debezium.NewDecoder(tbl, enc)
	require.NoError(t, err)
	return &roundTrip{t: t, tbl: tbl, enc: enc, e: e, d: d, ts: -86_400_000, lsn: 24023128}
}

// next moves the source on: later commit times, LSNs and transactions,
// each after the commit of the one before.
func (rt *roundTrip) next() Source {
	rt.ts += 1234
	rt.lsn += 88
	s := Source{TsMs: rt.ts, EventTsMs: rt.ts + 17, LSN: rt.lsn, LastCommitLSN: rt.lsn - 40, TxID: 555 + rt.lsn/88}
	rt.e.SetSource(s)
	return s
}

func (rt *roundTrip) check(line []byte, w want) {
	t := rt.t
	t.Helper()
	require.True(t, json.Valid(line), "not JSON: %s", line)
	if rt.enc.SchemasEnabled && w.op != debezium.OpTombstone {
		prefix := append(append([]byte(`{"schema":`), rt.e.Schema()...), `,"payload":`...)
		require.True(t, bytes.HasPrefix(line, prefix), "the envelope does not start with the table's schema: %s", line)
	}
	ev := decodeLine(t, rt.d, line)
	require.Equal(t, w.op, ev.Op, "%s", line)
	if w.op == debezium.OpTombstone {
		require.Nil(t, ev.Key)
		return
	}
	assert.Equal(t, w.src.TsMs, ev.SourceTsMs, "source.ts_ms")
	assert.Equal(t, w.src.EventTsMs, ev.TsMs, "ts_ms")
	assert.Equal(t, w.src.LSN, ev.LSN, "lsn")
	assert.Equal(t, w.src.TxID, ev.TxID, "txId")
	assert.Equal(t, debezium.Sequence{LastCommitLSN: w.src.LastCommitLSN, LSN: w.src.LSN, Valid: true}, ev.Seq, "sequence")
	before, err := rt.e.Expect(w.before)
	require.NoError(t, err)
	after, err := rt.e.Expect(w.after)
	require.NoError(t, err)
	assertRow(t, rt.tbl, "before", before, ev.Before)
	assertRow(t, rt.tbl, "after", after, ev.After)
	switch w.op {
	case debezium.OpTruncate:
		require.Nil(t, ev.Key)
	case debezium.OpDelete:
		assertRow(t, rt.tbl, "key", rt.e.Key(before), ev.Key)
		assertRow(t, rt.tbl, "before key", rt.e.Key(before), ev.BeforeKey)
	default:
		assertRow(t, rt.tbl, "key", rt.e.Key(after), ev.Key)
		if w.beforeKey {
			assertRow(t, rt.tbl, "before key", rt.e.Key(before), ev.BeforeKey)
		} else {
			require.Nil(t, ev.BeforeKey)
		}
	}
}

// toasted replaces some non-key, top-level values with the unchanged-TOAST
// marker, in the columns the connector can write one for.
func (rt *roundTrip) toasted(r []row.Value, seed int) []row.Value {
	out := append([]row.Value(nil), r...)
	for i := range out {
		c := rt.e.cols[i]
		if rt.e.isKey[i] || (i+seed)%3 != 0 || c.toast == toastNever || c.toast == toastNull && !c.nullable {
			continue
		}
		out[i] = row.Unavailable()
	}
	return out
}

// events encodes every kind of event for a row and checks each decodes.
func (rt *roundTrip) events(r, r2, r3 []row.Value, seed int) {
	t, e := rt.t, rt.e
	t.Helper()
	must := func(b []byte, err error) []byte {
		t.Helper()
		require.NoError(t, err)
		return b
	}
	s := rt.next()
	rt.check(must(e.Create(r)), want{op: debezium.OpCreate, after: r, src: s})
	s = rt.next()
	snap := s
	snap.LastCommitLSN, snap.Snapshot = 0, "last" // a snapshot has no last commit
	e.SetSource(snap)
	rt.check(must(e.Read(r)), want{op: debezium.OpRead, after: r, src: snap})
	s = rt.next()
	rt.check(must(e.Update(nil, r2)), want{op: debezium.OpUpdate, after: r2, src: s})
	s = rt.next()
	rt.check(must(e.Update(r, r2)), want{op: debezium.OpUpdate, before: r, after: r2, beforeKey: true, src: s})
	s = rt.next()
	rt.check(must(e.Update(nil, rt.toasted(r2, seed))), want{op: debezium.OpUpdate, after: rt.toasted(r2, seed), src: s})
	s = rt.next()
	rt.check(must(e.Delete(r2)), want{op: debezium.OpDelete, before: r2, src: s})
	s = rt.next()
	keyOnly := e.KeyRow(e.Key(r2))
	lines, err := e.DeleteLines(keyOnly)
	require.NoError(t, err)
	rt.check(lines[0], want{op: debezium.OpDelete, before: keyOnly, src: s})
	if rt.enc.TombstonesOnDelete {
		require.Len(t, lines, 2)
		rt.check(lines[1], want{op: debezium.OpTombstone})
	} else {
		require.Len(t, lines, 1)
	}
	s = rt.next()
	lines, err = e.KeyChange(keyOnly, r3)
	require.NoError(t, err)
	rt.check(lines[0], want{op: debezium.OpDelete, before: keyOnly, src: s})
	if rt.enc.TombstonesOnDelete {
		require.Len(t, lines, 3)
		rt.check(lines[1], want{op: debezium.OpTombstone})
	} else {
		require.Len(t, lines, 2)
	}
	rt.check(lines[len(lines)-1], want{op: debezium.OpCreate, after: r3, src: s})
	s = rt.next()
	rt.check(e.Truncate(), want{op: debezium.OpTruncate, src: s})
	rt.check(e.Tombstone(), want{op: debezium.OpTombstone})
}

// withKey returns r with the key of k.
func withKey(e *Encoder, r, k []row.Value) []row.Value {
	out := append([]row.Value(nil), r...)
	for _, i := range e.pk {
		out[i] = k[i]
	}
	return out
}

func TestRoundTripEveryTypeAndEncoding(t *testing.T) {
	rows := 25
	if testing.Short() {
		rows = 5
	}
	for _, tbl := range []func() *jobspec.Table{allTypes, compositeKey} {
		for n, enc := range allEncodings() {
			t.Run(tbl().Name+"/"+encName(enc), func(t *testing.T) {
				rt := newRoundTrip(t, tbl(), enc)
				g := newGen(uint64(n)+1, enc)
				var input [][]row.Value
				if rt.tbl.Name == "every" {
					input = edgeRows(g.double)
				}
				for range rows {
					input = append(input, g.row(rt.tbl))
				}
				for i, r := range input {
					r2 := withKey(rt.e, g.row(rt.tbl), r) // same key, new values
					r3 := g.row(rt.tbl)                   // another key
					if row.KeyString(rt.e.Key(r3)) == row.KeyString(rt.e.Key(r)) {
						continue
					}
					rt.events(r, r2, r3, i)
				}
			})
		}
	}
}

// TestSchemaIdenticalAcrossEvents checks that with the envelope every event
// of a table carries the same schema bytes, that the schema agrees with
// Debezium's declaration of the fixture's types, and that without it there
// is no schema.
func TestSchemaIdenticalAcrossEvents(t *testing.T) {
	enc := jobspec.Encoding{DecimalHandling: "precise", TimePrecision: "adaptive_time_microseconds", BinaryHandling: "base64", SchemasEnabled: true}
	e, err := NewEncoder(allTypes(), enc, Meta{})
	require.NoError(t, err)
	g := newGen(7, enc)
	var schema []byte
	for i := range 20 {
		r := g.row(allTypes())
		lines := [][]byte{}
		for _, f := range []func([]row.Value) ([]byte, error){e.Create, e.Read, e.Delete} {
			l, err := f(r)
			require.NoError(t, err)
			lines = append(lines, l)
		}
		lines = append(lines, e.Truncate())
		for _, l := range lines {
			var env struct {
				Schema  json.RawMessage `json:"schema"`
				Payload json.RawMessage `json:"payload"`
			}
			require.NoError(t, json.Unmarshal(l, &env))
			if i == 0 && schema == nil {
				schema = env.Schema
			}
			require.Equal(t, string(schema), string(env.Schema))
		}
	}
	require.Equal(t, string(schema), string(e.Schema()))
	assert.Contains(t, string(schema), `{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"12"},"field":"price"}`)
	assert.Contains(t, string(schema), `{"type":"struct","fields":[{"type":"int32","optional":false,"field":"scale"},{"type":"bytes","optional":false,"field":"value"}],"optional":true,"name":"io.debezium.data.VariableScaleDecimal","version":1,"doc":"Variable scaled decimal","field":"num"}`)
	assert.Contains(t, string(schema), `{"type":"int64","optional":false,"field":"id"}`)
	assert.Contains(t, string(schema), `{"type":"int16","optional":true,"field":"tiny"}`)
	// JsonSchema's FLOAT_TYPE_NAME and DOUBLE_TYPE_NAME for real and double precision.
	assert.Contains(t, string(schema), `{"type":"float","optional":true,"field":"ratio"}`)
	assert.Contains(t, string(schema), `{"type":"double","optional":true,"field":"score"}`)
	assert.Contains(t, string(schema), `{"type":"struct","fields":[{"type":"double","optional":false,"field":"lat"},{"type":"double","optional":false,"field":"lon"}`)
	assert.NotContains(t, string(schema), `"float32"`)
	assert.NotContains(t, string(schema), `"float64"`)
	assert.Contains(t, string(schema), `{"type":"int64","optional":true,"name":"io.debezium.time.MicroTime","version":1,"field":"opens"}`)
	assert.Contains(t, string(schema), `{"type":"int64","optional":true,"name":"io.debezium.time.Timestamp","version":1,"field":"logged_at"}`)
	assert.Contains(t, string(schema), `{"type":"string","optional":false,"name":"io.debezium.time.ZonedTimestamp","version":1,"field":"created_at"}`)
	assert.Contains(t, string(schema), `{"type":"array","items":{"type":"string","optional":true},"optional":true,"field":"tags"}`)
	assert.Contains(t, string(schema), `{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"string","optional":true},"optional":true,"field":"attrs"}`)
	assert.Contains(t, string(schema), `"optional":true,"name":"acme.crm.public.every.Value","field":"before"}`)
	assert.Contains(t, string(schema), `"optional":false,"name":"acme.crm.public.every.Envelope","version":2}`)

	enc.SchemasEnabled = false
	e, err = NewEncoder(allTypes(), enc, Meta{})
	require.NoError(t, err)
	require.Nil(t, e.Schema())
	l, err := e.Create(g.row(allTypes()))
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(l, []byte(`{"before":null,"after":{"id":`)), "%s", l)
}

// TestGoldenLines pins the exact text of events of a small table.
func TestGoldenLines(t *testing.T) {
	tbl := &jobspec.Table{Name: "orders", SourceTable: "shop.orders", Topic: "acme.shop.orders", Mode: jobspec.ModeLive,
		PrimaryKey: []string{"id"}, Columns: []jobspec.Column{
			{Name: "id", Type: "int32"},
			{Name: "amount", Type: "decimal", Precision: 10, Scale: 2, Nullable: true},
			{Name: "note", Type: "text"},
			{Name: "at", Type: "timestamptz", Nullable: true},
		}}
	enc := jobspec.Encoding{DecimalHandling: "precise", TimePrecision: "adaptive_time_microseconds", BinaryHandling: "base64", TombstonesOnDelete: true}
	e, err := NewEncoder(tbl, enc, Meta{Database: "shopdb"})
	require.NoError(t, err)
	assert.Equal(t, "acme.shop.orders", e.Topic())
	assert.Equal(t, "acme", e.Server())
	e.SetSource(Source{TsMs: 1709288130123, EventTsMs: 1709288130456, LSN: 24023128, TxID: 555})
	line, err := e.Create([]row.Value{row.Int32(1), row.Decimal(-1250, 2), row.String("a \"b\"\n"), row.TimestampTZ(1709288130120000)})
	require.NoError(t, err)
	const src = `"source":{"version":"2.7.3.Final","connector":"postgresql","name":"acme","ts_ms":1709288130123,"snapshot":"false","db":"shopdb","sequence":"[null,\"24023128\"]","ts_us":1709288130123000,"ts_ns":1709288130123000000,"schema":"shop","table":"orders","txId":555,"lsn":24023128,"xmin":null}`
	const tail = `"transaction":null,"op":"c","ts_ms":1709288130456,"ts_us":1709288130456000,"ts_ns":1709288130456000000}`
	assert.Equal(t, `{"before":null,"after":{"id":1,"amount":"+x4=","note":"a \"b\"\n","at":"2024-03-01T10:15:30.120000Z"},`+src+`,`+tail, string(line))

	lines, err := e.DeleteLines(e.KeyRow([]row.Value{row.Int32(1)}))
	require.NoError(t, err)
	require.Len(t, lines, 2)
	assert.Equal(t, `{"before":{"id":1,"amount":null,"note":"","at":null},"after":null,`+src+`,`+
		`"transaction":null,"op":"d","ts_ms":1709288130456,"ts_us":1709288130456000,"ts_ns":1709288130456000000}`, string(lines[0]))
	assert.Equal(t, "null", string(lines[1]))

	enc.SchemasEnabled = true
	e, err = NewEncoder(tbl, enc, Meta{Database: "shopdb"})
	require.NoError(t, err)
	assert.Equal(t, `{"type":"struct","fields":[`+
		`{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"10"},"field":"amount"},{"type":"string","optional":false,"field":"note"},{"type":"string","optional":true,"name":"io.debezium.time.ZonedTimestamp","version":1,"field":"at"}],"optional":true,"name":"acme.shop.orders.Value","field":"before"},`+
		`{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"10"},"field":"amount"},{"type":"string","optional":false,"field":"note"},{"type":"string","optional":true,"name":"io.debezium.time.ZonedTimestamp","version":1,"field":"at"}],"optional":true,"name":"acme.shop.orders.Value","field":"after"},`+
		`{"type":"struct","fields":[{"type":"string","optional":false,"field":"version"},{"type":"string","optional":false,"field":"connector"},{"type":"string","optional":false,"field":"name"},{"type":"int64","optional":false,"field":"ts_ms"},{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"true,last,false,incremental"},"default":"false","field":"snapshot"},{"type":"string","optional":false,"field":"db"},{"type":"string","optional":true,"field":"sequence"},{"type":"int64","optional":true,"field":"ts_us"},{"type":"int64","optional":true,"field":"ts_ns"},{"type":"string","optional":false,"field":"schema"},{"type":"string","optional":false,"field":"table"},{"type":"int64","optional":true,"field":"txId"},{"type":"int64","optional":true,"field":"lsn"},{"type":"int64","optional":true,"field":"xmin"}],"optional":false,"name":"io.debezium.connector.postgresql.Source","field":"source"},`+
		`{"type":"struct","fields":[{"type":"string","optional":false,"field":"id"},{"type":"int64","optional":false,"field":"total_order"},{"type":"int64","optional":false,"field":"data_collection_order"}],"optional":true,"name":"event.block","version":1,"field":"transaction"},`+
		`{"type":"string","optional":false,"field":"op"},{"type":"int64","optional":true,"field":"ts_ms"},{"type":"int64","optional":true,"field":"ts_us"},{"type":"int64","optional":true,"field":"ts_ns"}],"optional":false,"name":"acme.shop.orders.Envelope","version":2}`,
		string(e.Schema()))
	e.SetSource(Source{TsMs: 1709288130123, EventTsMs: 1709288130456, LSN: 24023128, TxID: 555})
	line = e.Truncate()
	assert.Equal(t, `{"schema":`+string(e.Schema())+`,"payload":{"before":null,"after":null,`+src+`,`+
		`"transaction":null,"op":"t","ts_ms":1709288130456,"ts_us":1709288130456000,"ts_ns":1709288130456000000}}`, string(line))
}

// TestValueForms checks what each type and mode writes, and what the
// decoder makes of it where the mode loses precision.
func TestValueForms(t *testing.T) {
	dec := func(s string, scale int32) row.Value {
		var u big.Int
		if _, ok := u.SetString(s, 10); !ok {
			panic(s)
		}
		return row.BigDecimal(&u, scale)
	}
	cases := []struct {
		name    string
		col     jobspec.Column
		enc     jobspec.Encoding
		meta    Meta
		in      row.Value
		written string    // the JSON the value is written as
		decoded row.Value // the decoder's value; the input when zero
	}{
		// Decimals.
		{"precise negative", jobspec.Column{Type: "decimal", Precision: 12, Scale: 2}, jobspec.Encoding{}, Meta{}, row.Decimal(-1, 2), `"/w=="`, row.Value{}},
		{"precise -128", jobspec.Column{Type: "decimal", Precision: 12, Scale: 2}, jobspec.Encoding{}, Meta{}, row.Decimal(-128, 2), `"gA=="`, row.Value{}},
		{"precise 128", jobspec.Column{Type: "decimal", Precision: 12, Scale: 2}, jobspec.Encoding{}, Meta{}, row.Decimal(128, 2), `"AIA="`, row.Value{}},
		{"precise zero", jobspec.Column{Type: "decimal", Precision: 12, Scale: 2}, jobspec.Encoding{}, Meta{}, row.Decimal(0, 2), `"AA=="`, row.Value{}},
		{"precise rescaled", jobspec.Column{Type: "decimal", Precision: 12, Scale: 2}, jobspec.Encoding{}, Meta{}, row.Decimal(5, 0), `"AfQ="`, row.Decimal(500, 2)},
		{"precise 38 digits", jobspec.Column{Type: "decimal", Precision: 38, Scale: 4}, jobspec.Encoding{}, Meta{},
			dec("-99999999999999999999999999999999999999", 4), `"tMSzV6V5O4X2dd3AAAAAAQ=="`, row.Value{}},
		{"variable scale strips zeros", jobspec.Column{Type: "decimal", Scale: 5}, jobspec.Encoding{}, Meta{}, row.Decimal(1234500, 5), `{"scale":3,"value":"MDk="}`, row.Value{}},
		{"variable scale zero", jobspec.Column{Type: "decimal", Scale: 5}, jobspec.Encoding{}, Meta{}, row.Decimal(0, 5), `{"scale":0,"value":"AA=="}`, row.Value{}},
		{"variable scale big", jobspec.Column{Type: "decimal"}, jobspec.Encoding{}, Meta{}, dec("-100000000000000000000", 0), `{"scale":0,"value":"+pQ4odKc8AAA"}`, row.Value{}},
		{"string", jobspec.Column{Type: "decimal", Precision: 12, Scale: 2}, jobspec.Encoding{DecimalHandling: "string"}, Meta{}, row.Decimal(-5, 2), `"-0.05"`, row.Value{}},
		{"string 38 digits", jobspec.Column{Type: "decimal", Precision: 38, Scale: 10}, jobspec.Encoding{DecimalHandling: "string"}, Meta{},
			dec("12345678901234567890123456789012345678", 10), `"1234567890123456789012345678.9012345678"`, row.Value{}},
		{"double exact", jobspec.Column{Type: "decimal", Precision: 12, Scale: 2}, jobspec.Encoding{DecimalHandling: "double"}, Meta{}, row.Decimal(-29, 2), `-0.29`, row.Value{}},
		{"double exponent", jobspec.Column{Type: "decimal", Precision: 12, Scale: 2}, jobspec.Encoding{DecimalHandling: "double"}, Meta{}, row.Decimal(1234567800, 2), `1.2345678E7`, row.Value{}},
		{"double small", jobspec.Column{Type: "decimal", Precision: 10, Scale: 4}, jobspec.Encoding{DecimalHandling: "double"}, Meta{}, row.Decimal(5, 4), `5.0E-4`, row.Value{}},
		{"double rounds 19 digits", jobspec.Column{Type: "decimal", Precision: 20, Scale: 2}, jobspec.Encoding{DecimalHandling: "double"}, Meta{},
			row.Decimal(1234567890123456789, 2), `1.2345678901234568E16`, row.Decimal(1234567890123456800, 2)},
		{"double rounds 38 digits", jobspec.Column{Type: "decimal", Precision: 38, Scale: 10}, jobspec.Encoding{DecimalHandling: "double"}, Meta{},
			dec("12345678901234567890123456789012345678", 10), `1.2345678901234569E27`, dec("12345678901234569000000000000000000000", 10)},
		{"double keeps 15 digits", jobspec.Column{Type: "decimal", Precision: 38, Scale: 10}, jobspec.Encoding{DecimalHandling: "double"}, Meta{},
			dec("-999999999999999", 10), `-99999.9999999999`, row.Value{}},
		// Floats, as Java prints them.
		{"float64 plain", jobspec.Column{Type: "float64"}, jobspec.Encoding{}, Meta{}, row.Float64(1234567), `1234567.0`, row.Value{}},
		{"float64 1e7", jobspec.Column{Type: "float64"}, jobspec.Encoding{}, Meta{}, row.Float64(1e7), `1.0E7`, row.Value{}},
		{"float64 1e-3", jobspec.Column{Type: "float64"}, jobspec.Encoding{}, Meta{}, row.Float64(1e-3), `0.001`, row.Value{}},
		{"float64 1e-4", jobspec.Column{Type: "float64"}, jobspec.Encoding{}, Meta{}, row.Float64(-1e-4), `-1.0E-4`, row.Value{}},
		{"float64 max", jobspec.Column{Type: "float64"}, jobspec.Encoding{}, Meta{}, row.Float64(math.MaxFloat64), `1.7976931348623157E308`, row.Value{}},
		{"float64 min", jobspec.Column{Type: "float64"}, jobspec.Encoding{}, Meta{}, row.Float64(math.SmallestNonzeroFloat64), `4.9E-324`, row.Value{}},
		{"float64 -0", jobspec.Column{Type: "float64"}, jobspec.Encoding{}, Meta{}, row.Float64(math.Copysign(0, -1)), `-0.0`, row.Value{}},
		{"float64 NaN", jobspec.Column{Type: "float64"}, jobspec.Encoding{}, Meta{}, row.Float64(math.NaN()), `"NaN"`, row.Value{}},
		{"float64 -Inf", jobspec.Column{Type: "float64"}, jobspec.Encoding{}, Meta{}, row.Float64(math.Inf(-1)), `"-Infinity"`, row.Value{}},
		{"float64 third", jobspec.Column{Type: "float64"}, jobspec.Encoding{}, Meta{}, row.Float64(1.0 / 3), `0.3333333333333333`, row.Value{}},
		{"float64 100", jobspec.Column{Type: "float64"}, jobspec.Encoding{}, Meta{}, row.Float64(100), `100.0`, row.Value{}},
		{"float64 1e22", jobspec.Column{Type: "float64"}, jobspec.Encoding{}, Meta{}, row.Float64(1e22), `1.0E22`, row.Value{}},
		{"float64 sci", jobspec.Column{Type: "float64"}, jobspec.Encoding{}, Meta{}, row.Float64(123456789), `1.23456789E8`, row.Value{}},
		{"float64 below 1e7", jobspec.Column{Type: "float64"}, jobspec.Encoding{}, Meta{}, row.Float64(9999999.5), `9999999.5`, row.Value{}},
		{"float32 min", jobspec.Column{Type: "float32"}, jobspec.Encoding{}, Meta{}, row.Float32(math.SmallestNonzeroFloat32), `1.4E-45`, row.Value{}},
		{"float32 tenth", jobspec.Column{Type: "float32"}, jobspec.Encoding{}, Meta{}, row.Float32(0.1), `0.1`, row.Value{}},
		{"float32 1e10", jobspec.Column{Type: "float32"}, jobspec.Encoding{}, Meta{}, row.Float32(1e10), `1.0E10`, row.Value{}},
		{"float32", jobspec.Column{Type: "float32"}, jobspec.Encoding{}, Meta{}, row.Float32(1.1), `1.1`, row.Value{}},
		{"float32 max", jobspec.Column{Type: "float32"}, jobspec.Encoding{}, Meta{}, row.Float32(math.MaxFloat32), `3.4028235E38`, row.Value{}},
		{"float32 Inf", jobspec.Column{Type: "float32"}, jobspec.Encoding{}, Meta{}, row.Float32(float32(math.Inf(1))), `"Infinity"`, row.Value{}},
		// Integers.
		{"int8", jobspec.Column{Type: "int8"}, jobspec.Encoding{}, Meta{}, row.Int32(-128), `-128`, row.Value{}},
		{"int64 min", jobspec.Column{Type: "int64"}, jobspec.Encoding{}, Meta{}, row.Int64(math.MinInt64), `-9223372036854775808`, row.Value{}},
		// Text.
		// Jackson: control characters as \u00XX in upper case, characters
		// beyond the BMP as surrogate escapes, the rest (DEL, U+2028) raw.
		{"text escapes", jobspec.Column{Type: "text"}, jobspec.Encoding{}, Meta{}, row.String("a\"b\\c/\n\t\x01\x1f\x7fé😀𝄞\u2028\U0010FFFF"),
			`"a\"b\\c/\n\t\u0001\u001F` + "\x7fé" + `\uD83D\uDE00\uD834\uDD1E` + "\u2028" + `\uDBFF\uDFFF"`, row.Value{}},
		{"json", jobspec.Column{Type: "json"}, jobspec.Encoding{}, Meta{}, row.JSON(`{"a": [1, "x"]}`), `"{\"a\": [1, \"x\"]}"`, row.Value{}},
		{"uuid", jobspec.Column{Type: "uuid"}, jobspec.Encoding{}, Meta{}, row.UUID([16]byte{0x55, 0x0e, 0x84, 0, 0xe2, 0x9b, 0x41, 0xd4, 0xa7, 0x16, 0x44, 0x66, 0x55, 0x44, 0, 0}),
			`"550e8400-e29b-41d4-a716-446655440000"`, row.Value{}},
		// Binary.
		{"binary base64", jobspec.Column{Type: "binary"}, jobspec.Encoding{BinaryHandling: "base64"}, Meta{}, row.Binary("\x00\x01\x02\xff"), `"AAEC/w=="`, row.Value{}},
		{"binary bytes", jobspec.Column{Type: "binary"}, jobspec.Encoding{BinaryHandling: "bytes"}, Meta{}, row.Binary("\x00\x01\x02\xff"), `"AAEC/w=="`, row.Value{}},
		{"binary hex", jobspec.Column{Type: "binary"}, jobspec.Encoding{BinaryHandling: "hex"}, Meta{}, row.Binary("\x00\xff\xab"), `"00ffab"`, row.Value{}},
		{"binary url-safe", jobspec.Column{Type: "binary"}, jobspec.Encoding{BinaryHandling: "base64-url-safe"}, Meta{}, row.Binary("\xff\xef"), `"_-8="`, row.Value{}},
		{"binary empty", jobspec.Column{Type: "binary"}, jobspec.Encoding{BinaryHandling: "hex"}, Meta{}, row.Binary(""), `""`, row.Value{}},
		// Dates and times.
		{"date pre-1970", jobspec.Column{Type: "date"}, jobspec.Encoding{}, Meta{}, row.Date(-719162), `-719162`, row.Value{}},
		{"time micro", jobspec.Column{Type: "time"}, jobspec.Encoding{TimePrecision: "adaptive"}, Meta{}, row.Time(34200123456), `34200123456`, row.Value{}},
		{"time(3) adaptive", jobspec.Column{Type: "time", TimePrecision: intPtr(3)}, jobspec.Encoding{TimePrecision: "adaptive"}, Meta{}, row.Time(1500), `1`, row.Time(1000)},
		{"time(3) adaptive_time_microseconds", jobspec.Column{Type: "time", TimePrecision: intPtr(3)}, jobspec.Encoding{TimePrecision: "adaptive_time_microseconds"}, Meta{}, row.Time(1500), `1500`, row.Value{}},
		{"time(3) default mode is adaptive", jobspec.Column{Type: "time", TimePrecision: intPtr(3)}, jobspec.Encoding{}, Meta{}, row.Time(1500), `1`, row.Time(1000)},
		{"time connect", jobspec.Column{Type: "time"}, jobspec.Encoding{TimePrecision: "connect"}, Meta{}, row.Time(34200123456), `34200123`, row.Time(34200123000)},
		{"time 24:00", jobspec.Column{Type: "time"}, jobspec.Encoding{}, Meta{}, row.Time(86400000000), `86400000000`, row.Value{}},
		{"timestamp micro pre-1970", jobspec.Column{Type: "timestamp"}, jobspec.Encoding{}, Meta{}, row.Timestamp(-1), `-1`, row.Value{}},
		{"timestamp(3) floors", jobspec.Column{Type: "timestamp", TimePrecision: intPtr(3)}, jobspec.Encoding{}, Meta{}, row.Timestamp(-1001), `-2`, row.Timestamp(-2000)},
		{"timestamp connect floors", jobspec.Column{Type: "timestamp"}, jobspec.Encoding{TimePrecision: "connect"}, Meta{}, row.Timestamp(1529507596945104), `1529507596945`, row.Timestamp(1529507596945000)},
		{"timestamp(6) adaptive", jobspec.Column{Type: "timestamp", TimePrecision: intPtr(6)}, jobspec.Encoding{TimePrecision: "adaptive"}, Meta{}, row.Timestamp(1529507596945104), `1529507596945104`, row.Value{}},
		{"timestamptz", jobspec.Column{Type: "timestamptz"}, jobspec.Encoding{}, Meta{}, row.TimestampTZ(1709288130123456), `"2024-03-01T10:15:30.123456Z"`, row.Value{}},
		{"timestamptz pads", jobspec.Column{Type: "timestamptz"}, jobspec.Encoding{}, Meta{}, row.TimestampTZ(1709288130000000), `"2024-03-01T10:15:30.000000Z"`, row.Value{}},
		{"timestamptz pre-1970", jobspec.Column{Type: "timestamptz"}, jobspec.Encoding{}, Meta{}, row.TimestampTZ(-1), `"1969-12-31T23:59:59.999999Z"`, row.Value{}},
		{"timestamptz(3) truncates", jobspec.Column{Type: "timestamptz", TimePrecision: intPtr(3)}, jobspec.Encoding{}, Meta{}, row.TimestampTZ(-1), `"1969-12-31T23:59:59.999Z"`, row.TimestampTZ(-1000)},
		{"timestamptz(0)", jobspec.Column{Type: "timestamptz", TimePrecision: intPtr(0)}, jobspec.Encoding{}, Meta{}, row.TimestampTZ(1_500_000), `"1970-01-01T00:00:01.5Z"`, row.Value{}},
		{"timestamptz legacy", jobspec.Column{Type: "timestamptz"}, jobspec.Encoding{}, Meta{LegacyZonedTimestamps: true}, row.TimestampTZ(1709288130120000), `"2024-03-01T10:15:30.12Z"`, row.Value{}},
		{"timestamptz legacy whole", jobspec.Column{Type: "timestamptz"}, jobspec.Encoding{}, Meta{LegacyZonedTimestamps: true}, row.TimestampTZ(0), `"1970-01-01T00:00:00Z"`, row.Value{}},
		{"timestamptz year 1", jobspec.Column{Type: "timestamptz"}, jobspec.Encoding{}, Meta{}, row.TimestampTZ(minTs), `"0001-01-01T00:00:00.000000Z"`, row.Value{}},
		{"timestamptz infinity", jobspec.Column{Type: "timestamptz"}, jobspec.Encoding{}, Meta{}, row.TimestampTZ(math.MaxInt64), `"infinity"`, row.Value{}},
		{"timestamptz -infinity", jobspec.Column{Type: "timestamptz"}, jobspec.Encoding{}, Meta{}, row.TimestampTZ(math.MinInt64), `"-infinity"`, row.Value{}},
		// Nested.
		{"struct", jobspec.Column{Type: "struct", Fields: []jobspec.Column{{Name: "a", Type: "int32"}, {Name: "b", Type: "varchar", Nullable: true}}},
			jobspec.Encoding{}, Meta{}, row.Struct([]row.Value{row.Int32(1), row.Null()}), `{"a":1,"b":null}`, row.Value{}},
		{"list", jobspec.Column{Type: "list", Element: &jobspec.Column{Type: "date", Nullable: true}},
			jobspec.Encoding{}, Meta{}, row.List([]row.Value{row.Date(-1), row.Null()}), `[-1,null]`, row.Value{}},
		{"map with string keys", jobspec.Column{Type: "map", Key: &jobspec.Column{Type: "varchar"}, Value: &jobspec.Column{Type: "int64"}},
			jobspec.Encoding{}, Meta{}, row.Map([]row.MapEntry{{Key: row.String("a\"b"), Value: row.Int64(1)}}), `{"a\"b":1}`, row.Value{}},
		{"map with uuid keys", jobspec.Column{Type: "map", Key: &jobspec.Column{Type: "uuid"}, Value: &jobspec.Column{Type: "boolean"}},
			jobspec.Encoding{}, Meta{}, row.Map([]row.MapEntry{{Key: row.UUID([16]byte{}), Value: row.Bool(true)}}), `{"00000000-0000-0000-0000-000000000000":true}`, row.Value{}},
		{"map with int keys", jobspec.Column{Type: "map", Key: &jobspec.Column{Type: "int32"}, Value: &jobspec.Column{Type: "boolean"}},
			jobspec.Encoding{}, Meta{}, row.Map([]row.MapEntry{{Key: row.Int32(1), Value: row.Bool(true)}, {Key: row.Int32(-2), Value: row.Bool(false)}}), `[[1,true],[-2,false]]`, row.Value{}},
		{"map with bytes keys", jobspec.Column{Type: "map", Key: &jobspec.Column{Type: "binary"}, Value: &jobspec.Column{Type: "boolean"}},
			jobspec.Encoding{BinaryHandling: "bytes"}, Meta{}, row.Map([]row.MapEntry{{Key: row.Binary("\xff"), Value: row.Bool(true)}}), `[["/w==",true]]`, row.Value{}},
		{"map with decimal string keys", jobspec.Column{Type: "map", Key: &jobspec.Column{Type: "decimal", Precision: 5, Scale: 1}, Value: &jobspec.Column{Type: "boolean"}},
			jobspec.Encoding{DecimalHandling: "string"}, Meta{}, row.Map([]row.MapEntry{{Key: row.Decimal(-15, 1), Value: row.Bool(true)}}), `{"-1.5":true}`, row.Value{}},
		{"null", jobspec.Column{Type: "uuid", Nullable: true}, jobspec.Encoding{}, Meta{}, row.Null(), `null`, row.Value{}},
	}
	for _, c := range cases {
		for _, env := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/envelope=%t", c.name, env), func(t *testing.T) {
				col := c.col
				col.Name = "v"
				tbl := &jobspec.Table{Name: "t", SourceTable: "public.t", Topic: "srv.public.t", Mode: jobspec.ModeLive, PrimaryKey: []string{"id"},
					Columns: []jobspec.Column{{Name: "id", Type: "int32"}, col}}
				enc := c.enc
				enc.SchemasEnabled = env
				e, err := NewEncoder(tbl, enc, c.meta)
				require.NoError(t, err)
				line, err := e.Create([]row.Value{row.Int32(7), c.in})
				require.NoError(t, err)
				assert.Contains(t, string(line), `"after":{"id":7,"v":`+c.written+`}`)
				d, err := debezium.NewDecoder(tbl, enc)
				require.NoError(t, err)
				ev := decodeLine(t, d, line)
				wantV := c.decoded
				if wantV.Kind() == row.KindNull && !c.in.IsNull() {
					wantV = c.in
				}
				if wantV.Kind() == row.KindFloat64 && math.IsNaN(wantV.Float()) {
					wantV = row.Float64(math.NaN())
				}
				assert.True(t, row.Equal(wantV, ev.After[1]), "want %s, got %s", wantV, ev.After[1])
				exp, err := e.Expect([]row.Value{row.Int32(7), c.in})
				require.NoError(t, err)
				assert.True(t, row.Equal(wantV, exp[1]), "Expect: want %s, got %s", wantV, exp[1])
			})
		}
	}
}

// TestFallbacks checks what a REPLICA IDENTITY DEFAULT delete writes for the
// columns it does not carry: null where the column is nullable, the
// connector's fallback where it is not.
func TestFallbacks(t *testing.T) {
	tbl := &jobspec.Table{Name: "t", SourceTable: "public.t", Topic: "srv.public.t", Mode: jobspec.ModeLive, PrimaryKey: []string{"id"},
		Columns: []jobspec.Column{
			{Name: "id", Type: "int32"},
			{Name: "b", Type: "boolean"},
			{Name: "i", Type: "int64"},
			{Name: "f", Type: "float32"},
			{Name: "d", Type: "decimal", Precision: 10, Scale: 2},
			{Name: "v", Type: "decimal", Scale: 2},
			{Name: "s", Type: "varchar", Length: 3},
			{Name: "j", Type: "json"},
			{Name: "bin", Type: "binary"},
			{Name: "day", Type: "date"},
			{Name: "tm", Type: "time"},
			{Name: "ts", Type: "timestamp"},
			{Name: "tz", Type: "timestamptz"},
			{Name: "l", Type: "list", Element: &jobspec.Column{Type: "text", Nullable: true}},
			{Name: "m", Type: "map", Key: &jobspec.Column{Type: "int32"}, Value: &jobspec.Column{Type: "text"}},
			{Name: "st", Type: "struct", Fields: []jobspec.Column{{Name: "x", Type: "int32"}, {Name: "y", Type: "text", Nullable: true}}},
			{Name: "n", Type: "text", Nullable: true},
		}}
	for _, enc := range allEncodings() {
		t.Run(encName(enc), func(t *testing.T) {
			e, err := NewEncoder(tbl, enc, Meta{})
			require.NoError(t, err)
			before := e.KeyRow([]row.Value{row.Int32(9)})
			line, err := e.Delete(before)
			require.NoError(t, err)
			if enc.DecimalHandling == "precise" && enc.BinaryHandling == "hex" && !enc.SchemasEnabled && enc.TimePrecision == "adaptive" {
				assert.Contains(t, string(line), `"before":{"id":9,"b":false,"i":0,"f":0.0,"d":"AA==","v":{"scale":0,"value":"AA=="},"s":"","j":"","bin":"","day":0,"tm":0,"ts":0,"tz":"1970-01-01T00:00:00Z","l":[],"m":[],"st":{"x":0,"y":null},"n":null}`)
			}
			d, err := debezium.NewDecoder(tbl, enc)
			require.NoError(t, err)
			ev := decodeLine(t, d, line)
			want, err := e.Expect(before)
			require.NoError(t, err)
			assertRow(t, tbl, "before", want, ev.Before)
			assert.True(t, row.Equal(row.Decimal(0, 2), ev.Before[4]))
			assert.True(t, row.Equal(row.TimestampTZ(0), ev.Before[12]))
		})
	}
}

// TestDeterministic checks that the same input gives the same bytes.
func TestDeterministic(t *testing.T) {
	for _, enc := range allEncodings()[:8] {
		var out [2][]byte
		for i := range out {
			e, err := NewEncoder(allTypes(), enc, Meta{})
			require.NoError(t, err)
			g := newGen(42, enc)
			for range 30 {
				e.SetSource(Source{TsMs: 1, LSN: 2, TxID: 3})
				l, err := e.Create(g.row(allTypes()))
				require.NoError(t, err)
				out[i] = append(append(out[i], l...), '\n')
			}
		}
		require.Equal(t, out[0], out[1])
	}
}

func TestEncoderRefusesBadInput(t *testing.T) {
	tbl := allTypes()
	enc := jobspec.Encoding{}
	e, err := NewEncoder(tbl, enc, Meta{})
	require.NoError(t, err)
	g := newGen(1, enc)
	r := g.row(tbl)

	_, err = e.Create(r[:3])
	assert.ErrorContains(t, err, "3 values for 33 columns")
	bad := append([]row.Value(nil), r...)
	bad[0] = row.Int32(1)
	_, err = e.Create(bad)
	assert.ErrorContains(t, err, "column id (int64) cannot hold a int32 value")
	bad[0] = row.Null()
	_, err = e.Create(bad)
	assert.ErrorContains(t, err, "key column id of the after image is null")
	_, err = e.Delete(bad)
	assert.ErrorContains(t, err, "key column id of the before image is null")
	bad[0] = row.Unavailable()
	_, err = e.Update(nil, bad)
	assert.ErrorContains(t, err, "key column id of the after image is unavailable")
	_, err = e.Create(nil)
	assert.ErrorContains(t, err, "needs an after image")
	_, err = e.Delete(nil)
	assert.ErrorContains(t, err, "needs a before image")
	_, err = e.KeyChange(r, r)
	assert.ErrorContains(t, err, "the key does not change")
	bad = append([]row.Value(nil), r...)
	bad[7] = row.Decimal(1, 3)
	_, err = e.Create(bad)
	assert.ErrorContains(t, err, "more fraction digits than the column's scale 2")

	for _, c := range []struct {
		name string
		t    jobspec.Table
		enc  jobspec.Encoding
		want string
	}{
		{"no key", jobspec.Table{Name: "t", Columns: []jobspec.Column{{Name: "a", Type: "int32"}}}, enc, "has no primary key"},
		{"unknown type", jobspec.Table{Name: "t", PrimaryKey: []string{"a"}, Columns: []jobspec.Column{{Name: "a", Type: "money"}}}, enc, `unknown type "money"`},
		{"list key", jobspec.Table{Name: "t", PrimaryKey: []string{"a"}, Columns: []jobspec.Column{{Name: "a", Type: "list", Element: &jobspec.Column{Type: "int32"}}}}, enc, "primary key column a is a list"},
		{"unknown mode", jobspec.Table{Name: "t", PrimaryKey: []string{"a"}, Columns: []jobspec.Column{{Name: "a", Type: "int32"}}}, jobspec.Encoding{TimePrecision: "nano"}, `unknown time precision mode "nano"`},
	} {
		_, err := NewEncoder(&c.t, c.enc, Meta{})
		assert.ErrorContains(t, err, c.want, c.name)
	}
}

func TestMetaDefaults(t *testing.T) {
	tbl := compositeKey()
	e, err := NewEncoder(tbl, jobspec.Encoding{}, Meta{})
	require.NoError(t, err)
	assert.Equal(t, "acme.crm.sales.ck", e.Topic())
	assert.Equal(t, "acme.crm", e.Server())
	assert.Equal(t, []int{4, 3, 2, 1, 6, 5}, e.KeyIndexes())
	assert.Equal(t, len(tbl.Columns), e.Columns())

	tbl.Topic = ""
	e, err = NewEncoder(tbl, jobspec.Encoding{}, Meta{Server: "pg1"})
	require.NoError(t, err)
	assert.Equal(t, "pg1.sales.ck", e.Topic())
	line, err := e.Update(nil, []row.Value{row.Unavailable(), row.TimestampTZ(0), row.Decimal(0, 4), row.String("k"),
		row.UUID([16]byte{}), row.Binary(""), row.Date(0), row.Decimal(1, 6)})
	require.NoError(t, err)
	assert.Contains(t, string(line), `"after":{"payload":"__debezium_unavailable_value","k_ts":`)
	// A precise numeric's placeholder is written as null, which the NOT
	// NULL amount cannot hold: the connector fails the record.
	_, err = e.Update(nil, []row.Value{row.Unavailable(), row.TimestampTZ(0), row.Decimal(0, 4), row.String("k"),
		row.UUID([16]byte{}), row.Binary(""), row.Date(0), row.Unavailable()})
	assert.ErrorContains(t, err, "the connector writes an unchanged TOAST value here as null")
	e, err = NewEncoder(tbl, jobspec.Encoding{DecimalHandling: "string"}, Meta{Server: "pg1", Placeholder: "~"})
	require.NoError(t, err)
	line, err = e.Update(nil, []row.Value{row.Unavailable(), row.TimestampTZ(0), row.Decimal(0, 4), row.String("k"),
		row.UUID([16]byte{}), row.Binary(""), row.Date(0), row.Unavailable()})
	require.NoError(t, err)
	assert.Contains(t, string(line), `"after":{"payload":"~","k_ts":"1970-01-01T00:00:00.000000Z","k_dec":"0.0000","k_str":"k","k_uuid":"00000000-0000-0000-0000-000000000000","k_bin":"","k_date":0,"amount":"~"}`)
	e.SetSource(Source{TsMs: 5})
	assert.Equal(t, Source{TsMs: 5}, e.Source())
	line = e.Truncate()
	assert.Contains(t, string(line), `"name":"pg1","ts_ms":5,"snapshot":"false","db":"postgres","sequence":"[null,null]","ts_us":5000,"ts_ns":5000000,"schema":"sales","table":"ck","txId":null,"lsn":null`)
}

// TestSourceBlock pins the source block as PostgresSourceInfoStructMaker
// writes it: sequence is SourceInfo#sequence, a string holding
// ["<lastCommitLsn>","<lsn>"] (an element null when unknown); an
// incremental snapshot's events carry no txId, lsn or xmin.
func TestSourceBlock(t *testing.T) {
	e, err := NewEncoder(oneColumn(jobspec.Column{Type: "text", Nullable: true}), jobspec.Encoding{}, Meta{Database: "db"})
	require.NoError(t, err)
	for _, c := range []struct {
		src  Source
		op   func() ([]byte, error)
		want string
	}{
		{Source{TsMs: 1, LSN: 300, LastCommitLSN: 200, TxID: 7}, func() ([]byte, error) { return e.Create([]row.Value{row.Int32(1), row.Null()}) },
			`"source":{"version":"2.7.3.Final","connector":"postgresql","name":"srv","ts_ms":1,"snapshot":"false","db":"db","sequence":"[\"200\",\"300\"]","ts_us":1000,"ts_ns":1000000,"schema":"public","table":"t","txId":7,"lsn":300,"xmin":null}`},
		{Source{TsMs: 1, LSN: 300, TxID: 7}, func() ([]byte, error) { return e.Read([]row.Value{row.Int32(1), row.Null()}) },
			`"snapshot":"true","db":"db","sequence":"[null,\"300\"]"`},
		{Source{TsMs: 1, LSN: 300, LastCommitLSN: 200, TxID: 7, Snapshot: "incremental"}, func() ([]byte, error) { return e.Read([]row.Value{row.Int32(1), row.Null()}) },
			`"snapshot":"incremental","db":"db","sequence":"[\"200\",\"300\"]","ts_us":1000,"ts_ns":1000000,"schema":"public","table":"t","txId":null,"lsn":null,"xmin":null}`},
	} {
		e.SetSource(c.src)
		line, err := c.op()
		require.NoError(t, err)
		assert.Contains(t, string(line), c.want)
		d, err := debezium.NewDecoder(oneColumn(jobspec.Column{Type: "text", Nullable: true}), jobspec.Encoding{})
		require.NoError(t, err)
		ev := decodeLine(t, d, line)
		assert.Equal(t, debezium.Sequence{LastCommitLSN: c.src.LastCommitLSN, LSN: c.src.LSN, Valid: true}, ev.Seq)
	}
}

// TestExpectIsIdentityWhereLossless checks that where no mode loses
// precision the decoder reads back exactly the rows that were encoded.
func TestExpectIsIdentityWhereLossless(t *testing.T) {
	tbl := allTypes()
	var cols []jobspec.Column
	for _, c := range tbl.Columns {
		switch c.Name {
		case "logged_at", "stamp0", "tz3": // millisecond forms
		default:
			cols = append(cols, c)
		}
	}
	tbl.Columns = cols
	for _, enc := range []jobspec.Encoding{
		{DecimalHandling: "precise", TimePrecision: "adaptive_time_microseconds", BinaryHandling: "bytes"},
		{DecimalHandling: "string", TimePrecision: "adaptive_time_microseconds", BinaryHandling: "hex", SchemasEnabled: true},
	} {
		e, err := NewEncoder(tbl, enc, Meta{})
		require.NoError(t, err)
		d, err := debezium.NewDecoder(tbl, enc)
		require.NoError(t, err)
		g := newGen(11, enc)
		g.noNaN = true // NaN payloads are not kept: Java writes "NaN"
		for range 200 {
			r := g.row(tbl)
			line, err := e.Create(r)
			require.NoError(t, err)
			ev := decodeLine(t, d, line)
			assertRow(t, tbl, "after", r, ev.After)
		}
	}
}

func BenchmarkEncodeCreate(b *testing.B) {
	for _, env := range []bool{false, true} {
		b.Run(fmt.Sprintf("envelope=%t", env), func(b *testing.B) {
			enc := jobspec.Encoding{SchemasEnabled: env}
			e, err := NewEncoder(compositeKey(), enc, Meta{})
			require.NoError(b, err)
			g := newGen(1, enc)
			rows := make([][]row.Value, 1000)
			for i := range rows {
				rows[i] = g.row(compositeKey())
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := e.Create(rows[i%len(rows)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
