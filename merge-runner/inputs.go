package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/landing"
	"github.com/datasurface/datasurface/merge-runner/internal/merge"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
	"github.com/datasurface/datasurface/merge-runner/internal/transformout"
)

// inputsSummary is the line inputs prints: one JSON object.
type inputsSummary struct {
	outcome
	Stream string `json:"stream"`
	RunID  string `json:"run_id"`
	RunDir string `json:"run_dir,omitempty"`
	// Pinned is false when the run's _inputs.json was there already (a
	// retried task): its inputs are kept.
	Pinned bool                 `json:"pinned"`
	Inputs []transformout.Input `json:"inputs"`
}

func newInputsCmd() *cobra.Command {
	var c common
	var runID, runsDir string
	cmd := &cobra.Command{
		Use:   "inputs --job OUTPUT_SPEC --run R",
		Short: "Pin the snapshot of each table a transformer reads, for its run R",
		Long: `Writes <output>/<R>/_inputs.json for the transformer whose output datastore
the job spec (source kind transformer) describes: each input table's current
snapshot id, so that the transformer reads exactly those snapshots and
'run --run R' can tell what the run read. A run whose _inputs.json exists
keeps it (a retried task pins nothing new). An input table that does not
exist yet is exit 2. Prints one line of JSON on stdout. docs/transformers.md
has the contract.`,
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
			sum := inputsSummary{Stream: spec.Stream, RunID: runID}
			err = func() error {
				if spec.Source.Kind != jobspec.SourceTransformer {
					return configErrorf("inputs: job spec %s has source kind %s; inputs pins a transformer's inputs (source kind transformer)", spec.Stream, spec.Source.Kind)
				}
				loc, w, err := transformerLocation(cmd.Context(), spec, runsDir)
				if err != nil {
					return err
				}
				sum.RunDir = loc.RunDir(runID)
				cat, err := c.openCatalog(cmd.Context(), spec)
				if err != nil {
					return err
				}
				defer func() { _ = target.CloseCatalog(cat) }()
				in, pinned, err := transformout.Pin(cmd.Context(), cat, spec, loc, w, runID)
				if err != nil {
					return err
				}
				sum.Pinned, sum.Inputs = pinned, in.Inputs
				log.Info("inputs", "run", runID, "pinned", pinned, "inputs", len(in.Inputs))
				return nil
			}()
			return report(cmd.OutOrStdout(), log, "inputs failed", &sum.outcome, &sum, err)
		},
	}
	c.register(cmd)
	cmd.Flags().StringVar(&runID, "run", "", "the transformer run's id (the DAG run's), a folder name under the spec's source.transformer.output (required)")
	cmd.Flags().StringVar(&runsDir, "runs", "", "keep the transformer's runs in this local folder instead of the spec's source.transformer.output")
	_ = cmd.MarkFlagRequired("run")
	return cmd
}

// transformerLocation is where the spec's transformer runs write: a local
// folder (runsDir, when given, as --events is for landed events), or a
// bucket reached with the landing store's settings
// (DATASURFACE_LANDING_S3_*, else DATASURFACE_S3_*).
func transformerLocation(ctx context.Context, spec *jobspec.Spec, runsDir string) (transformout.Location, landing.Writer, error) {
	out := first(runsDir, spec.Source.Transformer.Output)
	bucket, prefix := transformout.SplitOutput(out)
	if bucket == "" {
		if fi, err := os.Stat(out); err != nil || !fi.IsDir() {
			if err := os.MkdirAll(out, 0o755); err != nil {
				return transformout.Location{}, nil, configErrorf("source.transformer.output %s: not a folder and cannot be made one: %v", out, err)
			}
		}
		st := landing.NewLocalStore(out)
		return transformout.Location{Store: st, Output: out}, st, nil
	}
	st, err := openS3Landing(ctx, bucket, landingS3())
	if err != nil {
		return transformout.Location{}, nil, err
	}
	w, ok := st.(landing.Writer)
	if !ok {
		return transformout.Location{}, nil, fmt.Errorf("the store of %s cannot write", out)
	}
	return transformout.Location{Store: st, Prefix: prefix, Output: out}, w, nil
}

// runTransformer merges transformer run R into the spec's tables as a
// snapshot: the run is read and checked whole first (transformout.Load),
// so a refused run commits nothing.
func runTransformer(ctx context.Context, c *common, spec *jobspec.Spec, runID, runsDir string, maxEvents int, log *slog.Logger, sum *summary) error {
	if runID == "" {
		return configErrorf("job spec %s has source kind transformer: pass --run R, the transformer run to merge", spec.Stream)
	}
	if err := merge.CheckSpec(spec); err != nil {
		return err
	}
	loc, _, err := transformerLocation(ctx, spec, runsDir)
	if err != nil {
		return err
	}
	cat, err := c.openCatalog(ctx, spec)
	if err != nil {
		return err
	}
	defer func() { _ = target.CloseCatalog(cat) }()
	r, err := transformout.Load(ctx, cat, spec, loc, runID)
	if err != nil {
		return err
	}
	log.Info("transformer run checked", "run", runID, "run_dir", loc.RunDir(runID))
	tables, err := merge.RunSnapshot(ctx, cat, spec, r, merge.Options{MaxEvents: maxEvents, Logger: log, Properties: r.Properties()})
	sum.add(tables, time.Now())
	return err
}
