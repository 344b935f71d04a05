package debezium

import (
	"encoding/base64"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/badinput"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

// oneColumnTable is a table of an int32 key and column v.
func oneColumnTable(v jobspec.Column) *jobspec.Table {
	v.Name = "v"
	return &jobspec.Table{Name: "t", Topic: "srv.public.t", Mode: jobspec.ModeLive, PrimaryKey: []string{"id"},
		Columns: []jobspec.Column{{Name: "id", Type: "int32"}, v}}
}

// oneColumnEnvelope is an event of oneColumnTable with the envelope, column
// v's field schema being field (without its "field" name) and its value value.
func oneColumnEnvelope(field, value string) string {
	fields := `[{"type":"int32","optional":false,"field":"id"},` + strings.TrimSuffix(field, "}") + `,"field":"v"}]`
	return enveloped(envelopeSchema(fields), payload("c", "", `{"id":1,"v":`+value+`}`))
}

// TestJsonConverterTypeNames pins the type names Kafka's JsonConverter
// writes in an envelope's schema: JsonSchema's BOOLEAN_TYPE_NAME,
// INT8_TYPE_NAME ... STRUCT_TYPE_NAME (connect/json/.../JsonSchema.java),
// chosen per Schema.Type by JsonConverter#asJsonSchema; FLOAT32 is "float"
// and FLOAT64 "double". Each name is read into the spec types it can hold,
// and the Go-style names no converter writes are refused.
func TestJsonConverterTypeNames(t *testing.T) {
	cases := []struct {
		name  string // the JsonSchema type name
		field string // the field schema
		col   jobspec.Column
		value string
		want  row.Value
	}{
		{"boolean", `{"type":"boolean","optional":true}`, jobspec.Column{Type: "boolean", Nullable: true}, `true`, row.Bool(true)},
		{"int8", `{"type":"int8","optional":true}`, jobspec.Column{Type: "int8", Nullable: true}, `-7`, row.Int32(-7)},
		{"int16", `{"type":"int16","optional":true}`, jobspec.Column{Type: "int16", Nullable: true}, `1234`, row.Int32(1234)},
		{"int32", `{"type":"int32","optional":true}`, jobspec.Column{Type: "int32", Nullable: true}, `100000`, row.Int32(100000)},
		{"int64", `{"type":"int64","optional":true}`, jobspec.Column{Type: "int64", Nullable: true}, `-9223372036854775808`, row.Int64(-9223372036854775808)},
		{"float", `{"type":"float","optional":true}`, jobspec.Column{Type: "float32", Nullable: true}, `1.1`, row.Float32(1.1)},
		{"float into float64", `{"type":"float","optional":true}`, jobspec.Column{Type: "float64", Nullable: true}, `1.1`, row.Float64(float64(float32(1.1)))},
		{"double", `{"type":"double","optional":true}`, jobspec.Column{Type: "float64", Nullable: true}, `3.141592653589793`, row.Float64(3.141592653589793)},
		{"double decimal", `{"type":"double","optional":true}`, jobspec.Column{Type: "decimal", Precision: 10, Scale: 2, Nullable: true}, `12.5`, row.Decimal(1250, 2)},
		{"string", `{"type":"string","optional":true}`, jobspec.Column{Type: "text", Nullable: true}, `"x"`, row.String("x")},
		{"bytes", `{"type":"bytes","optional":true}`, jobspec.Column{Type: "binary", Nullable: true}, `"AP8="`, row.Binary("\x00\xff")},
		{"array", `{"type":"array","items":{"type":"int32","optional":true},"optional":true}`,
			jobspec.Column{Type: "list", Nullable: true, Element: &jobspec.Column{Type: "int32", Nullable: true}}, `[1,null]`, row.List([]row.Value{row.Int32(1), row.Null()})},
		{"map", `{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"string","optional":true},"optional":true}`,
			jobspec.Column{Type: "map", Nullable: true, Key: &jobspec.Column{Type: "text"}, Value: &jobspec.Column{Type: "text", Nullable: true}},
			`{"k":"v"}`, row.Map([]row.MapEntry{{Key: row.String("k"), Value: row.String("v")}})},
		{"struct", `{"type":"struct","fields":[{"type":"double","optional":false,"field":"x"}],"optional":true}`,
			jobspec.Column{Type: "struct", Nullable: true, Fields: []jobspec.Column{{Name: "x", Type: "float64"}}}, `{"x":0.5}`, row.Struct([]row.Value{row.Float64(0.5)})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			enc := preciseEncoding
			if c.name == "double decimal" {
				enc.DecimalHandling = "double"
			}
			if c.name == "bytes" {
				enc.BinaryHandling = "bytes"
			}
			d, err := NewDecoder(oneColumnTable(c.col), enc)
			require.NoError(t, err)
			ev, err := decodeLine(d, oneColumnEnvelope(c.field, c.value))
			require.NoError(t, err)
			assert.True(t, row.Equal(c.want, ev.After[1]), "want %s, got %s", c.want, ev.After[1])
		})
	}
	for _, c := range []struct {
		typ    string
		col    jobspec.Column
		reason string
	}{
		{"float32", jobspec.Column{Type: "float32", Nullable: true}, `the event's schema type "float32" is not one the JsonConverter writes`},
		{"float64", jobspec.Column{Type: "float64", Nullable: true}, `the event's schema type "float64" is not one the JsonConverter writes`},
		{"float64", jobspec.Column{Type: "decimal", Precision: 10, Scale: 2, Nullable: true}, `the event's schema type "float64" is not one the JsonConverter writes`},
		{"double", jobspec.Column{Type: "float32", Nullable: true}, "the event has double, which does not fit a float32 column"}, // a narrowing
		{"float", jobspec.Column{Type: "decimal", Precision: 10, Scale: 2, Nullable: true}, "the event has float, which does not fit a decimal column"},
	} {
		d, err := NewDecoder(oneColumnTable(c.col), jobspec.Encoding{DecimalHandling: "double"})
		require.NoError(t, err)
		_, err = decodeLine(d, oneColumnEnvelope(`{"type":"`+c.typ+`","optional":true}`, `1.5`))
		require.Error(t, err, "%s into %s", c.typ, c.col.Type)
		be, ok := badinput.As(err)
		require.True(t, ok)
		assert.Equal(t, "v", be.Column)
		assert.Contains(t, be.Reason, c.reason)
	}
}

