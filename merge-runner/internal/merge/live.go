package merge

import (
	"context"
	"fmt"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/datasurface/datasurface/merge-runner/internal/fold"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// stageLive stages a folded batch on tx for a live table: the table is
// emptied on truncate, every touched key's stored row is removed and the
// surviving rows are added, all in the transaction's last snapshot, which
// carries props.
func stageLive(ctx context.Context, tx *table.Transaction, l *layout, res fold.Result, copyOnWrite bool, props iceberg.Properties, c *counts) error {
	if err := fillUnavailable(ctx, l, res.Upserts); err != nil {
		return err
	}
	if res.Truncate && l.tbl.CurrentSnapshot() != nil {
		if err := tx.Delete(ctx, iceberg.AlwaysTrue{}, nil); err != nil {
			return fmt.Errorf("emptying the table for a truncate: %w", err)
		}
	}
	touched := make([][]row.Value, 0, len(res.Deletes)+len(res.Upserts))
	if !res.Truncate {
		touched = append(touched, res.Deletes...)
		for _, u := range res.Upserts {
			touched = append(touched, u.Key)
		}
	}
	var delFiles []iceberg.DataFile
	if len(touched) > 0 && l.tbl.CurrentSnapshot() != nil {
		if copyOnWrite {
			filter, err := target.KeyFilter(l.tbl.Schema(), l.keyCols, touched)
			if err != nil {
				return err
			}
			if err := tx.Delete(ctx, filter, nil); err != nil {
				return fmt.Errorf("rewriting the files that hold the batch's keys: %w", err)
			}
		} else {
			rows, err := deleteRows(ctx, l, touched)
			if err != nil {
				return err
			}
			if delFiles, err = l.writeDeletes(ctx, tx, rows); err != nil {
				return fmt.Errorf("writing equality deletes: %w", err)
			}
		}
	}
	dataFiles, err := l.writeData(ctx, len(res.Upserts), func(i int) []row.Value { return res.Upserts[i].Row }, func(i int, err error) error {
		u := &res.Upserts[i]
		return bad(u.Object, u.Line, u.Partition, u.Offset, "", "the row does not fit the table", err)
	})
	if err != nil {
		return err
	}
	if err := stageFiles(ctx, tx, dataFiles, delFiles, props); err != nil {
		return err
	}
	c.addFiles(dataFiles, delFiles)
	return nil
}

// deleteRows are the equality delete rows for the touched keys. On an
// unpartitioned table a key's delete applies everywhere. On a partitioned
// table an equality delete applies only within its partition, so each key
// is deleted in every partition it is stored in now: a row whose partition
// value changes does not survive in its old partition.
func deleteRows(ctx context.Context, l *layout, keys [][]row.Value) ([][]row.Value, error) {
	if len(l.partCols) == 0 {
		return keys, nil
	}
	filter, err := target.KeyFilter(l.tbl.Schema(), l.keyCols, keys)
	if err != nil {
		return nil, err
	}
	cols := l.deleteCols()
	var out [][]row.Value
	err = target.Scan(ctx, l.tbl, filter, cols, func(r []row.Value) error {
		out = append(out, append([]row.Value(nil), r...))
		return nil
	})
	return out, err
}

// deleteCols are the columns of the delete schema.
func (l *layout) deleteCols() []string {
	cols := make([]string, len(l.deleteSc.Fields()))
	for i, f := range l.deleteSc.Fields() {
		cols[i] = f.Name
	}
	return cols
}

// fillUnavailable replaces unchanged-TOAST placeholders that no event of
// the batch could fill with the stored row's values.
func fillUnavailable(ctx context.Context, l *layout, ups []fold.Upsert) error {
	need := map[string][]int{} // stored key -> upserts needing it
	var keys [][]row.Value
	for i, u := range ups {
		if !hasUnavailable(u.Row) {
			continue
		}
		if u.FillFrom == nil {
			col := l.cols[firstUnavailable(u.Row)]
			return bad(u.Object, u.Line, u.Partition, u.Offset, col, "an unchanged-TOAST value follows a delete or truncate of the row in the same batch, so there is no stored value to keep; set REPLICA IDENTITY FULL on the source table", nil)
		}
		k := row.KeyString(u.FillFrom)
		if _, ok := need[k]; !ok {
			keys = append(keys, u.FillFrom)
		}
		need[k] = append(need[k], i)
	}
	if len(keys) == 0 {
		return nil
	}
	filter, err := target.KeyFilter(l.tbl.Schema(), l.keyCols, keys)
	if err != nil {
		return err
	}
	n := len(ups[0].Row)
	cols := l.cols[:n]
	err = target.Scan(ctx, l.tbl, filter, cols, func(stored []row.Value) error {
		k := row.KeyString(l.keyOf(stored))
		for _, i := range need[k] {
			r := ups[i].Row
			for j := range r {
				if r[j].IsUnavailable() {
					r[j] = stored[j]
				}
			}
		}
		delete(need, k)
		return nil
	})
	if err != nil {
		return err
	}
	for _, is := range need {
		u := ups[is[0]]
		col := l.cols[firstUnavailable(u.Row)]
		return bad(u.Object, u.Line, u.Partition, u.Offset, col, "an unchanged-TOAST value refers to a row the table does not hold, so there is no stored value to keep; re-snapshot the table or set REPLICA IDENTITY FULL on the source", nil)
	}
	return nil
}

func hasUnavailable(r []row.Value) bool { return firstUnavailable(r) >= 0 }

func firstUnavailable(r []row.Value) int {
	for i, v := range r {
		if v.IsUnavailable() {
			return i
		}
	}
	return -1
}
