package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/datasurface/datasurface/merge-runner/internal/debezium"
	"github.com/datasurface/datasurface/merge-runner/internal/landing"
	"github.com/datasurface/datasurface/merge-runner/internal/merge"
	"github.com/datasurface/datasurface/merge-runner/internal/order"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// MergeOptions say how to run the merge.
type MergeOptions struct {
	Dir string
	// MaxEvents and MaxBytes bound a batch (0: the job spec's, 500,000
	// events and no byte bound).
	MaxEvents int
	MaxBytes  int64
	// Log writes the merge's structured log (one line per batch) here.
	Log io.Writer
}

// Merge runs merge.Run on the prepared table with the landed events and
// prints the step's figures. The time is merge.Run's: loading the table,
// listing, reading, decoding, folding, writing and committing every batch.
func Merge(ctx context.Context, w io.Writer, o MergeOptions) error {
	spec, err := readSpec(o.Dir)
	if err != nil {
		return err
	}
	in, _ := ReadInfo(o.Dir)
	cat, err := openCatalog(ctx, o.Dir)
	if err != nil {
		return err
	}
	defer func() { _ = target.CloseCatalog(cat) }()
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	started := time.Now()
	st, err := merge.Run(ctx, cat, spec, merge.Options{
		Store: landing.NewLocalStore(filepath.Join(o.Dir, "events")), Prefix: spec.Source.Debezium.Prefix,
		MaxEvents: o.MaxEvents, MaxBytes: o.MaxBytes,
		Logger: slog.New(slog.NewTextHandler(logw, nil)),
		// Every event has landed: no partition of a topic of several is
		// waited for.
		Grace: time.Nanosecond,
	})
	elapsed := time.Since(started)
	if err != nil {
		return err
	}
	if len(st) != 1 {
		return fmt.Errorf("merge.Run returned %d tables", len(st))
	}
	maxEvents := o.MaxEvents
	if maxEvents == 0 {
		maxEvents = spec.Batch.MaxEvents
	}
	res := Result{Step: "merge", Rows: in.Rows, Envelope: spec.Source.Debezium.Encoding.SchemasEnabled,
		Events: st[0].Events, Batches: st[0].Batches, MaxEvents: maxEvents, Files: st[0].Files, Bytes: st[0].Bytes,
		Note: fmt.Sprintf("max_bytes=%d inserted=%d updated=%d deleted=%d", o.MaxBytes,
			st[0].Inserted, st[0].Updated, st[0].Deleted)}
	return finish(w, &res, elapsed)
}

// Ceiling decodes the landed events as the merge does (landing reader and
// Debezium decoder) and writes the after image of every insert and update
// as Parquet data files of a fresh, empty table in dir/ceiling, committed
// with one append: no fold, no deletes. Decoding streams into the writer.
func Ceiling(ctx context.Context, w io.Writer, dir string) error {
	spec, err := readSpec(dir)
	if err != nil {
		return err
	}
	in, _ := ReadInfo(dir)
	cdir := filepath.Join(dir, "ceiling")
	if err := os.RemoveAll(cdir); err != nil {
		return err
	}
	cat, err := openCatalog(ctx, cdir)
	if err != nil {
		return err
	}
	defer func() { _ = target.CloseCatalog(cat) }()
	started := time.Now()
	t := spec.Tables[0]
	tbl, _, err := target.Ensure(ctx, cat, spec.Target.Namespace, &t)
	if err != nil {
		return err
	}
	dec, err := debezium.NewDecoder(&t, spec.Source.Debezium.Encoding)
	if err != nil {
		return err
	}
	store := landing.NewLocalStore(filepath.Join(dir, "events"))
	files, err := landing.ListTopic(ctx, store, spec.Source.Debezium.Prefix, t.Topic)
	if err != nil {
		return err
	}
	reader := order.New(ctx, store, files, dec, order.State{}, order.Options{})
	defer func() { _ = reader.Close() }()
	sc, err := arrowSchema(tbl)
	if err != nil {
		return err
	}
	var events, rows int64
	recs := func(yield func(arrow.RecordBatch, error) bool) {
		b := target.NewRecords(sc)
		defer b.Release()
		for {
			ev, _, err := reader.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err == nil {
				events++
				if ev.After != nil {
					rows++
					err = b.Append(ev.After)
				}
			}
			if err != nil {
				yield(nil, err)
				return
			}
			if b.Len() == rowsPerRecord {
				if !yield(b.Batch(), nil) {
					return
				}
			}
		}
		if b.Len() > 0 {
			yield(b.Batch(), nil)
		}
	}
	dfs, err := writeFiles(ctx, tbl, sc, recs)
	if err != nil {
		return err
	}
	tx := tbl.NewTransaction()
	if err := tx.AddDataFiles(ctx, dfs, nil); err != nil {
		return err
	}
	if _, err := tx.Commit(ctx); err != nil {
		return err
	}
	elapsed := time.Since(started)
	res := Result{Step: "ceiling", Rows: in.Rows, Envelope: spec.Source.Debezium.Encoding.SchemasEnabled,
		Events: events, Batches: 1, RowsWritten: rows}
	for _, f := range dfs {
		res.Files++
		res.Bytes += f.FileSizeBytes()
	}
	return finish(w, &res, elapsed)
}

// Verify scans the table's ids and versions and compares their count and
// sums with dir/expected.json.
func Verify(ctx context.Context, w io.Writer, dir string) error {
	var exp Expected
	if err := readJSON(filepath.Join(dir, "expected.json"), &exp); err != nil {
		return err
	}
	cat, err := openCatalog(ctx, dir)
	if err != nil {
		return err
	}
	defer func() { _ = target.CloseCatalog(cat) }()
	started := time.Now()
	tbl, err := cat.LoadTable(ctx, table.Identifier{Namespace, TableName})
	if err != nil {
		return err
	}
	var got Expected
	err = target.Scan(ctx, tbl, iceberg.AlwaysTrue{}, []string{"id", "version"}, func(r []row.Value) error {
		got.Rows++
		got.SumID += r[0].Int()
		got.SumVersion += r[1].Int()
		return nil
	})
	if err != nil {
		return err
	}
	res := Result{Step: "verify", Note: fmt.Sprintf("rows=%d sum_id=%d sum_version=%d", got.Rows, got.SumID, got.SumVersion)}
	if err := finish(w, &res, time.Since(started)); err != nil {
		return err
	}
	if got != exp {
		return fmt.Errorf("the table holds %+v, the events make %+v", got, exp)
	}
	return nil
}
