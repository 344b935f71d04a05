// Package reconcile compares a legacy copy of a table with the table the
// platform maintains: row counts, keys only on one side, and for keys on
// both a typed comparison column by column, within tolerances for the ways
// a legacy copy differs by design (timestamp precision, float rounding,
// text padding), and how far the new table is behind (freshness).
//
// The legacy side streams in key order; the new side is read whole and
// sorted by key, so memory is bounded by the new table, not by a key range.
package reconcile

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

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
	Table       string
	KeyColumns  []string
	LegacyRows  int64
	NewRows     int64
	Matching    int64 // keys on both sides whose rows agree
	OnlyLegacy  int64
	OnlyNew     int64
	Changed     int64
	Diffs       []Diff // the first MaxDiffs, in key order
	Freshness   *Freshness
	Options     Options
	ChangedCols map[string]int64 // per column, how many rows differ in it
}

// Equal says whether the tables agree within the tolerances.
func (r *Report) Equal() bool { return r.OnlyLegacy == 0 && r.OnlyNew == 0 && r.Changed == 0 }

// Compare reads both sides of t and compares them. legacy must stream in
// key order (row.CompareKeys); an out-of-order key is an error. current
// may come in any order: it is held and sorted.
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
	rep := &Report{Table: t.Name, KeyColumns: t.PrimaryKey, Options: opts, ChangedCols: map[string]int64{}}
	var fr *Freshness
	if fresh >= 0 {
		fr = &Freshness{Column: opts.FreshnessColumn}
		rep.Freshness = fr
	}
	key := func(r []row.Value) []row.Value {
		k := make([]row.Value, len(keyIdx))
		for i, j := range keyIdx {
			k[i] = r[j]
		}
		return k
	}

	// The new side, sorted by key.
	var rows [][]row.Value
	var keys [][]row.Value
	err := current(func(r []row.Value) error {
		if len(r) != len(t.Columns) {
			return fmt.Errorf("new table %s: a row of %d columns, the spec has %d", t.Name, len(r), len(t.Columns))
		}
		c := make([]row.Value, len(r))
		for i, v := range r {
			c[i] = own(v)
		}
		rows = append(rows, c)
		keys = append(keys, key(c))
		if fr != nil {
			fr.New = newest(fr.New, c[fresh])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return row.CompareKeys(keys[a], keys[b]) })
	rep.NewRows = int64(len(rows))

	addDiff := func(d Diff) {
		if len(rep.Diffs) < opts.MaxDiffs {
			rep.Diffs = append(rep.Diffs, d)
		}
	}
	next := 0 // the next new row (in order) not yet matched
	var prev []row.Value
	err = legacy(func(r []row.Value) error {
		if len(r) != len(t.Columns) {
			return fmt.Errorf("legacy table: a row of %d columns, the spec has %d", len(r), len(t.Columns))
		}
		rep.LegacyRows++
		k := key(r)
		if prev != nil && row.CompareKeys(prev, k) >= 0 {
			return fmt.Errorf("legacy table: key %v follows %v: the rows are not in key order, or the key is not unique", k, prev)
		}
		prev = k
		if fr != nil {
			fr.Legacy = newest(fr.Legacy, r[fresh])
		}
		for next < len(order) && row.CompareKeys(keys[order[next]], k) < 0 {
			rep.OnlyNew++
			addDiff(Diff{Kind: OnlyNew, Key: keys[order[next]]})
			next++
		}
		if next == len(order) || row.CompareKeys(keys[order[next]], k) > 0 {
			rep.OnlyLegacy++
			addDiff(Diff{Kind: OnlyLegacy, Key: k})
			return nil
		}
		n := rows[order[next]]
		next++
		var cols []ColumnDiff
		for i := range t.Columns {
			if !equal(r[i], n[i], opts) {
				cols = append(cols, ColumnDiff{Column: t.Columns[i].Name, Legacy: r[i], New: n[i]})
				rep.ChangedCols[t.Columns[i].Name]++
			}
		}
		if len(cols) == 0 {
			rep.Matching++
			return nil
		}
		rep.Changed++
		addDiff(Diff{Kind: Changed, Key: k, Columns: cols})
		return nil
	})
	if err != nil {
		return nil, err
	}
	for ; next < len(order); next++ {
		rep.OnlyNew++
		addDiff(Diff{Kind: OnlyNew, Key: keys[order[next]]})
	}
	// Only-new keys found after the legacy stream ended come after the
	// others in key order; the list is in key order already otherwise.
	slices.SortStableFunc(rep.Diffs, func(a, b Diff) int { return row.CompareKeys(a.Key, b.Key) })
	if fr != nil {
		fr.Behind, fr.HasBehind = behind(fr.Legacy, fr.New)
	}
	return rep, nil
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
		return v
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
