// Package encode writes change events as the Debezium PostgreSQL connector
// (2.7, DefaultVersion) and Kafka Connect's JsonConverter (Kafka 3.7, which
// Debezium 2.7 is built with; Jackson 2.16) write them, and lands them in
// the layout of Kafka Connect's S3 sink. The capture command lands what it
// reads from a replication slot through it; tests, benchmarks and example
// data use it too.
//
// Every rule here comes from those projects' sources, cited where it is
// applied (class#method), not from the decoder in the parent package: the
// decoder is tested against this encoder, so the encoder must not share its
// assumptions.
//
// An Encoder is built for one job spec table and encoding; it turns rows
// (row.Value slices in the spec's column order) into event lines: creates,
// snapshot reads, updates, deletes, key changes, truncates and tombstones.
// Without the schema envelope a line is the record value as the
// JsonConverter writes it with schemas.enable=false; with it,
// {"schema":...,"payload":...}, the schema built once and byte-identical in
// every event of the table. Those are the Kafka record values; the S3
// sink's ByteArrayFormat lands them as they are. Its JsonFormat re-writes
// them (JsonRecordWriterProvider): a Struct value through a JsonConverter of
// its own with schemas.enable=false, so no envelope lands; a schemaless
// value, read by the worker's converter into a HashMap, through Jackson, so
// its fields land in hash order. A Lander writes lines into a folder as
// <prefix>/<topic>/partition=<p>/<topic>+<p>+<startOffset>.json[.gz].
//
// Each spec type stands for the PostgreSQL type the connector reads it from:
// boolean, smallint (int8 and int16: PostgreSQL has no one-byte integer),
// integer, bigint, real (float32), double precision (float64), numeric
// (decimal; without precision when the spec's precision is 0), char,
// varchar, text, date, time, timestamp, timestamptz, uuid, bytea (binary),
// json, arrays (list), and hstore (a map of varchar or text keys and
// values; hstore.handling.mode map). A struct, and a map of other types,
// have no PostgreSQL type the connector reads: they are written as the
// JsonConverter writes a Connect struct or map of the fields' types, and
// have no unchanged-TOAST form.
//
// Values and schemas, per type (PostgresValueConverter and
// JdbcValueConverters#schemaBuilder and #converter; the io.debezium.time and
// io.debezium.data semantic types; JsonConverter#asJsonSchema and
// #convertToJson; Jackson's UTF8JsonGenerator):
//
//   - boolean, int16, int32, int64: JSON booleans and integers; float32 and
//     float64 are Connect FLOAT32 and FLOAT64, schema types "float" and
//     "double", written as Float.toString and Double.toString, NaN and the
//     infinities as the strings "NaN", "Infinity" and "-Infinity".
//   - decimal: decimal.handling.mode precise writes Kafka's Decimal (bytes:
//     the unscaled value's BigInteger#toByteArray, base64, with parameters
//     scale and connect.decimal.precision); a numeric without precision is
//     io.debezium.data.VariableScaleDecimal, {"scale":s,"value":bytes}, its
//     trailing zeros stripped. string writes BigDecimal#toPlainString;
//     double the nearest double.
//   - char, varchar, text, json (io.debezium.data.Json), uuid
//     (io.debezium.data.Uuid, lowercase): strings, escaped as Jackson does:
//     quote, backslash and control characters, and characters outside the
//     Basic Multilingual Plane as two \uXXXX surrogate escapes.
//   - date: io.debezium.time.Date, int32 days (connect mode Kafka's Date).
//   - time: adaptive_time_microseconds writes io.debezium.time.MicroTime
//     (int64 µs); adaptive (time.precision.mode's default) writes
//     io.debezium.time.Time (int32 ms) for a column of precision 0-3 and
//     MicroTime otherwise; connect writes Kafka's Time (int32 ms).
//   - timestamp: the adaptive modes write io.debezium.time.Timestamp (int64
//     ms) for precision 0-3 and io.debezium.time.MicroTimestamp (µs)
//     otherwise; connect writes Kafka's Timestamp (ms). Milliseconds floor.
//   - timestamptz: io.debezium.time.ZonedTimestamp, ISO-8601 in UTC ("Z")
//     with as many fraction digits as the column's time precision (6 when
//     unset; the fewest for precision 0), further digits truncated;
//     "infinity" and "-infinity" for math.MaxInt64 and math.MinInt64 µs;
//     years outside 0000-9999 as java.time writes them.
//   - binary: binary.handling.mode bytes (the default) writes Connect bytes,
//     which the JsonConverter renders as base64; base64 and base64-url-safe
//     a padded base64 string; hex a lowercase hex string.
//   - list: a JSON array; items optional, as Debezium declares every array
//     element (see Meta.ListItemsFollowSpec); time[] items are MicroTime in
//     every mode, so a time list in a millisecond mode fails the connector's
//     conversion and is written as null.
//   - map: an object when the key schema is a string, else an array of
//     [key, value] pairs; an hstore's values are optional.
//
// row.Unavailable() is an unchanged TOAST value, written in the form the
// connector gives it (UnchangedToastedReplicationMessageColumn's markers,
// UnchangedToastedPlaceholder's values; p is unavailable.value.placeholder):
// p for char, varchar, text and json, for numeric in string mode and for
// bytea in hex mode; p's bytes (base64) for bytea in bytes mode; [p] for
// varchar[], text[] and json[]; [p's bytes] for bytea[] in bytes mode; one
// integer per byte of p for integer[], bigint[] and date[] (adaptive
// modes); [p's name-based UUID] for uuid[]; {p: p} for an hstore. Where the
// connector's placeholder value fails the column's schema it writes null
// (event.converting.failure.handling.mode warn, the default): bytea in the
// base64 modes (PostgresValueConverter#convertBinaryToBase64 hands the
// marker to JdbcValueConverters, whose callback ends in #unexpectedBinary,
// null), numeric in precise and double mode, and arrays of other element
// types; so does the encoder, and Expect says Null. Fixed-width types are
// never TOASTed: Unavailable in them, in a nested value, in a key, or where
// the connector would have to write null in a NOT NULL column, is an error.
//
// A Null in a non-key column that is not nullable is written as the
// connector's fallback for the type (JdbcValueConverters#convertValue: 0,
// false, "", 0.00, the epoch, "1970-01-01T00:00:00Z", [] or {}), as it is
// for the columns a REPLICA IDENTITY DEFAULT before image does not carry;
// a column with a database default would get that default instead, which
// the spec does not know. Expect returns the row the decoder should read
// back for an image.
//
// The encoder writes what it is given within a column's kind: it does not
// check nullability of nested values, lengths, ranges or precision, so tests
// can build bad input with it. A value of the wrong kind for its column, and
// text that is not UTF-8 (PostgreSQL's text is; Java strings are Unicode),
// are errors.
package encode

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

