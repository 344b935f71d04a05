// Package reconcile compares a legacy copy of a table with the table the
// platform maintains: row counts, keys only on one side, and for keys on
// both a typed comparison column by column, within tolerances for the ways
// a legacy copy differs by design (timestamp precision, float rounding,
// text padding), and how far the new table is behind (freshness).
//
// Both sides are read once, at the same time; their rows are hashed by key
// range and spilled to disk, and only the key ranges whose hashes differ are
// read back and compared row by row, so memory is bounded by a key range,
// not by the tables.
package reconcile

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zeebo/xxh3"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

// Scan streams rows, in the table's column order, to fn; fn may be given
// the same slice each time.
type Scan func(fn func([]row.Value) error) error

// Options are the tolerances and limits of a comparison.
type Options struct {
	// TimestampPrecision truncates times and timestamps of both sides to
	// this unit (a multiple of a microsecond) before comparing; 0 compares
	// them exactly.
	TimestampPrecision time.Duration
	// FloatEpsilon accepts floats that differ by at most this much.
	FloatEpsilon float64
	// TrimText ignores trailing spaces of strings (char(n) padding).
	TrimText bool
	// FreshnessColumn, when set, is the column whose newest value each side
	// reports.
	FreshnessColumn string
	// MaxDiffs is how many differing keys the report lists (the counts
	// cover them all).
	MaxDiffs int
	// SpillDir is the folder both sides' rows are spilled to while the
	// comparison runs (about the size of the two tables); "" is the
	// system's temporary folder.
	SpillDir string
	// ExpectedRows (the larger side's row count, or an estimate) and
	// RangeRows (DefaultRangeRows when 0) size the key ranges.
	ExpectedRows int64
	RangeRows    int
	// Progress, when set, hears what each phase did.
	Progress func(format string, args ...any)
}

// Diff kinds.
const (
	OnlyLegacy = "only_legacy" // the key is in the legacy table only
	OnlyNew    = "only_new"    // the key is in the new table only
	Changed    = "changed"     // both have the key, some columns differ
)

// Diff is one differing key.
type Diff struct {
	Kind    string
	Key     []row.Value
	Columns []ColumnDiff // for Changed
}

// ColumnDiff is one column of a changed row.
type ColumnDiff struct {
	Column      string
	Legacy, New row.Value
}

// Freshness is the newest value of the freshness column on each side.
type Freshness struct {
	Column      string
	Legacy, New row.Value
	// Behind is how far the new side's newest value is behind the legacy
	// side's, for times and timestamps (negative: ahead); HasBehind says
	// whether it could be computed.
	Behind    time.Duration
	HasBehind bool
}

// Report is the outcome of a comparison.
type Report struct {
	Table      string
	KeyColumns []string
	LegacyRows int64
	NewRows    int64
	Matching   int64 // keys on both sides whose rows agree
	OnlyLegacy int64
	OnlyNew    int64
	Changed    int64
	Diffs      []Diff // the first MaxDiffs, in key order
	Freshness  *Freshness
	// KeyRanges is how many ranges the keys were hashed into, and
	// KeyRangesDiffering how many of them had to be compared row by row.
	KeyRanges, KeyRangesDiffering int
	Options                       Options
	ChangedCols                   map[string]int64 // per column, how many rows differ in it
}

// Equal says whether the tables agree within the tolerances.
func (r *Report) Equal() bool { return r.OnlyLegacy == 0 && r.OnlyNew == 0 && r.Changed == 0 }

// How rows are spread over key ranges: a key's range and cell are the top
// bits of the hash of its encoding, so both sides, whatever order they come
// in, put a key in the same place.
const (
	// DefaultRangeRows is the rows a key range is sized to hold.
	DefaultRangeRows = 50_000
	maxRanges        = 4096
	cellBits         = 6 // a range's cells: each has its own count and hash sum
	cellsPerRange    = 1 << cellBits
	spillBudget      = 32 << 20 // bytes of chunks filling per side
)

// KeyError is a table whose keys reconcile cannot match by: a key held
// twice, or a legacy table not read in key order. Reading it again gives
// the same rows, so it is the table to fix, not a failure to retry.
type KeyError struct{ msg string }

func (e *KeyError) Error() string { return e.msg }

// errStopped ends one side's read when the other failed.
var errStopped = errors.New("reconcile: stopped")

