package merge

import (
	"context"
	"errors"
	"io"

	"github.com/datasurface/datasurface/merge-runner/internal/badinput"
	"github.com/datasurface/datasurface/merge-runner/internal/debezium"
	"github.com/datasurface/datasurface/merge-runner/internal/landing"
)

// batch is the events of one commit, in (partition, offset) order.
type batch struct {
	events []debezium.Event
	// pos is the position after the last event: what the commit records.
	pos        landing.Position
	bytes      int64
	newestTsMs int64
	// eof is set when the batch reached the end of the landed data.
	eof bool
}

// readBatch reads events from r until maxEvents events or maxBytes bytes
// (whichever comes first; 0 means no bound) or the end of the data.
func readBatch(ctx context.Context, r *landing.Reader, dec *debezium.Decoder, maxEvents int, maxBytes int64) (*batch, error) {
	b := &batch{}
	for (maxEvents <= 0 || len(b.events) < maxEvents) && (maxBytes <= 0 || b.bytes < maxBytes) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			b.eof = true
			break
		}
		if err != nil {
			return nil, err
		}
		ev, err := dec.Decode(rec)
		if err != nil {
			return nil, err
		}
		b.bytes += int64(len(rec.Data)) + 1
		b.newestTsMs = max(b.newestTsMs, ev.SourceTsMs)
		b.events = append(b.events, ev)
	}
	b.pos = r.Position()
	return b, nil
}

// badAt is bad input about the event at (partition, offset) of the batch.
func (b *batch) badAt(part int32, off int64, col, reason string, err error) error {
	e := &badinput.Error{Partition: part, Offset: off, Column: col, Reason: reason, Err: err}
	for i := range b.events {
		ev := &b.events[i]
		if ev.Partition == part && ev.Offset == off {
			e.Object, e.Line = ev.Object, ev.Line
			break
		}
	}
	return e
}
