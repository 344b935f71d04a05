package transformout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/badinput"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// Run is a checked transformer run: its inputs and every output row.
type Run struct {
	ID     string
	Inputs []RecordedInput
	// data holds each dataset's rows in its columns' order; order holds,
	// per dataset and key, the rows' indexes in key order.
	data  map[string]*dataset
	order map[string][]int
}

type dataset struct {
	cols  []jobspec.Column
	rows  [][]row.Value
	where []place
}

// place is where a row came from, for messages.
type place struct {
	file string
	row  int // 1-based
}

// Properties are what each output table's commit records (PropInputs).
func (r *Run) Properties() map[string]string {
	b, _ := json.Marshal(Recorded{RunID: r.ID, Inputs: r.Inputs})
	return map[string]string{PropInputs: string(b)}
}

// Rows is the number of rows of dataset ds.
func (r *Run) Rows(ds string) int {
	if d := r.data[ds]; d != nil {
		return len(d.rows)
	}
	return 0
}

// Snapshot hands each table's rows to fn in its key order
// (merge.SnapshotSource).
func (r *Run) Snapshot(ctx context.Context, tables []*jobspec.Table, fn func(i int, r []row.Value) error) error {
	for i, t := range tables {
		d := r.data[t.Dataset]
		for _, j := range r.order[orderKey(t)] {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(i, d.rows[j]); err != nil {
				return err
			}
		}
	}
	return nil
}

func orderKey(t *jobspec.Table) string { return t.Dataset + "\x00" + strings.Join(t.PrimaryKey, ",") }