// Compare reads both sides of t, each once and at the same time, and
// compares them. Every row is hashed into a cell of its key range (a count
// and a sum of row hashes per cell) and spilled to a file under
// opts.SpillDir; then only the ranges with a cell whose counts or sums
// differ are read back and compared row by row, by type, within the
// tolerances. Memory is bounded by a key range, not by the tables.
//
// legacy must stream in key order (row.CompareKeys), which proves its keys
// unique; current may come in any order.
func Compare(t *jobspec.Table, legacy, current Scan, opts Options) (*Report, error) {
	if len(t.PrimaryKey) == 0 {
		return nil, fmt.Errorf("table %s has no primary key: reconcile matches rows by key", t.Name)
	}
	keyIdx := make([]int, len(t.PrimaryKey))
	for i, k := range t.PrimaryKey {
		keyIdx[i] = colIndex(t, k)
		if keyIdx[i] < 0 {
			return nil, fmt.Errorf("table %s: primary key column %s is not among its columns", t.Name, k)
		}
	}
	fresh := -1
	if opts.FreshnessColumn != "" {
		if fresh = colIndex(t, opts.FreshnessColumn); fresh < 0 {
			return nil, fmt.Errorf("freshness column %q is not a column of table %s", opts.FreshnessColumn, t.Name)
		}
	}
	if opts.TimestampPrecision < 0 || opts.TimestampPrecision%time.Microsecond != 0 {
		return nil, fmt.Errorf("timestamp precision %v: use a whole number of microseconds or more", opts.TimestampPrecision)
	}
	if opts.FloatEpsilon < 0 || math.IsNaN(opts.FloatEpsilon) {
		return nil, fmt.Errorf("float epsilon %v: use 0 or a positive number", opts.FloatEpsilon)
	}
	ranges := rangesFor(opts)
	rep := &Report{Table: t.Name, KeyColumns: t.PrimaryKey, Options: opts, ChangedCols: map[string]int64{}, KeyRanges: ranges}
	dir, err := os.MkdirTemp(opts.SpillDir, "reconcile-")
	if err != nil {
		return nil, fmt.Errorf("reconcile spill folder: %w; --spill-dir names a folder with room for both tables", err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	progress := opts.Progress
	if progress == nil {
		progress = func(string, ...any) {}
	}

	// Phase 1: both sides at once, hashed into cells and spilled.
	began := time.Now()
	lp, err := newPass(t, "legacy table", keyIdx, fresh, ranges, dir, opts)
	if err != nil {
		return nil, err
	}
	defer lp.sp.close()
	np, err := newPass(t, "new table", keyIdx, fresh, ranges, dir, opts)
	if err != nil {
		return nil, err
	}
	defer np.sp.close()
	var stop atomic.Bool
	var wg sync.WaitGroup
	var lerr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		if lerr = lp.read(legacy, true, &stop); lerr != nil {
			stop.Store(true)
		}
	}()
	np.fromIceberg = true
	nerr := np.read(current, false, &stop)
	if nerr != nil {
		stop.Store(true)
	}
	wg.Wait()
	for _, e := range []error{lerr, nerr} {
		if e != nil && !errors.Is(e, errStopped) {
			return nil, e
		}
	}
	rep.LegacyRows, rep.NewRows = lp.sp.rows, np.sp.rows
	progress("read %d legacy and %d new rows into %d key ranges in %s (%d MiB spilled, compressed)", rep.LegacyRows, rep.NewRows, ranges,
		time.Since(began).Round(time.Millisecond), (lp.sp.bytes+np.sp.bytes)>>20)

	// Phase 2: the ranges whose hashes differ, row by row.
	began = time.Now()
	cols := len(t.Columns)
	var buf, raw []byte
	for rng := range ranges {
		var mask uint64
		for c := range cellsPerRange {
			cell := rng*cellsPerRange + c
			if lp.count[cell] != np.count[cell] || lp.sum[cell] != np.sum[cell] {
				mask |= 1 << c
			} else {
				rep.Matching += lp.count[cell]
			}
		}
		if mask == 0 {
			continue
		}
		rep.KeyRangesDiffering++
		want := func(c uint32) bool { return mask&(1<<c) != 0 }
		byKey := map[string][]row.Value{}
		if buf, raw, err = np.sp.each(rng, want, buf, raw, func(_ uint32, enc []byte) error {
			vals, err := decodeRow(enc, cols)
			if err != nil {
				return err
			}
			k := row.KeyString(keyOf(vals, keyIdx))
			if _, dup := byKey[k]; dup {
				return &KeyError{fmt.Sprintf("new table %s holds key (%s) twice: the platform's table should not; report it with this table's snapshot", t.Name, namedKey(t.PrimaryKey, keyOf(vals, keyIdx)))}
			}
			byKey[k] = vals
			return nil
		}); err != nil {
			return nil, err
		}
		if buf, raw, err = lp.sp.each(rng, want, buf, raw, func(_ uint32, enc []byte) error {
			l, err := decodeRow(enc, cols)
			if err != nil {
				return err
			}
			key := keyOf(l, keyIdx)
			k := row.KeyString(key)
			n, ok := byKey[k]
			if !ok {
				rep.OnlyLegacy++
				rep.note(Diff{Kind: OnlyLegacy, Key: key})
				return nil
			}
			delete(byKey, k)
			var diffs []ColumnDiff
			for i := range t.Columns {
				if !equal(l[i], n[i], opts) {
					diffs = append(diffs, ColumnDiff{Column: t.Columns[i].Name, Legacy: l[i], New: n[i]})
					rep.ChangedCols[t.Columns[i].Name]++
				}
			}
			if len(diffs) == 0 {
				rep.Matching++
				return nil
			}
			rep.Changed++
			rep.note(Diff{Kind: Changed, Key: key, Columns: diffs})
			return nil
		}); err != nil {
			return nil, err
		}
		for _, n := range byKey {
			rep.OnlyNew++
			rep.note(Diff{Kind: OnlyNew, Key: keyOf(n, keyIdx)})
		}
	}
	progress("compared %d of %d key ranges row by row in %s", rep.KeyRangesDiffering, ranges, time.Since(began).Round(time.Millisecond))
	if fresh >= 0 {
		fr := &Freshness{Column: opts.FreshnessColumn, Legacy: lp.newest, New: np.newest}
		fr.Behind, fr.HasBehind = behind(fr.Legacy, fr.New)
		rep.Freshness = fr
	}
	return rep, nil
}

// rangesFor is how many key ranges hold opts.ExpectedRows at about
// opts.RangeRows each: a power of two, so a range is a prefix of the hash.
func rangesFor(opts Options) int {
	per := int64(opts.RangeRows)
	if per <= 0 {
		per = DefaultRangeRows
	}
	n := 1
	for n < maxRanges && int64(n)*per < opts.ExpectedRows {
		n *= 2
	}
	return n
}

// note keeps the first MaxDiffs differing keys in key order.
func (r *Report) note(d Diff) {
	limit := r.Options.MaxDiffs
	i, _ := slices.BinarySearchFunc(r.Diffs, d, func(a, b Diff) int { return row.CompareKeys(a.Key, b.Key) })
	if i >= limit {
		return
	}
	if len(r.Diffs) == limit {
		r.Diffs = r.Diffs[:limit-1]
	}
	r.Diffs = slices.Insert(r.Diffs, i, d)
}

// pass is one side's read: per cell a row count and a sum of row hashes,
// and the rows spilled by range.
type pass struct {
	t      *jobspec.Table
	name   string
	keyIdx []int
	fresh  int
	opts   Options
	bits   uint // of the key hash that name a cell
	sp     *spill
	count  []int64
	sum    []xxh3.Uint128 // each half summed on its own, so order does not matter
	newest row.Value
	// fromIceberg: values come from an Iceberg scan, which has no json type
	// and gives json columns back as strings.
	fromIceberg bool
}

func newPass(t *jobspec.Table, name string, keyIdx []int, fresh, ranges int, dir string, opts Options) (*pass, error) {
	chunk := min(max(spillBudget/ranges, 4<<10), 1<<20)
	sp, err := newSpill(dir, strings.Fields(name)[0], ranges, chunk)
	if err != nil {
		return nil, err
	}
	bits := uint(cellBits)
	for n := ranges; n > 1; n /= 2 {
		bits++
	}
	cells := ranges * cellsPerRange
	return &pass{t: t, name: name, keyIdx: keyIdx, fresh: fresh, opts: opts, bits: bits, sp: sp,
		count: make([]int64, cells), sum: make([]xxh3.Uint128, cells)}, nil
}

// read hashes and spills every row of scan; ordered checks that keys
// ascend, which also proves them unique.
func (p *pass) read(scan Scan, ordered bool, stop *atomic.Bool) error {
	normalizes := p.opts.TrimText || p.opts.TimestampPrecision > time.Microsecond
	key := make([]row.Value, len(p.keyIdx))
	var prev, norm []row.Value
	var kb, enc, nb []byte
	var coerce []int // the columns asSpec changes
	for i := range p.t.Columns {
		if p.fromIceberg && hasJSON(&p.t.Columns[i]) {
			coerce = append(coerce, i)
		}
	}
	err := scan(func(r []row.Value) error {
		if stop.Load() {
			return errStopped
		}
		if len(r) != len(p.t.Columns) {
			return fmt.Errorf("%s: a row of %d columns, the spec's table %s has %d", p.name, len(r), p.t.Name, len(p.t.Columns))
		}
		for _, i := range coerce {
			r[i] = asSpec(r[i], &p.t.Columns[i])
		}
		for i, j := range p.keyIdx {
			key[i] = r[j]
		}
		if ordered {
			if prev != nil {
				switch c := row.CompareKeys(prev, key); {
				case c == 0:
					return &KeyError{fmt.Sprintf("%s holds key (%s) twice: reconcile matches rows by key; give it a primary key or a unique index on (%s)",
						p.name, namedKey(p.t.PrimaryKey, key), strings.Join(p.t.PrimaryKey, ", "))}
				case c > 0:
					return &KeyError{fmt.Sprintf("%s: key (%s) came after (%s): the rows are not in key order; its key columns' ordering differs from reconcile's (a collation?)",
						p.name, namedKey(p.t.PrimaryKey, key), namedKey(p.t.PrimaryKey, prev))}
				}
			}
			prev = prev[:0]
			for _, v := range key {
				prev = append(prev, own(v))
			}
		}
		kb = row.AppendKey(kb[:0], key)
		cell := uint32(xxh3.Hash(kb) >> (64 - p.bits))
		enc = row.AppendKey(enc[:0], r)
		digest := enc
		if normalizes {
			norm = norm[:0]
			for _, v := range r {
				norm = append(norm, normalizeDeep(v, p.opts))
			}
			nb = row.AppendKey(nb[:0], norm)
			digest = nb
		}
		d := xxh3.Hash128(digest)
		p.count[cell]++
		p.sum[cell].Lo += d.Lo
		p.sum[cell].Hi += d.Hi
		if p.fresh >= 0 {
			p.newest = newest(p.newest, r[p.fresh])
		}
		return p.sp.add(int(cell>>cellBits), cell&(cellsPerRange-1), enc)
	})
	if err != nil {
		return err
	}
	return p.sp.finish()
}

// asSpec gives a value read from Iceberg the kind its spec column's type
// has where the two differ: json columns (Iceberg stores them as strings),
// inside nested values too.
func asSpec(v row.Value, c *jobspec.Column) row.Value {
	switch {
	case v.Kind() == row.KindString && c.Type == "json":
		return row.JSON(v.Text())
	case v.Kind() == row.KindList && c.Element != nil:
		in := v.Elems()
		out := make([]row.Value, len(in))
		for i, e := range in {
			out[i] = asSpec(e, c.Element)
		}
		return row.List(out)
	case v.Kind() == row.KindStruct && len(c.Fields) == len(v.Fields()):
		in := v.Fields()
		out := make([]row.Value, len(in))
		for i, e := range in {
			out[i] = asSpec(e, &c.Fields[i])
		}
		return row.Struct(out)
	case v.Kind() == row.KindMap && c.Key != nil && c.Value != nil:
		in := v.Entries()
		out := make([]row.MapEntry, len(in))
		for i, e := range in {
			out[i] = row.MapEntry{Key: asSpec(e.Key, c.Key), Value: asSpec(e.Value, c.Value)}
		}
		return row.Map(out)
	}
	return v
}

func hasJSON(c *jobspec.Column) bool {
	if c == nil {
		return false
	}
	if c.Type == "json" || hasJSON(c.Element) || hasJSON(c.Key) || hasJSON(c.Value) {
		return true
	}
	for i := range c.Fields {
		if hasJSON(&c.Fields[i]) {
			return true
		}
	}
	return false
}

func decodeRow(enc []byte, cols int) ([]row.Value, error) {
	vals, rest, err := row.DecodeKey(enc, cols)
	if err == nil && len(rest) != 0 {
		err = fmt.Errorf("%d bytes after the row", len(rest))
	}
	if err != nil {
		return nil, fmt.Errorf("reconcile spill file: a damaged row: %w", err)
	}
	return vals, nil
}

func keyOf(r []row.Value, keyIdx []int) []row.Value {
	k := make([]row.Value, len(keyIdx))
	for i, j := range keyIdx {
		k[i] = r[j]
	}
	return k
}

// own copies a scalar string's bytes: a scan's strings may point into the
// Arrow buffer of a record, which is released after its rows.
func own(v row.Value) row.Value {
	switch v.Kind() {
	case row.KindString:
		return row.String(strings.Clone(v.Text()))
	case row.KindJSON:
		return row.JSON(strings.Clone(v.Text()))
	case row.KindBinary:
		return row.Binary(strings.Clone(v.Text()))
	}
	return v
}

func colIndex(t *jobspec.Table, name string) int {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return i
		}
	}
	return -1
}

