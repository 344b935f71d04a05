package target

import (
	"context"
	"fmt"
	"iter"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/google/uuid"

	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

// KeyFilter is the filter "key is one of keys" over the key columns.
func KeyFilter(sc *iceberg.Schema, keyCols []string, keys [][]row.Value) (iceberg.BooleanExpression, error) {
	if len(keys) == 0 {
		return iceberg.AlwaysFalse{}, nil
	}
	types := make([]iceberg.Type, len(keyCols))
	for i, c := range keyCols {
		f, ok := sc.FindFieldByName(c)
		if !ok {
			return nil, fmt.Errorf("key column %s is not in the table", c)
		}
		types[i] = f.Type
	}
	if len(keyCols) == 1 {
		lits := make([]iceberg.Literal, len(keys))
		for i, k := range keys {
			l, err := Literal(k[0], types[0])
			if err != nil {
				return nil, fmt.Errorf("key column %s: %w", keyCols[0], err)
			}
			lits[i] = l
		}
		return iceberg.SetPredicate(iceberg.OpIn, iceberg.Reference(keyCols[0]), lits), nil
	}
	var out iceberg.BooleanExpression = iceberg.AlwaysFalse{}
	for _, k := range keys {
		var and iceberg.BooleanExpression = iceberg.AlwaysTrue{}
		for i, c := range keyCols {
			l, err := Literal(k[i], types[i])
			if err != nil {
				return nil, fmt.Errorf("key column %s: %w", c, err)
			}
			and = iceberg.NewAnd(and, iceberg.LiteralPredicate(iceberg.OpEQ, iceberg.Reference(c), l))
		}
		out = iceberg.NewOr(out, and)
	}
	return out, nil
}

// Literal converts a key value to an Iceberg literal of the column's type.
func Literal(v row.Value, typ iceberg.Type) (iceberg.Literal, error) {
	switch v.Kind() {
	case row.KindBool:
		return iceberg.NewLiteral(v.Bool()), nil
	case row.KindInt32, row.KindInt64:
		if _, long := typ.(iceberg.Int64Type); long {
			return iceberg.NewLiteral(v.Int()), nil
		}
		return iceberg.NewLiteral(int32(v.Int())), nil
	case row.KindString, row.KindJSON:
		return iceberg.NewLiteral(v.Text()), nil
	case row.KindBinary:
		return iceberg.NewLiteral(v.Bytes()), nil
	case row.KindDate:
		return iceberg.NewLiteral(iceberg.Date(v.Int())), nil
	case row.KindTime:
		return iceberg.NewLiteral(iceberg.Time(v.Int())), nil
	case row.KindTimestamp, row.KindTimestampTZ:
		return iceberg.NewLiteral(iceberg.Timestamp(v.Int())), nil
	case row.KindUUID:
		return iceberg.NewLiteral(uuid.UUID(v.UUIDBytes())), nil
	case row.KindDecimal:
		return iceberg.NewLiteral(iceberg.Decimal{Val: decimal128.FromBigInt(v.Unscaled()), Scale: int(v.Scale())}), nil
	}
	return nil, fmt.Errorf("a %s value cannot be a key", v.Kind())
}

// Scan reads the rows matching filter, with the named columns in that
// order, calling fn for each. The row passed to fn is reused.
func Scan(ctx context.Context, tbl *table.Table, filter iceberg.BooleanExpression, cols []string, fn func([]row.Value) error) error {
	if tbl.CurrentSnapshot() == nil {
		return nil
	}
	_, recs, err := tbl.Scan(table.WithRowFilter(filter), table.WithSelectedFields(cols...)).ToArrowRecords(ctx)
	if err != nil {
		return fmt.Errorf("scanning %v: %w", tbl.Identifier(), err)
	}
	return eachRow(tbl, recs, cols, fn)
}

// ScanAt is Scan of the table as snapshot id left it (0: the current one).
func ScanAt(ctx context.Context, tbl *table.Table, id int64, cols []string, fn func([]row.Value) error) error {
	if id == 0 {
		return Scan(ctx, tbl, iceberg.AlwaysTrue{}, cols, fn)
	}
	if tbl.SnapshotByID(id) == nil {
		return configErrorf("table %v has no snapshot %d (status lists the current one; maintenance expires old ones)", tbl.Identifier(), id)
	}
	_, recs, err := tbl.Scan(table.WithSnapshotID(id), table.WithSelectedFields(cols...)).ToArrowRecords(ctx)
	if err != nil {
		return fmt.Errorf("scanning %v at snapshot %d: %w", tbl.Identifier(), id, err)
	}
	return eachRow(tbl, recs, cols, fn)
}

// File is a data file a scan plan reaches: its tasks (one, or one per
// split of a large file), each with the delete files that apply.
type File struct {
	Data  iceberg.DataFile
	Tasks []table.FileScanTask
}

// Files plans the data files that may hold rows matching filter, each
// with every delete file that applies to it. A plan with a row filter
// leaves out the delete files whose metrics do not match the filter
// (iceberg-go prunes delete manifest entries with the filter's inclusive
// metrics evaluator): right for reading the matching rows, wrong for
// reading whole files. So the filter picks the files, and an unfiltered
// plan gives their tasks.
func Files(ctx context.Context, tbl *table.Table, filter iceberg.BooleanExpression) ([]File, error) {
	if tbl.CurrentSnapshot() == nil {
		return nil, nil
	}
	var want map[string]bool
	if !filter.Equals(iceberg.AlwaysTrue{}) {
		picked, err := tbl.Scan(table.WithRowFilter(filter)).PlanFiles(ctx)
		if err != nil {
			return nil, fmt.Errorf("planning a scan of %v: %w", tbl.Identifier(), err)
		}
		if len(picked) == 0 {
			return nil, nil
		}
		want = make(map[string]bool, len(picked))
		for _, t := range picked {
			want[t.File.FilePath()] = true
		}
	}
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("planning a scan of %v: %w", tbl.Identifier(), err)
	}
	var out []File
	at := map[string]int{}
	for _, t := range tasks {
		p := t.File.FilePath()
		if want != nil && !want[p] {
			continue
		}
		i, ok := at[p]
		if !ok {
			i = len(out)
			at[p] = i
			out = append(out, File{Data: t.File})
		}
		out[i].Tasks = append(out[i].Tasks, t)
	}
	return out, nil
}

