// Command merge-bench measures the merge-runner's merge of Debezium change
// events into an Iceberg table (see package bench and
// scripts/bench-merge.sh). Each subcommand is one step, run as its own
// process so the peak RSS it prints is that step's:
//
//	merge-bench prepare --dir D --rows N [--seed S]
//	merge-bench events  --dir D --events M [--rows N] [--envelope] [--seed S] [--partitions P] [--flush-size F]
//	merge-bench merge   --dir D [--max-events K] [--max-bytes B] [--log]
//	merge-bench ceiling --dir D
//	merge-bench verify  --dir D
//	merge-bench pgmerge --dsn DSN --dir D [--rows N]
//	merge-bench report  [FILE...]
//	merge-bench recon-legacy --dsn DSN --dir D [--fraction F]
//	merge-bench recon-copy   --dsn DSN --dir D
//	merge-bench iceberg-scan --dir D
//	merge-bench recon-run    --dsn DSN --dir D --merge-runner BIN
//	merge-bench recon-summary [FILE...]
//
// (the snap-* and recon-* steps: scripts/bench-snapshot.sh and
// scripts/bench-reconcile.sh).
//
// Every step but report prints one line of JSON. Every step takes
// --cpuprofile FILE and --memprofile FILE (allocations).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/datasurface/datasurface/merge-runner/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "merge-bench:", err)
		os.Exit(1)
	}
}