// TestEnvelopeRealAndDouble decodes an event of a table with PostgreSQL
// real and double precision columns as the connector and the JsonConverter
// write it with schemas enabled: JdbcValueConverters#schemaBuilder gives
// Types.REAL SchemaBuilder.float32() and Types.DOUBLE float64(), which
// JsonConverter#asJsonSchema names "float" and "double"; the values are
// Jackson's Float.toString and Double.toString, NaN and the infinities as
// strings (UTF8JsonGenerator#writeNumber with QUOTE_NON_NUMERIC_NUMBERS on).
func TestEnvelopeRealAndDouble(t *testing.T) {
	tbl := &jobspec.Table{Name: "m", Topic: "srv.public.m", Mode: jobspec.ModeLive, PrimaryKey: []string{"id"}, Columns: []jobspec.Column{
		{Name: "id", Type: "int32"},
		{Name: "r", Type: "float32", Nullable: true},
		{Name: "d", Type: "float64"},
	}}
	fields := `[{"type":"int32","optional":false,"field":"id"},{"type":"float","optional":true,"field":"r"},{"type":"double","optional":false,"field":"d"}]`
	d, err := NewDecoder(tbl, preciseEncoding)
	require.NoError(t, err)
	for _, c := range []struct {
		after string
		r, d  row.Value
	}{
		{`{"id":1,"r":1.5,"d":3.141592653589793}`, row.Float32(1.5), row.Float64(3.141592653589793)},
		{`{"id":2,"r":1.4E-45,"d":4.9E-324}`, row.Float32(1.4e-45), row.Float64(4.9e-324)},
		{`{"id":3,"r":"NaN","d":"-Infinity"}`, row.Float32(float32(nan())), row.Float64(negInf())},
		{`{"id":4,"r":null,"d":-0.0}`, row.Null(), row.Float64(negZero())},
	} {
		ev, err := decodeLine(d, enveloped(envelopeSchema(fields), payload("c", "", c.after)))
		require.NoError(t, err, c.after)
		assert.True(t, row.Equal(c.r, ev.After[1]), "r: want %s, got %s", c.r, ev.After[1])
		assert.True(t, row.Equal(c.d, ev.After[2]), "d: want %s, got %s", c.d, ev.After[2])
	}
}

