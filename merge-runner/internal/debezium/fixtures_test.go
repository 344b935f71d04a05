package debezium

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/landing"
)

// sinkTable has a column of every job spec type.
func sinkTable() *jobspec.Table {
	return &jobspec.Table{
		Dataset: "sink", SourceTable: "public.sink", Topic: "acme.db.public.sink", Name: "sink", Mode: jobspec.ModeLive,
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
			{Name: "big", Type: "decimal", Precision: 38, Scale: 4, Nullable: true},
			{Name: "num", Type: "decimal", Precision: 20, Scale: 5, Nullable: true},
			{Name: "code", Type: "char", Length: 3, Nullable: true},
			{Name: "name", Type: "varchar", Length: 10},
			{Name: "notes", Type: "text", Nullable: true},
			{Name: "born", Type: "date", Nullable: true},
			{Name: "opens", Type: "time", Nullable: true},
			{Name: "seen_at", Type: "timestamp", Nullable: true},
			{Name: "logged_at", Type: "timestamp", TimePrecision: intPtr(3), Nullable: true},
			{Name: "created_at", Type: "timestamptz"},
			{Name: "ref", Type: "uuid", Nullable: true},
			{Name: "blob", Type: "binary", Nullable: true},
			{Name: "doc", Type: "json", Nullable: true},
			{Name: "geo", Type: "struct", Nullable: true, Fields: []jobspec.Column{
				{Name: "lat", Type: "float64"},
				{Name: "lon", Type: "float64"},
				{Name: "label", Type: "varchar", Length: 20, Nullable: true},
			}},
			{Name: "tags", Type: "list", Nullable: true, Element: &jobspec.Column{Name: "element", Type: "varchar", Length: 40}},
			{Name: "attrs", Type: "map", Nullable: true,
				Key:   &jobspec.Column{Name: "key", Type: "varchar", Length: 40},
				Value: &jobspec.Column{Name: "value", Type: "text", Nullable: true}},
		},
	}
}

// preciseEncoding is the golden connector's: decimal.handling.mode=precise,
// time.precision.mode=adaptive_time_microseconds, binary.handling.mode=base64.
var preciseEncoding = jobspec.Encoding{
	DecimalHandling: "precise", TimePrecision: "adaptive_time_microseconds", BinaryHandling: "base64",
	TombstonesOnDelete: true,
}

// sinkRowFields is the Kafka Connect schema of the table's rows as Debezium
// 2.7 declares it for the PostgreSQL source (PostgresValueConverter and
// JdbcValueConverters#schemaBuilder) and JsonConverter#asJsonSchema names
// it: real is "float" and double precision "double" (JsonSchema's
// FLOAT_TYPE_NAME and DOUBLE_TYPE_NAME), smallint (tiny, small) "int16",
// bytea in base64 mode a string. geo is a struct no PostgreSQL column
// gives, written by the JsonConverter's rules for a Connect struct.
const sinkRowFields = `[
  {"type":"int64","optional":false,"default":0,"field":"id"},
  {"type":"boolean","optional":true,"field":"flag"},
  {"type":"int16","optional":true,"field":"tiny"},
  {"type":"int16","optional":true,"field":"small"},
  {"type":"int32","optional":false,"field":"qty"},
  {"type":"float","optional":true,"field":"ratio"},
  {"type":"double","optional":true,"field":"score"},
  {"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"12"},"field":"price"},
  {"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"4","connect.decimal.precision":"38"},"field":"big"},
  {"type":"struct","fields":[{"type":"int32","optional":false,"field":"scale"},{"type":"bytes","optional":false,"field":"value"}],"optional":true,"name":"io.debezium.data.VariableScaleDecimal","version":1,"doc":"Variable scaled decimal","field":"num"},
  {"type":"string","optional":true,"field":"code"},
  {"type":"string","optional":false,"field":"name"},
  {"type":"string","optional":true,"field":"notes"},
  {"type":"int32","optional":true,"name":"io.debezium.time.Date","version":1,"field":"born"},
  {"type":"int64","optional":true,"name":"io.debezium.time.MicroTime","version":1,"field":"opens"},
  {"type":"int64","optional":true,"name":"io.debezium.time.MicroTimestamp","version":1,"field":"seen_at"},
  {"type":"int64","optional":true,"name":"io.debezium.time.Timestamp","version":1,"field":"logged_at"},
  {"type":"string","optional":false,"name":"io.debezium.time.ZonedTimestamp","version":1,"field":"created_at"},
  {"type":"string","optional":true,"name":"io.debezium.data.Uuid","version":1,"field":"ref"},
  {"type":"string","optional":true,"field":"blob"},
  {"type":"string","optional":true,"name":"io.debezium.data.Json","version":1,"field":"doc"},
  {"type":"struct","fields":[{"type":"double","optional":false,"field":"lat"},{"type":"double","optional":false,"field":"lon"},{"type":"string","optional":true,"field":"label"}],"optional":true,"name":"acme.db.public.geo_point","field":"geo"},
  {"type":"array","items":{"type":"string","optional":true},"optional":true,"field":"tags"},
  {"type":"map","keys":{"type":"string","optional":false},"values":{"type":"string","optional":true},"optional":true,"field":"attrs"}
]`

