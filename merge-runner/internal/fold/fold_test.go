package fold

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/merge-runner/internal/debezium"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

// Rows here are (id int64, name string, doc text); doc can be TOASTed.

var (
	U = row.Unavailable()
	N = row.Null()
)

func r(id int64, name string, doc row.Value) []row.Value {
	return []row.Value{row.Int64(id), row.String(name), doc}
}

func s(v string) row.Value { return row.String(v) }

func k(id int64) []row.Value { return []row.Value{row.Int64(id)} }

// events numbers the events' offsets in order.
func events(evs ...debezium.Event) []debezium.Event {
	for i := range evs {
		evs[i].Offset = int64(i)
		evs[i].SourceTsMs = 1000 + int64(i)
	}
	return evs
}

func create(after []row.Value) debezium.Event {
	return debezium.Event{Op: debezium.OpCreate, Key: after[:1], After: after}
}

func read(after []row.Value) debezium.Event {
	return debezium.Event{Op: debezium.OpRead, Key: after[:1], After: after}
}

func update(after []row.Value) debezium.Event {
	return debezium.Event{Op: debezium.OpUpdate, Key: after[:1], After: after}
}

func rekey(oldID int64, after []row.Value) debezium.Event {
	return debezium.Event{Op: debezium.OpUpdate, Key: after[:1], BeforeKey: k(oldID), Before: r(oldID, "", N), After: after}
}

func del(id int64) debezium.Event {
	return debezium.Event{Op: debezium.OpDelete, Key: k(id), BeforeKey: k(id), Before: r(id, "", N)}
}

func truncate() debezium.Event  { return debezium.Event{Op: debezium.OpTruncate} }
func tombstone() debezium.Event { return debezium.Event{Op: debezium.OpTombstone} }

type wantUpsert struct {
	row      []row.Value
	fillFrom []row.Value
	last     debezium.Op
	offset   int64
}