// DefaultVersion is the connector version written in source.version; the
// events follow that release's sources.
const DefaultVersion = "2.7.3.Final"

// DefaultPlaceholder is Debezium's default unavailable.value.placeholder
// (RelationalDatabaseConnectorConfig.DEFAULT_UNAVAILABLE_VALUE_PLACEHOLDER).
const DefaultPlaceholder = "__debezium_unavailable_value"

// Meta names where the events come from and adjusts how they are written.
type Meta struct {
	// Topic is the Kafka topic; default the table's Topic, else
	// <Server>.<SourceTable>.
	Topic string
	// Server is the connector's topic.prefix, written as source.name; default
	// the topic without its ".<schema>.<table>" suffix, else "dbserver1".
	Server string
	// Database is source.db; default "postgres".
	Database string
	// Version is source.version; default DefaultVersion.
	Version string
	// Placeholder is unavailable.value.placeholder; default DefaultPlaceholder.
	// "hex:" followed by hex digits gives its bytes, as
	// PostgresConnectorConfig#getUnavailableValuePlaceholder reads it.
	Placeholder string
	// ListItemsFollowSpec declares list items optional only when the spec's
	// element is nullable. Debezium declares every array element optional;
	// this is for testing readers against other writers.
	ListItemsFollowSpec bool
	// LegacyZonedTimestamps writes timestamptz values with the fewest
	// fraction digits (java.time's ISO_OFFSET_DATE_TIME, as Debezium did
	// before it padded the fraction to the column's precision).
	LegacyZonedTimestamps bool
}

