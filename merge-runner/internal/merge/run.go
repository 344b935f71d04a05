package merge

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/debezium"
	"github.com/datasurface/datasurface/merge-runner/internal/landing"
	"github.com/datasurface/datasurface/merge-runner/internal/order"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// Options are a run's settings that do not come from the job spec.
type Options struct {
	// Store holds the landed events; Prefix is the sink's topics.dir.
	Store  landing.Store
	Prefix string
	// MaxEvents and MaxBytes bound a batch (0: the spec's value).
	MaxEvents int
	MaxBytes  int64
	// Retries is how often a batch whose commit failed is tried again
	// after reloading the table, before the run gives up.
	Retries int
	// Backoff is the first wait between retries; it doubles each time.
	Backoff time.Duration
	// Grace is how long missing landed events are waited for (0: the
	// spec's grace_seconds, else jobspec.DefaultGraceSeconds); Now is the
	// clock it is measured with (time.Now when nil).
	Grace time.Duration
	Now   func() time.Time
	// Limits bound the reading of landed objects (zero fields: the spec's,
	// else landing's defaults).
	Limits landing.Limits
	Logger *slog.Logger
	// BeforeCommit and AfterCommit, when set, run around each batch's
	// catalog commit; an error they return ends the run as if the process
	// had died there. Crash tests use them.
	BeforeCommit func(table string, batch int64) error
	AfterCommit  func(table string, batch int64) error
	// Properties are recorded in the summary of each snapshot RunSnapshot
	// commits, beside its own (a transformer run's inputs).
	Properties map[string]string
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// CommitError is a batch whose commit kept failing: the catalog refused it
// (another writer moved the table) or could not be reached. Retrying the
// run is safe: the position committed with the data says where to resume.
type CommitError struct {
	Table string
	Err   error
}

func (e *CommitError) Error() string {
	return fmt.Sprintf("table %s: commit failed after retries: %v", e.Table, e.Err)
}

func (e *CommitError) Unwrap() error { return e.Err }

// IncompleteError is landed events still missing after the grace period:
// what could be applied was; a later run resumes once they land.
type IncompleteError struct {
	Table string
	Holds []order.Hold
}

func (e *IncompleteError) Error() string {
	var parts []string
	for _, h := range e.Holds {
		if h.Gap != nil && h.Expired {
			parts = append(parts, h.String())
		}
	}
	return fmt.Sprintf("table %s: landed events are missing past the grace period: %s; the position stays before the gap: land the missing objects (or, if they are lost, rebuild the table from a new snapshot)", e.Table, strings.Join(parts, "; "))
}

// TableStats is what a run did to one table.
type TableStats struct {
	Table      string   `json:"table"`
	Events     int64    `json:"events"`
	Inserted   int64    `json:"rows_inserted"`
	Updated    int64    `json:"rows_updated"`
	Deleted    int64    `json:"rows_deleted"`
	Truncates  int64    `json:"truncates"`
	Batches    int64    `json:"batches"`
	Files      int64    `json:"files"`
	Bytes      int64    `json:"bytes"`
	Conflicts  int64    `json:"conflicts"`
	Evolutions []string `json:"evolutions,omitempty"`
	// Position is the table's applied position at the end of the run.
	Position string `json:"position"`
	// NewestSourceTsMs is the newest source.ts_ms the table has applied.
	NewestSourceTsMs int64 `json:"newest_source_ts_ms"`
	// Holds say why the run stopped before the end of the landed events:
	// an offset gap, or a partition waited for (package order).
	Holds []order.Hold `json:"holds,omitempty"`
	// Superseded counts events dropped because a truncate committed after
	// them had been applied already (topics of several partitions).
	Superseded int64 `json:"superseded,omitempty"`
	// Warnings are problems that did not fail the run, such as a topic with
	// nothing landed under the key the spec names.
	Warnings []string `json:"warnings,omitempty"`
}

// counts accumulates files written by a batch.
type counts struct{ files, bytes int64 }

func (c *counts) addFiles(sets ...[]iceberg.DataFile) {
	for _, s := range sets {
		for _, f := range s {
			c.files++
			c.bytes += f.FileSizeBytes()
		}
	}
}

// NoLandedObjects is the warning for a topic under which nothing is landed
// and that nothing was applied from: it names the keys looked for.
func NoLandedObjects(prefix, topic string) string {
	return fmt.Sprintf("no landed objects for topic %s: looked for %spartition=<p>/%s+<p>+<start offset>.json[.gz] and found none; "+
		"if events should be there, check that the job spec's source.debezium.prefix (%q) is the S3 sink's topics.dir, "+
		"that the topic is the connector's (<topic.prefix>.<schema>.<table>), and that the landing location (--events or the bucket) is the sink's",
		topic, landing.TopicPrefix(prefix, topic), topic, prefix)
}

// Run applies the landed events of every table of a debezium spec.
func Run(ctx context.Context, cat catalog.Catalog, spec *jobspec.Spec, opts Options) ([]TableStats, error) {
	if err := CheckSpec(spec); err != nil {
		return nil, err
	}
	if spec.Source.Kind != jobspec.SourceDebezium {
		return nil, &target.ConfigError{Msg: fmt.Sprintf("job spec %s: source kind %s is not supported by this merge-runner yet; only debezium sources are", spec.Stream, spec.Source.Kind)}
	}
	if opts.MaxEvents == 0 {
		opts.MaxEvents = spec.Batch.MaxEvents
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = spec.Batch.MaxBytes
	}
	if opts.Backoff == 0 {
		opts.Backoff = 200 * time.Millisecond
	}
	if opts.Grace == 0 {
		opts.Grace = time.Duration(spec.Source.Debezium.GraceSeconds) * time.Second
		if opts.Grace == 0 {
			opts.Grace = jobspec.DefaultGraceSeconds * time.Second
		}
	}
	lim := spec.Source.Debezium.Limits
	opts.Limits.MaxLineBytes = cmp.Or(opts.Limits.MaxLineBytes, lim.MaxLineBytes)
	opts.Limits.MaxObjectBytes = cmp.Or(opts.Limits.MaxObjectBytes, lim.MaxObjectBytes)
	opts.Limits.MaxCompressionRatio = cmp.Or(opts.Limits.MaxCompressionRatio, lim.MaxCompressionRatio)
	var out []TableStats
	for i := range spec.Tables {
		st, err := runTable(ctx, cat, spec, &spec.Tables[i], opts)
		out = append(out, st)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func runTable(ctx context.Context, cat catalog.Catalog, spec *jobspec.Spec, t *jobspec.Table, opts Options) (TableStats, error) {
	name := spec.Target.Namespace + "." + t.Name
	stats := TableStats{Table: name}
	log := opts.logger().With("table", name)
	tbl, evs, err := target.Ensure(ctx, cat, spec.Target.Namespace, t)
	if err != nil {
		return stats, err
	}
	for _, e := range evs {
		stats.Evolutions = append(stats.Evolutions, e.String())
		log.Info("schema evolved", "change", e.String())
	}
	dec, err := debezium.NewDecoder(t, spec.Source.Debezium.Encoding)
	if err != nil {
		return stats, &target.ConfigError{Msg: err.Error()}
	}
	files, err := landing.ListTopic(ctx, opts.Store, opts.Prefix, t.Topic)
	if err != nil {
		return stats, err
	}
	state, err := ReadState(tbl)
	if err != nil {
		return stats, err
	}
	if len(files) == 0 && len(state.Position) == 0 {
		// Nothing landed and nothing applied: most often the prefix or
		// the topic does not match what the sink writes (its topics.dir
		// and the connector's topic.prefix), or the landing location is
		// wrong. Not an error: a new stream has nothing landed yet either.
		w := NoLandedObjects(opts.Prefix, t.Topic)
		stats.Warnings = append(stats.Warnings, w)
		log.Warn(w, "prefix", opts.Prefix, "topic", t.Topic)
	}
	log.Info("starting", "files", len(files), "position", state.Position.Encode(), "batch", state.Batch)
	open := func(st State) *order.Merger {
		return order.New(ctx, opts.Store, files, dec, st.orderState(), order.Options{Grace: opts.Grace, Now: opts.Now, Limits: opts.Limits})
	}
	merger := open(state)
	defer func() { _ = merger.Close() }()
	// The next batch is read while this one is written and committed: one
	// core decodes while the other writes Parquet. A failed commit drops it.
	keep := t.Mode == jobspec.ModeForensic
	ahead := startRead(ctx, merger, opts, keep)
	defer func() { ahead.stop() }()
	failures := 0
	var last *batch
	for {
		b, err := ahead.wait()
		if err != nil {
			return stats, err
		}
		last = b
		if !b.eof {
			ahead = startRead(ctx, merger, opts, keep)
		}
		if b.n == 0 {
			break
		}
		started := time.Now()
		var c counts
		res, err := commitBatch(ctx, tbl, spec, t, state, b, opts, &c)
		if err == nil {
			tbl = res
			state, err = ReadState(tbl)
			if err != nil {
				return stats, err
			}
			failures = 0
			stats.add(b, c)
			log.Info("batch committed", "batch", state.Batch, "events", b.n, "files", c.files, "bytes", c.bytes,
				"position", state.Position.Encode(), "snapshot", tbl.CurrentSnapshot().SnapshotID, "seconds", time.Since(started).Seconds())
			if opts.AfterCommit != nil {
				if err := opts.AfterCommit(name, state.Batch); err != nil {
					return stats, err
				}
			}
			if b.eof {
				break
			}
			continue
		}
		if !retryable(err) {
			return stats, err
		}
		// The commit failed: another runner may have applied these events,
		// or the catalog was unreachable. Reload, re-read the position and
		// start again from wherever the table now is.
		stats.Conflicts++
		failures++
		if failures > opts.Retries {
			return stats, &CommitError{Table: name, Err: err}
		}
		log.Warn("commit failed; reloading the table", "attempt", failures, "error", err.Error())
		select {
		case <-ctx.Done():
			return stats, ctx.Err()
		case <-time.After(opts.Backoff << (failures - 1)):
		}
		fresh, lerr := cat.LoadTable(ctx, tbl.Identifier())
		if lerr != nil {
			return stats, &CommitError{Table: name, Err: errors.Join(err, lerr)}
		}
		tbl = fresh
		if state, err = ReadState(tbl); err != nil {
			return stats, err
		}
		ahead.stop()
		_ = merger.Close()
		merger = open(state)
		ahead = startRead(ctx, merger, opts, keep)
	}
	stats.Position = state.Position.Encode()
	stats.NewestSourceTsMs = state.SourceTsMs
	stats.Holds = last.holds
	stats.Superseded = last.superseded
	incomplete := false
	for _, h := range stats.Holds {
		log.Warn("landed events held back", "hold", h.String(), "expired", h.Expired)
		incomplete = incomplete || (h.Gap != nil && h.Expired)
	}
	if stats.Superseded > 0 {
		log.Warn("events dropped: a truncate committed after them was applied already", "events", stats.Superseded)
	}
	log.Info("done", "position", stats.Position, "batches", stats.Batches, "events", stats.Events)
	if incomplete {
		return stats, &IncompleteError{Table: name, Holds: stats.Holds}
	}
	return stats, nil
}

// readAhead is a batch being read in the background.
type readAhead struct {
	done   chan struct{}
	cancel context.CancelFunc
	b      *batch
	err    error
}

func startRead(ctx context.Context, m *order.Merger, opts Options, keep bool) *readAhead {
	ctx, cancel := context.WithCancel(ctx)
	a := &readAhead{done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(a.done)
		a.b, a.err = readBatch(ctx, m, opts.MaxEvents, opts.MaxBytes, keep)
	}()
	return a
}

// wait returns the batch once read; an empty batch when none is pending.
func (a *readAhead) wait() (*batch, error) {
	if a == nil {
		return &batch{eof: true}, nil
	}
	<-a.done
	return a.b, a.err
}

// stop abandons the read and waits for it to end, so that the reader is
// free again.
func (a *readAhead) stop() {
	if a != nil {
		a.cancel()
		<-a.done
	}
}

// commitBatch stages the batch on a transaction and commits it.
func commitBatch(ctx context.Context, tbl *table.Table, spec *jobspec.Spec, t *jobspec.Table, state State, b *batch, opts Options, c *counts) (*table.Table, error) {
	l, err := newLayout(tbl, t)
	if err != nil {
		return nil, err
	}
	props := iceberg.Properties(state.props(spec.Stream, b.to, b.newestTsMs, b.watermark))
	tx := tbl.NewTransaction()
	if t.Mode == jobspec.ModeForensic {
		err = stageForensic(ctx, tx, l, b, state.Batch+1, t.WriteMode == "copy_on_write", props, c)
	} else {
		err = stageLive(ctx, tx, l, b.fold.Result(), t.WriteMode == "copy_on_write", props, c)
	}
	if err != nil {
		return nil, err
	}
	if opts.BeforeCommit != nil {
		if err := opts.BeforeCommit(spec.Target.Namespace+"."+t.Name, state.Batch+1); err != nil {
			return nil, err
		}
	}
	next, err := tx.Commit(ctx)
	if err != nil {
		return nil, &commitFailed{err}
	}
	return next, nil
}

// commitFailed marks an error of the catalog commit itself, which a reload
// and retry may fix.
type commitFailed struct{ err error }

func (e *commitFailed) Error() string { return "commit: " + e.err.Error() }
func (e *commitFailed) Unwrap() error { return e.err }

func retryable(err error) bool {
	var cf *commitFailed
	return errors.As(err, &cf)
}

func (s *TableStats) add(b *batch, c counts) {
	s.Batches++
	s.Events += int64(b.n)
	s.Files += c.files
	s.Bytes += c.bytes
	s.Inserted += b.ops.inserts
	s.Updated += b.ops.updates
	s.Deleted += b.ops.deletes
	s.Truncates += b.ops.truncates
}
