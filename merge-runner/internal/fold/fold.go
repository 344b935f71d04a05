// Package fold folds a batch of one table's change events, in (partition,
// offset) order, into what the merge must do: per primary key the last
// event wins; a delete deletes; an update that changes the key deletes the
// old key and upserts the new one; a truncate empties everything before it
// and marks the table to be emptied; tombstones are skipped.
//
// An unchanged TOAST value (row.Unavailable) takes the value of an earlier
// event for the same row in the batch when there is one; otherwise it stays
// unavailable and the upsert says which stored row (FillFrom) holds it.
//
// An update that changes the primary key reaches the connector as one
// change and leaves it as a delete of the old key and a create of the new
// one (RelationalChangeRecordEmitter#emitUpdateAsPrimaryKeyChangeRecord),
// with the same source position; with REPLICA IDENTITY DEFAULT the create
// carries no before image, but its unchanged-TOAST values are the old
// row's. So a create right after a delete of the same change continues the
// deleted row.
package fold

import (
	"github.com/datasurface/datasurface/merge-runner/internal/debezium"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

// Counts are the events of the batch by op, as seen. Whether an upsert
// inserts or updates is decided against the table, later.
type Counts struct {
	Creates    int
	Reads      int // snapshot reads
	Updates    int
	Deletes    int
	Truncates  int
	Tombstones int
	// KeyChanges counts updates whose before key differs from the after key
	// (also counted in Updates).
	KeyChanges int
}

// Events is the number of events counted.
func (c Counts) Events() int {
	return c.Creates + c.Reads + c.Updates + c.Deletes + c.Truncates + c.Tombstones
}

// Upsert is the final row of a key.
type Upsert struct {
	Key []row.Value
	// Row is in the spec's column order. It may hold row.Unavailable()
	// values that no event in the batch could fill.
	Row []row.Value
	// FillFrom is the key of the stored row that holds the values of Row's
	// unavailable columns: Key itself, or the old key when the key changed
	// within the batch. It is nil when Row has no unavailable value, and also
	// when the stored row is gone (deleted or truncated earlier in the
	// batch), in which case the values cannot be filled.
	FillFrom []row.Value
	// Last is the op of the last event for the key (create, read or update),
	// SourceTsMs its commit time and Object, Line, Partition and Offset
	// where it was read.
	Last       debezium.Op
	SourceTsMs int64
	Object     string
	Line       int
	Partition  int32
	Offset     int64
}

// Result is what the merge applies, in this order: empty the table when
// Truncate is set, delete the Deletes keys, upsert the Upserts rows. A key is
// in at most one of Deletes and Upserts.
type Result struct {
	Truncate bool
	Deletes  [][]row.Value
	Upserts  []Upsert
	Counts   Counts
}

type entry struct {
	key      []row.Value
	present  bool // false: deleted in the batch
	seen     bool // an event for the key was folded
	row      []row.Value
	fillFrom []row.Value
	last     lastEvent
}

// lastEvent is what an entry keeps of the last event for its key: not the
// event itself, so that the caller's events can be dropped as they fold.
type lastEvent struct {
	op         debezium.Op
	sourceTsMs int64
	object     string
	line       int
	partition  int32
	offset     int64
}

func lastOf(ev *debezium.Event) lastEvent {
	return lastEvent{ev.Op, ev.SourceTsMs, ev.Object, ev.Line, ev.Partition, ev.Offset}
}

// Folder folds events one at a time. Its memory is one entry per distinct
// key, not one per event.
type Folder struct {
	// lastDelete is the previous event when it was a delete: the key and
	// its state before, for the create of a primary-key change.
	lastDelete *deleted
	entries    map[string]*entry
	list       []*entry // in the order keys first appeared
	truncated  bool
	counts     Counts
	buf        []byte
}

// New returns an empty folder; sizeHint is the number of keys expected.
func New(sizeHint int) *Folder {
	return &Folder{entries: make(map[string]*entry, sizeHint), list: make([]*entry, 0, sizeHint)}
}

// Fold folds a batch of events.
func Fold(events []debezium.Event) Result {
	f := New(len(events))
	for i := range events {
		f.Add(&events[i])
	}
	return f.Result()
}

// deleted is a delete just folded.
type deleted struct {
	ev   *debezium.Event
	key  []row.Value
	prev prevState
}

// SameChange says whether two events come from one source change: the same
// LSN and transaction (the PostgreSQL connector stamps both halves of a
// primary-key change with one source block).
func SameChange(a, b *debezium.Event) bool {
	return a.LSN != 0 && a.LSN == b.LSN && a.TxID == b.TxID
}

// Add folds in the next event. The folder keeps the event's rows; the
// event must not change afterwards.
func (f *Folder) Add(ev *debezium.Event) {
	del := f.lastDelete
	if ev.Op != debezium.OpTombstone {
		f.lastDelete = nil
	}
	switch ev.Op {
	case debezium.OpTombstone:
		f.counts.Tombstones++
	case debezium.OpTruncate:
		f.counts.Truncates++
		f.truncated = true
		clear(f.entries)
		clear(f.list)
		f.list = f.list[:0]
	case debezium.OpDelete:
		f.counts.Deletes++
		e := f.get(ev.Key)
		f.lastDelete = &deleted{ev: ev, key: e.key, prev: f.state(e)}
		e.present, e.seen, e.row, e.fillFrom, e.last = false, true, nil, nil, lastOf(ev)
	case debezium.OpCreate, debezium.OpRead, debezium.OpUpdate:
		switch ev.Op {
		case debezium.OpCreate:
			f.counts.Creates++
		case debezium.OpRead:
			f.counts.Reads++
		default:
			f.counts.Updates++
		}
		e := f.get(ev.Key)
		prev, storedKey := f.state(e), ev.Key
		if ev.Op == debezium.OpCreate && del != nil && SameChange(del.ev, ev) && hasUnavailable(ev.After) {
			f.counts.KeyChanges++
			prev, storedKey = del.prev, del.key
		}
		if ev.Op == debezium.OpUpdate && ev.BeforeKey != nil {
			if old := f.get(ev.BeforeKey); old != e {
				// A key change: the row under the old key is deleted and
				// continues under the new key.
				f.counts.KeyChanges++
				prev, storedKey = f.state(old), ev.BeforeKey
				old.present, old.seen, old.row, old.fillFrom, old.last = false, true, nil, nil, lastOf(ev)
			}
		}
		r, fillFrom := fill(ev.After, prev, storedKey)
		e.present, e.seen, e.row, e.fillFrom, e.last = true, true, r, fillFrom, lastOf(ev)
	}
}

// prevState is the earlier state of a row in the batch.
type prevState struct {
	known    bool // false: the batch has none; the stored row, if any, is current
	present  bool // false: deleted or truncated earlier in the batch
	row      []row.Value
	fillFrom []row.Value
}

func (f *Folder) state(e *entry) prevState {
	switch {
	case e.present:
		return prevState{known: true, present: true, row: e.row, fillFrom: e.fillFrom}
	case e.seen || f.truncated:
		return prevState{known: true}
	}
	return prevState{}
}

// fill replaces the unavailable values of after with those of the previous
// state of the row in the batch and says where any still unavailable
// values are stored; storedKey is where the stored row is.
func fill(after []row.Value, prev prevState, storedKey []row.Value) ([]row.Value, []row.Value) {
	out := after
	copied := false
	unavailable := false
	for i, v := range after {
		if !v.IsUnavailable() {
			continue
		}
		if prev.present {
			if !copied {
				out = append([]row.Value(nil), after...)
				copied = true
			}
			out[i] = prev.row[i]
		}
		if out[i].IsUnavailable() {
			unavailable = true
		}
	}
	if !unavailable {
		return out, nil
	}
	switch {
	case !prev.known:
		return out, storedKey
	case prev.present:
		return out, prev.fillFrom
	}
	return out, nil // deleted or truncated earlier in the batch: nothing to fill from
}

func hasUnavailable(r []row.Value) bool {
	for _, v := range r {
		if v.IsUnavailable() {
			return true
		}
	}
	return false
}

func (f *Folder) get(key []row.Value) *entry {
	f.buf = row.AppendKey(f.buf[:0], key)
	if e, ok := f.entries[string(f.buf)]; ok { // no allocation for the lookup
		return e
	}
	e := &entry{key: key}
	f.entries[string(f.buf)] = e
	f.list = append(f.list, e)
	return e
}

// Counts are the events folded so far.
func (f *Folder) Counts() Counts { return f.counts }

// Result is the folded batch. Deletes and upserts are in the order their
// keys first appeared (after the last truncate).
func (f *Folder) Result() Result {
	res := Result{Truncate: f.truncated, Counts: f.counts}
	present := 0
	for _, e := range f.list {
		if e.present {
			present++
		}
	}
	res.Upserts = make([]Upsert, 0, present)
	if !f.truncated {
		res.Deletes = make([][]row.Value, 0, len(f.list)-present)
	}
	for _, e := range f.list {
		switch {
		case e.present:
			l := e.last
			res.Upserts = append(res.Upserts, Upsert{
				Key: e.key, Row: e.row, FillFrom: e.fillFrom,
				Last: l.op, SourceTsMs: l.sourceTsMs, Object: l.object, Line: l.line, Partition: l.partition, Offset: l.offset,
			})
		case !f.truncated:
			// After a truncate the table is emptied: deleting is moot.
			res.Deletes = append(res.Deletes, e.key)
		}
	}
	return res
}