// Source is the position and time stamped on the events that follow
// SetSource.
type Source struct {
	// TsMs is source.ts_ms: when the change was committed in the database.
	TsMs int64
	// EventTsMs is the payload's ts_ms: when the connector processed the
	// event; 0 writes TsMs.
	EventTsMs int64
	// LSN is source.lsn and TxID source.txId; 0 writes null.
	LSN  int64
	TxID int64
	// LastCommitLSN is the LSN of the last transaction committed before
	// this one, the first element of source.sequence; 0 writes null (the
	// initial snapshot, and the first transaction after it).
	LastCommitLSN int64
	// Snapshot is source.snapshot: "true", "first", "last",
	// "first_in_data_collection", "last_in_data_collection", "incremental"
	// or "false". Empty writes "true" for reads and "false" otherwise.
	Snapshot string
}

// Encoder writes the change events of one table. It is not safe for
// concurrent use.
type Encoder struct {
	table *jobspec.Table
	enc   jobspec.Encoding
	meta  Meta
	cols  []*col
	pk    []int
	isKey []bool

	topic, schemaName, tableName string

	envPrefix []byte // {"schema":<schema>,"payload":  (schemas enabled)
	schema    []byte
	ph        placeholder

	src  Source
	size int // a size hint for the next line
}

// NewEncoder builds the encoder for table t whose events are written with
// encoding enc.
func NewEncoder(t *jobspec.Table, enc jobspec.Encoding, meta Meta) (*Encoder, error) {
	if t == nil {
		return nil, errors.New("encode: no table")
	}
	e := &Encoder{table: t, enc: enc, isKey: make([]bool, len(t.Columns))}
	m, err := parseModes(enc)
	if err != nil {
		return nil, err
	}
	names := map[string]int{}
	for i := range t.Columns {
		if _, dup := names[t.Columns[i].Name]; dup {
			return nil, fmt.Errorf("encode: table %s: column %s appears twice", t.Name, t.Columns[i].Name)
		}
		names[t.Columns[i].Name] = i
	}
	if len(t.PrimaryKey) == 0 {
		return nil, fmt.Errorf("encode: table %s has no primary key", t.Name)
	}
	for _, k := range t.PrimaryKey {
		i, ok := names[k]
		if !ok {
			return nil, fmt.Errorf("encode: table %s: primary key column %s is not a column", t.Name, k)
		}
		if e.isKey[i] {
			return nil, fmt.Errorf("encode: table %s: primary key column %s appears twice", t.Name, k)
		}
		e.pk = append(e.pk, i)
		e.isKey[i] = true
	}
	for i := range t.Columns {
		c := &t.Columns[i]
		// A primary key column is NOT NULL in PostgreSQL, so never optional
		// (TableSchemaBuilder#addField: optional only if column.isOptional()).
		cp, err := newCol(c, c.Name, m, meta, c.Nullable && !e.isKey[i])
		if err != nil {
			return nil, fmt.Errorf("encode: table %s: %w", t.Name, err)
		}
		if e.isKey[i] {
			switch cp.typ {
			case tStruct, tList, tMap:
				return nil, fmt.Errorf("encode: table %s: primary key column %s is a %s", t.Name, c.Name, c.Type)
			}
		}
		e.cols = append(e.cols, cp)
	}

	e.schemaName, e.tableName = "public", t.SourceTable
	if s, tb, ok := strings.Cut(t.SourceTable, "."); ok {
		e.schemaName, e.tableName = s, tb
	}
	if e.tableName == "" {
		e.tableName = t.Name
	}
	e.topic = meta.Topic
	if e.topic == "" {
		e.topic = t.Topic
	}
	if meta.Server == "" {
		if s, ok := strings.CutSuffix(e.topic, "."+e.schemaName+"."+e.tableName); ok && s != "" {
			meta.Server = s
		} else {
			meta.Server = "dbserver1"
		}
	}
	if e.topic == "" {
		e.topic = meta.Server + "." + e.schemaName + "." + e.tableName
	}
	if meta.Database == "" {
		meta.Database = "postgres"
	}
	if meta.Version == "" {
		meta.Version = DefaultVersion
	}
	if meta.Placeholder == "" {
		meta.Placeholder = DefaultPlaceholder
	}
	e.meta = meta
	if e.ph, err = newPlaceholder(meta.Placeholder); err != nil {
		return nil, err
	}
	if enc.SchemasEnabled {
		e.schema = e.envelopeSchema().appendJSON(nil)
		e.envPrefix = append(append([]byte(`{"schema":`), e.schema...), `,"payload":`...)
	}
	return e, nil
}

