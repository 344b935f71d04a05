// Package order reads a topic's landed change events in the order the
// source committed them, across the topic's partitions, and says what it
// had to hold back.
//
// Kafka keeps a key's events in one partition, in order, so a key's
// changes apply in order whatever the partitions. A truncate has no key:
// Kafka's partitioner puts it in any partition, and it must apply after
// every event the source committed before it and before every event
// committed after it, in all partitions. So on a topic of several
// partitions the partitions are merged by the events' source.sequence (the
// PostgreSQL connector's commit order; see debezium.Sequence), and an event
// is applied only when every other partition has landed past it, or has
// landed nothing for the grace period since the event itself landed (the
// S3 sink lands every partition's records within its rotation interval, so
// a partition silent for longer has nothing older to land). A partition
// stopped at an offset gap holds the others until the gap fills.
//
// A topic of one partition (what the generator renders) is read in offset
// order, as landed, with no use of the sequence.
package order

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/datasurface/datasurface/merge-runner/internal/badinput"
	"github.com/datasurface/datasurface/merge-runner/internal/debezium"
	"github.com/datasurface/datasurface/merge-runner/internal/landing"
)

// State is how far a table has applied its topic; it is committed with the
// data.
type State struct {
	// Position is the next offset per partition.
	Position landing.Position
	// Seqs is, per partition, the greatest sequence applied.
	Seqs map[int32]debezium.Sequence
	// Truncate is the sequence of the last truncate applied.
	Truncate debezium.Sequence
}

// Clone is a deep copy.
func (s State) Clone() State {
	s.Position = s.Position.Clone()
	s.Seqs = maps.Clone(s.Seqs)
	if s.Seqs == nil {
		s.Seqs = map[int32]debezium.Sequence{}
	}
	return s
}

// Options are the merger's settings.
type Options struct {
	// Grace is how long a silent partition or a gap is waited for.
	Grace time.Duration
	// Now is the clock (time.Now when nil).
	Now    func() time.Time
	Limits landing.Limits
}

// Hold is why the merger stopped before the end of the landed events.
type Hold struct {
	Partition int32 `json:"partition"`
	// Gap is set when the partition is missing offsets.
	Gap *landing.Gap `json:"gap,omitempty"`
	// Waiting is set when the partition has landed nothing past Last while
	// another partition holds Held, which may have committed after events
	// the silent partition has not landed yet.
	Waiting bool   `json:"waiting,omitempty"`
	Last    string `json:"last_sequence,omitempty"`
	Held    string `json:"held_sequence,omitempty"`
	// Since is when the wait began: the gap's next object or the held
	// event landed.
	Since time.Time `json:"since"`
	// Expired is set when the grace period has passed: for a gap, the run
	// ends with jobspec.IncompleteExitCode.
	Expired bool `json:"expired"`
}

func (h Hold) String() string {
	if h.Gap != nil {
		return h.Gap.String()
	}
	return fmt.Sprintf("partition %d has landed nothing after sequence %s while partition events from sequence %s wait (since %s)",
		h.Partition, h.Last, h.Held, h.Since.UTC().Format(time.RFC3339))
}

// Merger yields the events to apply, in commit order.
type Merger struct {
	dec   *debezium.Decoder
	opts  Options
	parts []*part
	multi bool
	st    State
	holds []Hold
	// Superseded counts events dropped because a truncate committed after
	// them was already applied (see Next).
	superseded int64
}

// part is one partition: its reader and its next event, decoded.
type part struct {
	id     int32
	r      *landing.PartitionReader
	head   *debezium.Event
	size   int
	landed time.Time
	done   bool
}

