// Package dbztest writes change events the way the Debezium PostgreSQL
// connector (2.x/3.x) and Kafka Connect's JsonConverter write them, and lands
// them in the layout of Kafka Connect's S3 sink, for tests, benchmarks and
// example data.
//
// An Encoder is built for one job spec table and encoding; it turns rows
// (row.Value slices in the spec's column order) into event lines: creates,
// snapshot reads, updates, deletes, key changes, truncates and tombstones.
// With the schema envelope each line is {"schema":...,"payload":...} and the
// schema is built once, so it is byte-identical in every event of the table.
// A Lander writes lines into a folder as
// <prefix>/<topic>/partition=<p>/<topic>+<p>+<startOffset>.json[.gz].
//
// What the encoder writes for each column type follows the connector:
//
//   - boolean, int8..int64, float32, float64: JSON booleans and numbers, as
//     Jackson writes Java values (floats as Float.toString and
//     Double.toString; NaN and infinities as the strings "NaN", "Infinity"
//     and "-Infinity"). int8 is written with an int16 schema, as PostgreSQL
//     has no one-byte integer.
//   - decimal: decimal.handling.mode precise writes the unscaled value as
//     base64 big-endian two's complement bytes (schema
//     org.apache.kafka.connect.data.Decimal with scale and
//     connect.decimal.precision); a column without precision (PostgreSQL
//     numeric) is an io.debezium.data.VariableScaleDecimal struct
//     {"scale":s,"value":bytes} with trailing zeros stripped. string writes
//     the plain decimal text; double writes the nearest float64.
//   - char, varchar, text, json (io.debezium.data.Json), uuid
//     (io.debezium.data.Uuid): strings.
//   - date: int32 days (io.debezium.time.Date; connect mode
//     org.apache.kafka.connect.data.Date).
//   - time: adaptive_time_microseconds writes io.debezium.time.MicroTime
//     (int64 µs); adaptive writes io.debezium.time.Time (int32 ms) for a
//     column of time precision 0-3 and MicroTime otherwise; connect writes
//     org.apache.kafka.connect.data.Time (int32 ms).
//   - timestamp: both adaptive modes write io.debezium.time.Timestamp (int64
//     ms) for precision 0-3 and io.debezium.time.MicroTimestamp (int64 µs)
//     otherwise; connect writes org.apache.kafka.connect.data.Timestamp (ms).
//     Millisecond forms floor the microseconds, as java.time does.
//   - timestamptz: io.debezium.time.ZonedTimestamp, ISO-8601 in UTC ("Z")
//     with as many fraction digits as the column's time precision (6 when
//     unset; none for precision 0), digits beyond it truncated. PostgreSQL's
//     infinity and -infinity (math.MaxInt64 and math.MinInt64 µs) are written
//     as "infinity" and "-infinity". Years outside 0000-9999 are written as
//     java.time writes them ("+10000-...", "-0001-...").
//   - binary: binary.handling.mode base64 and base64-url-safe write a string
//     of padded base64, hex a string of lowercase hex; bytes writes the
//     Connect bytes type, which the JsonConverter renders as base64.
//   - struct, list, map: JSON objects and arrays. A map whose key schema is a
//     string is a JSON object; any other map is an array of [key, value]
//     pairs, as the JsonConverter writes them. List items are optional in the
//     schema, as Debezium declares array elements (see
//     Meta.ListItemsFollowSpec).
//
// row.Unavailable() (an unchanged TOAST value) is written as Debezium's
// unavailable.value.placeholder: the placeholder text for strings and other
// text-like columns; its bytes in the binary handling mode's form for binary
// and precise decimals; [placeholder] for arrays of text-like elements; one
// element per placeholder byte for integer[], bigint[] and date[] columns
// (list of int32, int64 or date) and a name-based UUID of the placeholder for
// uuid[], as the connector writes them; {"placeholder":"placeholder"} for a
// map (hstore).
//
// A Null in a non-key column that is not nullable is written as the
// connector's fallback for the type (0, false, "", 0.00, the epoch,
// "1970-01-01T00:00:00Z", [] or {}), as Debezium does for the columns a
// REPLICA IDENTITY DEFAULT before image does not carry. Expect returns the
// row the decoder should read back for an image.
//
// The encoder writes what it is given within a column's kind: it does not
// check nullability of nested values, lengths, ranges or precision, so tests
// can build bad input with it. A value of the wrong kind for its column is an
// error.
package dbztest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

// DefaultVersion is the connector version written in source.version.
const DefaultVersion = "2.7.3.Final"

// DefaultPlaceholder is Debezium's default unavailable.value.placeholder.
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
	Placeholder string
	// ListItemsFollowSpec declares list items optional only when the spec's
	// element is nullable. Debezium declares every array element optional.
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
	ph        placeholders

	src  Source
	size int // a size hint for the next line
}