// Topic is the Kafka topic the events belong to.
func (e *Encoder) Topic() string { return e.topic }

// Server is the connector's topic.prefix (source.name).
func (e *Encoder) Server() string { return e.meta.Server }

// Schema is the JsonConverter value schema of the table's events, nil when
// the encoding has no schema envelope.
func (e *Encoder) Schema() []byte { return slices.Clone(e.schema) }

// KeyIndexes are the column indexes of the primary key, in key order.
func (e *Encoder) KeyIndexes() []int { return slices.Clone(e.pk) }

// Columns is the number of columns in a row.
func (e *Encoder) Columns() int { return len(e.cols) }

// SetSource sets the position and time of the events that follow.
func (e *Encoder) SetSource(s Source) { e.src = s }

// Source is the position and time of the next event.
func (e *Encoder) Source() Source { return e.src }

// Key returns the primary key of a row, in key order.
func (e *Encoder) Key(r []row.Value) []row.Value {
	k := make([]row.Value, len(e.pk))
	for j, i := range e.pk {
		k[j] = r[i]
	}
	return k
}

// KeyRow returns a row holding key (in primary key order) in its key
// columns and Null elsewhere: the before image of a delete or a key change
// with REPLICA IDENTITY DEFAULT.
func (e *Encoder) KeyRow(key []row.Value) []row.Value {
	r := make([]row.Value, len(e.cols))
	for j, i := range e.pk {
		if j < len(key) {
			r[i] = key[j]
		}
	}
	return r
}

// Create writes an insert (op "c", Envelope#create).
func (e *Encoder) Create(after []row.Value) ([]byte, error) {
	return e.event('c', nil, after)
}

// Read writes a row read by a snapshot (op "r", Envelope#read).
func (e *Encoder) Read(after []row.Value) ([]byte, error) {
	return e.event('r', nil, after)
}

// Update writes an update (op "u", Envelope#update) that keeps the key.
// before is nil with REPLICA IDENTITY DEFAULT, where logical decoding sends
// no old tuple, and the whole old row with REPLICA IDENTITY FULL (whose old
// tuple also fills the new one's unchanged TOAST values,
// PostgresChangeRecordEmitter#columnValues). An update that changes the key
// is KeyChange.
func (e *Encoder) Update(before, after []row.Value) ([]byte, error) {
	return e.event('u', before, after)
}

// Delete writes a delete (op "d", Envelope#delete). before must carry the
// key; with REPLICA IDENTITY DEFAULT its other columns are Null (KeyRow),
// and the ones that are not nullable are written as the connector's
// fallbacks.
func (e *Encoder) Delete(before []row.Value) ([]byte, error) {
	return e.event('d', before, nil)
}

