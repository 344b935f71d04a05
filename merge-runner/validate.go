package main

import (
	"github.com/spf13/cobra"

	"github.com/datasurface/datasurface/merge-runner/internal/merge"
)

// validateSummary is the line validate prints: one JSON object.
type validateSummary struct {
	Status   string           `json:"status"` // ok or failed
	ExitCode int              `json:"exit_code"`
	Error    string           `json:"error,omitempty"`
	Stream   string           `json:"stream"`
	Tables   []validatedTable `json:"tables"`
}

// validatedTable is one table of the spec, as the run would maintain it.
type validatedTable struct {
	Table     string `json:"table"`
	Mode      string `json:"mode"`
	WriteMode string `json:"write_mode"`
}

func newValidateCmd() *cobra.Command {
	var c common
	cmd := &cobra.Command{
		Use:   "validate --job SPEC",
		Short: "Check a job spec as a run would, without a catalog, a source or landed events",
		Long: `Reads the job spec and makes every check a run makes of the spec itself
(merge.CheckSpec): the contract's rules, each table's Iceberg schema and
partitioning, the Debezium decoding of a debezium source, a primary key for
a snapshot, an orderable watermark column for a watermark capture. Nothing
is opened or written. Prints one line of JSON on stdout: status, exit_code,
error, stream and the tables; exits 0 when a run would accept the spec and
2 when it would not.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sum := validateSummary{Status: "ok", Tables: []validatedTable{}}
			err := func() error {
				spec, err := c.spec()
				if err != nil {
					return err
				}
				sum.Stream = spec.Stream
				for _, t := range spec.Tables {
					sum.Tables = append(sum.Tables, validatedTable{Table: spec.Target.Namespace + "." + t.Name, Mode: t.Mode, WriteMode: t.WriteMode})
				}
				return merge.CheckSpec(spec)
			}()
			if err != nil {
				// Whatever refused it, the spec is what has to change.
				err = &configError{err}
				sum.Status, sum.ExitCode, sum.Error = "failed", exitConfig, err.Error()
			}
			writeJSONLine(cmd.OutOrStdout(), sum)
			if err != nil {
				return &reportedError{err}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&c.job, "job", "", "the job spec: a file, or env:NAME to read it from an environment variable (required)")
	_ = cmd.MarkFlagRequired("job")
	return cmd
}