// NewEncoder builds the encoder for table t whose events are written with
// encoding enc.
func NewEncoder(t *jobspec.Table, enc jobspec.Encoding, meta Meta) (*Encoder, error) {
	if t == nil {
		return nil, errors.New("dbztest: no table")
	}
	e := &Encoder{table: t, enc: enc, isKey: make([]bool, len(t.Columns))}
	modes, err := parseModes(enc)
	if err != nil {
		return nil, err
	}
	names := map[string]int{}
	for i := range t.Columns {
		c := &t.Columns[i]
		if _, dup := names[c.Name]; dup {
			return nil, fmt.Errorf("dbztest: table %s: column %s appears twice", t.Name, c.Name)
		}
		names[c.Name] = i
		cp, err := newCol(c, c.Name, modes, meta)
		if err != nil {
			return nil, fmt.Errorf("dbztest: table %s: %w", t.Name, err)
		}
		e.cols = append(e.cols, cp)
	}
	if len(t.PrimaryKey) == 0 {
		return nil, fmt.Errorf("dbztest: table %s has no primary key", t.Name)
	}
	for _, k := range t.PrimaryKey {
		i, ok := names[k]
		if !ok {
			return nil, fmt.Errorf("dbztest: table %s: primary key column %s is not a column", t.Name, k)
		}
		if e.isKey[i] {
			return nil, fmt.Errorf("dbztest: table %s: primary key column %s appears twice", t.Name, k)
		}
		switch e.cols[i].typ {
		case tStruct, tList, tMap:
			return nil, fmt.Errorf("dbztest: table %s: primary key column %s is a %s", t.Name, k, e.cols[i].spec.Type)
		}
		e.pk = append(e.pk, i)
		e.isKey[i] = true
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
	e.ph = newPlaceholders(meta.Placeholder)
	if enc.SchemasEnabled {
		e.schema = e.envelopeSchema()
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

// Create writes an insert (op "c").
func (e *Encoder) Create(after []row.Value) ([]byte, error) {
	return e.event('c', nil, after)
}

// Read writes a row read by a snapshot (op "r").
func (e *Encoder) Read(after []row.Value) ([]byte, error) {
	return e.event('r', nil, after)
}

// Update writes an update (op "u") that keeps the key. before is nil with
// REPLICA IDENTITY DEFAULT, where Debezium sends no before image, and the
// whole old row with REPLICA IDENTITY FULL. An update that changes the key
// is KeyChange.
func (e *Encoder) Update(before, after []row.Value) ([]byte, error) {
	return e.event('u', before, after)
}

// Delete writes a delete (op "d"). before must carry the key; with REPLICA
// IDENTITY DEFAULT its other columns are Null (KeyRow), and the ones that
// are not nullable are written as the connector's fallbacks.
func (e *Encoder) Delete(before []row.Value) ([]byte, error) {
	return e.event('d', before, nil)
}

// DeleteLines writes a delete followed by its tombstone when the encoding
// has tombstones_on_delete.
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

// KeyChange writes an update that changes the primary key as Debezium does:
// a delete of the old key, its tombstone when the encoding has
// tombstones_on_delete, and a create of the new row. before is the old row
// (KeyRow of the old key with REPLICA IDENTITY DEFAULT).
func (e *Encoder) KeyChange(before, after []row.Value) ([][]byte, error) {
	if len(before) == len(e.cols) && len(after) == len(e.cols) && row.KeyString(e.Key(before)) == row.KeyString(e.Key(after)) {
		return nil, errors.New("dbztest: the key does not change; write an update")
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

// Truncate writes a truncate of the table (op "t").
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

func (e *Encoder) event(op byte, before, after []row.Value) ([]byte, error) {
	switch op {
	case 'c', 'r', 'u':
		if after == nil {
			return nil, fmt.Errorf("dbztest: op %c needs an after image", op)
		}
	case 'd':
		if before == nil {
			return nil, errors.New("dbztest: a delete needs a before image")
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
	b = append(b, `,"transaction":null,"op":"`...)
	b = append(b, op)
	ts := e.src.EventTsMs
	if ts == 0 {
		ts = e.src.TsMs
	}
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

func (e *Encoder) appendSource(b []byte, op byte) []byte {
	s := e.src
	b = append(b, `{"version":`...)
	b = appendString(b, e.meta.Version)
	b = append(b, `,"connector":"postgresql","name":`...)
	b = appendString(b, e.meta.Server)
	b = append(b, `,"ts_ms":`...)
	b = strconv.AppendInt(b, s.TsMs, 10)
	snap := s.Snapshot
	if snap == "" {
		snap = "false"
		if op == 'r' {
			snap = "true"
		}
	}
	b = append(b, `,"snapshot":`...)
	b = appendString(b, snap)
	b = append(b, `,"db":`...)
	b = appendString(b, e.meta.Database)
	b = append(b, `,"sequence":`...)
	if s.LSN != 0 {
		b = appendString(b, `[null,"`+strconv.FormatInt(s.LSN, 10)+`"]`)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"ts_us":`...)
	b = strconv.AppendInt(b, s.TsMs*1000, 10)
	b = append(b, `,"ts_ns":`...)
	b = strconv.AppendInt(b, s.TsMs*1_000_000, 10)
	b = append(b, `,"schema":`...)
	b = appendString(b, e.schemaName)
	b = append(b, `,"table":`...)
	b = appendString(b, e.tableName)
	b = append(b, `,"txId":`...)
	b = appendOptInt(b, s.TxID)
	b = append(b, `,"lsn":`...)
	b = appendOptInt(b, s.LSN)
	return append(b, `,"xmin":null}`...)
}

func appendOptInt(b []byte, n int64) []byte {
	if n == 0 {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, n, 10)
}

// appendImage writes a row image, or null for a nil one. needKey requires
// every key column to hold a value.
func (e *Encoder) appendImage(b []byte, img []row.Value, name string, needKey bool) ([]byte, error) {
	if img == nil {
		return append(b, "null"...), nil
	}
	if len(img) != len(e.cols) {
		return nil, fmt.Errorf("dbztest: the %s image has %d values for %d columns", name, len(img), len(e.cols))
	}
	b = append(b, '{')
	for i, c := range e.cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, c.name)
		b = append(b, ':')
		v := img[i]
		if e.isKey[i] && (v.IsUnavailable() || needKey && v.IsNull()) {
			return nil, fmt.Errorf("dbztest: key column %s of the %s image is %s", c.path, name, v.Kind())
		}
		if v.IsNull() && !c.nullable && !e.isKey[i] {
			b = e.appendFallback(b, c)
			continue
		}
		var err error
		if b, err = e.appendValue(b, c, v); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}