// Load reads run's folder and checks it against the contract and the
// spec: the manifest is there and names the inputs _inputs.json pinned,
// none older than the inputs the output tables' last merge recorded; every
// output dataset has its files, each with the dataset's columns and types,
// no null in a non-null column and no key twice. A refusal is bad input
// (badinput.Error) naming the object and, for a value, the row and column;
// nothing is read into a table before every file has passed.
func Load(ctx context.Context, cat catalog.Catalog, spec *jobspec.Spec, loc Location, run string) (*Run, error) {
	if err := CheckRunID(run); err != nil {
		return nil, &target.ConfigError{Msg: "--run: " + err.Error()}
	}
	name := spec.Source.Transformer.Name
	in, ok, err := ReadInputs(ctx, loc, spec, run)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &badinput.Error{Object: loc.RunDir(run) + "/" + InputsFile,
			Reason: fmt.Sprintf("missing: the inputs task (merge-runner inputs --run %s) did not run for this run of transformer %s, so what it read is unknown; start a new run", run, name)}
	}
	mkey := loc.Key(run, ManifestFile)
	mwhere := loc.RunDir(run) + "/" + ManifestFile
	var m Manifest
	if err := readJSON(ctx, loc.Store, mkey, &m); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &badinput.Error{Object: mwhere,
				Reason: fmt.Sprintf("missing: transformer %s wrote no manifest for run %s (it writes it last: it failed or did not finish); nothing is merged; see the transform task's log and run it again", name, run)}
		}
		return nil, err
	}
	switch {
	case m.Version != Version:
		return nil, &badinput.Error{Object: mwhere, Reason: fmt.Sprintf("version %d is not %d, the version this merge-runner reads", m.Version, Version)}
	case m.RunID != run:
		return nil, &badinput.Error{Object: mwhere, Reason: fmt.Sprintf("run_id %q is not the run's, %q", m.RunID, run)}
	case !sameInputs(m.Inputs, in.Inputs):
		return nil, &badinput.Error{Object: mwhere, Reason: fmt.Sprintf("its inputs %s are not the ones %s pinned, %s: the transformer must read each input at the pinned snapshot_id and copy the inputs as they are",
			inputList(m.Inputs), InputsFile, inputList(in.Inputs))}
	}
	r := &Run{ID: run, data: map[string]*dataset{}, order: map[string][]int{}}
	if r.Inputs, err = sequences(ctx, cat, spec, in.Inputs, mwhere); err != nil {
		return nil, err
	}
	if err := notOlder(ctx, cat, spec, r.Inputs, run, mwhere); err != nil {
		return nil, err
	}
	// The datasets the spec's tables need, with their columns.
	var names []string
	for i := range spec.Tables {
		t := &spec.Tables[i]
		d, ok := r.data[t.Dataset]
		if !ok {
			r.data[t.Dataset] = &dataset{cols: t.Columns}
			names = append(names, t.Dataset)
			continue
		}
		a, _ := json.Marshal(d.cols)
		b, _ := json.Marshal(t.Columns)
		if !bytes.Equal(a, b) {
			return nil, &target.ConfigError{Msg: fmt.Sprintf("job spec: the tables of dataset %s list different columns; regenerate the spec from the model", t.Dataset)}
		}
	}
	for ds := range m.Datasets {
		if _, ok := r.data[ds]; !ok {
			return nil, &badinput.Error{Object: mwhere, Reason: fmt.Sprintf("dataset %s is not an output dataset of transformer %s; its output datasets are %s", ds, name, strings.Join(names, ", "))}
		}
	}
	for _, ds := range names {
		files, ok := m.Datasets[ds]
		if !ok {
			return nil, &badinput.Error{Object: mwhere, Reason: fmt.Sprintf("dataset %s is missing from \"datasets\"; list its files (an empty list: the dataset has no rows)", ds)}
		}
		seen := map[string]bool{}
		for _, f := range files {
			if !validFile(ds, f) {
				return nil, &badinput.Error{Object: mwhere, Reason: fmt.Sprintf("dataset %s: file %q is not %s/<name>.parquet inside the run folder", ds, f, ds)}
			}
			if seen[f] {
				return nil, &badinput.Error{Object: mwhere, Reason: fmt.Sprintf("dataset %s: file %s is listed twice", ds, f)}
			}
			seen[f] = true
			if err := r.readFile(ctx, loc, run, ds, f); err != nil {
				return nil, err
			}
		}
	}
	for i := range spec.Tables {
		if err := r.sort(loc.RunDir(run), &spec.Tables[i]); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func inputList(in []Input) string {
	in = slices.Clone(in)
	sortInputs(in)
	parts := make([]string, len(in))
	for i, x := range in {
		parts[i] = fmt.Sprintf("%s.%s@%d", x.Namespace, x.Table, x.SnapshotID)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// validFile: a file of dataset ds is <ds>/<name>.parquet, no deeper, no
// way out of the run folder.
func validFile(ds, f string) bool {
	dir, base := path.Split(f)
	return dir == ds+"/" && strings.HasSuffix(base, ".parquet") && base != ".parquet" &&
		!strings.Contains(base, "\\") && base != ".." && path.Clean(f) == f
}

// notOlder refuses a run that read an input at an older snapshot than the
// last merged run of any output table did: merging it would move the
// output back in time.
func notOlder(ctx context.Context, cat catalog.Catalog, spec *jobspec.Spec, inputs []RecordedInput, run, where string) error {
	now := map[string]RecordedInput{}
	for _, in := range inputs {
		now[in.Namespace+"."+in.Table] = in
	}
	for i := range spec.Tables {
		t := &spec.Tables[i]
		tbl, err := cat.LoadTable(ctx, table.Identifier{spec.Target.Namespace, t.Name})
		if errors.Is(err, catalog.ErrNoSuchTable) || errors.Is(err, catalog.ErrNoSuchNamespace) {
			continue
		}
		if err != nil {
			return err
		}
		last, _, err := LastRecorded(tbl)
		if err != nil || last == nil {
			return err
		}
		for _, was := range last.Inputs {
			cur, ok := now[was.Namespace+"."+was.Table]
			if ok && cur.SequenceNumber < was.SequenceNumber {
				return &badinput.Error{Object: where, Reason: fmt.Sprintf("run %s read input table %s.%s at snapshot %d (sequence number %d), older than snapshot %d (sequence number %d) that run %s, the last merged into %s.%s, read; "+
					"merging it would move the output back: start a new run",
					run, cur.Namespace, cur.Table, cur.SnapshotID, cur.SequenceNumber, was.SnapshotID, was.SequenceNumber, last.RunID, spec.Target.Namespace, t.Name)}
			}
		}
	}
	return nil
}

// readFile reads one Parquet file of dataset ds, checking its schema and
// values against the dataset's columns.
func (r *Run) readFile(ctx context.Context, loc Location, run, ds, f string) error {
	d := r.data[ds]
	where := loc.RunDir(run) + "/" + f
	rc, err := loc.Store.Open(ctx, loc.Key(run, f))
	if errors.Is(err, fs.ErrNotExist) {
		return &badinput.Error{Object: where, Reason: "the manifest lists it, but it is not there"}
	}
	if err != nil {
		return err
	}
	b, err := io.ReadAll(rc)
	_ = rc.Close()
	if err != nil {
		return fmt.Errorf("reading %s: %w", where, err)
	}
	pf, err := file.NewParquetReader(bytes.NewReader(b))
	if err != nil {
		return &badinput.Error{Object: where, Reason: "not a Parquet file", Err: err}
	}
	defer func() { _ = pf.Close() }()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 8192}, memory.DefaultAllocator)
	if err != nil {
		return &badinput.Error{Object: where, Reason: "cannot be read as Arrow", Err: err}
	}
	got, err := fr.Schema()
	if err != nil {
		return &badinput.Error{Object: where, Reason: "its schema cannot be read as Arrow", Err: err}
	}
	idx, err := checkSchema(d.cols, got)
	if err != nil {
		var ce *columnError
		if errors.As(err, &ce) {
			return &badinput.Error{Object: where, Column: ce.col, Reason: ce.reason}
		}
		return err
	}
	rr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		return &badinput.Error{Object: where, Reason: "cannot be read", Err: err}
	}
	defer rr.Release()
	n := 0
	for rr.Next() {
		rec := rr.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			n++
			vals := make([]row.Value, len(d.cols))
			for c := range d.cols {
				col := &d.cols[c]
				v := value(rec.Column(idx[c]), i)
				if col.Type == "json" && v.Kind() == row.KindString {
					// What a snapshot reads from a json column, and what the
					// merge makes of a stored one (snapdiff compares them).
					v = row.JSON(v.Text())
				}
				if p := nullIn(col, v, col.Name); p != "" {
					return &badinput.Error{Object: where, Column: p, Reason: fmt.Sprintf("row %d: null in a non-null column", n)}
				}
				vals[c] = v
			}
			d.rows = append(d.rows, vals)
			d.where = append(d.where, place{file: where, row: n})
		}
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return &badinput.Error{Object: where, Reason: fmt.Sprintf("after row %d: cannot be read", n), Err: err}
	}
	return nil
}

