package merge

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/apache/iceberg-go/table/compaction"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// propPrefix starts every snapshot summary property the merge-runner
// writes; compaction carries all of them, whatever they are.
const propPrefix = "datasurface."

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
	// BeforeCommit, when set, runs before each catalog commit of a table's
	// maintenance (step is "compaction" or "expiry"); an error it returns
	// fails that table as if the commit had. Tests use it.
	BeforeCommit func(table, step string) error
}

// DefaultMaintainOptions are the maintain command's defaults.
func DefaultMaintainOptions() MaintainOptions {
	return MaintainOptions{KeepLast: 10, KeepNewerThan: 7 * 24 * time.Hour, MinInputFiles: 5}
}

// MaintainStats is what maintenance did to one table.
type MaintainStats struct {
	Table string `json:"table"`
	// Status is ok, absent (the table is not created yet) or failed; Error
	// says why it failed. What was done
	// before a failure is still counted.
	Status             string `json:"status"`
	Error              string `json:"error,omitempty"`
	RewrittenFiles     int    `json:"rewritten_files"`
	AddedFiles         int    `json:"added_files"`
	RemovedDeleteFiles int    `json:"removed_delete_files"`
	BytesBefore        int64  `json:"bytes_before"`
	BytesAfter         int64  `json:"bytes_after"`
	ExpiredSnapshots   int    `json:"expired_snapshots"`
	// Warnings are problems that did not fail the table: files of expired
	// snapshots that could not be deleted (left for orphan-file clean-up).
	Warnings []string `json:"warnings,omitempty"`
	// Err is the table's error, for callers that classify it.
	Err error `json:"-"`
}

func (o MaintainOptions) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

func (o MaintainOptions) beforeCommit(table, step string) error {
	if o.BeforeCommit == nil {
		return nil
	}
	return o.BeforeCommit(table, step)
}

// Maintain compacts each table's small data files, folding in the equality
// deletes that apply to them and removing those that no longer apply to
// anything, then expires old snapshots. The compaction snapshot carries the
// table's applied position, so the position survives even when every
// merge snapshot is expired.
//
// A table that fails does not stop the others: every table has its stats,
// with its status, and the error joins the failed tables' errors.
func Maintain(ctx context.Context, cat catalog.Catalog, spec *jobspec.Spec, opts MaintainOptions) ([]MaintainStats, error) {
	out := make([]MaintainStats, 0, len(spec.Tables))
	var errs []error
	for i := range spec.Tables {
		st := MaintainStats{Table: spec.Target.Namespace + "." + spec.Tables[i].Name, Status: "ok"}
		log := opts.logger().With("table", st.Table)
		if err := maintainTable(ctx, cat, table.Identifier{spec.Target.Namespace, spec.Tables[i].Name}, opts, log, &st); err != nil {
			err = fmt.Errorf("table %s: %w", st.Table, err)
			st.Status, st.Error, st.Err = "failed", err.Error(), err
			errs = append(errs, err)
			log.Error("maintenance failed", "error", err.Error(), "rewritten_files", st.RewrittenFiles, "expired_snapshots", st.ExpiredSnapshots)
		} else {
			log.Info("maintained", "rewritten_files", st.RewrittenFiles, "added_files", st.AddedFiles,
				"removed_delete_files", st.RemovedDeleteFiles, "expired_snapshots", st.ExpiredSnapshots)
		}
		out = append(out, st)
	}
	return out, errors.Join(errs...)
}

