package bench

import (
	"context"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// rowsPerRecord is the Arrow record batch size, as the merge uses.
const rowsPerRecord = 64 * 1024

// PrepareOptions say what table to prepare.
type PrepareOptions struct {
	Dir  string
	Rows int64
	Seed uint64
}

// Prepare creates the bench table in dir's catalog and fills it with rows
// 0..Rows-1 (version 0), written straight from Arrow in one append commit:
// no events, no decoding. It also writes dir/job.json and dir/bench.json.
func Prepare(ctx context.Context, w io.Writer, o PrepareOptions) error {
	started := time.Now()
	if o.Rows < 0 {
		return fmt.Errorf("--rows must not be negative")
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(o.Dir, "catalog.db")); err == nil {
		return fmt.Errorf("%s already holds a catalog; prepare into an empty folder", o.Dir)
	}
	if err := writeSpec(o.Dir, false); err != nil {
		return err
	}
	cat, err := openCatalog(ctx, o.Dir)
	if err != nil {
		return err
	}
	defer func() { _ = target.CloseCatalog(cat) }()
	t := Table()
	tbl, _, err := target.Ensure(ctx, cat, Namespace, &t)
	if err != nil {
		return err
	}
	sc, err := arrowSchema(tbl)
	if err != nil {
		return err
	}
	g := &rowGen{seed: o.Seed}
	vals := make([]row.Value, len(t.Columns))
	recs := func(yield func(arrow.RecordBatch, error) bool) {
		b := target.NewRecords(sc)
		defer b.Release()
		for id := int64(0); id < o.Rows; id++ {
			g.fill(vals, id, 0, 0)
			if err := b.Append(vals); err != nil {
				yield(nil, err)
				return
			}
			if b.Len() == rowsPerRecord || id == o.Rows-1 {
				if !yield(b.Batch(), nil) {
					return
				}
			}
		}
	}
	res := Result{Step: "prepare", Rows: o.Rows, RowsWritten: o.Rows}
	if o.Rows > 0 {
		// A short writer queue keeps memory bounded over 10M rows.
		files, err := writeFiles(ctx, tbl, sc, recs, table.WithRecordBatchBufferSize(4))
		if err != nil {
			return err
		}
		tx := tbl.NewTransaction()
		if err := tx.AddDataFiles(ctx, files, nil); err != nil {
			return err
		}
		if _, err := tx.Commit(ctx); err != nil {
			return err
		}
		for _, f := range files {
			res.Files++
			res.Bytes += f.FileSizeBytes()
		}
	}
	if err := writeJSON(filepath.Join(o.Dir, "bench.json"), Info{Rows: o.Rows, Seed: o.Seed}); err != nil {
		return err
	}
	return finish(w, &res, time.Since(started))
}

// writeSpec writes dir/job.json for events with or without the envelope.
func writeSpec(dir string, envelope bool) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	b, err := jobspec.Marshal(Spec(abs, envelope))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "job.json"), b, 0o644)
}

// arrowSchema is the Arrow schema the merge writes the table's rows with.
func arrowSchema(tbl *table.Table) (*arrow.Schema, error) {
	return table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
}

// writeFiles writes record batches as data files of tbl.
func writeFiles(ctx context.Context, tbl *table.Table, sc *arrow.Schema, recs iter.Seq2[arrow.RecordBatch, error], opts ...table.WriteRecordOption) ([]iceberg.DataFile, error) {
	var files []iceberg.DataFile
	for df, err := range table.WriteRecords(ctx, tbl, sc, recs, opts...) {
		if err != nil {
			return nil, err
		}
		files = append(files, df)
	}
	return files, nil
}
