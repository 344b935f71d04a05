package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/landing"
	"github.com/datasurface/datasurface/merge-runner/internal/merge"
	"github.com/datasurface/datasurface/merge-runner/internal/pgsource"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// summary is the last line a run prints: one JSON object.
type summary struct {
	outcome
	Stream          string   `json:"stream"`
	Events          int64    `json:"events"`
	RowsInserted    int64    `json:"rows_inserted"`
	RowsUpdated     int64    `json:"rows_updated"`
	RowsDeleted     int64    `json:"rows_deleted"`
	Batches         int64    `json:"batches"`
	Files           int64    `json:"files"`
	Bytes           int64    `json:"bytes"`
	LagSeconds      *float64 `json:"lag_seconds"`
	DurationSeconds float64  `json:"duration_seconds"`
	// Warnings gathers the tables' warnings, each naming its table and,
	// for landed events, where they were looked for.
	Warnings []string           `json:"warnings,omitempty"`
	Tables   []merge.TableStats `json:"tables"`
}

func newRunCmd() *cobra.Command {
	var c common
	var events string
	var maxEvents int
	var maxBytes int64
	var retries int
	var grace time.Duration
	var limits landing.Limits
	var runID, runsDir string
	cmd := &cobra.Command{
		Use:   "run --job SPEC",
		Short: "Apply the landed change events of a stream to its Iceberg tables",
		Long: `Reads the Debezium change events Kafka Connect's S3 sink landed for each table
of the job spec, from the position the table's last commit recorded, and
merges them in bounded batches, one Iceberg commit each, in the source's
commit order across the topic's partitions. A partition's position never
moves past a missing offset: the run applies what comes before the gap,
reports it, and exits 5 once it has lasted the grace period. Ends with one
line of JSON on stdout: rows inserted, updated and deleted (change events by
operation), batches, files, bytes, the lag between the newest applied
event's source time and now, and per table what was held back and why.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			started := time.Now()
			log, err := c.logger(cmd)
			if err != nil {
				return err
			}
			spec, err := c.spec()
			if err != nil {
				return err
			}
			sum := summary{Stream: spec.Stream}
			err = func() error {
				if spec.Source.Kind == jobspec.SourceTransformer || runID != "" {
					if spec.Source.Kind != jobspec.SourceTransformer {
						return configErrorf("--run names a transformer run; job spec %s has source kind %s", spec.Stream, spec.Source.Kind)
					}
					return runTransformer(cmd.Context(), &c, spec, runID, runsDir, maxEvents, log, &sum)
				}
				if spec.Source.Postgres != nil {
					return runSQL(cmd.Context(), &c, spec, maxEvents, log, &sum)
				}
				st, err := store(cmd.Context(), spec, events)
				if err != nil {
					return err
				}
				cat, err := c.openCatalog(cmd.Context(), spec)
				if err != nil {
					return err
				}
				defer func() { _ = target.CloseCatalog(cat) }()
				prefix := spec.Source.Debezium.Prefix
				tables, err := merge.Run(cmd.Context(), cat, spec, merge.Options{
					Store: st, Prefix: prefix, MaxEvents: maxEvents, MaxBytes: maxBytes, Retries: retries, Logger: log,
					Grace: grace, Limits: limits,
				})
				sum.add(tables, time.Now())
				where := "bucket " + spec.Source.Debezium.Bucket
				if events != "" {
					where = "--events " + events
				}
				sum.warn(tables, " (in "+where+")")
				return err
			}()
			sum.DurationSeconds = time.Since(started).Seconds()
			return report(cmd.OutOrStdout(), log, "run failed", &sum.outcome, &sum, err)
		},
	}
	c.register(cmd)
	f := cmd.Flags()
	f.StringVar(&runID, "run", "", "the transformer run to merge (source kind transformer): its folder under source.transformer.output")
	f.StringVar(&runsDir, "runs", "", "read the transformer's runs from this local folder instead of the spec's source.transformer.output")
	f.StringVar(&events, "events", "", "read landed events from this local folder (the landing bucket's root) instead of the job spec's S3 bucket")
	f.IntVar(&maxEvents, "max-events", 0, "events per batch (default: the job spec's batch.max_events)")
	f.Int64Var(&maxBytes, "max-bytes", 0, "event bytes per batch (default: the job spec's batch.max_bytes)")
	f.IntVar(&retries, "retries", 5, "times a batch whose commit failed is retried after reloading the table")
	f.DurationVar(&grace, "grace", 0, "how long a missing offset, or a silent partition of a topic with several, is waited for (default: the job spec's source.debezium.grace_seconds, else 15m)")
	f.Int64Var(&limits.MaxLineBytes, "max-line-bytes", 0, "longest landed event line (default: the job spec's, else 64 MiB)")
	f.Int64Var(&limits.MaxObjectBytes, "max-object-bytes", 0, "most a compressed landed object may expand to (default: the job spec's, else 16 GiB)")
	f.Int64Var(&limits.MaxCompressionRatio, "max-compression-ratio", 0, "most a compressed landed object may expand relative to its size, past 64 MiB (default: the job spec's, else 250)")
	return cmd
}

func (s *summary) add(tables []merge.TableStats, now time.Time) {
	s.Tables = tables
	oldest := int64(0)
	for _, t := range tables {
		s.Events += t.Events
		s.RowsInserted += t.Inserted
		s.RowsUpdated += t.Updated
		s.RowsDeleted += t.Deleted
		s.Batches += t.Batches
		s.Files += t.Files
		s.Bytes += t.Bytes
		if t.NewestSourceTsMs > 0 && (oldest == 0 || t.NewestSourceTsMs < oldest) {
			oldest = t.NewestSourceTsMs
		}
	}
	if oldest > 0 {
		lag := now.Sub(time.UnixMilli(oldest)).Seconds()
		s.LagSeconds = &lag
	}
}

// warn gathers the tables' warnings into the summary, each followed by
// where.
func (s *summary) warn(tables []merge.TableStats, where string) {
	for _, t := range tables {
		for _, w := range t.Warnings {
			s.Warnings = append(s.Warnings, t.Table+": "+w+where)
		}
	}
}

// outcome opens every command's JSON summary: ok or failed, the exit code
// and the error.
type outcome struct {
	Status   string `json:"status"` // ok or failed
	ExitCode int    `json:"exit_code"`
	Error    string `json:"error,omitempty"`
}

// report ends a command: it sets o from err, logs a failure as failed (when
// log is given), prints sum, which holds o, as the last line on w, and
// returns err marked as reported. Pass sum by pointer: it is printed after o is set.
func report(w io.Writer, log *slog.Logger, failed string, o *outcome, sum any, err error) error {
	o.Status, o.ExitCode, o.Error = "ok", exitCode(err), ""
	if err != nil {
		o.Status, o.Error = "failed", err.Error()
		if log != nil {
			log.Error(failed, "error", err.Error(), "exit_code", o.ExitCode)
		}
	}
	writeJSONLine(w, sum)
	if err != nil {
		return &reportedError{err}
	}
	return nil
}

func writeJSONLine(w io.Writer, v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintln(w, string(b))
}

// runSQL runs a postgres_snapshot or postgres_watermark spec: the source
// database's endpoint and credentials come from the environment, as the
// DAG sets them.
func runSQL(ctx context.Context, c *common, spec *jobspec.Spec, maxEvents int, log *slog.Logger, sum *summary) error {
	uri := os.Getenv(envSourceURI)
	if uri == "" {
		return configErrorf("source kind %s: set %s to the source database (postgresql://HOST[:PORT]/DB)", spec.Source.Kind, envSourceURI)
	}
	src, err := pgsource.Open(ctx, uri, os.Getenv(envSourceUser), os.Getenv(envSourcePassword))
	if err != nil {
		return err
	}
	defer func() { _ = src.Close(ctx) }()
	cat, err := c.openCatalog(ctx, spec)
	if err != nil {
		return err
	}
	defer func() { _ = target.CloseCatalog(cat) }()
	tables, err := merge.RunSQL(ctx, cat, spec, src, merge.Options{MaxEvents: maxEvents, Logger: log})
	sum.add(tables, time.Now())
	return err
}
