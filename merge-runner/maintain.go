package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/datasurface/datasurface/merge-runner/internal/merge"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// maintainSummary is the last line maintain prints: one JSON object.
type maintainSummary struct {
	outcome
	Stream          string           `json:"stream"`
	DurationSeconds float64          `json:"duration_seconds"`
	Tables          []maintainedInfo `json:"tables"`
}

// maintainedInfo is one table's part of the summary.
type maintainedInfo struct {
	merge.MaintainStats
	ExitCode int `json:"exit_code"`
}

func newMaintainCmd() *cobra.Command {
	var c common
	opts := merge.DefaultMaintainOptions()
	cmd := &cobra.Command{
		Use:   "maintain --job SPEC",
		Short: "Compact data files, fold equality deletes and expire old snapshots",
		Long: `Rewrites each table's small data files into files of --target-file-size with
the equality deletes that apply to them folded in, removes equality deletes
that no longer apply to any file, and expires snapshots, keeping the last
--keep-last and every one newer than --keep-newer-than, then deletes the
files only the expired snapshots referenced. The table's applied position
(every datasurface.* summary property) is carried onto the compaction
snapshot, so expiry never loses it.

A table that fails does not stop the others. A file of an expired snapshot
that cannot be deleted is a warning, not a failure: the expiry is committed
and the file is left for orphan-file clean-up. Ends with one line of JSON on
stdout: the status and exit code, and per table its status, error, warnings
and what was done; the exit code is that of the worst failure.`,
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
			sum := maintainSummary{Stream: spec.Stream, Tables: []maintainedInfo{}}
			err = func() error {
				cat, err := c.openCatalog(cmd.Context(), spec)
				if err != nil {
					return err
				}
				defer func() { _ = target.CloseCatalog(cat) }()
				opts.Logger = log
				stats, err := merge.Maintain(cmd.Context(), cat, spec, opts)
				for _, st := range stats {
					sum.Tables = append(sum.Tables, maintainedInfo{MaintainStats: st, ExitCode: exitCode(st.Err)})
				}
				return err
			}()
			sum.DurationSeconds = time.Since(started).Seconds()
			return report(cmd.OutOrStdout(), log, "maintenance failed", &sum.outcome, &sum, err)
		},
	}
	c.register(cmd)
	f := cmd.Flags()
	f.IntVar(&opts.KeepLast, "keep-last", opts.KeepLast, "snapshots always kept")
	f.DurationVar(&opts.KeepNewerThan, "keep-newer-than", opts.KeepNewerThan, "snapshots newer than this are kept")
	f.Int64Var(&opts.TargetFileSize, "target-file-size", opts.TargetFileSize, "compaction's target data file size in bytes (default: Iceberg's 512 MiB)")
	f.UintVar(&opts.MinInputFiles, "min-input-files", opts.MinInputFiles, "fewest small files in a partition worth rewriting")
	return cmd
}