// TestInvalidUTF8 refuses a string that is not UTF-8 wherever it is in an
// event: JSON text exchanged between systems is UTF-8 (RFC 8259 §8.1) and
// Jackson's UTF8JsonGenerator, which the JsonConverter writes with, never
// writes anything else. The error is bad input naming the column when the
// string belongs to one.
func TestInvalidUTF8(t *testing.T) {
	bad := "\xff\xfe"
	truncated := "\xe2\x82" // the first two bytes of €
	cases := []struct {
		name   string
		line   string
		column string
	}{
		{"text value", payload("c", "", replaceField(sinkAfter, "name", `"Zoë ✓"`, `"Zo`+bad+`"`)), "name"},
		{"truncated sequence", payload("c", "", replaceField(sinkAfter, "notes", `"line1\nline2 \"quoted\" \u00e9 \ud83d\ude00"`, `"a`+truncated+`"`)), "notes"},
		{"after an escape", payload("c", "", replaceField(sinkAfter, "notes", `"line1\nline2 \"quoted\" \u00e9 \ud83d\ude00"`, `"a\n`+bad+`"`)), "notes"},
		{"uuid", payload("c", "", replaceField(sinkAfter, "ref", `"550e8400-e29b-41d4-a716-446655440000"`, `"`+bad+`"`)), "ref"},
		{"json", payload("c", "", replaceField(sinkAfter, "doc", `"{\"a\": [1, 2]}"`, `"{\"a\": \"`+bad+`\"}"`)), "doc"},
		{"nested struct field", payload("c", "", replaceField(sinkAfter, "geo", `{"lat":51.5,"lon":-0.12,"label":null}`, `{"lat":51.5,"lon":-0.12,"label":"`+bad+`"}`)), "geo.label"},
		{"list element", payload("c", "", replaceField(sinkAfter, "tags", `["red","blue"]`, `["red","`+bad+`"]`)), "tags[]"},
		{"map key", payload("c", "", replaceField(sinkAfter, "attrs", `{"color":"red","size":null}`, `{"`+bad+`":"red"}`)), "attrs.key"},
		{"map value", payload("c", "", replaceField(sinkAfter, "attrs", `{"color":"red","size":null}`, `{"color":"`+bad+`"}`)), "attrs.value"},
		{"before image of a delete", payload("d", `{"id":42,"name":"`+bad+`"}`, ""), "name"},
		{"a column the spec does not have", payload("c", "", strings.Replace(sinkAfter, `"id":42,`, `"id":42,"extra":"`+bad+`",`, 1)), "extra"},
		{"field name", payload("c", "", strings.Replace(sinkAfter, `"id":42,`, `"id":42,"`+bad+`":1,`, 1)), ""},
		{"source block", strings.Replace(payload("c", "", sinkAfter), `"db":"crm"`, `"db":"`+bad+`"`, 1), ""},
	}
	for _, c := range cases {
		for _, enc := range encodings {
			t.Run(c.name+"/"+enc.name, func(t *testing.T) {
				d := newSinkDecoder(t, preciseEncoding)
				_, err := decodeLine(d, enc.wrap(c.line))
				require.Error(t, err)
				be, ok := badinput.As(err)
				require.True(t, ok, "want a *badinput.Error, got %T: %v", err, err)
				assert.Equal(t, c.column, be.Column)
				assert.Contains(t, be.Reason, "not valid UTF-8")
				assert.Equal(t, 7, be.Line)
			})
		}
	}
	// Valid multi-byte text still reads, raw or escaped.
	d := newSinkDecoder(t, preciseEncoding)
	ev, err := decodeLine(d, payload("c", "", replaceField(sinkAfter, "name", `"Zoë ✓"`, `"€😀\u00e9\uD83D\uDE00"`)))
	require.NoError(t, err)
	assert.True(t, row.Equal(row.String("€😀é😀"), ev.After[11]), "%s", ev.After[11])
}

