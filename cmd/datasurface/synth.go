package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/datasurface/datasurface/model/synth"
)

func newSynth() *cobra.Command {
	var datasets int
	var out string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "synth --datasets N --out DIR",
		Short: "Write a large synthetic model, for measuring validate",
		Long: `Write a valid synthetic model of about N datasets into DIR (new or empty).

One repetition is one team with a SQL-snapshot datastore of 31 datasets (363
columns of mixed types), a Debezium datastore of 1 dataset, and 4 workspaces
with 22 sinks (3 groups on an airflow-iceberg platform, 1 on a legacy one);
repetitions are added until the model holds at least N datasets, and the teams
are spread over up to 10 zones. The same N always gives the same files.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return &exitError{code: exitUnread, err: fmt.Errorf("--out is required: the folder to write the model into")}
			}
			var progress io.Writer
			if !quiet {
				progress = cmd.ErrOrStderr()
			}
			st, err := synth.Config{Datasets: datasets, Progress: progress}.Write(cmd.Context(), out)
			if err != nil {
				return &exitError{code: exitUnread, err: err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %d zones, %d teams, %d datastores, %d datasets, %d columns, %d workspaces, %d sinks; %d files, %.1f MiB\n",
				out, st.Zones, st.Teams, st.Datastores, st.Datasets, st.Columns, st.Workspaces, st.Sinks, st.Files, float64(st.Bytes)/(1<<20))
			return nil
		},
	}
	cmd.Flags().IntVar(&datasets, "datasets", 1000, "about how many datasets to write (rounded up to whole repetitions of 32)")
	cmd.Flags().StringVar(&out, "out", "", "the folder to write, new or empty")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress on stderr")
	return cmd
}
