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

// stageLive stages a folded batch on tx for a live table, as one snapshot
// that carries props: a truncate replaces every file with the surviving
// rows; otherwise every touched key's stored row is removed (equality
// deletes, or a rewrite of the files holding it) and the surviving rows
// are added.
func stageLive(ctx context.Context, tx *table.Transaction, l *layout, res fold.Result, copyOnWrite bool, props iceberg.Properties, c *counts) error {
	if err := fillUnavailable(ctx, l, res.Upserts); err != nil {
		return err
	}
	dataFiles, err := l.writeData(ctx, len(res.Upserts), func(i int) []row.Value { return res.Upserts[i].Row }, func(i int, err error) error {
		u := &res.Upserts[i]
		return bad(u.Object, u.Line, u.Partition, u.Offset, "", "the row does not fit the table", err)
	})
	if err != nil {
		return err
	}
	if res.Truncate {
		return l.replaceAll(ctx, tx, dataFiles, props, c)
	}
	touched := make([][]row.Value, 0, len(res.Deletes)+len(res.Upserts))
	touched = append(touched, res.Deletes...)
	for _, u := range res.Upserts {
		touched = append(touched, u.Key)
	}
	if len(touched) == 0 || l.tbl.CurrentSnapshot() == nil {
		return l.stage(ctx, tx, dataFiles, nil, props, c)
	}
	if copyOnWrite {
		filter, err := target.KeyFilter(l.tbl.Schema(), l.keyCols, touched)
		if err != nil {
			return err
		}
		set := keySet(touched)
		return l.rewriteMatching(ctx, tx, filter, l.keyCols, func(k []row.Value) bool { return set[row.KeyString(k)] }, dataFiles, props, c)
	}
	rows, err := deleteRows(ctx, l, touched)
	if err != nil {
		return err
	}
	delFiles, err := l.writeDeletes(ctx, tx, rows)
	if err != nil {
		return fmt.Errorf("writing equality deletes: %w", err)
	}
	return l.stage(ctx, tx, dataFiles, delFiles, props, c)
}

// keySet is keys as a set of row.KeyString.
func keySet(keys [][]row.Value) map[string]bool {
	set := make(map[string]bool, len(keys))
	for _, k := range keys {
		set[row.KeyString(k)] = true
	}
	return set
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