// envelopeSchema is the whole JsonConverter value schema of a change event
// of a table whose row fields are rowFields.
func envelopeSchema(rowFields string) string {
	s := `{"type":"struct","fields":[
  {"type":"struct","fields":` + rowFields + `,"optional":true,"name":"acme.db.public.sink.Value","field":"before"},
  {"type":"struct","fields":` + rowFields + `,"optional":true,"name":"acme.db.public.sink.Value","field":"after"},
  {"type":"struct","fields":[
    {"type":"string","optional":false,"field":"version"},
    {"type":"string","optional":false,"field":"connector"},
    {"type":"string","optional":false,"field":"name"},
    {"type":"int64","optional":false,"field":"ts_ms"},
    {"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"},"default":"false","field":"snapshot"},
    {"type":"string","optional":false,"field":"db"},
    {"type":"string","optional":true,"field":"sequence"},
    {"type":"int64","optional":true,"field":"ts_us"},
    {"type":"int64","optional":true,"field":"ts_ns"},
    {"type":"string","optional":false,"field":"schema"},
    {"type":"string","optional":false,"field":"table"},
    {"type":"int64","optional":true,"field":"txId"},
    {"type":"int64","optional":true,"field":"lsn"},
    {"type":"int64","optional":true,"field":"xmin"}
  ],"optional":false,"name":"io.debezium.connector.postgresql.Source","field":"source"},
  {"type":"struct","fields":[
    {"type":"string","optional":false,"field":"id"},
    {"type":"int64","optional":false,"field":"total_order"},
    {"type":"int64","optional":false,"field":"data_collection_order"}
  ],"optional":true,"name":"event.block","version":1,"field":"transaction"},
  {"type":"string","optional":false,"field":"op"},
  {"type":"int64","optional":true,"field":"ts_ms"},
  {"type":"int64","optional":true,"field":"ts_us"},
  {"type":"int64","optional":true,"field":"ts_ns"}
],"optional":false,"name":"acme.db.public.sink.Envelope","version":2}`
	return compact(s)
}

func compact(s string) string {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		panic(err)
	}
	return b.String()
}

// sinkSource is a realistic source block for the PostgreSQL connector.
const sinkSource = `{"version":"2.7.3.Final","connector":"postgresql","name":"acme.db","ts_ms":1709288130123,"snapshot":"false","db":"crm","sequence":"[\"24023119\",\"24023128\"]","ts_us":1709288130123456,"ts_ns":1709288130123456000,"schema":"public","table":"sink","txId":555,"lsn":24023128,"xmin":null}`

// sinkAfter is an after image with a value in every column.
const sinkAfter = `{"id":42,"flag":true,"tiny":-7,"small":1234,"qty":100000,"ratio":1.5,"score":3.141592653589793,` +
	`"price":"EtaH","big":"Zh798VjyqCyfS4c=","num":{"scale":3,"value":"z8c="},"code":"ABC","name":"Zoë ✓",` +
	`"notes":"line1\nline2 \"quoted\" \u00e9 \ud83d\ude00","born":7305,"opens":34200123456,"seen_at":1529507596945104,` +
	`"logged_at":1529507596945,"created_at":"2024-03-01T10:15:30.123456Z","ref":"550e8400-e29b-41d4-a716-446655440000",` +
	`"blob":"AAEC/w==","doc":"{\"a\": [1, 2]}","geo":{"lat":51.5,"lon":-0.12,"label":null},"tags":["red","blue"],` +
	`"attrs":{"color":"red","size":null}}`

// sinkMinimal is an after image with only the required columns set.
const sinkMinimal = `{"id":7,"flag":null,"tiny":null,"small":null,"qty":1,"ratio":null,"score":null,"price":null,"big":null,` +
	`"num":null,"code":null,"name":"x","notes":null,"born":null,"opens":null,"seen_at":null,"logged_at":null,` +
	`"created_at":"1969-12-31T23:59:59.5Z","ref":null,"blob":null,"doc":null,"geo":null,"tags":null,"attrs":null}`

// payload renders a Debezium 2.x change event value payload.
func payload(op, before, after string) string {
	if before == "" {
		before = "null"
	}
	if after == "" {
		after = "null"
	}
	return `{"before":` + before + `,"after":` + after + `,"source":` + sinkSource +
		`,"transaction":null,"op":"` + op + `","ts_ms":1709288130456,"ts_us":1709288130456789,"ts_ns":1709288130456789000}`
}

// truncatePayload is a truncate event's payload: no before or after.
func truncatePayload() string {
	return `{"source":` + sinkSource + `,"op":"t","ts_ms":1709288130456,"ts_us":1709288130456789,"ts_ns":1709288130456789000}`
}

// enveloped wraps a payload in the JsonConverter schema envelope.
func enveloped(schema, payload string) string {
	return `{"schema":` + schema + `,"payload":` + payload + `}`
}

// encodings are the two ways the JsonConverter writes an event.
var encodings = []struct {
	name string
	wrap func(payload string) string
}{
	{"plain", func(p string) string { return p }},
	{"envelope", func(p string) string { return enveloped(envelopeSchema(sinkRowFields), p) }},
}

var testRecord = landing.Record{Object: "cdc/acme.db.public.sink/partition=2/acme.db.public.sink+2+0000000040.json", Line: 7, Partition: 2, Offset: 46}

const testWhere = "cdc/acme.db.public.sink/partition=2/acme.db.public.sink+2+0000000040.json line 7 (partition 2, offset 46)"

func newSinkDecoder(t testing.TB, enc jobspec.Encoding) *Decoder {
	t.Helper()
	d, err := NewDecoder(sinkTable(), enc)
	require.NoError(t, err)
	return d
}

func decodeLine(d *Decoder, line string) (Event, error) {
	rec := testRecord
	rec.Data = []byte(line)
	return d.Decode(rec)
}

// replaceField replaces "name":<old> with "name":<new> in an image.
func replaceField(image, name, old, new string) string {
	from := `"` + name + `":` + old
	if !strings.Contains(image, from) {
		panic("no " + from)
	}
	return strings.Replace(image, from, `"`+name+`":`+new, 1)
}

func intPtr(i int) *int { return &i }
