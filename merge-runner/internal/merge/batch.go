package merge

import (
	"context"
	"errors"
	"io"

	"github.com/datasurface/datasurface/merge-runner/internal/badinput"
	"github.com/datasurface/datasurface/merge-runner/internal/debezium"
	"github.com/datasurface/datasurface/merge-runner/internal/fold"
	"github.com/datasurface/datasurface/merge-runner/internal/order"
)

// chunkSize is how many decoded events travel from the reader to the
// folder at a time.
const chunkSize = 1024

// batch is the events of one commit, in commit order. A live
// table folds them as they arrive and keeps one entry per key; a forensic
// table keeps them all, since every version counts.
type batch struct {
	fold   *fold.Folder       // live tables
	events [][]debezium.Event // forensic tables, in chunks
	n      int
	ops    opCounts
	// to is the ordering state after the last event: what the commit
	// records.
	to         order.State
	bytes      int64
	newestTsMs int64
	// eof is set when the batch reached the end of what may be applied
	// now; holds say what stopped it short of the landed data, superseded
	// counts the events the reader dropped so far.
	eof        bool
	holds      []order.Hold
	superseded int64
	// watermark is, for a watermark capture, the greatest watermark in the batch.
	watermark *string
}

// newBatch is an empty batch that folds (live) or keeps (forensic) what
// add gives it.
func newBatch(keep bool, sizeHint int) *batch {
	if keep {
		return &batch{events: [][]debezium.Event{}}
	}
	return &batch{fold: fold.New(sizeHint)}
}

// add takes one more event.
func (b *batch) add(ev debezium.Event) {
	b.n++
	b.ops.add(ev.Op)
	b.newestTsMs = max(b.newestTsMs, ev.SourceTsMs)
	if b.fold != nil {
		b.fold.Add(&ev)
		return
	}
	if k := len(b.events); k == 0 || len(b.events[k-1]) == chunkSize {
		b.events = append(b.events, make([]debezium.Event, 0, chunkSize))
	}
	last := &b.events[len(b.events)-1]
	*last = append(*last, ev)
}

// opCounts are a batch's events by operation.
type opCounts struct{ inserts, updates, deletes, truncates int64 }

func (c *opCounts) add(op debezium.Op) {
	switch op {
	case debezium.OpCreate, debezium.OpRead:
		c.inserts++
	case debezium.OpUpdate:
		c.updates++
	case debezium.OpDelete:
		c.deletes++
	case debezium.OpTruncate:
		c.truncates++
	}
}

// eachEvent calls fn for every kept event in order.
func (b *batch) eachEvent(fn func(*debezium.Event)) {
	for _, c := range b.events {
		for i := range c {
			fn(&c[i])
		}
	}
}

// readBatch reads events from m until maxEvents events or maxBytes bytes
// (whichever comes first; 0 means no bound) or until nothing more may be
// applied. One goroutine reads and decodes while this one folds (live) or
// keeps (forensic) what it decoded, so the two overlap.
func readBatch(ctx context.Context, m *order.Merger, maxEvents int, maxBytes int64, keep bool) (*batch, error) {
	b := &batch{}
	if keep {
		b.events = [][]debezium.Event{}
	} else {
		hint := maxEvents
		if hint <= 0 || hint > 1<<20 {
			hint = 1 << 16
		}
		b.fold = fold.New(hint)
	}
	chunks := make(chan []debezium.Event, 4)
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(chunks)
		chunk := make([]debezium.Event, 0, chunkSize)
		n := 0
		var last debezium.Event
		for (maxEvents <= 0 || n < maxEvents) && (maxBytes <= 0 || b.bytes < maxBytes) || pairsWith(&last, m) {
			if err := ctx.Err(); err != nil {
				done <- err
				return
			}
			ev, size, err := m.Next()
			if errors.Is(err, io.EOF) {
				b.eof = true
				break
			}
			if err != nil {
				done <- err
				return
			}
			b.bytes += int64(size)
			b.newestTsMs = max(b.newestTsMs, ev.SourceTsMs)
			n++
			chunk = append(chunk, ev)
			last = ev
			if len(chunk) == chunkSize {
				select {
				case chunks <- chunk:
				case <-ctx.Done():
					done <- ctx.Err()
					return
				}
				chunk = make([]debezium.Event, 0, chunkSize)
			}
		}
		if len(chunk) > 0 {
			chunks <- chunk
		}
		b.to = m.State()
		b.holds = m.Holds()
		b.superseded = m.Superseded()
		done <- nil
	}()
	for c := range chunks {
		b.n += len(c)
		for i := range c {
			b.ops.add(c[i].Op)
			if b.fold != nil {
				b.fold.Add(&c[i])
			}
		}
		if keep {
			b.events = append(b.events, c)
		}
	}
	if err := <-done; err != nil {
		return nil, err
	}
	return b, nil
}

// pairsWith says whether the event m gives next is the create half of a
// primary-key change whose delete half is last: a batch is never cut
// between them, as the create may carry unchanged-TOAST values only the
// deleted row holds (see fold.Folder).
func pairsWith(last *debezium.Event, m *order.Merger) bool {
	if last.Op != debezium.OpDelete {
		return false
	}
	next := m.Peek()
	return next != nil && fold.SameChange(last, next) && next.Op == debezium.OpCreate
}

// bad is bad input about the event read at object:line (partition, offset).
func bad(object string, line int, part int32, off int64, col, reason string, err error) error {
	return &badinput.Error{Object: object, Line: line, Partition: part, Offset: off, Column: col, Reason: reason, Err: err}
}