func nan() float64     { return math.NaN() }
func negInf() float64  { return math.Inf(-1) }
func negZero() float64 { return math.Copysign(0, -1) }

// TestBinaryTOASTByMode reads an unchanged TOAST bytea in each
// binary.handling.mode as PostgresValueConverter writes it:
// #convertBinaryToBytes returns UnchangedToastedPlaceholder's
// getToastPlaceholderBinary (the placeholder string's bytes), which the
// JsonConverter writes as base64; #convertBinaryToHex returns the
// placeholder string itself; #convertBinaryToBase64 and
// #convertBinaryToBase64UrlSafe hand the marker to JdbcValueConverters,
// whose callback reaches #unexpectedBinary, null. So only bytes and hex
// modes can tell an unchanged value from a NULL; in the others the forms
// the placeholder would have are data.
func TestBinaryTOASTByMode(t *testing.T) {
	const (
		phB64 = `"X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ=="` // base64 of the placeholder's bytes
		phHex = `"5f5f646562657a69756d5f756e617661696c61626c655f76616c7565"`
		phStr = `"` + DefaultPlaceholder + `"`
	)
	urlDecoded, err := base64URLDecode(DefaultPlaceholder)
	require.NoError(t, err)
	cases := []struct {
		mode   string
		schema string // the field schema of a bytea column in this mode
		value  string
		want   row.Value
	}{
		{"bytes", `{"type":"bytes","optional":true}`, phB64, row.Unavailable()},
		{"bytes", `{"type":"bytes","optional":true}`, `"AP8="`, row.Binary("\x00\xff")},
		{"bytes", `{"type":"bytes","optional":true}`, `null`, row.Null()},
		{"hex", `{"type":"string","optional":true}`, phStr, row.Unavailable()},
		{"hex", `{"type":"string","optional":true}`, phHex, row.Binary(DefaultPlaceholder)},
		{"base64", `{"type":"string","optional":true}`, `null`, row.Null()},
		{"base64", `{"type":"string","optional":true}`, phB64, row.Binary(DefaultPlaceholder)},
		{"base64-url-safe", `{"type":"string","optional":true}`, `null`, row.Null()},
		{"base64-url-safe", `{"type":"string","optional":true}`, phStr, row.Binary(urlDecoded)},
	}
	for _, c := range cases {
		for _, env := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/%s/envelope=%t", c.mode, c.value, env), func(t *testing.T) {
				d, err := NewDecoder(oneColumnTable(jobspec.Column{Type: "binary", Nullable: true}), jobspec.Encoding{BinaryHandling: c.mode})
				require.NoError(t, err)
				line := `{"before":null,"after":{"id":1,"v":` + c.value + `},"source":` + sinkSource + `,"op":"u","ts_ms":1}`
				if env {
					line = oneColumnEnvelope(c.schema, c.value)
				}
				ev, err := decodeLine(d, line)
				require.NoError(t, err)
				assert.True(t, row.Equal(c.want, ev.After[1]), "want %s, got %s", c.want, ev.After[1])
			})
		}
	}
	// bytea[] in bytes mode: UNCHANGED_BINARY_ARRAY_TOAST_VALUE is
	// Arrays.asList(the placeholder's bytes), written as a list of one
	// base64 element. (In the string modes that byte[] fails the items
	// schema and the column arrives as null.)
	list := jobspec.Column{Type: "list", Nullable: true, Element: &jobspec.Column{Type: "binary", Nullable: true}}
	for _, env := range []bool{false, true} {
		d, err := NewDecoder(oneColumnTable(list), jobspec.Encoding{BinaryHandling: "bytes"})
		require.NoError(t, err)
		for _, c := range []struct {
			value string
			want  row.Value
		}{
			{`[` + phB64 + `]`, row.Unavailable()},
			{`[` + phB64 + `,"AA=="]`, row.List([]row.Value{row.Binary(DefaultPlaceholder), row.Binary("\x00")})},
			{`["AA=="]`, row.List([]row.Value{row.Binary("\x00")})},
		} {
			line := `{"before":null,"after":{"id":1,"v":` + c.value + `},"op":"u"}`
			if env {
				line = oneColumnEnvelope(`{"type":"array","items":{"type":"bytes","optional":true},"optional":true}`, c.value)
			}
			ev, err := decodeLine(d, line)
			require.NoError(t, err, c.value)
			assert.True(t, row.Equal(c.want, ev.After[1]), "envelope=%t %s: want %s, got %s", env, c.value, c.want, ev.After[1])
		}
	}
	// A bytea written as a string cannot be bytes mode's.
	d, err := NewDecoder(oneColumnTable(jobspec.Column{Type: "binary", Nullable: true}), jobspec.Encoding{BinaryHandling: "bytes"})
	require.NoError(t, err)
	_, err = decodeLine(d, oneColumnEnvelope(`{"type":"string","optional":true}`, phB64))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the job spec says binary_handling bytes")
}