// DeleteLines writes a delete followed by its tombstone when the encoding
// has tombstones_on_delete (EventDispatcher, tombstones.on.delete).
func (e *Encoder) DeleteLines(before []row.Value) ([][]byte, error) {
	d, err := e.Delete(before)
	if err != nil {
		return nil, err
	}
	lines := [][]byte{d}
	if e.enc.TombstonesOnDelete {
		lines = append(lines, e.Tombstone())
	}
	return lines, nil
}

// KeyChange writes an update that changes the primary key as Debezium does
// (RelationalChangeRecordEmitter#emitUpdateAsPrimaryKeyChangeRecord): a
// delete of the old key, its tombstone when the encoding has
// tombstones_on_delete, and a create of the new row. before is the old row
// (KeyRow of the old key with REPLICA IDENTITY DEFAULT).
func (e *Encoder) KeyChange(before, after []row.Value) ([][]byte, error) {
	if len(before) == len(e.cols) && len(after) == len(e.cols) && row.KeyString(e.Key(before)) == row.KeyString(e.Key(after)) {
		return nil, errors.New("encode: the key does not change; write an update")
	}
	lines, err := e.DeleteLines(before)
	if err != nil {
		return nil, err
	}
	c, err := e.Create(after)
	if err != nil {
		return nil, err
	}
	return append(lines, c), nil
}

// Truncate writes a truncate of the table (op "t", Envelope#truncate).
func (e *Encoder) Truncate() []byte {
	b, err := e.event('t', nil, nil)
	if err != nil {
		panic(err) // a truncate has no values to be wrong
	}
	return b
}

// Tombstone writes the line a tombstone (a record with a null value) lands
// as: the JsonConverter turns a null value into a null Kafka value, and the
// S3 sink, when it writes null values at all (behavior.on.null.values=write),
// writes it as the JSON null.
func (e *Encoder) Tombstone() []byte { return []byte("null") }

// event writes the envelope's payload: its fields in the order of the
// schema Envelope.Builder builds (before, after, source, transaction, then
// op, ts_ms, ts_us and ts_ns), which is the order JsonConverter#convertToJson
// writes a Struct's fields in. A truncate has no before or after image.
func (e *Encoder) event(op byte, before, after []row.Value) ([]byte, error) {
	switch op {
	case 'c', 'r', 'u':
		if after == nil {
			return nil, fmt.Errorf("encode: op %c needs an after image", op)
		}
	case 'd':
		if before == nil {
			return nil, errors.New("encode: a delete needs a before image")
		}
	}
	b := make([]byte, 0, max(e.size, 256)+len(e.envPrefix))
	b = append(b, e.envPrefix...)
	b = append(b, `{"before":`...)
	var err error
	if b, err = e.appendImage(b, before, "before", before != nil); err != nil {
		return nil, err
	}
	b = append(b, `,"after":`...)
	if b, err = e.appendImage(b, after, "after", true); err != nil {
		return nil, err
	}
	b = append(b, `,"source":`...)
	b = e.appendSource(b, op)
	// No transaction metadata (provide.transaction.metadata is off).
	b = append(b, `,"transaction":null,"op":"`...)
	b = append(b, op)
	ts := e.src.EventTsMs
	if ts == 0 {
		ts = e.src.TsMs
	}
	// Envelope#create and the others: ts_ms, ts_us and ts_ns from one
	// Instant, the connector's clock.
	b = append(b, `","ts_ms":`...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, `,"ts_us":`...)
	b = strconv.AppendInt(b, ts*1000, 10)
	b = append(b, `,"ts_ns":`...)
	b = strconv.AppendInt(b, ts*1_000_000, 10)
	b = append(b, '}')
	if e.enc.SchemasEnabled {
		b = append(b, '}')
	}
	e.size = len(b) - len(e.envPrefix)
	return b, nil
}