func TestFold(t *testing.T) {
	cases := []struct {
		name     string
		events   []debezium.Event
		truncate bool
		deletes  [][]row.Value
		upserts  []wantUpsert
		counts   Counts
	}{
		{
			name:    "last wins",
			events:  events(create(r(1, "a", s("d1"))), update(r(1, "b", s("d2"))), create(r(2, "x", N)), update(r(1, "c", s("d3")))),
			upserts: []wantUpsert{{r(1, "c", s("d3")), nil, debezium.OpUpdate, 3}, {r(2, "x", N), nil, debezium.OpCreate, 2}},
			counts:  Counts{Creates: 2, Updates: 2},
		},
		{
			name:    "snapshot reads then changes",
			events:  events(read(r(1, "a", N)), read(r(2, "b", N)), update(r(2, "B", N))),
			upserts: []wantUpsert{{r(1, "a", N), nil, debezium.OpRead, 0}, {r(2, "B", N), nil, debezium.OpUpdate, 2}},
			counts:  Counts{Reads: 2, Updates: 1},
		},
		{
			name:    "deletes delete",
			events:  events(create(r(1, "a", N)), del(1), del(2), create(r(3, "c", N))),
			deletes: [][]row.Value{k(1), k(2)},
			upserts: []wantUpsert{{r(3, "c", N), nil, debezium.OpCreate, 3}},
			counts:  Counts{Creates: 2, Deletes: 2},
		},
		{
			name:    "delete then create again",
			events:  events(update(r(1, "a", N)), del(1), create(r(1, "new", N))),
			upserts: []wantUpsert{{r(1, "new", N), nil, debezium.OpCreate, 2}},
			counts:  Counts{Creates: 1, Updates: 1, Deletes: 1},
		},
		{
			name:    "tombstones are skipped",
			events:  events(create(r(1, "a", N)), del(1), tombstone(), create(r(2, "b", N)), tombstone()),
			deletes: [][]row.Value{k(1)},
			upserts: []wantUpsert{{r(2, "b", N), nil, debezium.OpCreate, 3}},
			counts:  Counts{Creates: 2, Deletes: 1, Tombstones: 2},
		},
		{
			name:    "a key change deletes the old key and upserts the new",
			events:  events(update(r(1, "a", s("doc"))), rekey(1, r(5, "a", s("doc"))), update(r(5, "b", s("doc")))),
			deletes: [][]row.Value{k(1)},
			upserts: []wantUpsert{{r(5, "b", s("doc")), nil, debezium.OpUpdate, 2}},
			counts:  Counts{Updates: 3, KeyChanges: 1},
		},
		{
			name:    "a key change onto a key deleted earlier",
			events:  events(del(5), rekey(1, r(5, "a", N))),
			deletes: [][]row.Value{k(1)},
			upserts: []wantUpsert{{r(5, "a", N), nil, debezium.OpUpdate, 1}},
			counts:  Counts{Updates: 1, Deletes: 1, KeyChanges: 1},
		},
		{
			name:    "an update whose before key is the same is no key change",
			events:  events(rekey(1, r(1, "a", N))),
			upserts: []wantUpsert{{r(1, "a", N), nil, debezium.OpUpdate, 0}},
			counts:  Counts{Updates: 1},
		},
		{
			name:     "truncate in the middle of the batch",
			events:   events(create(r(1, "a", N)), del(2), update(r(3, "c", N)), truncate(), create(r(4, "d", N)), del(5), update(r(1, "A", N))),
			truncate: true,
			upserts:  []wantUpsert{{r(4, "d", N), nil, debezium.OpCreate, 4}, {r(1, "A", N), nil, debezium.OpUpdate, 6}},
			counts:   Counts{Creates: 2, Updates: 2, Deletes: 2, Truncates: 1},
		},
		{
			name:     "truncate last",
			events:   events(create(r(1, "a", N)), truncate()),
			truncate: true,
			counts:   Counts{Creates: 1, Truncates: 1},
		},
		{
			name:    "TOAST takes the value of an earlier event of the key",
			events:  events(create(r(1, "a", s("big"))), update(r(1, "b", U)), update(r(1, "c", U))),
			upserts: []wantUpsert{{r(1, "c", s("big")), nil, debezium.OpUpdate, 2}},
			counts:  Counts{Creates: 1, Updates: 2},
		},
		{
			name:    "TOAST with no earlier event stays unavailable, filled from the stored row",
			events:  events(update(r(1, "b", U)), update(r(1, "c", U))),
			upserts: []wantUpsert{{r(1, "c", U), k(1), debezium.OpUpdate, 1}},
			counts:  Counts{Updates: 2},
		},
		{
			name:    "TOAST after a key change is filled from the old key's stored row",
			events:  events(rekey(1, r(5, "b", U)), update(r(5, "c", U))),
			deletes: [][]row.Value{k(1)},
			upserts: []wantUpsert{{r(5, "c", U), k(1), debezium.OpUpdate, 1}},
			counts:  Counts{Updates: 2, KeyChanges: 1},
		},
		{
			name:    "TOAST after a key change takes the old key's earlier event",
			events:  events(update(r(1, "a", s("big"))), rekey(1, r(5, "b", U))),
			deletes: [][]row.Value{k(1)},
			upserts: []wantUpsert{{r(5, "b", s("big")), nil, debezium.OpUpdate, 1}},
			counts:  Counts{Updates: 2, KeyChanges: 1},
		},
		{
			name:    "TOAST after a delete in the batch cannot be filled",
			events:  events(del(1), update(r(1, "b", U))),
			upserts: []wantUpsert{{r(1, "b", U), nil, debezium.OpUpdate, 1}},
			counts:  Counts{Updates: 1, Deletes: 1},
		},
		{
			name:     "TOAST after a truncate cannot be filled",
			events:   events(truncate(), update(r(1, "b", U))),
			truncate: true,
			upserts:  []wantUpsert{{r(1, "b", U), nil, debezium.OpUpdate, 1}},
			counts:   Counts{Updates: 1, Truncates: 1},
		},
		{
			name:   "an empty batch",
			events: nil,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := Fold(c.events)
			assert.Equal(t, c.truncate, res.Truncate)
			assert.Equal(t, c.counts, res.Counts)
			assert.Equal(t, len(c.events), res.Counts.Events())
			require.Len(t, res.Deletes, len(c.deletes))
			for i := range c.deletes {
				assert.True(t, equal(c.deletes[i], res.Deletes[i]), "delete %d: want %v, got %v", i, c.deletes[i], res.Deletes[i])
			}
			require.Len(t, res.Upserts, len(c.upserts))
			for i, w := range c.upserts {
				u := res.Upserts[i]
				assert.True(t, equal(w.row, u.Row), "upsert %d: want %v, got %v", i, w.row, u.Row)
				assert.True(t, equal(w.row[:1], u.Key), "upsert %d key: got %v", i, u.Key)
				assert.True(t, equal(w.fillFrom, u.FillFrom), "upsert %d fill from: want %v, got %v", i, w.fillFrom, u.FillFrom)
				assert.Equal(t, w.last, u.Last, "upsert %d", i)
				assert.Equal(t, w.offset, u.Offset, "upsert %d", i)
				assert.Equal(t, 1000+w.offset, u.SourceTsMs, "upsert %d", i)
			}
		})
	}
}

