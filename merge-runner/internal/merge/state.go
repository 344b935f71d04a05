// Package merge applies a stream's landed Debezium change events to its
// Iceberg tables, exactly once: each batch is one Iceberg commit that carries
// the source position it reached in its snapshot summary, and every batch
// starts from the position the table's history says was applied.
package merge

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/apache/iceberg-go/table"

	"github.com/datasurface/datasurface/merge-runner/internal/debezium"
	"github.com/datasurface/datasurface/merge-runner/internal/landing"
	"github.com/datasurface/datasurface/merge-runner/internal/order"
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
	// PropSequence is, per partition, the greatest source.sequence applied,
	// as {"<partition>":[lastCommitLsn,lsn],...}: how the partitions are
	// ordered against each other (package order).
	PropSequence = "datasurface.sequence"
	// PropTruncate is the sequence of the last truncate applied,
	// [lastCommitLsn,lsn].
	PropTruncate = "datasurface.truncate-sequence"
	// PropKeyState is, for a snapshot capture, the file of (key, row hash)
	// pairs the run left: what the next run compares the source with.
	PropKeyState = "datasurface.key-state"
)

// State is what a table's history says has been applied.
type State struct {
	Position   landing.Position
	Batch      int64
	SourceTsMs int64
	// Watermark is a watermark capture's position; nil before the first batch.
	Watermark *string
	// KeyState is a snapshot capture's key state file (PropKeyState).
	KeyState string
	// Seqs and Truncate are the per-partition sequences and the last
	// truncate's (package order).
	Seqs     map[int32]debezium.Sequence
	Truncate debezium.Sequence
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
				st.KeyState = snap.Summary.Properties[PropKeyState]
				if st.Seqs, err = parseSeqs(snap.Summary.Properties[PropSequence]); err != nil {
					return State{}, fmt.Errorf("table %v snapshot %d: property %s: %w", tbl.Identifier(), snap.SnapshotID, PropSequence, err)
				}
				if enc, ok := snap.Summary.Properties[PropTruncate]; ok {
					if st.Truncate, err = parseSeq(enc); err != nil {
						return State{}, fmt.Errorf("table %v snapshot %d: property %s: %w", tbl.Identifier(), snap.SnapshotID, PropTruncate, err)
					}
				}
				return st, nil
			}
		}
		if snap.ParentSnapshotID == nil {
			break
		}
		snap = meta.SnapshotByID(*snap.ParentSnapshotID)
	}
	return State{Position: landing.Position{}, Seqs: map[int32]debezium.Sequence{}}, nil
}

// orderState is the ordering state the next batch starts from.
func (st State) orderState() order.State {
	return order.State{Position: st.Position, Seqs: st.Seqs, Truncate: st.Truncate}
}

// props is the summary of the batch after st that reached to; watermark is
// set for a watermark capture.
func (st State) props(stream string, to order.State, newestTsMs int64, watermark *string) map[string]string {
	ts := max(st.SourceTsMs, newestTsMs)
	out := map[string]string{
		PropPosition:   to.Position.Encode(),
		PropBatch:      strconv.FormatInt(st.Batch+1, 10),
		PropSourceTsMs: strconv.FormatInt(ts, 10),
		PropStream:     stream,
	}
	if len(to.Seqs) > 0 {
		out[PropSequence] = encodeSeqs(to.Seqs)
	}
	if to.Truncate.Valid {
		out[PropTruncate] = encodeSeq(to.Truncate)
	}
	if watermark != nil {
		out[PropWatermark] = *watermark
	}
	return out
}

func encodeSeq(s debezium.Sequence) string {
	b, _ := json.Marshal([2]int64{s.LastCommitLSN, s.LSN})
	return string(b)
}

func parseSeq(enc string) (debezium.Sequence, error) {
	var v [2]int64
	if err := json.Unmarshal([]byte(enc), &v); err != nil {
		return debezium.Sequence{}, fmt.Errorf("sequence %q: %w", enc, err)
	}
	return debezium.Sequence{LastCommitLSN: v[0], LSN: v[1], Valid: true}, nil
}

func encodeSeqs(seqs map[int32]debezium.Sequence) string {
	m := make(map[string][2]int64, len(seqs))
	for p, s := range seqs {
		m[strconv.FormatInt(int64(p), 10)] = [2]int64{s.LastCommitLSN, s.LSN}
	}
	b, _ := json.Marshal(m) // map keys are sorted
	return string(b)
}

func parseSeqs(enc string) (map[int32]debezium.Sequence, error) {
	out := map[int32]debezium.Sequence{}
	if enc == "" {
		return out, nil
	}
	var m map[string][2]int64
	if err := json.Unmarshal([]byte(enc), &m); err != nil {
		return nil, fmt.Errorf("sequences %q: %w", enc, err)
	}
	for k, v := range m {
		p, err := strconv.ParseInt(k, 10, 32)
		if err != nil || p < 0 {
			return nil, fmt.Errorf("sequences %q: partition %q is not a partition number", enc, k)
		}
		out[int32(p)] = debezium.Sequence{LastCommitLSN: v[0], LSN: v[1], Valid: true}
	}
	return out, nil
}
