package transformout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/badinput"
	"github.com/datasurface/datasurface/merge-runner/internal/landing"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// Pin returns the inputs of run: the ones its _inputs.json already holds
// (a retried inputs task keeps what the transformer may have read), else
// the current snapshot of each input table, written to _inputs.json.
// pinned is false when the file was there already.
func Pin(ctx context.Context, cat catalog.Catalog, spec *jobspec.Spec, loc Location, w landing.Writer, run string) (in *Inputs, pinned bool, err error) {
	if err := CheckRunID(run); err != nil {
		return nil, false, &target.ConfigError{Msg: "--run: " + err.Error()}
	}
	in, ok, err := ReadInputs(ctx, loc, spec, run)
	if err != nil || ok {
		return in, false, err
	}
	in = &Inputs{Version: Version, RunID: run}
	for _, ti := range spec.Source.Transformer.Inputs {
		tbl, err := loadInput(ctx, cat, spec, ti.Namespace, ti.Table)
		if err != nil {
			return nil, false, err
		}
		var id int64
		if s := tbl.CurrentSnapshot(); s != nil {
			id = s.SnapshotID
		}
		in.Inputs = append(in.Inputs, Input{Dataset: ti.Dataset, Namespace: ti.Namespace, Table: ti.Table, SnapshotID: id})
	}
	if err := WriteInputs(ctx, loc, w, in); err != nil {
		return nil, false, err
	}
	return in, true, nil
}

// loadInput loads an input table; a missing one is a configuration error:
// the datastore that owns it has not been merged yet.
func loadInput(ctx context.Context, cat catalog.Catalog, spec *jobspec.Spec, ns, name string) (*table.Table, error) {
	tbl, err := cat.LoadTable(ctx, table.Identifier{ns, name})
	if errors.Is(err, catalog.ErrNoSuchTable) || errors.Is(err, catalog.ErrNoSuchNamespace) {
		return nil, &target.ConfigError{Msg: fmt.Sprintf("transformer %s: input table %s.%s does not exist in catalog %s: its datastore's merge creates it (or `merge-runner ensure` with that datastore's job spec); run that first",
			spec.Source.Transformer.Name, ns, name, spec.Target.Catalog)}
	}
	if err != nil {
		return nil, fmt.Errorf("transformer %s: loading input table %s.%s: %w", spec.Source.Transformer.Name, ns, name, err)
	}
	return tbl, nil
}

// Recorded is PropInputs: the run an output table's commit merged and the
// inputs it read, each with its snapshot's sequence number (snapshot ids
// have no order; sequence numbers grow with every commit of a table).
type Recorded struct {
	RunID  string          `json:"run_id"`
	Inputs []RecordedInput `json:"inputs"`
}

// RecordedInput is an input and its snapshot's sequence number (0: none).
type RecordedInput struct {
	Input
	SequenceNumber int64 `json:"sequence_number"`
}

// LastRecorded walks the table's ancestry to the newest commit that
// recorded a transformer run (maintenance commits record none).
func LastRecorded(tbl *table.Table) (*Recorded, int64, error) {
	meta := tbl.Metadata()
	for snap := tbl.CurrentSnapshot(); snap != nil; {
		if snap.Summary != nil {
			if enc, ok := snap.Summary.Properties[PropInputs]; ok {
				var r Recorded
				if err := json.Unmarshal([]byte(enc), &r); err != nil {
					return nil, 0, fmt.Errorf("table %v snapshot %d: property %s: %w", tbl.Identifier(), snap.SnapshotID, PropInputs, err)
				}
				return &r, snap.SnapshotID, nil
			}
		}
		if snap.ParentSnapshotID == nil {
			break
		}
		snap = meta.SnapshotByID(*snap.ParentSnapshotID)
	}
	return nil, 0, nil
}

// sequences looks up the sequence number of each input's snapshot.
func sequences(ctx context.Context, cat catalog.Catalog, spec *jobspec.Spec, inputs []Input, where string) ([]RecordedInput, error) {
	out := make([]RecordedInput, 0, len(inputs))
	for _, in := range inputs {
		r := RecordedInput{Input: in}
		if in.SnapshotID != 0 {
			tbl, err := loadInput(ctx, cat, spec, in.Namespace, in.Table)
			if err != nil {
				return nil, err
			}
			s := tbl.SnapshotByID(in.SnapshotID)
			if s == nil {
				return nil, &badinput.Error{Object: where, Reason: fmt.Sprintf("input table %s.%s has no snapshot %d (expired by maintenance since the run pinned it?); the run cannot be checked: start a new run", in.Namespace, in.Table, in.SnapshotID)}
			}
			r.SequenceNumber = s.SequenceNumber
		}
		out = append(out, r)
	}
	sortRecorded(out)
	return out, nil
}

func sortRecorded(in []RecordedInput) {
	slices.SortFunc(in, func(x, y RecordedInput) int {
		return strings.Compare(x.Namespace+"."+x.Table, y.Namespace+"."+y.Table)
	})
}
