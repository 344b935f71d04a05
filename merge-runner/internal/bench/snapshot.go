package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/merge"
	"github.com/datasurface/datasurface/merge-runner/internal/pgsource"
)

// The snapshot bench reads PostgreSQL tables of the bench table's shape
// (orders, and orders_2 for a store of two tables) with the snapshot
// capture, against COPY ... TO STDOUT (FORMAT binary) of the same table.

// SnapOptions say where the snapshot bench's tables and Iceberg state are.
type SnapOptions struct {
	DSN string
	Dir string
	// Rows of each source table (prepare).
	Rows int64
	// Tables is 1 or 2: a store of two tables (orders, orders_2).
	Tables int
	// Forensic writes history tables instead of live ones.
	Forensic bool
	// Fraction of rows changed by snap-change.
	Fraction float64
	Seed     uint64
}

func snapTableNames(n int) []string {
	if n <= 1 {
		return []string{"orders"}
	}
	return []string{"orders", "orders_2"}
}

// SnapPrepare creates and fills the source tables.
func SnapPrepare(ctx context.Context, w io.Writer, o SnapOptions) error {
	conn, err := pgx.Connect(ctx, o.DSN)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	started := time.Now()
	for _, name := range snapTableNames(o.Tables) {
		fill := pgFill(o.Rows)
		if name != "orders" {
			fill = "INSERT INTO " + name + fill[len("INSERT INTO orders"):]
		}
		for _, q := range []string{
			"DROP TABLE IF EXISTS " + name,
			fmt.Sprintf(pgTableDDL, name),
			fill,
			"ALTER TABLE " + name + " ADD PRIMARY KEY (id)",
			"VACUUM ANALYZE " + name,
		} {
			if _, err := conn.Exec(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", firstLine(q), err)
			}
		}
	}
	return finish(w, &Result{Step: "snap-prepare", Rows: o.Rows, Note: fmt.Sprintf("tables=%d", max(o.Tables, 1))}, time.Since(started))
}

// SnapCopy times COPY (SELECT ... ORDER BY id) TO STDOUT (FORMAT binary)
// of orders into nothing: the rate PostgreSQL gives a client.
func SnapCopy(ctx context.Context, w io.Writer, o SnapOptions) error {
	conn, err := pgx.Connect(ctx, o.DSN)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	started := time.Now()
	tag, err := conn.PgConn().CopyTo(ctx, io.Discard, "COPY (SELECT "+pgColumns+" FROM orders ORDER BY id) TO STDOUT (FORMAT binary)")
	if err != nil {
		return err
	}
	return finish(w, &Result{Step: "snap-copy", Rows: tag.RowsAffected(), Events: tag.RowsAffected()}, time.Since(started))
}

// SnapSpec is the snapshot bench's job spec.
func SnapSpec(o SnapOptions) *jobspec.Spec {
	var tables []jobspec.Table
	for _, name := range snapTableNames(o.Tables) {
		t := Table()
		t.Dataset, t.SourceTable, t.Topic, t.Name = name, "public."+name, "", name
		if o.Forensic {
			t.Name, t.Mode = name+"_history", jobspec.ModeForensic
		}
		tables = append(tables, t)
	}
	return &jobspec.Spec{
		Version: 1, Platform: "bench", Stream: "orders", Datastore: "shop",
		Source: jobspec.Source{Kind: jobspec.SourceSnapshot, Postgres: &jobspec.PostgresSource{Container: "pg", Credential: "bench"}},
		Target: jobspec.Target{Catalog: "bench", CatalogKind: "sql", Warehouse: filepath.Join(o.Dir, "warehouse"), Namespace: Namespace},
		Tables: tables,
		Batch:  jobspec.Batch{MaxEvents: DefaultMaxEvents},
	}
}

// SnapMerge runs the snapshot capture into the bench folder's catalog.
func SnapMerge(ctx context.Context, w io.Writer, o SnapOptions) error {
	cat, err := openCatalog(ctx, o.Dir)
	if err != nil {
		return err
	}
	src, err := pgsource.Open(ctx, o.DSN, "", "")
	if err != nil {
		return err
	}
	defer func() { _ = src.Close(context.Background()) }()
	spec := SnapSpec(o)
	started := time.Now()
	st, err := merge.RunSnapshot(ctx, cat, spec, src, merge.Options{Logger: slog.New(slog.DiscardHandler)})
	elapsed := time.Since(started)
	if err != nil {
		return err
	}
	r := &Result{Step: "snap-merge", Rows: 0, Batches: 1}
	var ins, upd, del int64
	for _, s := range st {
		ins, upd, del = ins+s.Inserted, upd+s.Updated, del+s.Deleted
		r.Files += s.Files
		r.Bytes += s.Bytes
	}
	r.Events = ins + upd + del
	r.Note = fmt.Sprintf("tables=%d forensic=%v inserted=%d updated=%d deleted=%d (all tables)", len(st), o.Forensic, ins, upd, del)
	r.Rows = o.Rows
	return finish(w, r, elapsed)
}

// SnapChange updates a fraction of every source table's rows.
func SnapChange(ctx context.Context, w io.Writer, o SnapOptions) error {
	conn, err := pgx.Connect(ctx, o.DSN)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	started := time.Now()
	var n int64
	for _, name := range snapTableNames(o.Tables) {
		every := int64(1 / o.Fraction)
		tag, err := conn.Exec(ctx, fmt.Sprintf("UPDATE %s SET version = version + 1, qty = qty + 1 WHERE id %% %d = %d", name, every, o.Seed%uint64(every)))
		if err != nil {
			return err
		}
		n += tag.RowsAffected()
	}
	return finish(w, &Result{Step: "snap-change", Events: n, RowsWritten: n}, time.Since(started))
}