// sort orders a dataset's rows by t's key and refuses a key seen twice.
func (r *Run) sort(runDir string, t *jobspec.Table) error {
	k := orderKey(t)
	if _, done := r.order[k]; done {
		return nil
	}
	d := r.data[t.Dataset]
	var ki []int
	for _, name := range t.PrimaryKey {
		ki = append(ki, slices.IndexFunc(d.cols, func(c jobspec.Column) bool { return c.Name == name }))
	}
	key := func(j int) []row.Value {
		out := make([]row.Value, len(ki))
		for i, c := range ki {
			out[i] = d.rows[j][c]
		}
		return out
	}
	idx := make([]int, len(d.rows))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return row.CompareKeys(key(a), key(b)) })
	for i := 1; i < len(idx); i++ {
		if row.CompareKeys(key(idx[i-1]), key(idx[i])) == 0 {
			a, b := d.where[idx[i-1]], d.where[idx[i]]
			return &badinput.Error{Object: b.file, Column: strings.Join(t.PrimaryKey, ","),
				Reason: fmt.Sprintf("row %d: key %s is also the key of %s row %d; dataset %s has one row per key", b.row, keyDisplay(key(idx[i])), a.file, a.row, t.Dataset)}
		}
	}
	r.order[k] = idx
	return nil
}

// nullIn returns the path of a null where c does not allow one, or "".
func nullIn(c *jobspec.Column, v row.Value, p string) string {
	if v.IsNull() {
		if !c.Nullable {
			return p
		}
		return ""
	}
	switch v.Kind() {
	case row.KindStruct:
		fs := v.Fields()
		for i := range c.Fields {
			if i < len(fs) {
				if q := nullIn(&c.Fields[i], fs[i], p+"."+c.Fields[i].Name); q != "" {
					return q
				}
			}
		}
	case row.KindList:
		if c.Element != nil {
			for _, e := range v.Elems() {
				if q := nullIn(c.Element, e, p+"[]"); q != "" {
					return q
				}
			}
		}
	case row.KindMap:
		if c.Value != nil {
			for _, e := range v.Entries() {
				if q := nullIn(c.Value, e.Value, p+".value"); q != "" {
					return q
				}
			}
		}
	}
	return ""
}

// value reads one value; a uuid column may come as 16-byte fixed binary
// when the reader does not map Parquet's UUID type to Arrow's extension.
func value(a arrow.Array, i int) row.Value {
	if fb, ok := a.(*array.FixedSizeBinary); ok && !fb.IsNull(i) {
		return row.UUID([16]byte(fb.Value(i)))
	}
	return target.Value(a, i)
}

func keyDisplay(k []row.Value) string {
	parts := make([]string, len(k))
	for i, v := range k {
		parts[i] = v.Display()
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
