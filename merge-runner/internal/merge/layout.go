package merge

import (
	"context"
	"fmt"
	"iter"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// rowsPerRecord bounds the Arrow record batches handed to the writers.
const rowsPerRecord = 64 * 1024

// layout is how a batch's rows map onto the table as it is now: the columns
// written (the spec's, plus validity columns for forensic tables), the key
// and the partition source columns.
type layout struct {
	tbl       *table.Table
	cols      []string // written columns, in row order
	data      *arrow.Schema
	keyCols   []string
	keyIdx    []int // indexes of the key columns in cols
	keyIDs    []int // Iceberg field IDs of the key columns
	partCols  []string
	partIdx   []int
	deleteSc  *arrow.Schema // key columns (+ validity end for forensic) + partition columns
	deleteIDs []int         // equality field IDs
}

func newLayout(tbl *table.Table, t *jobspec.Table) (*layout, error) {
	sc := tbl.Schema()
	l := &layout{tbl: tbl, keyCols: t.PrimaryKey}
	for _, c := range t.Columns {
		l.cols = append(l.cols, c.Name)
	}
	if t.Mode == jobspec.ModeForensic {
		l.cols = append(l.cols, jobspec.HistoryColumns...)
	}
	idx := make(map[string]int, len(l.cols))
	fields := make([]iceberg.NestedField, len(l.cols))
	for i, c := range l.cols {
		f, ok := sc.FindFieldByName(c)
		if !ok {
			return nil, fmt.Errorf("table %v has no column %s after evolution", tbl.Identifier(), c)
		}
		fields[i] = f
		idx[c] = i
	}
	var err error
	if l.data, err = table.SchemaToArrowSchema(iceberg.NewSchema(sc.ID, fields...), nil, true, false); err != nil {
		return nil, err
	}
	for _, k := range l.keyCols {
		l.keyIdx = append(l.keyIdx, idx[k])
		l.keyIDs = append(l.keyIDs, fields[idx[k]].ID)
	}
	spec := tbl.Spec()
	for _, pf := range spec.Fields() {
		name, _ := sc.FindColumnName(pf.SourceID())
		l.partCols = append(l.partCols, name)
		l.partIdx = append(l.partIdx, idx[name])
	}
	l.deleteIDs = append([]int(nil), l.keyIDs...)
	delCols := append([]string(nil), l.keyCols...)
	if t.Mode == jobspec.ModeForensic {
		// A forensic delete ends the current version only: the one whose
		// valid-to is null.
		f, _ := sc.FindFieldByName(jobspec.ColValidTo)
		l.deleteIDs = append(l.deleteIDs, f.ID)
		delCols = append(delCols, jobspec.ColValidTo)
	}
	for _, p := range l.partCols {
		if !slices.Contains(delCols, p) {
			delCols = append(delCols, p)
		}
	}
	delFields := make([]iceberg.NestedField, len(delCols))
	for i, c := range delCols {
		delFields[i], _ = sc.FindFieldByName(c)
	}
	if l.deleteSc, err = table.SchemaToArrowSchema(iceberg.NewSchema(sc.ID, delFields...), nil, true, false); err != nil {
		return nil, err
	}
	return l, nil
}

// records yields rows as Arrow record batches of schema sc, at most
// rowsPerRecord rows each. A row that does not fit is reported through
// onBad (which returns the error to yield) with its index.
func records(sc *arrow.Schema, n int, rowAt func(int) []row.Value, onBad func(i int, err error) error) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		b := target.NewRecords(sc)
		defer b.Release()
		for i := 0; i < n; i++ {
			if err := b.Append(rowAt(i)); err != nil {
				yield(nil, onBad(i, err))
				return
			}
			if b.Len() == rowsPerRecord || i == n-1 {
				if !yield(b.Batch(), nil) {
					return
				}
			}
		}
	}
}

// writeData writes rows as data files of the table.
func (l *layout) writeData(ctx context.Context, n int, rowAt func(int) []row.Value, onBad func(int, error) error) ([]iceberg.DataFile, error) {
	if n == 0 {
		return nil, nil
	}
	var out []iceberg.DataFile
	for df, err := range table.WriteRecords(ctx, l.tbl, l.data, records(l.data, n, rowAt, onBad)) {
		if err != nil {
			return nil, err
		}
		out = append(out, df)
	}
	return out, nil
}

// writeDeletes writes equality delete files; each row is in deleteSc's
// column order.
func (l *layout) writeDeletes(ctx context.Context, tx *table.Transaction, rows [][]row.Value) ([]iceberg.DataFile, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	recs := records(l.deleteSc, len(rows), func(i int) []row.Value { return rows[i] }, func(i int, err error) error {
		return fmt.Errorf("equality delete row %d: %w", i, err)
	})
	return tx.WriteEqualityDeletes(ctx, l.deleteIDs, recs)
}

// keyOf is a row's key values.
func (l *layout) keyOf(r []row.Value) []row.Value {
	k := make([]row.Value, len(l.keyIdx))
	for i, j := range l.keyIdx {
		k[i] = r[j]
	}
	return k
}

// stage adds the batch's files as the transaction's last snapshot and
// counts them.
func (l *layout) stage(ctx context.Context, tx *table.Transaction, dataFiles, delFiles []iceberg.DataFile, props iceberg.Properties, c *counts) error {
	if err := stageFiles(ctx, tx, dataFiles, delFiles, props); err != nil {
		return err
	}
	c.addFiles(dataFiles, delFiles)
	return nil
}

// stageFiles adds the batch's files as the transaction's last snapshot,
// which carries props (the position). A batch that changes no file (only
// tombstones, a copy-on-write delete, deletes of rows the table does not
// hold) still records its position, in an empty snapshot.
func stageFiles(ctx context.Context, tx *table.Transaction, dataFiles, delFiles []iceberg.DataFile, props iceberg.Properties) error {
	if len(dataFiles)+len(delFiles) == 0 {
		return tx.AddFiles(ctx, nil, props, false)
	}
	return tx.NewRowDelta(props).AddRows(dataFiles...).AddDeletes(delFiles...).Commit(ctx)
}
