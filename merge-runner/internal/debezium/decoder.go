// Package debezium decodes Debezium PostgreSQL change events, as the Kafka
// Connect JsonConverter writes them (with or without the schema envelope),
// into typed rows for one job spec table.
//
// A Decoder is built once per table from the spec: a plan maps each column
// name to its index and value parser. Decoding reads the event with a small
// strict JSON scanner — no map[string]any, no reflection — and parses each
// field straight into a row.Value. An envelope's schema is checked against
// the spec once per distinct schema (they are byte-identical for a table
// version) and not parsed again.
//
// What is read is what the connector and the converter write, taken from
// their sources (Debezium 2.7: PostgresValueConverter, JdbcValueConverters,
// io.debezium.time and io.debezium.data; Kafka 3.7: JsonConverter and
// JsonSchema; Jackson 2.16's UTF8JsonGenerator), not from this package's
// encoder, encode: an envelope's schema names its types with
// JsonSchema's names (FLOAT32 is "float", FLOAT64 "double"), floats are
// Float.toString and Double.toString with NaN and the infinities as
// strings, bytes are base64, maps with keys other than strings are arrays
// of [key, value] pairs. Strings must be UTF-8 (RFC 8259 §8.1; Jackson
// writes nothing else): a string that is not, anywhere in an event, is bad
// input naming its column.
//
// An unchanged TOAST value — a large value an UPDATE did not touch, which
// logical decoding does not send under REPLICA IDENTITY DEFAULT — is
// row.Unavailable() when it arrives in the form the connector writes for
// the column (see placeholderForm): unavailable.value.placeholder for text,
// varchar, char and json, and for numeric in decimal.handling.mode string;
// for bytea its bytes (base64) in binary.handling.mode bytes and the
// placeholder text in hex; [p] for text[] and varchar[], [base64 of p] for
// bytea[] in bytes mode, one integer per byte of p for integer[], bigint[]
// and date[], p's name-based UUID for uuid[], {p: p} for an hstore. Only
// the default placeholder is recognised. In binary.handling.mode base64 and
// base64-url-safe an unchanged TOAST bytea arrives as null, the same as a
// real NULL, and is read as one: PostgresValueConverter#convertBinaryToBase64
// and #convertBinaryToBase64UrlSafe pass the marker to JdbcValueConverters,
// whose conversion ends in #unexpectedBinary, null (only #convertBinaryToBytes
// and #convertBinaryToHex return the placeholder). Use bytes (the default) or
// hex to keep such values; numeric in precise or double mode, and arrays of
// other element types, lose theirs the same way.
package debezium