// New reads files (a topic's, as landing.ListTopic returns them) from st.
// The decoder is used for every partition, one event at a time.
func New(ctx context.Context, store landing.Store, files []landing.File, dec *debezium.Decoder, st State, opts Options) *Merger {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &Merger{dec: dec, opts: opts, st: st.Clone()}
	byPart := map[int32][]landing.File{}
	for _, f := range files {
		byPart[f.Partition] = append(byPart[f.Partition], f)
	}
	ids := slices.Collect(maps.Keys(byPart))
	for p := range m.st.Position {
		ids = append(ids, p)
	}
	for p := range m.st.Seqs {
		ids = append(ids, p)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for _, id := range ids {
		m.parts = append(m.parts, &part{id: id, r: landing.NewPartitionReader(ctx, store, byPart[id], m.st.Position.Next(id), opts.Limits)})
	}
	m.multi = len(m.parts) > 1
	return m
}

// State is the state after the last event Next returned: what to commit
// with the data of every event returned so far.
func (m *Merger) State() State { return m.st.Clone() }

// Holds are the reasons the merger stopped, once Next has returned io.EOF.
func (m *Merger) Holds() []Hold { return slices.Clone(m.holds) }

// Superseded is how many events were dropped as superseded by a truncate.
func (m *Merger) Superseded() int64 { return m.superseded }

// Close releases the partitions' open objects.
func (m *Merger) Close() error {
	var first error
	for _, p := range m.parts {
		if err := p.r.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Next returns the next event to apply and its size in bytes, or io.EOF
// when nothing more may be applied now (Holds says why, if anything is held).
//
// On a topic of several partitions, two kinds of event are dropped, as the
// truncate that was committed after them and already applied emptied the
// table of them anyway: a truncate whose sequence is not after the last
// applied truncate's (a repeat, or one an applied later truncate subsumes),
// and any event committed before the last applied truncate (one a partition
// landed late, or repeated after a connector restart). A truncate committed
// before events already applied from another partition cannot be applied
// in order any more: that is bad input.
func (m *Merger) Next() (debezium.Event, int, error) {
	for {
		for _, p := range m.parts {
			if err := m.fill(p); err != nil {
				return debezium.Event{}, 0, err
			}
		}
		p, err := m.pick()
		if err != nil {
			return debezium.Event{}, 0, err
		}
		if p == nil {
			return debezium.Event{}, 0, io.EOF
		}
		ev, size := *p.head, p.size
		p.head = nil
		m.st.Position.Advance(p.id, ev.Offset)
		if m.multi && m.isSuperseded(&ev) {
			m.superseded++
			continue
		}
		if m.multi && ev.Op == debezium.OpTruncate {
			if err := m.checkTruncate(p, &ev); err != nil {
				return debezium.Event{}, 0, err
			}
		}
		if ev.Seq.Valid {
			if last, ok := m.st.Seqs[p.id]; !ok || ev.Seq.Compare(last) > 0 {
				m.st.Seqs[p.id] = ev.Seq
			}
			if ev.Op == debezium.OpTruncate {
				m.st.Truncate = ev.Seq
			}
		}
		return ev, size, nil
	}
}

// Peek returns the event Next would return next without taking it, or nil
// when Next would return io.EOF (or an error, which Next returns again).
func (m *Merger) Peek() *debezium.Event {
	for _, p := range m.parts {
		if m.fill(p) != nil {
			return nil
		}
	}
	p, err := m.pick()
	if p == nil || err != nil {
		return nil
	}
	return p.head
}

// fill reads and decodes a partition's next event when it has none.
func (m *Merger) fill(p *part) error {
	if p.head != nil || p.done {
		return nil
	}
	rec, err := p.r.Read()
	if err == io.EOF {
		p.done = true
		return nil
	}
	if err != nil {
		return err
	}
	ev, err := m.dec.Decode(rec)
	if err != nil {
		return err
	}
	p.head, p.size, p.landed = &ev, len(rec.Data)+1, rec.Landed
	return nil
}

// pick chooses the partition whose event comes next, or nil (with the
// holds recorded) when none may.
func (m *Merger) pick() (*part, error) {
	var next *part
	for _, p := range m.parts {
		if p.head == nil {
			continue
		}
		if !m.multi || p.head.Op == debezium.OpTombstone {
			return p, nil // a tombstone changes nothing: no order to keep
		}
		if !p.head.Seq.Valid {
			h := p.head
			return nil, &badinput.Error{Object: h.Object, Line: h.Line, Partition: h.Partition, Offset: h.Offset,
				Reason: "the event has no source.sequence, so the topic's partitions cannot be put in commit order; give the topic one partition (as the generated connector does) or use a PostgreSQL connector that writes source.sequence"}
		}
		if next == nil || before(p.head, next.head) {
			next = p
		}
	}
	now := m.opts.Now()
	m.holds = m.holds[:0]
	for _, p := range m.parts {
		if g := p.r.Gap(); g != nil && p.head == nil {
			m.holds = append(m.holds, Hold{Partition: p.id, Gap: g, Since: g.Since, Expired: now.Sub(g.Since) >= m.opts.Grace})
		}
	}
	if next == nil {
		return nil, nil
	}
	held := false
	for _, p := range m.parts {
		if p == next || p.head != nil {
			continue
		}
		last, known := m.st.Seqs[p.id]
		if known && last.Compare(next.head.Seq) >= 0 {
			continue // its later events all come after next's
		}
		if p.r.Gap() != nil {
			held = true // the missing offsets may come before next's event
			continue
		}
		if now.Sub(next.landed) >= m.opts.Grace {
			continue // silent past the grace period: nothing older to land
		}
		h := Hold{Partition: p.id, Waiting: true, Held: next.head.Seq.String(), Since: next.landed}
		if known {
			h.Last = last.String()
		} else {
			h.Last = "none"
		}
		m.holds = append(m.holds, h)
		held = true
	}
	if held {
		return nil, nil
	}
	m.holds = m.holds[:0]
	return next, nil
}

// before orders two partitions' next events: by sequence, and at the same
// sequence a delete first: a primary-key change is a delete and a create
// from one change (RelationalChangeRecordEmitter#emitUpdateAsPrimaryKeyChangeRecord),
// in that order, which may land in two partitions.
func before(a, b *debezium.Event) bool {
	if c := a.Seq.Compare(b.Seq); c != 0 {
		return c < 0
	}
	return a.Op == debezium.OpDelete && b.Op != debezium.OpDelete
}

// superseded says whether an event is dropped for a truncate already
// applied (see Next).
func (m *Merger) isSuperseded(ev *debezium.Event) bool {
	t := m.st.Truncate
	if !t.Valid || !ev.Seq.Valid {
		return false
	}
	if ev.Op == debezium.OpTruncate {
		return ev.Seq.Compare(t) <= 0
	}
	return ev.Seq.Compare(t) < 0
}

// checkTruncate refuses a truncate committed before events already applied
// from other partitions.
func (m *Merger) checkTruncate(p *part, ev *debezium.Event) error {
	var latest debezium.Sequence
	var from int32
	for id, s := range m.st.Seqs {
		if id != p.id && (!latest.Valid || s.Compare(latest) > 0 || (s.Compare(latest) == 0 && id < from)) {
			latest, from = s, id
		}
	}
	if !latest.Valid || ev.Seq.Compare(latest) >= 0 {
		return nil
	}
	return &badinput.Error{Object: ev.Object, Line: ev.Line, Partition: ev.Partition, Offset: ev.Offset,
		Reason: fmt.Sprintf("a truncate committed at sequence %s landed after partition %d's events up to sequence %s were applied, "+
			"so it can no longer be applied in commit order (partition %d landed more than the grace period late); "+
			"the table still holds rows the source truncated: rebuild it from a new snapshot, and give the topic one partition or a longer grace period",
			ev.Seq, from, latest, ev.Partition)}
}
