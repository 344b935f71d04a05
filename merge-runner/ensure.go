package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/spf13/cobra"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/merge"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// ensureSummary is the line ensure prints: one JSON object.
type ensureSummary struct {
	outcome
	Stream string         `json:"stream"`
	Tables []ensuredTable `json:"tables"`
}

// ensuredTable is what ensure did to one table.
type ensuredTable struct {
	Table string `json:"table"`
	// Action is created, evolved or unchanged.
	Action string `json:"action"`
	// Evolutions are the schema changes applied, as run reports them.
	Evolutions []string `json:"evolutions,omitempty"`
	// WriteMode is the spec's; WriteModeSet says the table's write.*.mode
	// properties were changed to it.
	WriteMode    string `json:"write_mode"`
	WriteModeSet bool   `json:"write_mode_set,omitempty"`
}

// Actions of ensure on a table.
const (
	ensureCreated   = "created"
	ensureEvolved   = "evolved"
	ensureUnchanged = "unchanged"
)

func newEnsureCmd() *cobra.Command {
	var c common
	cmd := &cobra.Command{
		Use:   "ensure --job SPEC",
		Short: "Create the job spec's Iceberg tables, or evolve them to its schema, without ingesting",
		Long: `Makes every table of the job spec exist as the spec says, as a run does
before it merges: a missing table (and its namespace) is created with the
spec's schema, identifier fields, partitioning and write-mode properties; an
existing one gets the allowed evolutions (added nullable columns, widenings,
required to nullable) and the spec's write mode. Nothing else: no source is
read, no landed event is opened, no data is committed, so running it again
changes nothing. A table whose key, partitioning or columns differ in a way
that is not an allowed evolution stops it with exit 2, naming the table and
column. Prints one line of JSON on stdout: per table what was done
(created, evolved with the evolutions, or unchanged).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sum := ensureSummary{Tables: []ensuredTable{}}
			err := func() error {
				spec, err := c.spec()
				if err != nil {
					return err
				}
				sum.Stream = spec.Stream
				if err := merge.CheckSpec(spec); err != nil {
					return err
				}
				cat, err := c.openCatalog(cmd.Context(), spec)
				if err != nil {
					return err
				}
				defer func() { _ = target.CloseCatalog(cat) }()
				for i := range spec.Tables {
					t, err := ensureTable(cmd.Context(), cat, spec, &spec.Tables[i])
					if err != nil {
						return err
					}
					sum.Tables = append(sum.Tables, t)
				}
				return nil
			}()
			return report(cmd.OutOrStdout(), nil, "", &sum.outcome, &sum, err)
		},
	}
	c.register(cmd)
	return cmd
}

// ensureTable is target.Ensure, the function a run calls before merging,
// with what it did told apart: whether the table existed, and whether its
// write mode properties were stale.
func ensureTable(ctx context.Context, cat catalog.Catalog, spec *jobspec.Spec, t *jobspec.Table) (ensuredTable, error) {
	ns := spec.Target.Namespace
	out := ensuredTable{Table: ns + "." + t.Name, WriteMode: t.WriteMode, Action: ensureUnchanged}
	before, err := cat.LoadTable(ctx, table.Identifier{ns, t.Name})
	switch {
	case errors.Is(err, catalog.ErrNoSuchTable), errors.Is(err, catalog.ErrNoSuchNamespace):
		out.Action = ensureCreated
	case err != nil:
		return out, fmt.Errorf("table %s: %w", out.Table, err)
	}
	tbl, evs, err := target.Ensure(ctx, cat, ns, t)
	if err != nil {
		return out, err
	}
	if out.Action == ensureCreated {
		return out, nil
	}
	for _, e := range evs {
		out.Evolutions = append(out.Evolutions, e.String())
	}
	for k, v := range tbl.Properties() {
		if isWriteModeKey(k) && before.Properties()[k] != v {
			out.WriteModeSet = true
		}
	}
	if len(evs) > 0 || out.WriteModeSet {
		out.Action = ensureEvolved
	}
	return out, nil
}

// isWriteModeKey is a table property the spec's write mode sets
// (target.writeModeProps).
func isWriteModeKey(k string) bool {
	return k == table.WriteDeleteModeKey || k == "write.update.mode" || k == "write.merge.mode"
}
