package main

import (
	"errors"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/spf13/cobra"

	"github.com/datasurface/datasurface/merge-runner/internal/merge"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// tableStatus is one table's line of `status`.
type tableStatus struct {
	Table       string `json:"table"`
	Exists      bool   `json:"exists"`
	Position    string `json:"position"`
	Batch       int64  `json:"batch"`
	SourceTsMs  int64  `json:"newest_source_ts_ms"`
	SnapshotID  int64  `json:"snapshot_id"`
	Snapshots   int    `json:"snapshots"`
	DataFiles   int64  `json:"data_files"`
	DeleteFiles int64  `json:"delete_files"`
	Records     int64  `json:"records"`
	EqDeletes   int64  `json:"equality_deletes"`
}

func newStatusCmd() *cobra.Command {
	var c common
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status --job SPEC",
		Short: "Print each table's applied position, last batch, snapshot and file counts",
		Long: `Prints, per table of the job spec, the position its last commit recorded,
the batch, the current snapshot, the number of snapshots, and the counts the
snapshot summary holds (Iceberg spec, "Metrics": total-data-files,
total-delete-files, total-records, total-equality-deletes).

RECORDS is total-records: the rows in the table's data files, before any
delete applies. A merge-on-read table counts the old versions of changed and
deleted rows until maintain compacts them away (EQ DELETES counts the
equality deletes that hide them), and a history table counts every version.
The rows a query sees are SELECT count(*).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			spec, err := c.spec()
			if err != nil {
				return err
			}
			cat, err := c.openCatalog(cmd.Context(), spec)
			if err != nil {
				return err
			}
			defer func() { _ = target.CloseCatalog(cat) }()
			var out []tableStatus
			for _, t := range spec.Tables {
				ts := tableStatus{Table: spec.Target.Namespace + "." + t.Name, Position: "{}"}
				tbl, err := cat.LoadTable(cmd.Context(), table.Identifier{spec.Target.Namespace, t.Name})
				if errors.Is(err, catalog.ErrNoSuchTable) || errors.Is(err, catalog.ErrNoSuchNamespace) {
					out = append(out, ts)
					continue
				}
				if err != nil {
					return fmt.Errorf("table %s: %w", ts.Table, err)
				}
				ts.Exists = true
				st, err := merge.ReadState(tbl)
				if err != nil {
					return err
				}
				ts.Position, ts.Batch, ts.SourceTsMs = st.Position.Encode(), st.Batch, st.SourceTsMs
				ts.Snapshots = len(tbl.Metadata().Snapshots())
				if snap := tbl.CurrentSnapshot(); snap != nil {
					ts.SnapshotID = snap.SnapshotID
					if snap.Summary != nil {
						p := snap.Summary.Properties
						ts.DataFiles = num(p["total-data-files"])
						ts.DeleteFiles = num(p["total-delete-files"])
						ts.Records = num(p["total-records"])
						ts.EqDeletes = num(p["total-equality-deletes"])
					}
				}
				out = append(out, ts)
			}
			if asJSON {
				writeJSONLine(cmd.OutOrStdout(), out)
				return nil
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "TABLE\tPOSITION\tBATCH\tSNAPSHOT\tSNAPSHOTS\tDATA FILES\tDELETE FILES\tRECORDS\tEQ DELETES")
			for _, s := range out {
				if !s.Exists {
					fmt.Fprintf(w, "%s\t(not created yet)\t\t\t\t\t\t\t\n", s.Table)
					continue
				}
				fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", s.Table, s.Position, s.Batch, s.SnapshotID, s.Snapshots, s.DataFiles, s.DeleteFiles, s.Records, s.EqDeletes)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "RECORDS: rows in the data files before deletes (Iceberg total-records); see merge-runner status --help")
			return nil
		},
	}
	c.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}

func num(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
