// Package bench measures the merge-runner's merge of Debezium change events
// into an Iceberg table against two yardsticks: the ceiling (decoding the same
// events and writing their rows as Parquet, with no merge) and PostgreSQL's
// MERGE of the same changes from a staging table (the Python reference's
// approach). The merge-bench command runs each step as its own process, so
// the peak RSS it prints is the step's own.
//
// A bench folder D holds:
//
//	D/catalog.db, D/warehouse   the SQLite catalog and warehouse of the table
//	D/job.json                  the job spec (the encoding says whether the
//	                            events carry the schema envelope)
//	D/bench.json                the rows the table was prepared with and the seed
//	D/events/cdc/<topic>/...    the landed events
//	D/expected.json             the table's row count and sums after the events
//	D/ceiling/                  the ceiling's own catalog and warehouse
//
// The catalog records absolute file locations: a prepared folder copied
// elsewhere still points at the original's files. To start every run from
// the same table, copy the prepared folder back to the path it was prepared
// at (scripts/bench-merge.sh prepares in a work folder, moves it aside and
// copies it back before each case).
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/apache/iceberg-go/catalog"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// Names of the bench table and where its events land.
const (
	Topic     = "bench.shop.public.orders"
	Namespace = "shop"
	TableName = "orders"
	Prefix    = "cdc"
)

// Table is the bench table: an int64 key and nine columns of mixed types.
func Table() jobspec.Table {
	return jobspec.Table{
		Dataset: "orders", SourceTable: "public.orders", Topic: Topic, Name: TableName,
		Mode: jobspec.ModeLive, PrimaryKey: []string{"id"}, WriteMode: "merge_on_read",
		Columns: []jobspec.Column{
			{Name: "id", Type: "int64"},
			{Name: "name", Type: "varchar", Length: 100},
			{Name: "qty", Type: "int32"},
			{Name: "price", Type: "decimal", Precision: 12, Scale: 2, Nullable: true},
			{Name: "updated_at", Type: "timestamptz"},
			{Name: "born", Type: "date", Nullable: true},
			{Name: "active", Type: "boolean"},
			{Name: "score", Type: "float64", Nullable: true},
			{Name: "note", Type: "text", Nullable: true},
			{Name: "version", Type: "int64"},
		},
	}
}

// DefaultMaxEvents is the generator's default batch bound: 100,000 events.
const DefaultMaxEvents = 100_000

// Spec is the bench's job spec. The encoding is the generator's (precise
// decimals, adaptive_time_microseconds, no tombstones), with or without the
// schema envelope. The batch is the generator's 100,000 events without its
// 256 MiB byte bound, so both encodings make the same batches (with the
// envelope, 256 MiB is about 90,000 events).
func Spec(dir string, envelope bool) *jobspec.Spec {
	return &jobspec.Spec{
		Version: jobspec.Version, Platform: "bench", Stream: "orders", Datastore: "shop",
		Source: jobspec.Source{Kind: jobspec.SourceDebezium, Debezium: &jobspec.DebeziumSource{
			Container: "landing", Bucket: "landing", Prefix: Prefix,
			Encoding: jobspec.Encoding{
				DecimalHandling: "precise", TimePrecision: "adaptive_time_microseconds", BinaryHandling: "base64",
				SchemasEnabled: envelope,
			},
		}},
		Target: jobspec.Target{Catalog: "lake", CatalogKind: "sql", Warehouse: filepath.Join(dir, "warehouse"), Namespace: Namespace},
		Tables: []jobspec.Table{Table()},
		Batch:  jobspec.Batch{MaxEvents: DefaultMaxEvents},
	}
}

// Info is D/bench.json: what the folder was prepared with.
type Info struct {
	Rows int64  `json:"rows"`
	Seed uint64 `json:"seed"`
}

