package merge

import (
	"context"
	"slices"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/debezium"
	"github.com/datasurface/datasurface/merge-runner/internal/fold"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// version is one version of a row in a forensic table: the spec's columns
// followed by the validity columns.
type version struct {
	row    []row.Value
	stored bool // read from the table: ending it replaces the stored copy
	// where the event that made it was read (new versions only)
	object string
	line   int
	part   int32
	off    int64
}

// stageForensic stages a batch on a forensic (history) table: every event
// ends the key's current version (valid-to = the event's source time,
// batch-out = this batch) and an upsert starts a new one (valid-from,
// batch-in). Stored current versions that end are replaced: an equality
// delete on (key, valid-to = null) removes the stored copy (merge-on-read),
// or the files holding it are rewritten without it (copy-on-write), and the
// ended copy is written with the batch's data, in one snapshot.
func stageForensic(ctx context.Context, tx *table.Transaction, l *layout, b *batch, batchNo int64, copyOnWrite bool, props iceberg.Properties, c *counts) error {
	n := len(l.cols) - len(jobspec.HistoryColumns)
	vFrom, vTo, bIn, bOut := n, n+1, n+2, n+3

	current, err := storedCurrent(ctx, l, b)
	if err != nil {
		return err
	}
	var out []*version // versions to write, in the order they were made
	var deletes [][]row.Value
	ended := map[string]bool{} // keys whose stored current version ends
	var endedKeys [][]row.Value
	truncated := false
	end := func(key string, ts int64) {
		v := current[key]
		if v == nil {
			return
		}
		delete(current, key)
		if v.stored {
			deletes = append(deletes, l.deleteRowOf(v.row))
			ended[key] = true
			endedKeys = append(endedKeys, l.keyOf(v.row))
			out = append(out, v)
		}
		v.row[vTo] = row.TimestampTZ(ts)
		v.row[bOut] = row.Int64(batchNo)
	}
	var failed error
	// A create that continues a primary-key change's delete takes the
	// deleted version's unchanged-TOAST values (see fold.Folder).
	var lastDel *debezium.Event
	var lastEnded *version
	b.eachEvent(func(ev *debezium.Event) {
		if failed != nil {
			return
		}
		del, ended := lastDel, lastEnded
		if ev.Op != debezium.OpTombstone {
			lastDel, lastEnded = nil, nil
		}
		ts := ev.SourceTsMs * 1000
		switch ev.Op {
		case debezium.OpTruncate:
			truncated = true
			for k := range current {
				end(k, ts)
			}
		case debezium.OpDelete:
			k := row.KeyString(ev.Key)
			lastDel, lastEnded = ev, current[k]
			end(k, ts)
		case debezium.OpCreate, debezium.OpRead, debezium.OpUpdate:
			k := row.KeyString(ev.Key)
			if ev.BeforeKey != nil {
				if bk := row.KeyString(ev.BeforeKey); bk != k {
					end(bk, ts)
				}
			}
			prev := current[k]
			if ev.Op == debezium.OpCreate && del != nil && fold.SameChange(del, ev) {
				prev = ended
			}
			r := make([]row.Value, len(l.cols))
			copy(r, ev.After)
			for j := 0; j < n; j++ {
				if !r[j].IsUnavailable() {
					continue
				}
				if prev == nil {
					failed = bad(ev.Object, ev.Line, ev.Partition, ev.Offset, l.cols[j], "an unchanged-TOAST value refers to a row the history table does not hold as current, so there is no value to keep; re-snapshot the table or set REPLICA IDENTITY FULL on the source", nil)
					return
				}
				r[j] = prev.row[j]
			}
			end(k, ts)
			r[vFrom], r[vTo], r[bIn], r[bOut] = row.TimestampTZ(ts), row.Null(), row.Int64(batchNo), row.Null()
			v := &version{row: r, object: ev.Object, line: ev.Line, part: ev.Partition, off: ev.Offset}
			current[k] = v
			out = append(out, v)
		}
	})
	if failed != nil {
		return failed
	}
	dataFiles, err := l.writeData(ctx, len(out), func(i int) []row.Value { return out[i].row }, func(i int, err error) error {
		v := out[i]
		return bad(v.object, v.line, v.part, v.off, "", "the row does not fit the table", err)
	})
	if err != nil {
		return err
	}
	if copyOnWrite && len(endedKeys) > 0 {
		// Rewrite the files holding the ended versions' stored copies.
		var filter iceberg.BooleanExpression = iceberg.IsNull(iceberg.Reference(jobspec.ColValidTo))
		if !truncated {
			kf, err := target.KeyFilter(l.tbl.Schema(), l.keyCols, endedKeys)
			if err != nil {
				return err
			}
			filter = iceberg.NewAnd(kf, filter)
		}
		cols := append(slices.Clone(l.keyCols), jobspec.ColValidTo)
		drop := func(r []row.Value) bool { return r[len(r)-1].IsNull() && ended[row.KeyString(r[:len(r)-1])] }
		return l.rewriteMatching(ctx, tx, filter, cols, drop, dataFiles, props, c)
	}
	delFiles, err := l.writeDeletes(ctx, tx, deletes)
	if err != nil {
		return err
	}
	return l.stage(ctx, tx, dataFiles, delFiles, props, c)
}

// storedCurrent reads the current versions (valid-to null) of the keys the
// batch touches, or of every key when the batch truncates.
func storedCurrent(ctx context.Context, l *layout, b *batch) (map[string]*version, error) {
	current := map[string]*version{}
	if l.tbl.CurrentSnapshot() == nil {
		return current, nil
	}
	var keys [][]row.Value
	seen := map[string]bool{}
	truncate := false
	add := func(k []row.Value) {
		if k == nil {
			return
		}
		if s := row.KeyString(k); !seen[s] {
			seen[s] = true
			keys = append(keys, k)
		}
	}
	b.eachEvent(func(ev *debezium.Event) {
		if ev.Op == debezium.OpTruncate {
			truncate = true
		}
		add(ev.Key)
		add(ev.BeforeKey)
	})
	var filter iceberg.BooleanExpression = iceberg.IsNull(iceberg.Reference(jobspec.ColValidTo))
	if !truncate {
		kf, err := target.KeyFilter(l.tbl.Schema(), l.keyCols, keys)
		if err != nil {
			return nil, err
		}
		filter = iceberg.NewAnd(kf, filter)
	}
	err := target.Scan(ctx, l.tbl, filter, l.cols, func(r []row.Value) error {
		current[row.KeyString(l.keyOf(r))] = &version{row: append([]row.Value(nil), r...), stored: true}
		return nil
	})
	return current, err
}

// deleteRowOf is the equality delete row that removes a stored current
// version: its key, a null valid-to and its partition values.
func (l *layout) deleteRowOf(r []row.Value) []row.Value {
	cols := l.deleteCols()
	out := make([]row.Value, len(cols))
	for i, c := range cols {
		if c == jobspec.ColValidTo {
			out[i] = row.Null()
			continue
		}
		for j, name := range l.cols {
			if name == c {
				out[i] = r[j]
				break
			}
		}
	}
	return out
}