// newest is the larger of two values, nulls ignored.
func newest(have, v row.Value) row.Value {
	if v.IsNull() || v.IsUnavailable() {
		return have
	}
	if have.IsNull() || row.Compare(v, have) > 0 {
		return own(v)
	}
	return have
}

// behind is legacy - new for times and timestamps of one kind.
func behind(legacy, current row.Value) (time.Duration, bool) {
	if legacy.Kind() != current.Kind() {
		return 0, false
	}
	switch legacy.Kind() {
	case row.KindTimestamp, row.KindTimestampTZ, row.KindTime:
		return time.Duration(legacy.Int()-current.Int()) * time.Microsecond, true
	case row.KindDate:
		return time.Duration(legacy.Int()-current.Int()) * 24 * time.Hour, true
	}
	return 0, false
}

// equal compares a legacy and a new value within the tolerances.
func equal(a, b row.Value, o Options) bool {
	a, b = normalize(a, o), normalize(b, o)
	if o.FloatEpsilon > 0 && a.Kind() == b.Kind() && (a.Kind() == row.KindFloat32 || a.Kind() == row.KindFloat64) {
		x, y := a.Float(), b.Float()
		if math.IsNaN(x) || math.IsNaN(y) {
			return math.IsNaN(x) && math.IsNaN(y)
		}
		return x == y || math.Abs(x-y) <= o.FloatEpsilon
	}
	if a.Kind() != b.Kind() {
		return false
	}
	switch a.Kind() {
	case row.KindStruct:
		return equalSlices(a.Fields(), b.Fields(), o)
	case row.KindList:
		return equalSlices(a.Elems(), b.Elems(), o)
	case row.KindMap:
		ae, be := a.Entries(), b.Entries()
		if len(ae) != len(be) {
			return false
		}
		for i := range ae {
			if !equal(ae[i].Key, be[i].Key, o) || !equal(ae[i].Value, be[i].Value, o) {
				return false
			}
		}
		return true
	}
	return row.Equal(a, b)
}

