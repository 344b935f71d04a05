// Package merge applies a stream's landed Debezium change events to its
// Iceberg tables, exactly once: each batch is one Iceberg commit that carries
// the source position it reached in its snapshot summary, and every batch
// starts from the position the table's history says was applied.
package merge

import (
	"fmt"
	"strconv"

	"github.com/apache/iceberg-go/table"

	"github.com/datasurface/datasurface/merge-runner/internal/landing"
)

// Snapshot summary properties the merge-runner writes with each batch.
const (
	// PropPosition is the next offset per partition of the table's topic,
	// as landing.Position.Encode renders it.
	PropPosition = "datasurface.position"
	// PropBatch numbers the table's batches from 1.
	PropBatch = "datasurface.batch"
	// PropSourceTsMs is the newest source.ts_ms applied so far.
	PropSourceTsMs = "datasurface.source-ts-ms"
	// PropStream names the job spec stream that wrote the batch.
	PropStream = "datasurface.stream"
	// PropWatermark is, for a watermark capture, the greatest watermark
	// applied (the column's value as PostgreSQL renders it as text).
	PropWatermark = "datasurface.watermark"
)

// State is what a table's history says has been applied.
type State struct {
	Position   landing.Position
	Batch      int64
	SourceTsMs int64
	// Watermark is a watermark capture's position; nil before the first batch.
	Watermark *string
	// SnapshotID is the snapshot that carries the state (0 when none does):
	// maintenance snapshots do not, so it may be an ancestor of the current one.
	SnapshotID int64
}

// ReadState walks the current snapshot's ancestry to the newest snapshot
// written by a merge batch and reads its position. A table no batch has
// written starts at offset 0 of every partition.
func ReadState(tbl *table.Table) (State, error) {
	meta := tbl.Metadata()
	snap := tbl.CurrentSnapshot()
	for snap != nil {
		if snap.Summary != nil {
			if enc, ok := snap.Summary.Properties[PropPosition]; ok {
				pos, err := landing.ParsePosition(enc)
				if err != nil {
					return State{}, fmt.Errorf("table %v snapshot %d: property %s: %w", tbl.Identifier(), snap.SnapshotID, PropPosition, err)
				}
				st := State{Position: pos, SnapshotID: snap.SnapshotID}
				st.Batch, _ = strconv.ParseInt(snap.Summary.Properties[PropBatch], 10, 64)
				st.SourceTsMs, _ = strconv.ParseInt(snap.Summary.Properties[PropSourceTsMs], 10, 64)
				if wm, ok := snap.Summary.Properties[PropWatermark]; ok {
					st.Watermark = &wm
				}
				return st, nil
			}
		}
		if snap.ParentSnapshotID == nil {
			break
		}
		snap = meta.SnapshotByID(*snap.ParentSnapshotID)
	}
	return State{Position: landing.Position{}}, nil
}

// props is the summary of the batch after st; watermark is set for a
// watermark capture.
func (st State) props(stream string, pos landing.Position, newestTsMs int64, watermark *string) map[string]string {
	ts := max(st.SourceTsMs, newestTsMs)
	out := map[string]string{
		PropPosition:   pos.Encode(),
		PropBatch:      strconv.FormatInt(st.Batch+1, 10),
		PropSourceTsMs: strconv.FormatInt(ts, 10),
		PropStream:     stream,
	}
	if watermark != nil {
		out[PropWatermark] = *watermark
	}
	return out
}