// appendSource writes the source block as
// PostgresSourceInfoStructMaker#struct fills it, in the order of its schema
// (AbstractSourceInfoStructMaker#commonSchemaBuilder, then schema, table,
// txId, lsn, xmin).
func (e *Encoder) appendSource(b []byte, op byte) []byte {
	s := e.src
	b = append(b, `{"version":`...)
	b = mustString(b, e.meta.Version)
	b = append(b, `,"connector":"postgresql","name":`...)
	b = mustString(b, e.meta.Server)
	b = append(b, `,"ts_ms":`...)
	b = strconv.AppendInt(b, s.TsMs, 10)
	snap := s.Snapshot
	if snap == "" {
		snap = "false"
		if op == 'r' {
			snap = "true"
		}
	}
	// SnapshotRecord#toSource leaves FALSE unset; the JsonConverter writes
	// the schema's default, "false" (replace.null.with.default).
	b = append(b, `,"snapshot":`...)
	b = mustString(b, snap)
	b = append(b, `,"db":`...)
	b = mustString(b, e.meta.Database)
	// SourceInfo#sequence: a JSON string holding Jackson's rendering of the
	// List<String> [lastCommitLsn, lsn], an element null when unknown. It is
	// never null itself.
	b = append(b, `,"sequence":`...)
	b = mustString(b, "["+seqElement(s.LastCommitLSN)+","+seqElement(s.LSN)+"]")
	// AbstractSourceInfoStructMaker#commonStruct: ts_us and ts_ns from the
	// same Instant as ts_ms.
	b = append(b, `,"ts_us":`...)
	b = strconv.AppendInt(b, s.TsMs*1000, 10)
	b = append(b, `,"ts_ns":`...)
	b = strconv.AppendInt(b, s.TsMs*1_000_000, 10)
	b = append(b, `,"schema":`...)
	b = mustString(b, e.schemaName)
	b = append(b, `,"table":`...)
	b = mustString(b, e.tableName)
	// PostgresSourceInfoStructMaker#struct puts txId, lsn and xmin only
	// outside incremental snapshots; xmin only with xmin.fetch.interval.ms.
	txID, lsn := s.TxID, s.LSN
	if snap == "incremental" {
		txID, lsn = 0, 0
	}
	b = append(b, `,"txId":`...)
	b = appendOptInt(b, txID)
	b = append(b, `,"lsn":`...)
	b = appendOptInt(b, lsn)
	return append(b, `,"xmin":null}`...)
}

func seqElement(lsn int64) string {
	if lsn == 0 {
		return "null"
	}
	return `"` + strconv.FormatInt(lsn, 10) + `"`
}

func appendOptInt(b []byte, n int64) []byte {
	if n == 0 {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, n, 10)
}

// appendImage writes a row image (TableSchemaBuilder's Value struct), or
// null for a nil one. needKey requires every key column to hold a value.
func (e *Encoder) appendImage(b []byte, img []row.Value, name string, needKey bool) ([]byte, error) {
	if img == nil {
		return append(b, "null"...), nil
	}
	if len(img) != len(e.cols) {
		return nil, fmt.Errorf("encode: the %s image has %d values for %d columns", name, len(img), len(e.cols))
	}
	b = append(b, '{')
	for i, c := range e.cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = mustString(b, c.name)
		b = append(b, ':')
		v := img[i]
		if e.isKey[i] && (v.IsUnavailable() || needKey && v.IsNull()) {
			return nil, fmt.Errorf("encode: key column %s of the %s image is %s", c.path, name, v.Kind())
		}
		var err error
		switch {
		case v.IsNull() && !c.nullable && !e.isKey[i]:
			b = appendFallback(b, c)
		case v.IsUnavailable():
			b, err = e.ph.appendColumn(b, c)
		default:
			b, err = appendValue(b, c, v)
		}
		if err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}
