// Package transformout reads and checks a transformer run: the folder
// <output>/<run>/ where `merge-runner inputs` pinned the snapshot of each
// input table (_inputs.json) and the transformer wrote one folder of
// Parquet files per output dataset and, last, _manifest.json. A checked run
// is a merge.SnapshotSource: its rows, in key order, are merged into the
// output datastore's tables like a snapshot. docs/transformers.md has the
// contract.
//
// Every row of a run is held in memory (to sort it by key): a run costs
// about the size of the output datastore.
package transformout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/badinput"
	"github.com/datasurface/datasurface/merge-runner/internal/landing"
)

// Names in a run folder, and the contract's version.
const (
	InputsFile   = "_inputs.json"
	ManifestFile = "_manifest.json"
	Version      = 1
	// PropInputs is the snapshot summary property each output table's
	// commit records: the run and the inputs it read (Recorded).
	PropInputs = "datasurface.transformer-inputs"
)

// Input is one input table pinned at a snapshot. SnapshotID 0 is a table
// with no snapshot yet: the transformer reads no rows from it.
type Input struct {
	Dataset    string `json:"dataset"`
	Namespace  string `json:"namespace"`
	Table      string `json:"table"`
	SnapshotID int64  `json:"snapshot_id"`
}

// Inputs is _inputs.json.
type Inputs struct {
	Version int     `json:"version"`
	RunID   string  `json:"run_id"`
	Inputs  []Input `json:"inputs"`
}

// Manifest is _manifest.json: the inputs the transformer read (a copy of
// _inputs.json's) and, per output dataset, its files relative to the run
// folder.
type Manifest struct {
	Version  int                 `json:"version"`
	RunID    string              `json:"run_id"`
	Inputs   []Input             `json:"inputs"`
	Datasets map[string][]string `json:"datasets"`
}

// Location is where a transformer's runs are: a store (a local folder or a
// bucket) and the key prefix under it.
type Location struct {
	Store landing.Store
	// Prefix is the key of the output location in Store, without a
	// trailing slash ("" for the store's root).
	Prefix string
	// Output is the spec's source.transformer.output, for messages.
	Output string
}

// SplitOutput splits source.transformer.output into a bucket and a prefix
// (s3://bucket/prefix), or returns bucket "" for a local folder.
func SplitOutput(output string) (bucket, prefix string) {
	rest, ok := strings.CutPrefix(output, "s3://")
	if !ok {
		return "", ""
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	return bucket, strings.Trim(prefix, "/")
}

// Key is the key of name in run's folder.
func (l Location) Key(run, name string) string {
	k := run + "/" + name
	if l.Prefix != "" {
		k = l.Prefix + "/" + k
	}
	return k
}

// RunDir is the run's folder as the transformer is told it
// (DATASURFACE_RUN_DIR).
func (l Location) RunDir(run string) string {
	return strings.TrimSuffix(l.Output, "/") + "/" + run
}

// CheckRunID refuses a run id that is not one folder name: Airflow's run
// ids (scheduled__2026-01-02T03:04:05+00:00) pass.
func CheckRunID(run string) error {
	if run == "" || run == "." || run == ".." || len(run) > 250 {
		return fmt.Errorf("run id %q is not a folder name; pass the DAG run's id (1-250 characters)", run)
	}
	for _, c := range run {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-:+~@", c)
		if !ok {
			return fmt.Errorf("run id %q has %q; a run id may hold letters, digits and . _ - : + ~ @", run, c)
		}
	}
	return nil
}

// readJSON reads and strictly decodes one object of the run folder. A
// missing object is fs.ErrNotExist.
func readJSON(ctx context.Context, st landing.Store, key string, v any) error {
	rc, err := st.Open(ctx, key)
	if err != nil {
		return err
	}
	defer func() { _ = rc.Close() }()
	b, err := io.ReadAll(io.LimitReader(rc, 64<<20))
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &badinput.Error{Object: key, Reason: "not the contract's JSON (docs/transformers.schema.json)", Err: err}
	}
	return nil
}

// specInputs checks that inputs are the spec's input tables, each once.
func specInputs(spec *jobspec.Spec, inputs []Input, where string) error {
	want := map[string]jobspec.TransformerInput{}
	for _, in := range spec.Source.Transformer.Inputs {
		want[in.Namespace+"."+in.Table] = in
	}
	seen := map[string]bool{}
	for _, in := range inputs {
		k := in.Namespace + "." + in.Table
		w, ok := want[k]
		switch {
		case !ok:
			return &badinput.Error{Object: where, Reason: fmt.Sprintf("input table %s is not one the job spec's transformer %s reads (the spec changed since the run started?); start a new run", k, spec.Source.Transformer.Name)}
		case seen[k]:
			return &badinput.Error{Object: where, Reason: fmt.Sprintf("input table %s is listed twice", k)}
		case w.Dataset != in.Dataset:
			return &badinput.Error{Object: where, Reason: fmt.Sprintf("input table %s is dataset %s in the job spec, not %s", k, w.Dataset, in.Dataset)}
		}
		seen[k] = true
	}
	for _, in := range spec.Source.Transformer.Inputs {
		if k := in.Namespace + "." + in.Table; !seen[k] {
			return &badinput.Error{Object: where, Reason: fmt.Sprintf("input table %s (dataset %s) is missing; every input the job spec names must be pinned", k, in.Dataset)}
		}
	}
	return nil
}

// sameInputs compares two input lists regardless of order.
func sameInputs(a, b []Input) bool {
	key := func(in Input) string { return in.Namespace + "." + in.Table }
	a, b = slices.Clone(a), slices.Clone(b)
	sortInputs(a)
	sortInputs(b)
	return slices.EqualFunc(a, b, func(x, y Input) bool { return key(x) == key(y) && x == y })
}

func sortInputs(in []Input) {
	slices.SortFunc(in, func(x, y Input) int {
		return strings.Compare(x.Namespace+"."+x.Table, y.Namespace+"."+y.Table)
	})
}

// ReadInputs reads a run's _inputs.json; ok is false when there is none.
func ReadInputs(ctx context.Context, loc Location, spec *jobspec.Spec, run string) (*Inputs, bool, error) {
	key := loc.Key(run, InputsFile)
	var in Inputs
	if err := readJSON(ctx, loc.Store, key, &in); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false, nil
		}
		return nil, false, err
	}
	if in.Version != Version {
		return nil, false, &badinput.Error{Object: key, Reason: fmt.Sprintf("version %d is not %d, the version this merge-runner reads", in.Version, Version)}
	}
	if in.RunID != run {
		return nil, false, &badinput.Error{Object: key, Reason: fmt.Sprintf("run_id %q is not the run's, %q", in.RunID, run)}
	}
	if err := specInputs(spec, in.Inputs, key); err != nil {
		return nil, false, err
	}
	return &in, true, nil
}

// WriteInputs stores a run's _inputs.json.
func WriteInputs(ctx context.Context, loc Location, w landing.Writer, in *Inputs) error {
	b, err := json.MarshalIndent(in, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	key := loc.Key(in.RunID, InputsFile)
	if err := w.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
		return fmt.Errorf("writing %s: %w", key, err)
	}
	return nil
}