import (
	"errors"
	"fmt"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/badinput"
	"github.com/datasurface/datasurface/merge-runner/internal/landing"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

// Op is what an event does.
type Op uint8

// Operations.
const (
	OpCreate    Op = iota + 1 // c: a row was inserted
	OpUpdate                  // u: a row was updated
	OpDelete                  // d: a row was deleted
	OpRead                    // r: a row read by a snapshot
	OpTruncate                // t: the table was truncated
	OpTombstone               // a null value following a delete, for log compaction
)

func (o Op) String() string {
	switch o {
	case OpCreate:
		return "create"
	case OpUpdate:
		return "update"
	case OpDelete:
		return "delete"
	case OpRead:
		return "read"
	case OpTruncate:
		return "truncate"
	case OpTombstone:
		return "tombstone"
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// Event is one decoded change event.
type Event struct {
	Op Op
	// Key is the primary key in the spec's key order: the after image's for
	// creates, reads and updates, the before image's for deletes; nil for
	// truncates and tombstones.
	Key []row.Value
	// BeforeKey is the before image's key when the event has a before image
	// carrying the whole key (deletes; updates with REPLICA IDENTITY FULL or
	// a key change); nil otherwise.
	BeforeKey []row.Value
	// Before and After are rows in the spec's column order, nil when the
	// event has no such image. An unchanged TOAST value is
	// row.Unavailable().
	//
	// After is checked against the spec; of Before only the key is, as the
	// merge uses nothing else of it. Its other columns are Null when the
	// image does not carry them or when their value does not parse for the
	// column's type; otherwise they are as written — which, for the columns
	// outside the replica identity of a REPLICA IDENTITY DEFAULT delete or
	// update, are not the row's values but the connector's type fallbacks
	// for NOT NULL columns (0, "", the epoch, an empty list ...; a fallback
	// that does not parse, such as "" for a uuid, is the Null above) and
	// Null for nullable ones.
	Before, After []row.Value
	// SourceTsMs is source.ts_ms: when the change was committed in the database.
	SourceTsMs int64
	// TsMs is ts_ms: when the connector processed the event.
	TsMs int64
	// LSN and TxID are source.lsn and source.txId; 0 when absent.
	LSN  int64
	TxID int64
	// Seq is source.sequence: the source's commit order.
	Seq Sequence
	// Where the event was read.
	Object    string
	Line      int
	Partition int32
	Offset    int64
}

// Decoder decodes the events of one table. It is not safe for concurrent
// use; use one per goroutine.
type Decoder struct {
	table *jobspec.Table
	base  *tablePlan
	vp    valueParser

	schemas schemaCache

	sc   scanner
	seen [2][]uint32 // by image: the generation in which each column was seen
	gen  [2]uint32
	slab []row.Value
}

// NewDecoder builds the decoder for table t of a spec whose events were
// written with encoding enc.
func NewDecoder(t *jobspec.Table, enc jobspec.Encoding) (*Decoder, error) {
	plan, err := newTablePlan(t, enc)
	if err != nil {
		return nil, err
	}
	return &Decoder{
		table:   t,
		base:    plan,
		vp:      newValueParser(DefaultPlaceholder),
		schemas: newSchemaCache(),
		seen:    [2][]uint32{make([]uint32, len(plan.cols)), make([]uint32, len(plan.cols))},
	}, nil
}

// Columns is the number of columns in a row.
func (d *Decoder) Columns() int { return len(d.base.cols) }

// KeyIndexes are the column indexes of the primary key, in key order.
func (d *Decoder) KeyIndexes() []int { return d.base.pk }

// eventError is an event that is well-formed JSON but not a valid change event.
type eventError struct{ reason string }

func (e *eventError) Error() string { return e.reason }

func eventErr(format string, args ...any) error {
	return &eventError{reason: fmt.Sprintf(format, args...)}
}

// Decode decodes one landed line. Bad input is a *badinput.Error naming the
// object, line and offset of the record and saying what is wrong.
func (d *Decoder) Decode(rec landing.Record) (Event, error) {
	ev := Event{Object: rec.Object, Line: rec.Line, Partition: rec.Partition, Offset: rec.Offset}
	if err := d.decode(rec.Data, &ev); err != nil {
		return Event{}, toBadInput(rec, err)
	}
	return ev, nil
}

func toBadInput(rec landing.Record, err error) error {
	be := &badinput.Error{Object: rec.Object, Line: rec.Line, Partition: rec.Partition, Offset: rec.Offset}
	var (
		syn *syntaxError
		val *valueError
		sch *schemaError
		u8  *utf8Error
	)
	switch {
	case errors.As(err, &syn):
		be.Reason = "undecodable JSON: " + syn.Error()
	case errors.As(err, &u8):
		be.Reason = u8.reason()
	case errors.As(err, &val):
		be.Column, be.Reason = val.path, val.reason
	case errors.As(err, &sch):
		be.Column, be.Reason = sch.path, sch.Error()
		if sch.path != "" {
			be.Reason = "event schema does not agree with the job spec: " + sch.reason
		}
	default:
		be.Reason = err.Error()
	}
	return be
}

func (d *Decoder) decode(data []byte, ev *Event) error {
	s := &d.sc
	s.reset(data)
	s.ws()
	if null, err := s.isNull(); null || err != nil {
		if err == nil {
			err = s.end()
		}
		ev.Op = OpTombstone
		return err
	}
	more, err := s.objStart()
	if err != nil {
		return err
	}
	if !more {
		return eventErr("the event is an empty object")
	}
	key, err := s.objKey()
	if err != nil {
		return err
	}
	if k := bstr(key); k != "schema" && k != "payload" {
		// No envelope: the object is the payload.
		if err := d.payload(s, d.base, ev, key); err != nil {
			return err
		}
		return s.end()
	}
	// The JsonConverter envelope: {"schema": ..., "payload": ...}.
	plan := d.base
	schemaSeen, payloadDone := false, false
	payloadStart, payloadEnd := -1, -1
	for {
		switch bstr(key) {
		case "schema":
			if schemaSeen {
				return eventErr("the envelope has two schemas")
			}
			schemaSeen = true
			if null, err := s.isNull(); err != nil {
				return err
			} else if !null {
				e, err := d.lookupSchema(s)
				if err != nil {
					return err
				}
				if e.err != nil {
					return e.err
				}
				plan = e.plan
			}
		case "payload":
			if payloadDone || payloadStart >= 0 {
				return eventErr("the envelope has two payloads")
			}
			if !schemaSeen {
				// The schema follows; read the payload after it.
				payloadStart = s.i
				if err := s.skip(); err != nil {
					return err
				}
				payloadEnd = s.i
				break
			}
			if err := d.payloadValue(s, plan, ev); err != nil {
				return err
			}
			payloadDone = true
		default:
			if err := s.skip(); err != nil {
				return err
			}
		}
		more, err := s.objNext()
		if err != nil {
			return err
		}
		if !more {
			break
		}
		if key, err = s.objKey(); err != nil {
			return err
		}
	}
	if err := s.end(); err != nil {
		return err
	}
	if payloadStart >= 0 {
		var sub scanner
		sub.reset(data[payloadStart:payloadEnd])
		if err := d.payloadValue(&sub, plan, ev); err != nil {
			return err
		}
		payloadDone = true
	}
	if !payloadDone {
		return eventErr("the envelope has no payload")
	}
	return nil
}

// payloadValue reads a payload value: an object, or null for a tombstone.
func (d *Decoder) payloadValue(s *scanner, plan *tablePlan, ev *Event) error {
	if null, err := s.isNull(); err != nil {
		return err
	} else if null {
		ev.Op = OpTombstone
		return nil
	}
	more, err := s.objStart()
	if err != nil {
		return err
	}
	if !more {
		return eventErr("the event payload is an empty object")
	}
	key, err := s.objKey()
	if err != nil {
		return err
	}
	return d.payload(s, plan, ev, key)
}

// payload reads the fields of a payload object whose first field name has
// been read.
func (d *Decoder) payload(s *scanner, plan *tablePlan, ev *Event, key []byte) error {
	var before, after []row.Value
	var op byte
	for {
		var err error
		switch bstr(key) {
		case "before":
			before, err = d.parseImage(s, plan, imgBefore)
		case "after":
			after, err = d.parseImage(s, plan, imgAfter)
		case "source":
			err = d.source(s, ev)
		case "op":
			var b []byte
			if b, err = s.str(); err == nil {
				if len(b) != 1 {
					return eventErr("unknown op %q", truncate(b))
				}
				op = b[0]
			}
		case "ts_ms":
			ev.TsMs, err = optInt(s, "ts_ms")
		default:
			err = s.skip()
		}
		if err != nil {
			return err
		}
		more, err := s.objNext()
		if err != nil {
			return err
		}
		if !more {
			break
		}
		if key, err = s.objKey(); err != nil {
			return err
		}
	}
	return d.rows(plan, ev, op, before, after)
}

func optInt(s *scanner, name string) (int64, error) {
	if null, err := s.isNull(); null || err != nil {
		return 0, err
	}
	num, err := s.number()
	if err != nil {
		return 0, err
	}
	n, ok := parseInt(num)
	if !ok {
		return 0, eventErr("%s %s is not an integer", name, truncate(num))
	}
	return n, nil
}

func (d *Decoder) source(s *scanner, ev *Event) error {
	if null, err := s.isNull(); null || err != nil {
		return err
	}
	more, err := s.objStart()
	for err == nil && more {
		var k []byte
		if k, err = s.objKey(); err != nil {
			break
		}
		switch bstr(k) {
		case "ts_ms":
			ev.SourceTsMs, err = optInt(s, "source.ts_ms")
		case "lsn":
			ev.LSN, err = optInt(s, "source.lsn")
		case "txId":
			ev.TxID, err = optInt(s, "source.txId")
		case "sequence":
			ev.Seq, err = parseSequence(s)
		default:
			err = s.skip()
		}
		if err == nil {
			more, err = s.objNext()
		}
	}
	return err
}

// rows checks the images the op calls for.
func (d *Decoder) rows(plan *tablePlan, ev *Event, op byte, before, after []row.Value) error {
	var err error
	switch op {
	case 'c', 'r', 'u':
		switch op {
		case 'c':
			ev.Op = OpCreate
		case 'r':
			ev.Op = OpRead
		default:
			ev.Op = OpUpdate
		}
		if after == nil {
			return eventErr("a %s event without an after image", ev.Op)
		}
		if ev.After, ev.Key, err = d.checkImage(plan, after, imgAfter, true, true); err != nil {
			return err
		}
		if before != nil {
			if ev.Before, ev.BeforeKey, err = d.checkImage(plan, before, imgBefore, false, false); err != nil {
				return err
			}
		}
	case 'd':
		ev.Op = OpDelete
		if before == nil {
			return eventErr("a delete event without a before image; the source table needs a primary key or REPLICA IDENTITY FULL")
		}
		if ev.Before, ev.Key, err = d.checkImage(plan, before, imgBefore, false, true); err != nil {
			return err
		}
		ev.BeforeKey = ev.Key
	case 't':
		ev.Op = OpTruncate
	case 'm':
		return eventErr("a logical decoding message event (op m) is not a table change")
	case 0:
		return eventErr("the event has no op")
	default:
		return eventErr("unknown op %q", string(op))
	}
	return nil
}

// values returns n zero values from a shared slab: one allocation serves
// many events. A slab lives as long as any event using it.
func (d *Decoder) values(n int) []row.Value {
	const slab = 4096
	if n > slab/4 {
		return make([]row.Value, n)
	}
	if len(d.slab) < n {
		d.slab = make([]row.Value, slab)
	}
	v := d.slab[:n:n]
	d.slab = d.slab[n:]
	return v
}

// The images of an event.
const (
	imgBefore = 0
	imgAfter  = 1
)

var imageNames = [2]string{"before", "after"}

// parseImage reads an image (before or after) at the scanner into a slice
// of len(cols)+len(pk) values: the row, then room for its key. A null image
// gives nil. Which columns were present is kept for checkImage.
func (d *Decoder) parseImage(s *scanner, plan *tablePlan, img int) ([]row.Value, error) {
	if null, err := s.isNull(); null || err != nil {
		return nil, err
	}
	cols := plan.cols
	vals := d.values(len(cols) + len(plan.pk))
	d.gen[img]++
	if d.gen[img] == 0 { // wrapped: clear
		clear(d.seen[img])
		d.gen[img] = 1
	}
	gen, seen := d.gen[img], d.seen[img]
	hint := 0
	more, err := s.objStart()
	for err == nil && more {
		var k []byte
		if k, err = s.objKey(); err != nil {
			if ue, ok := err.(*utf8Error); ok {
				err = &valueError{reason: "a field name of the " + imageNames[img] + " image: " + ue.reason()}
			}
			break
		}
		i := -1
		if hint < len(cols) && cols[hint].name == bstr(k) {
			i = hint
		} else if j, ok := plan.idx[bstr(k)]; ok {
			i = j
		}
		if i < 0 {
			// A source column the spec does not have.
			name := string(k)
			if err = s.skip(); err != nil {
				err = inColumn(&colPlan{path: name}, err)
			}
		} else {
			if seen[i] == gen {
				return nil, &valueError{path: cols[i].path, reason: "appears twice in the " + imageNames[img] + " image"}
			}
			seen[i] = gen
			hint = i + 1
			start := s.i
			if vals[i], err = d.vp.value(s, cols[i]); err != nil {
				if img == imgBefore && !plan.isKey[i] {
					err = skipBadValue(s, start, err)
					vals[i] = row.Null()
				}
				if err != nil {
					err = inColumn(cols[i], err)
					break
				}
			}
		}
		if err == nil {
			more, err = s.objNext()
		}
	}
	if err != nil {
		return nil, err
	}
	return vals, nil
}

// skipBadValue handles a value of a before image's non-key column that
// started at start and failed to parse with err. A delete under REPLICA
// IDENTITY DEFAULT carries only the key; for the other NOT NULL columns the
// connector writes type fallbacks, some of which do not parse for the type
// ("" for a uuid). Only the key of a before image is used, so a value error
// there is dropped: the scanner is moved past the whole value (which must
// still be valid JSON, its strings UTF-8) and nil returned. Other errors are
// returned.
func skipBadValue(s *scanner, start int, err error) error {
	var ve *valueError
	if !errors.As(err, &ve) {
		return err
	}
	s.i = start
	return s.skip()
}

// checkImage checks a parsed image and returns the row and its key (nil if
// the image lacks part of the key and needKey is false). strict enforces the
// spec's nullability on every column (after images); otherwise only the key
// is checked, since a before image carries only the replica identity's
// columns.
func (d *Decoder) checkImage(plan *tablePlan, vals []row.Value, img int, strict, needKey bool) ([]row.Value, []row.Value, error) {
	cols := plan.cols
	gen, seen := d.gen[img], d.seen[img]
	image := imageNames[img]
	keyOK := true
	for i, cp := range cols {
		v := vals[i]
		switch {
		case plan.isKey[i]:
			switch {
			case seen[i] != gen:
				if needKey {
					return nil, nil, &valueError{path: cp.path, reason: "key column missing from the " + image + " image"}
				}
				keyOK = false
			case v.IsNull():
				if needKey {
					return nil, nil, &valueError{path: cp.path, reason: "null in key column of the " + image + " image"}
				}
				keyOK = false
			case v.IsUnavailable():
				return nil, nil, &valueError{path: cp.path, reason: "key column carries the unavailable-value placeholder in the " + image + " image"}
			}
		case !strict:
		case seen[i] != gen:
			if !cp.nullable {
				return nil, nil, &valueError{path: cp.path, reason: "missing from the " + image + " image, and the column is not nullable"}
			}
		case v.IsNull() && !cp.nullable:
			return nil, nil, &valueError{path: cp.path, reason: "null in a column that is not nullable"}
		}
	}
	rowVals := vals[:len(cols):len(cols)]
	if !keyOK {
		return rowVals, nil, nil
	}
	key := vals[len(cols):]
	for j, i := range plan.pk {
		key[j] = vals[i]
	}
	return rowVals, key, nil
}