const usage = "usage: merge-bench prepare|events|merge|ceiling|verify|pgmerge|snap-prepare|snap-copy|snap-merge|snap-change|recon-legacy|recon-copy|iceberg-scan|recon-run|recon-summary|report [flags] (-h for a step's flags)"

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", usage)
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	dir := fs.String("dir", "", "the bench folder")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the step to this file")
	memprofile := fs.String("memprofile", "", "write an allocation profile of the step to this file")
	var step func() error
	switch cmd {
	case "prepare":
		var o bench.PrepareOptions
		fs.Int64Var(&o.Rows, "rows", 10_000_000, "rows of the table")
		fs.Uint64Var(&o.Seed, "seed", 1, "seed of the rows' values")
		step = func() error { o.Dir = *dir; return bench.Prepare(ctx, os.Stdout, o) }
	case "events":
		o := bench.EventsOptions{}
		fs.Int64Var(&o.Rows, "rows", 0, "rows of the prepared table (default: what prepare recorded)")
		fs.IntVar(&o.Events, "events", 1_000_000, "change events to land")
		fs.BoolVar(&o.Envelope, "envelope", false, "land the events with the JsonConverter schema envelope")
		fs.Uint64Var(&o.Seed, "seed", 1, "seed of the events")
		fs.IntVar(&o.Partitions, "partitions", 1, "topic partitions (a key lands in partition id % P)")
		fs.IntVar(&o.FlushSize, "flush-size", 10_000, "lines per landed file (the S3 sink's flush.size)")
		step = func() error { o.Dir = *dir; return bench.Events(ctx, os.Stdout, o) }
	case "merge":
		o := bench.MergeOptions{}
		fs.IntVar(&o.MaxEvents, "max-events", 0, "events per batch (default: the job spec's, 500,000)")
		fs.Int64Var(&o.MaxBytes, "max-bytes", 0, "landed bytes per batch (default: none)")
		logToStderr := fs.Bool("log", false, "write the merge's log (a line per batch) to stderr")
		step = func() error {
			o.Dir = *dir
			if *logToStderr {
				o.Log = os.Stderr
			}
			return bench.Merge(ctx, os.Stdout, o)
		}
	case "ceiling":
		step = func() error { return bench.Ceiling(ctx, os.Stdout, *dir) }
	case "verify":
		step = func() error { return bench.Verify(ctx, os.Stdout, *dir) }
	case "pgmerge":
		o := bench.PGOptions{}
		fs.StringVar(&o.DSN, "dsn", os.Getenv("DATASURFACE_BENCH_PG_DSN"), "PostgreSQL DSN (default $DATASURFACE_BENCH_PG_DSN)")
		fs.Int64Var(&o.Rows, "rows", 0, "rows of the PostgreSQL table (default: what prepare recorded)")
		step = func() error {
			o.Dir = *dir
			if o.DSN == "" {
				return fmt.Errorf("pgmerge needs --dsn or DATASURFACE_BENCH_PG_DSN")
			}
			return bench.PGMerge(ctx, os.Stdout, o)
		}
	case "snap-prepare", "snap-copy", "snap-merge", "snap-change":
		var o bench.SnapOptions
		fs.StringVar(&o.DSN, "dsn", os.Getenv("DATASURFACE_BENCH_PG_DSN"), "PostgreSQL DSN (default $DATASURFACE_BENCH_PG_DSN)")
		fs.Int64Var(&o.Rows, "rows", 10_000_000, "rows of each source table")
		fs.IntVar(&o.Tables, "tables", 1, "source tables of the store (1 or 2)")
		fs.BoolVar(&o.Forensic, "forensic", false, "write history tables")
		fs.Float64Var(&o.Fraction, "fraction", 0.0001, "fraction of rows snap-change updates")
		fs.Uint64Var(&o.Seed, "seed", 1, "which rows snap-change picks")
		steps := map[string]func(context.Context, io.Writer, bench.SnapOptions) error{
			"snap-prepare": bench.SnapPrepare, "snap-copy": bench.SnapCopy, "snap-merge": bench.SnapMerge, "snap-change": bench.SnapChange,
		}
		f := steps[cmd]
		step = func() error {
			o.Dir = *dir
			if o.DSN == "" {
				return fmt.Errorf("%s needs --dsn or DATASURFACE_BENCH_PG_DSN", cmd)
			}
			return f(ctx, os.Stdout, o)
		}
	case "recon-legacy", "recon-copy", "recon-run":
		var o bench.ReconOptions
		fs.StringVar(&o.DSN, "dsn", os.Getenv("DATASURFACE_BENCH_PG_DSN"), "PostgreSQL DSN (default $DATASURFACE_BENCH_PG_DSN)")
		fs.Float64Var(&o.Fraction, "fraction", 0.0001, "fraction of the rows recon-legacy makes differ")
		fs.StringVar(&o.MergeRunner, "merge-runner", "", "the merge-runner binary recon-run runs")
		steps := map[string]func(context.Context, io.Writer, bench.ReconOptions) error{
			"recon-legacy": bench.ReconLegacy, "recon-copy": bench.ReconCopy, "recon-run": bench.ReconRun,
		}
		f := steps[cmd]
		step = func() error {
			o.Dir = *dir
			if o.DSN == "" {
				return fmt.Errorf("%s needs --dsn or DATASURFACE_BENCH_PG_DSN", cmd)
			}
			return f(ctx, os.Stdout, o)
		}
	case "iceberg-scan":
		step = func() error { return bench.IcebergScan(ctx, os.Stdout, *dir) }
	case "recon-summary":
		if err := fs.Parse(args); err != nil {
			return err
		}
		var rs []io.Reader
		for _, name := range fs.Args() {
			f, err := os.Open(name)
			if err != nil {
				return err
			}
			defer f.Close()
			rs = append(rs, f)
		}
		if len(rs) == 0 {
			rs = append(rs, os.Stdin)
		}
		return bench.Summarize(io.MultiReader(rs...), os.Stdout)
	case "report":
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			return bench.Report(os.Stdin, os.Stdout)
		}
		var rs []io.Reader
		for _, name := range fs.Args() {
			f, err := os.Open(name)
			if err != nil {
				return err
			}
			defer f.Close()
			rs = append(rs, f)
		}
		return bench.Report(io.MultiReader(rs...), os.Stdout)
	default:
		return fmt.Errorf("unknown step %q; %s", cmd, usage)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %v", cmd, fs.Args())
	}
	if *dir == "" {
		return fmt.Errorf("%s needs --dir", cmd)
	}
	stopProfile, err := bench.Profile(*cpuprofile, *memprofile)
	if err != nil {
		return err
	}
	err = step()
	if perr := stopProfile(); err == nil {
		err = perr
	}
	return err
}