// TestPlaceholderInATextKey: a key column never carries the placeholder.
func TestPlaceholderInATextKey(t *testing.T) {
	tbl := &jobspec.Table{Name: "t", Topic: "t", Mode: jobspec.ModeLive, PrimaryKey: []string{"k"},
		Columns: []jobspec.Column{{Name: "k", Type: "text"}}}
	d, err := NewDecoder(tbl, preciseEncoding)
	require.NoError(t, err)
	_, err = decodeLine(d, `{"op":"u","after":{"k":"`+DefaultPlaceholder+`"}}`)
	require.Error(t, err)
	be, ok := badinput.As(err)
	require.True(t, ok)
	assert.Equal(t, "k", be.Column)
	assert.Contains(t, be.Reason, "key column carries the unavailable-value placeholder")
}

func base64URLDecode(s string) (string, error) {
	b, err := base64.URLEncoding.DecodeString(s)
	return string(b), err
}

// TestHstoreValuesOptional: PostgresValueConverter#hstoreSchema declares an
// hstore's values optional; a map whose values are not nullable reads the
// schema, and refuses a null value in the data.
func TestHstoreValuesOptional(t *testing.T) {
	d, err := NewDecoder(oneColumnTable(jobspec.Column{Type: "map", Nullable: true, Key: &jobspec.Column{Type: "text"}, Value: &jobspec.Column{Type: "text"}}), preciseEncoding)
	require.NoError(t, err)
	field := `{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"string","optional":true},"optional":true}`
	ev, err := decodeLine(d, oneColumnEnvelope(field, `{"k":"v"}`))
	require.NoError(t, err)
	assert.True(t, row.Equal(row.Map([]row.MapEntry{{Key: row.String("k"), Value: row.String("v")}}), ev.After[1]))
	_, err = decodeLine(d, oneColumnEnvelope(field, `{"k":null}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "null map value where values are not nullable")
}