func equalSlices(a, b []row.Value, o Options) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !equal(a[i], b[i], o) {
			return false
		}
	}
	return true
}

// normalizeDeep is normalize applied inside structs, lists and maps too.
func normalizeDeep(v row.Value, o Options) row.Value {
	switch v.Kind() {
	case row.KindStruct, row.KindList:
		in := v.Elems()
		if v.Kind() == row.KindStruct {
			in = v.Fields()
		}
		out := make([]row.Value, len(in))
		for i, e := range in {
			out[i] = normalizeDeep(e, o)
		}
		if v.Kind() == row.KindStruct {
			return row.Struct(out)
		}
		return row.List(out)
	case row.KindMap:
		in := v.Entries()
		out := make([]row.MapEntry, len(in))
		for i, e := range in {
			out[i] = row.MapEntry{Key: normalizeDeep(e.Key, o), Value: normalizeDeep(e.Value, o)}
		}
		return row.Map(out)
	}
	return normalize(v, o)
}

// normalize applies the truncating tolerances to one value.
func normalize(v row.Value, o Options) row.Value {
	switch v.Kind() {
	case row.KindString:
		if o.TrimText {
			return row.String(strings.TrimRight(v.Text(), " "))
		}
	case row.KindTimestamp, row.KindTimestampTZ, row.KindTime:
		unit := o.TimestampPrecision.Microseconds()
		if unit <= 1 {
			return v
		}
		us := v.Int()
		us -= ((us % unit) + unit) % unit // floor, also before 1970
		switch v.Kind() {
		case row.KindTimestamp:
			return row.Timestamp(us)
		case row.KindTimestampTZ:
			return row.TimestampTZ(us)
		}
		return row.Time(us)
	}
	return v
}