// Expected is D/expected.json: the table after the landed events.
type Expected struct {
	Rows       int64 `json:"rows"`
	SumID      int64 `json:"sum_id"`
	SumVersion int64 `json:"sum_version"`
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// ReadInfo reads D/bench.json.
func ReadInfo(dir string) (Info, error) {
	var in Info
	err := readJSON(filepath.Join(dir, "bench.json"), &in)
	return in, err
}

// openCatalog opens the SQLite catalog at dir/catalog.db with warehouse dir/warehouse.
func openCatalog(ctx context.Context, dir string) (catalog.Catalog, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	return target.OpenCatalog(ctx, target.CatalogConfig{
		Name: "lake", URI: "sqlite:" + filepath.Join(abs, "catalog.db"), Warehouse: filepath.Join(abs, "warehouse"),
	})
}

// Result is the JSON line a step prints.
type Result struct {
	Step       string  `json:"step"`
	Rows       int64   `json:"rows,omitempty"`
	Envelope   bool    `json:"envelope"`
	Events     int64   `json:"events"`
	Seconds    float64 `json:"seconds"`
	EventsPerS float64 `json:"events_per_s"`
	CPUSeconds float64 `json:"cpu_seconds"`
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	Batches    int64   `json:"batches,omitempty"`
	// MaxEvents is the merge's batch bound.
	MaxEvents int   `json:"max_events,omitempty"`
	Files     int64 `json:"files,omitempty"`
	Bytes     int64 `json:"bytes,omitempty"`
	// RowsWritten is the data rows written (prepare, ceiling, merge upserts).
	RowsWritten int64 `json:"rows_written,omitempty"`
	// DeleteRows is the equality delete rows the merge wrote (its touched keys).
	DeleteRows int64 `json:"delete_rows,omitempty"`
	// LoadSeconds is pgmerge's staging load (decode + COPY + ANALYZE);
	// Seconds is its MERGE alone.
	LoadSeconds    float64 `json:"load_seconds,omitempty"`
	EventsPerSLoad float64 `json:"events_per_s_with_load,omitempty"`
	// PrepSeconds is pgmerge's target table load (not timed in events/s).
	PrepSeconds float64 `json:"prep_seconds,omitempty"`
	// ServerPeakRSSMiB is the PostgreSQL backend's VmHWM (shared buffers it
	// touched included), when the server runs on this machine.
	ServerPeakRSSMiB float64 `json:"server_peak_rss_mib,omitempty"`
	Load1            float64 `json:"load1"`
	Note             string  `json:"note,omitempty"`
}

// finish fills the process figures and prints r as one JSON line.
func finish(w io.Writer, r *Result, elapsed time.Duration) error {
	r.Seconds = round(elapsed.Seconds(), 3)
	if r.Seconds > 0 && r.Events > 0 {
		r.EventsPerS = round(float64(r.Events)/elapsed.Seconds(), 0)
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		// ru_maxrss is in KiB on Linux.
		r.PeakRSSMiB = round(float64(ru.Maxrss)/1024, 1)
		r.CPUSeconds = round(tv(ru.Utime)+tv(ru.Stime), 2)
	}
	r.Load1 = load1()
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

func round(f float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	if f >= 0 {
		return float64(int64(f*p+0.5)) / p
	}
	return -float64(int64(-f*p+0.5)) / p
}

// load1 is the one-minute load average, 0 when unknown.
func load1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	var l float64
	_, _ = fmt.Sscan(string(b), &l)
	return l
}

// Profile starts a CPU profile into cpuPath (none when it is empty) and
// returns the function that stops it and, when memPath is set, writes the
// allocation profile (every allocation of the step, sampled) there.
func Profile(cpuPath, memPath string) (func() error, error) {
	var f *os.File
	if cpuPath != "" {
		var err error
		if f, err = os.Create(cpuPath); err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			_ = f.Close()
			return nil, err
		}
	}
	return func() error {
		var err error
		if f != nil {
			pprof.StopCPUProfile()
			err = f.Close()
		}
		if memPath != "" {
			m, merr := os.Create(memPath)
			if merr != nil {
				return errors.Join(err, merr)
			}
			err = errors.Join(err, pprof.Lookup("allocs").WriteTo(m, 0), m.Close())
		}
		return err
	}, nil
}
