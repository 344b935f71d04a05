package merge

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/datasurface/datasurface/merge-runner/internal/row"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// A batch is always one snapshot: time travel and incremental readers must
// never see a table in which a batch's touched keys are gone but their new
// rows are not there yet. iceberg-go's Delete and Overwrite with a filter
// would commit their own snapshot, and rewrite partly matching files without
// applying the delete files that apply to them (table/transaction.go,
// rewriteSingleFile builds its FileScanTask with no delete files), which
// would bring back rows an earlier merge-on-read batch deleted. So the
// rewrites here read through the planned tasks, deletes applied, and commit
// with ReplaceDataFilesWithDataFiles or ReplaceFiles: one overwrite snapshot.

// rewriteMatching stages on tx one snapshot that replaces the data files
// holding rows for which drop is true by copies without those rows, and
// adds added. filter selects the files that may hold such rows (by their
// metrics); dropCols are the columns drop looks at, in that order.
func (l *layout) rewriteMatching(ctx context.Context, tx *table.Transaction, filter iceberg.BooleanExpression, dropCols []string, drop func([]row.Value) bool, added []iceberg.DataFile, props iceberg.Properties, c *counts) error {
	files, err := target.Files(ctx, l.tbl, filter)
	if err != nil {
		return err
	}
	var removed, written []iceberg.DataFile
	for _, f := range files {
		// Metrics only say a file may hold a touched key: read the columns
		// drop needs first, and rewrite only the files that do.
		hit := false
		err := target.ScanFile(ctx, l.tbl, f, dropCols, func(r []row.Value) error {
			if drop(r) {
				hit = true
				return errStop
			}
			return nil
		})
		if err != nil && err != errStop {
			return err
		}
		if !hit {
			continue
		}
		copies, err := l.copyWithout(ctx, f, dropCols, drop)
		if err != nil {
			return err
		}
		removed = append(removed, f.Data)
		written = append(written, copies...)
	}
	adds := append(written, added...)
	if len(removed) == 0 {
		return l.stage(ctx, tx, adds, nil, props, c)
	}
	if err := tx.ReplaceDataFilesWithDataFiles(ctx, removed, adds, props); err != nil {
		return fmt.Errorf("replacing the files that hold the batch's keys: %w", err)
	}
	c.addFiles(adds)
	return nil
}

// errStop ends a scan early.
var errStop = fmt.Errorf("stop")

// copyWithout writes the rows of a planned file, its deletes applied, for
// which drop is false, as new data files.
func (l *layout) copyWithout(ctx context.Context, f target.File, dropCols []string, drop func([]row.Value) bool) ([]iceberg.DataFile, error) {
	at := make([]int, len(dropCols))
	for i, c := range dropCols {
		at[i] = l.colIndex(c)
	}
	sub := make([]row.Value, len(dropCols))
	recs := func(yield func(arrow.RecordBatch, error) bool) {
		b := target.NewRecords(l.data)
		defer b.Release()
		stopped := false
		err := target.ScanFile(ctx, l.tbl, f, l.cols, func(r []row.Value) error {
			for i, j := range at {
				sub[i] = r[j]
			}
			if drop(sub) {
				return nil
			}
			if err := b.Append(r); err != nil {
				return fmt.Errorf("rewriting %s: %w", f.Data.FilePath(), err)
			}
			if b.Len() == rowsPerRecord {
				if !yield(b.Batch(), nil) {
					stopped = true
					return errStop
				}
			}
			return nil
		})
		switch {
		case stopped:
		case err != nil:
			yield(nil, err)
		case b.Len() > 0:
			yield(b.Batch(), nil)
		}
	}
	var out []iceberg.DataFile
	for df, err := range table.WriteRecords(ctx, l.tbl, l.data, recs) {
		if err != nil {
			return nil, err
		}
		out = append(out, df)
	}
	return out, nil
}

// replaceAll stages on tx one snapshot that removes every data file and
// every delete file of the table and adds added: a truncate.
func (l *layout) replaceAll(ctx context.Context, tx *table.Transaction, added []iceberg.DataFile, props iceberg.Properties, c *counts) error {
	files, err := target.Files(ctx, l.tbl, iceberg.AlwaysTrue{})
	if err != nil {
		return err
	}
	var data, deletes []iceberg.DataFile
	seen := map[string]bool{}
	for _, f := range files {
		data = append(data, f.Data)
		for _, t := range f.Tasks {
			for _, sets := range [][]iceberg.DataFile{t.DeleteFiles, t.EqualityDeleteFiles, t.DeletionVectorFiles} {
				for _, d := range sets {
					if !seen[d.FilePath()] {
						seen[d.FilePath()] = true
						deletes = append(deletes, d)
					}
				}
			}
		}
	}
	if len(data) == 0 {
		return l.stage(ctx, tx, added, nil, props, c)
	}
	if err := tx.ReplaceFiles(ctx, data, added, deletes, props); err != nil {
		return fmt.Errorf("emptying the table for a truncate: %w", err)
	}
	c.addFiles(added)
	return nil
}

// colIndex is the index of a written column.
func (l *layout) colIndex(name string) int {
	for i, c := range l.cols {
		if c == name {
			return i
		}
	}
	panic("no column " + name)
}
