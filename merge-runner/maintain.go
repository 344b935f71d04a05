package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/datasurface/datasurface/merge-runner/internal/merge"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

func newMaintainCmd() *cobra.Command {
	var c common
	var opts merge.MaintainOptions
	cmd := &cobra.Command{
		Use:   "maintain --job SPEC",
		Short: "Compact data files, fold equality deletes and expire old snapshots",
		Long: `Rewrites each table's small data files into files of --target-file-size with
the equality deletes that apply to them folded in, removes equality deletes
that no longer apply to any file, and expires snapshots, keeping the last
--keep-last and every one newer than --keep-newer-than. The table's applied
position is carried onto the compaction snapshot, so expiry never loses it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := c.logger(cmd)
			if err != nil {
				return err
			}
			spec, err := c.spec()
			if err != nil {
				return err
			}
			cat, err := c.openCatalog(cmd.Context(), spec)
			if err != nil {
				return err
			}
			defer func() { _ = target.CloseCatalog(cat) }()
			opts.Logger = log
			stats, err := merge.Maintain(cmd.Context(), cat, spec, opts)
			writeJSONLine(cmd.OutOrStdout(), map[string]any{"status": status(err), "tables": stats})
			return err
		},
	}
	c.register(cmd)
	f := cmd.Flags()
	f.IntVar(&opts.KeepLast, "keep-last", 10, "snapshots always kept")
	f.DurationVar(&opts.KeepNewerThan, "keep-newer-than", 7*24*time.Hour, "snapshots newer than this are kept")
	f.Int64Var(&opts.TargetFileSize, "target-file-size", 0, "compaction's target data file size in bytes (default: Iceberg's 512 MiB)")
	f.UintVar(&opts.MinInputFiles, "min-input-files", 5, "fewest small files in a partition worth rewriting")
	return cmd
}

func status(err error) string {
	if err != nil {
		return "failed"
	}
	return "ok"
}