func maintainTable(ctx context.Context, cat catalog.Catalog, id table.Identifier, opts MaintainOptions, log *slog.Logger, st *MaintainStats) error {
	tbl, err := cat.LoadTable(ctx, id)
	if errors.Is(err, catalog.ErrNoSuchTable) || errors.Is(err, catalog.ErrNoSuchNamespace) {
		// Not created yet: the first merge creates it; nothing to maintain.
		st.Status = "absent"
		return nil
	}
	if err != nil {
		return err
	}
	if tbl, err = compact(ctx, tbl, opts, st); err != nil {
		return fmt.Errorf("compaction: %w", err)
	}
	if err = expire(ctx, tbl, opts, log, st); err != nil {
		return fmt.Errorf("expiring snapshots: %w", err)
	}
	return nil
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
	tx := tbl.NewTransaction()
	res, err := tx.RewriteDataFiles(ctx, groups, table.RewriteDataFilesOptions{SnapshotProps: carriedProps(tbl, state), ExtraDeleteFilesToRemove: dead})
	if err != nil {
		return nil, err
	}
	if err := opts.beforeCommit(st.Table, "compaction"); err != nil {
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

// carriedProps are the merge-runner's summary properties of the snapshot
// that carries the applied state: every datasurface.* key, so a property a
// merge starts writing survives compaction and expiry without a change here.
func carriedProps(tbl *table.Table, state State) iceberg.Properties {
	props := iceberg.Properties{}
	if state.SnapshotID == 0 {
		return props
	}
	if snap := tbl.SnapshotByID(state.SnapshotID); snap != nil && snap.Summary != nil {
		for k, v := range snap.Summary.Properties {
			if strings.HasPrefix(k, propPrefix) {
				props[k] = v
			}
		}
	}
	return props
}

// expire expires snapshots and then deletes the files only they referenced.
//
// iceberg-go deletes those files in the expiry's post-commit hook
// (removeSnapshotsUpdate.PostCommit, table/updates.go:659), which
// Transaction.Commit runs after the catalog accepted the commit, joining
// the hook's errors onto Commit's (table/transaction.go:3380). The hook
// takes every entry of an expired manifest, DELETED ones too
// (updates.go:744), so once a compaction snapshot expires it deletes again
// the files it rewrote, which the expiry of the snapshots that added them
// already deleted: os.Remove fails (updates.go:806) and a committed expiry
// looked like a failed one. So the expiry commits without the hook, which
// keeps Commit's error the commit's alone, and the same clean-up runs once
// the commit stands: a file already gone is what it wants, and any other
// failure is a warning, the file an orphan for orphan-file clean-up.
func expire(ctx context.Context, tbl *table.Table, opts MaintainOptions, log *slog.Logger, st *MaintainStats) error {
	if len(tbl.Metadata().Snapshots()) <= 1 {
		return nil
	}
	if !tbl.Properties().GetBool(table.GCEnabledKey, table.GCEnabledDefault) {
		return &target.ConfigError{Msg: fmt.Sprintf("%s=false: Iceberg expires no snapshots of a table whose files it may not delete; set it to true, or do not run maintain on this table", table.GCEnabledKey)}
	}
	keep := max(opts.KeepLast, 1)
	tx := tbl.NewTransaction()
	if err := tx.ExpireSnapshots(table.WithRetainLast(keep), table.WithOlderThan(opts.KeepNewerThan), table.WithPostCommit(false)); err != nil {
		return err
	}
	if err := opts.beforeCommit(st.Table, "expiry"); err != nil {
		return err
	}
	next, err := tx.Commit(ctx)
	if err != nil {
		return err
	}
	kept := map[int64]bool{}
	for _, s := range next.Metadata().Snapshots() {
		kept[s.SnapshotID] = true
	}
	var expired []int64
	for _, s := range tbl.Metadata().Snapshots() {
		if !kept[s.SnapshotID] {
			expired = append(expired, s.SnapshotID)
		}
	}
	st.ExpiredSnapshots = len(expired)
	if len(expired) == 0 {
		return nil
	}
	var gone, files []string
	var failed []error
	for _, e := range leaves(table.NewRemoveSnapshotsUpdate(expired, true).PostCommit(ctx, tbl, next)) {
		var pe *iofs.PathError
		named := errors.As(e, &pe)
		// Only a remove may find its file gone: a manifest that cannot be
		// read stops the clean-up before it deletes anything, a warning.
		if named && pe.Op == "remove" && errors.Is(pe.Err, iofs.ErrNotExist) {
			gone = append(gone, pe.Path)
			continue
		}
		if named {
			files = append(files, pe.Path)
		}
		failed = append(failed, e)
	}
	if len(gone) > 0 {
		log.Debug("files of expired snapshots were already deleted", "files", gone)
	}
	if len(failed) > 0 {
		err := errors.Join(failed...)
		log.Warn("snapshots expired, but some of their files could not be deleted; orphan-file clean-up can remove them",
			"files", files, "error", err.Error())
		st.Warnings = append(st.Warnings, fmt.Sprintf("deleting the files of expired snapshots: %v", err))
	}
	return nil
}

// leaves flattens a tree of joined errors.
func leaves(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	if err == nil {
		return nil
	}
	return []error{err}
}
