package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/spf13/cobra"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/pgsource"
	"github.com/datasurface/datasurface/merge-runner/internal/reconcile"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// The legacy database; each falls back to its DATASURFACE_SOURCE_* twin.
const (
	envLegacyURI      = "DATASURFACE_LEGACY_URI"
	envLegacyUser     = "DATASURFACE_LEGACY_USER"
	envLegacyPassword = "DATASURFACE_LEGACY_PASSWORD"
)

// exitDiffer is reconcile's exit code when the tables differ.
const exitDiffer = jobspec.ReconcileDiffersExitCode

// differError says the compared tables differ; the report is written.
type differError struct{ table string }

func (e *differError) Error() string {
	return "table " + e.table + " differs from its legacy copy beyond the tolerances"
}

func newReconcileCmd() *cobra.Command {
	var c common
	var name, legacy, format, tsPrec, freshness string
	var quiet bool
	var opts reconcile.Options
	cmd := &cobra.Command{
		Use:   "reconcile --job SPEC --table T --legacy-table SCHEMA.TABLE [--timestamp-precision ms] [--float-epsilon E] [--trim-text] [--freshness-column C] [--format markdown|json]",
		Short: "Compare a legacy PostgreSQL table with the live Iceberg table of the same dataset",
		Long: `Reads the legacy table from PostgreSQL ($` + envLegacyURI + `, _USER, _PASSWORD;
each defaults to its $` + envSourceURI + ` twin) in key order by binary COPY, with
the job spec table's columns and types, and the live Iceberg table T through
the catalog, and compares them: row counts, keys only on one side, and for
keys on both, every column by type. Tolerances cover legacy copies that
differ by design: --timestamp-precision truncates times and timestamps of
both sides (us, ms, s or a duration such as 10ms), --float-epsilon accepts
floats that close, --trim-text ignores trailing spaces. --freshness-column
reports each side's newest value and how far the new table is behind.
Prints markdown (a summary, then up to --max-diffs differing keys) or JSON.
Exits 0 when the tables agree within the tolerances, 1 when they do not,
2 on a configuration error (flags, environment, a legacy table that does
not fit the spec, either table holding a key twice: retrying will not
help), 4 when either side could not be read (retry).

Both tables are read once, at the same time. Each row is hashed into a key
range (about 50,000 rows each, sized from the Iceberg table's row count) and
spilled, compressed, to a file under --spill-dir (default $TMPDIR; it needs
room for both tables' rows, about 1.2 GiB when each holds 10,000,000 rows
of ten columns, and is removed at the end); then only the key ranges
whose hashes differ are read back and compared row by row. Memory is
bounded by a key range, not by the tables. Progress goes to stderr
(--quiet silences it).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			spec, err := c.spec()
			if err != nil {
				return err
			}
			t, err := liveTable(spec, name)
			if err != nil {
				return err
			}
			if format != "markdown" && format != "json" {
				return configErrorf("--format %q: use markdown or json", format)
			}
			if legacy == "" {
				return configErrorf("--legacy-table: name the legacy table as schema.table")
			}
			if opts.TimestampPrecision, err = parsePrecision(tsPrec); err != nil {
				return err
			}
			if opts.FloatEpsilon < 0 {
				return configErrorf("--float-epsilon %v: use 0 or a positive number", opts.FloatEpsilon)
			}
			if opts.MaxDiffs < 0 {
				return configErrorf("--max-diffs %d: use 0 or more", opts.MaxDiffs)
			}
			if opts.SpillDir != "" {
				if st, err := os.Stat(opts.SpillDir); err != nil || !st.IsDir() {
					return configErrorf("--spill-dir %q is not a folder; name one with room for both tables' rows, compressed", opts.SpillDir)
				}
			}
			opts.FreshnessColumn = freshness
			if freshness != "" && !hasColumn(t, freshness) {
				return configErrorf("--freshness-column %q is not a column of table %s; its columns are %s", freshness, t.Name, columnNames(t))
			}
			if len(t.PrimaryKey) == 0 {
				return configErrorf("table %s has no primary key in the job spec: reconcile matches rows by key", t.Name)
			}
			uri := first(os.Getenv(envLegacyURI), os.Getenv(envSourceURI))
			if uri == "" {
				return configErrorf("no legacy database: set %s (or %s) to postgresql://HOST[:PORT]/DB", envLegacyURI, envSourceURI)
			}
			ctx := cmd.Context()
			src, err := pgsource.Open(ctx, uri, first(os.Getenv(envLegacyUser), os.Getenv(envSourceUser)), first(os.Getenv(envLegacyPassword), os.Getenv(envSourcePassword)))
			if err != nil {
				return configErrorf("legacy database: %v", err)
			}
			defer func() { _ = src.Close(ctx) }()

			cat, err := c.openCatalog(ctx, spec)
			if err != nil {
				return err
			}
			defer func() { _ = target.CloseCatalog(cat) }()
			tbl, err := cat.LoadTable(ctx, table.Identifier{spec.Target.Namespace, name})
			if errors.Is(err, catalog.ErrNoSuchTable) || errors.Is(err, catalog.ErrNoSuchNamespace) {
				return configErrorf("table %s.%s is not created yet: the first run creates it", spec.Target.Namespace, name)
			}
			if err != nil {
				return err
			}

			// The legacy table read as if it were the spec table's source.
			opts.ExpectedRows = totalRecords(tbl)
			if !quiet {
				errw := cmd.ErrOrStderr()
				opts.Progress = func(format string, args ...any) {
					fmt.Fprintf(errw, "reconcile %s: "+format+"\n", append([]any{t.Name}, args...)...)
				}
			}
			lt := *t
			lt.SourceTable = legacy
			legacyScan := func(fn func([]row.Value) error) error {
				err := src.Snapshot(ctx, []*jobspec.Table{&lt}, func(_ int, r []row.Value) error { return fn(r) })
				var ce *pgsource.ColumnError
				if errors.As(err, &ce) {
					return configErrorf("legacy table %s does not fit the spec's table %s: %v", legacy, t.Name, err)
				}
				// undefined_table, invalid_schema_name (PostgreSQL's
				// errcodes-table): the name is wrong, retrying will not help.
				var pe *pgconn.PgError
				if errors.As(err, &pe) && (pe.Code == "42P01" || pe.Code == "3F000") {
					return configErrorf("legacy table %s: %v; --legacy-table names it as schema.table", legacy, pe.Message)
				}
				return err
			}
			cols := columnList(t)
			newScan := func(fn func([]row.Value) error) error {
				return target.ScanAt(ctx, tbl, 0, cols, fn)
			}
			rep, err := reconcile.Compare(t, legacyScan, newScan, opts)
			if errors.As(err, new(*reconcile.KeyError)) {
				return &configError{err}
			}
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if format == "json" {
				err = rep.WriteJSON(w, legacy)
			} else {
				err = rep.WriteMarkdown(w, legacy)
			}
			if err != nil {
				return err
			}
			if !rep.Equal() {
				return &reportedError{&differError{t.Name}}
			}
			return nil
		},
	}
	c.register(cmd)
	f := cmd.Flags()
	f.StringVar(&name, "table", "", "the live table to check: the dataset's Iceberg name (required)")
	f.StringVar(&legacy, "legacy-table", "", "the legacy PostgreSQL table, schema.table (required)")
	f.StringVar(&tsPrec, "timestamp-precision", "", "truncate times and timestamps of both sides to this unit: us, ms, s or a duration (default: exact)")
	f.Float64Var(&opts.FloatEpsilon, "float-epsilon", 0, "floats equal when they differ by at most this")
	f.BoolVar(&opts.TrimText, "trim-text", false, "ignore trailing spaces of strings (char padding)")
	f.StringVar(&freshness, "freshness-column", "", "report the newest value of this column on each side")
	f.StringVar(&format, "format", "markdown", "markdown or json")
	f.IntVar(&opts.MaxDiffs, "max-diffs", 20, "differing keys to list at most (the counts cover all)")
	f.StringVar(&opts.SpillDir, "spill-dir", "", "folder for both tables' rows, spilled compressed while comparing (default $TMPDIR)")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress on stderr")
	_ = cmd.MarkFlagRequired("table")
	_ = cmd.MarkFlagRequired("legacy-table")
	return cmd
}

// totalRecords is the rows in tbl's data files (Iceberg's total-records,
// before deletes): an estimate that sizes the key ranges.
func totalRecords(tbl *table.Table) int64 {
	if snap := tbl.CurrentSnapshot(); snap != nil && snap.Summary != nil {
		return num(snap.Summary.Properties["total-records"])
	}
	return 0
}

// liveTable is the spec's live table of that name.
func liveTable(spec *jobspec.Spec, name string) (*jobspec.Table, error) {
	var names []string
	for i := range spec.Tables {
		t := &spec.Tables[i]
		if t.Name == name {
			if t.Mode != jobspec.ModeLive {
				return nil, configErrorf("--table %s is a %s table: reconcile compares a live table with its legacy copy", name, t.Mode)
			}
			return t, nil
		}
		names = append(names, spec.Tables[i].Name)
	}
	return nil, configErrorf("--table %q is not a table of job spec %s; its tables are %s", name, spec.Stream, strings.Join(names, ", "))
}

func parsePrecision(s string) (time.Duration, error) {
	var d time.Duration
	switch s {
	case "", "exact":
		return 0, nil
	case "us":
		d = time.Microsecond
	case "ms":
		d = time.Millisecond
	case "s":
		d = time.Second
	default:
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, configErrorf("--timestamp-precision %q: use us, ms, s or a duration such as 10ms", s)
		}
	}
	if d <= 0 || d%time.Microsecond != 0 {
		return 0, configErrorf("--timestamp-precision %q: use a positive whole number of microseconds or more", s)
	}
	return d, nil
}

func hasColumn(t *jobspec.Table, name string) bool {
	for _, c := range t.Columns {
		if c.Name == name {
			return true
		}
	}
	return false
}

func columnList(t *jobspec.Table) []string {
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = c.Name
	}
	return cols
}

func columnNames(t *jobspec.Table) string { return strings.Join(columnList(t), ", ") }