// ScanFile reads every row of a planned data file, its deletes applied,
// with the named columns in that order, calling fn for each. The row
// passed to fn is reused.
func ScanFile(ctx context.Context, tbl *table.Table, f File, cols []string, fn func([]row.Value) error) error {
	_, recs, err := tbl.Scan(table.WithSelectedFields(cols...)).ReadTasks(ctx, f.Tasks)
	if err != nil {
		return fmt.Errorf("reading %s of %v: %w", f.Data.FilePath(), tbl.Identifier(), err)
	}
	return eachRow(tbl, recs, cols, fn)
}

func eachRow(tbl *table.Table, recs iter.Seq2[arrow.RecordBatch, error], cols []string, fn func([]row.Value) error) error {
	vals := make([]row.Value, len(cols))
	for rec, err := range recs {
		if err != nil {
			return fmt.Errorf("scanning %v: %w", tbl.Identifier(), err)
		}
		idx := make([]int, len(cols))
		for i, c := range cols {
			is := rec.Schema().FieldIndices(c)
			if len(is) != 1 {
				rec.Release()
				return fmt.Errorf("scanning %v: column %s missing from the scan", tbl.Identifier(), c)
			}
			idx[i] = is[0]
		}
		for r := 0; r < int(rec.NumRows()); r++ {
			for i, j := range idx {
				vals[i] = Value(rec.Column(j), r)
			}
			if err := fn(vals); err != nil {
				rec.Release()
				return err
			}
		}
		rec.Release()
	}
	return nil
}
