package merge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apache/iceberg-go/catalog"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/badinput"
	"github.com/datasurface/datasurface/merge-runner/internal/debezium"
	"github.com/datasurface/datasurface/merge-runner/internal/pgsource"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// SQLSource reads a source table: every row, or with a watermark column
// the rows above a watermark in watermark order (pgsource.Source).
type SQLSource interface {
	Rows(ctx context.Context, t *jobspec.Table, watermark string, after *string, fn func(r []row.Value, wm string) error) error
}

// RunSQL applies a postgres_snapshot (RunSnapshot) or postgres_watermark
// spec.
//
// A watermark capture upserts the rows whose watermark column grew
// past the position the table records, in batches cut only where the
// watermark changes, each commit recording the greatest watermark it
// applied; a row's deletion at the source is not seen by a watermark.
func RunSQL(ctx context.Context, cat catalog.Catalog, spec *jobspec.Spec, src SQLSource, opts Options) ([]TableStats, error) {
	if err := CheckSpec(spec); err != nil {
		return nil, err
	}
	if spec.Source.Postgres == nil {
		return nil, &target.ConfigError{Msg: fmt.Sprintf("job spec %s: source kind %s has no source.postgres", spec.Stream, spec.Source.Kind)}
	}
	if spec.Source.Kind == jobspec.SourceSnapshot {
		ss, ok := src.(SnapshotSource)
		if !ok {
			return nil, fmt.Errorf("job spec %s: the source cannot take a snapshot", spec.Stream)
		}
		return RunSnapshot(ctx, cat, spec, ss, opts)
	}
	if opts.MaxEvents == 0 {
		opts.MaxEvents = spec.Batch.MaxEvents
	}
	var out []TableStats
	for i := range spec.Tables {
		st, err := runSQLTable(ctx, cat, spec, &spec.Tables[i], src, opts)
		out = append(out, st)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func runSQLTable(ctx context.Context, cat catalog.Catalog, spec *jobspec.Spec, t *jobspec.Table, src SQLSource, opts Options) (TableStats, error) {
	name := spec.Target.Namespace + "." + t.Name
	stats := TableStats{Table: name}
	watermark := spec.Source.Postgres.WatermarkColumn
	if watermark == "" {
		return stats, &target.ConfigError{Msg: fmt.Sprintf("job spec %s: a watermark source needs source.postgres.watermark_column", spec.Stream)}
	}
	tbl, evs, err := target.Ensure(ctx, cat, spec.Target.Namespace, t)
	if err != nil {
		return stats, err
	}
	for _, e := range evs {
		stats.Evolutions = append(stats.Evolutions, e.String())
	}
	state, err := ReadState(tbl)
	if err != nil {
		return stats, err
	}
	keys := keyIndexes(t)
	keep := t.Mode == jobspec.ModeForensic
	now := time.Now().UnixMilli()

	commit := func(b *batch) error {
		var c counts
		next, err := commitBatch(ctx, tbl, spec, t, state, b, opts, &c)
		if err != nil {
			var cf *commitFailed
			if errors.As(err, &cf) {
				// Another run moved the table: the next run resumes from
				// whatever it recorded.
				return &CommitError{Table: name, Err: err}
			}
			return err
		}
		tbl = next
		if state, err = ReadState(tbl); err != nil {
			return err
		}
		stats.add(b, c)
		opts.logger().Info("batch committed", "table", name, "batch", state.Batch, "rows", b.n, "files", c.files, "watermark", deref(b.watermark))
		return nil
	}

	b := newBatch(keep, 1<<12)
	last := ""
	err = src.Rows(ctx, t, watermark, state.Watermark, func(r []row.Value, wm string) error {
		if b.n >= opts.MaxEvents && opts.MaxEvents > 0 && wm != last {
			// Cut only where the watermark changes: the next run reads
			// strictly above the recorded one.
			w := last
			b.watermark = &w
			if err := commit(b); err != nil {
				return err
			}
			b = newBatch(keep, 1<<12)
		}
		last = wm
		ev := debezium.Event{Op: debezium.OpUpdate, Key: pick(r, keys), After: r, SourceTsMs: now}
		if ms, ok := timestampMs(wm); ok {
			ev.SourceTsMs = ms
		}
		b.add(ev)
		return nil
	})
	var re *pgsource.RowError
	if errors.As(err, &re) {
		return stats, &badinput.Error{Object: "postgres table " + re.Table, Reason: fmt.Sprintf("row %d: %v", re.Row, re.Err)}
	}
	if err != nil {
		return stats, err
	}
	if b.n > 0 {
		w := last
		b.watermark = &w
		if err := commit(b); err != nil {
			return stats, err
		}
	}
	stats.Position = deref(state.Watermark)
	stats.NewestSourceTsMs = state.SourceTsMs
	return stats, nil
}

func keyIndexes(t *jobspec.Table) []int {
	var out []int
	for _, k := range t.PrimaryKey {
		for i, c := range t.Columns {
			if c.Name == k {
				out = append(out, i)
			}
		}
	}
	return out
}

func pick(r []row.Value, idx []int) []row.Value {
	out := make([]row.Value, len(idx))
	for i, j := range idx {
		out[i] = r[j]
	}
	return out
}

// timestampMs reads a timestamp watermark as PostgreSQL renders it as text.
func timestampMs(s string) (int64, bool) {
	for _, layout := range []string{"2006-01-02 15:04:05.999999Z07", "2006-01-02 15:04:05.999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixMilli(), true
		}
	}
	return 0, false
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