func TestFoldDoesNotChangeEvents(t *testing.T) {
	evs := events(create(r(1, "a", s("big"))), update(r(1, "b", U)))
	Fold(evs)
	assert.True(t, evs[1].After[2].IsUnavailable(), "filling must copy, not change the event's row")
}

func TestFolderIncremental(t *testing.T) {
	f := New(0)
	evs := events(create(r(1, "a", N)), del(1), create(r(2, "b", N)))
	for i := range evs {
		f.Add(&evs[i])
	}
	assert.Equal(t, Counts{Creates: 2, Deletes: 1}, f.Counts())
	res := f.Result()
	require.Len(t, res.Upserts, 1)
	require.Len(t, res.Deletes, 1)
}

func equal(a, b []row.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !row.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// BenchmarkFold folds 1,000,000 events over 100,000 keys (creates, updates,
// deletes and a few TOAST placeholders).
func BenchmarkFold(b *testing.B) {
	const n, keys = 1_000_000, 100_000
	evs := make([]debezium.Event, n)
	for i := range evs {
		id := int64(i % keys)
		switch {
		case i < keys:
			evs[i] = create(r(id, "name", s("doc")))
		case i%10 == 0:
			evs[i] = del(id)
		case i%7 == 0:
			evs[i] = update(r(id, "name", U))
		default:
			evs[i] = update(r(id, "other", s("doc2")))
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		res := Fold(evs)
		if len(res.Upserts)+len(res.Deletes) != keys {
			b.Fatal(len(res.Upserts), len(res.Deletes))
		}
	}
	b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "events/s")
}

// A primary-key change reaches the runner as a delete of the old key and a
// create of the new one with one source position
// (RelationalChangeRecordEmitter#emitUpdateAsPrimaryKeyChangeRecord); the
// create's unchanged-TOAST values are the deleted row's.
func TestKeyChangeAsDeleteAndCreate(t *testing.T) {
	at := func(ev debezium.Event, lsn int64) debezium.Event {
		ev.LSN, ev.TxID = lsn, 7
		return ev
	}
	t.Run("the old row is stored", func(t *testing.T) {
		res := Fold(events(at(del(1), 50), at(create(r(2, "b", U)), 50)))
		require.Len(t, res.Upserts, 1)
		assert.Equal(t, k(1), res.Upserts[0].FillFrom, "filled from the deleted key's stored row")
		assert.Equal(t, [][]row.Value{k(1)}, res.Deletes)
		assert.Equal(t, 1, res.Counts.KeyChanges)
	})
	t.Run("the old row is earlier in the batch", func(t *testing.T) {
		res := Fold(events(at(create(r(1, "a", s("long"))), 40), at(del(1), 50), tombstone(), at(create(r(2, "b", U)), 50)))
		require.Len(t, res.Upserts, 1)
		assert.Equal(t, r(2, "b", s("long")), res.Upserts[0].Row)
		assert.Nil(t, res.Upserts[0].FillFrom)
	})
	t.Run("another change is not linked", func(t *testing.T) {
		res := Fold(events(at(del(1), 50), at(create(r(2, "b", U)), 51)))
		require.Len(t, res.Upserts, 1)
		assert.Equal(t, k(2), res.Upserts[0].FillFrom, "its own key: the runner then reports no stored row")
		assert.Zero(t, res.Counts.KeyChanges)
	})
}
