package merge

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/apache/iceberg-go/table/compaction"

	"github.com/datasurface/datasurface/jobspec"
)

// MaintainOptions bound what maintenance keeps and rewrites.
type MaintainOptions struct {
	// KeepLast snapshots are always kept, and so is every snapshot newer
	// than KeepNewerThan.
	KeepLast      int
	KeepNewerThan time.Duration
	// TargetFileSize is the size compaction aims for (0: Iceberg's default,
	// 512 MiB); MinInputFiles is the fewest small files worth a rewrite.
	TargetFileSize int64
	MinInputFiles  uint
	Logger         *slog.Logger
}

// MaintainStats is what maintenance did to one table.
type MaintainStats struct {
	Table              string `json:"table"`
	RewrittenFiles     int    `json:"rewritten_files"`
	AddedFiles         int    `json:"added_files"`
	RemovedDeleteFiles int    `json:"removed_delete_files"`
	BytesBefore        int64  `json:"bytes_before"`
	BytesAfter         int64  `json:"bytes_after"`
	ExpiredSnapshots   int    `json:"expired_snapshots"`
}

func (o MaintainOptions) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// Maintain compacts each table's small data files, folding in the equality
// deletes that apply to them and removing those that no longer apply to
// anything, then expires old snapshots. The compaction snapshot carries the
// table's applied position, so the position survives even when every
// merge snapshot is expired.
func Maintain(ctx context.Context, cat catalog.Catalog, spec *jobspec.Spec, opts MaintainOptions) ([]MaintainStats, error) {
	var out []MaintainStats
	for i := range spec.Tables {
		t := &spec.Tables[i]
		st := MaintainStats{Table: spec.Target.Namespace + "." + t.Name}
		tbl, err := cat.LoadTable(ctx, table.Identifier{spec.Target.Namespace, t.Name})
		if err != nil {
			return out, fmt.Errorf("table %s: %w", st.Table, err)
		}
		if tbl, err = compact(ctx, tbl, opts, &st); err != nil {
			return out, fmt.Errorf("table %s: compaction: %w", st.Table, err)
		}
		if tbl, err = expire(ctx, tbl, opts, &st); err != nil {
			return out, fmt.Errorf("table %s: expiring snapshots: %w", st.Table, err)
		}
		opts.logger().Info("maintained", "table", st.Table, "rewritten_files", st.RewrittenFiles, "added_files", st.AddedFiles,
			"removed_delete_files", st.RemovedDeleteFiles, "expired_snapshots", st.ExpiredSnapshots)
		out = append(out, st)
	}
	return out, nil
}

func compact(ctx context.Context, tbl *table.Table, opts MaintainOptions, st *MaintainStats) (*table.Table, error) {
	snap := tbl.CurrentSnapshot()
	if snap == nil {
		return tbl, nil
	}
	cfg := compaction.DefaultConfig()
	if opts.TargetFileSize > 0 {
		cfg.TargetFileSizeBytes = opts.TargetFileSize
		cfg.MinFileSizeBytes = opts.TargetFileSize * 3 / 4
		cfg.MaxFileSizeBytes = opts.TargetFileSize * 9 / 5
	}
	if opts.MinInputFiles > 0 {
		cfg.MinInputFiles = opts.MinInputFiles
	}
	plan, err := compaction.Analyze(ctx, tbl, cfg)
	if err != nil || len(plan.Groups) == 0 {
		return tbl, err
	}
	groups := make([]table.CompactionTaskGroup, len(plan.Groups))
	rewritten := map[string]struct{}{}
	for i, g := range plan.Groups {
		groups[i] = table.CompactionTaskGroup{PartitionKey: g.PartitionKey, Tasks: g.Tasks, TotalSizeBytes: g.TotalSizeBytes}
		for _, task := range g.Tasks {
			rewritten[task.File.FilePath()] = struct{}{}
		}
	}
	fs, err := tbl.FS(ctx)
	if err != nil {
		return nil, err
	}
	dead, err := compaction.CollectDeadEqualityDeletesWithSpecs(ctx, fs, tbl.Metadata(), snap, rewritten)
	if err != nil {
		return nil, err
	}
	state, err := ReadState(tbl)
	if err != nil {
		return nil, err
	}
	props := iceberg.Properties{}
	if state.SnapshotID != 0 {
		// Carry the applied position forward onto the rewrite snapshot.
		for _, k := range []string{PropPosition, PropBatch, PropSourceTsMs, PropStream, PropWatermark} {
			if v, ok := tbl.SnapshotByID(state.SnapshotID).Summary.Properties[k]; ok {
				props[k] = v
			}
		}
	}
	tx := tbl.NewTransaction()
	res, err := tx.RewriteDataFiles(ctx, groups, table.RewriteDataFilesOptions{SnapshotProps: props, ExtraDeleteFilesToRemove: dead})
	if err != nil {
		return nil, err
	}
	next, err := tx.Commit(ctx)
	if err != nil {
		return nil, err
	}
	st.RewrittenFiles = res.RemovedDataFiles
	st.AddedFiles = res.AddedDataFiles
	st.RemovedDeleteFiles = res.RemovedEqualityDeleteFiles + res.RemovedPositionDeleteFiles
	st.BytesBefore, st.BytesAfter = res.BytesBefore, res.BytesAfter
	return next, nil
}

func expire(ctx context.Context, tbl *table.Table, opts MaintainOptions, st *MaintainStats) (*table.Table, error) {
	before := len(tbl.Metadata().Snapshots())
	if before <= 1 {
		return tbl, nil
	}
	keep := max(opts.KeepLast, 1)
	tx := tbl.NewTransaction()
	if err := tx.ExpireSnapshots(table.WithRetainLast(keep), table.WithOlderThan(opts.KeepNewerThan)); err != nil {
		return nil, err
	}
	next, err := tx.Commit(ctx)
	if err != nil {
		return nil, err
	}
	st.ExpiredSnapshots = before - len(next.Metadata().Snapshots())
	return next, nil
}
