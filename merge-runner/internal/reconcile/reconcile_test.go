package reconcile

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

var tbl = &jobspec.Table{Name: "t", PrimaryKey: []string{"id"}, Columns: []jobspec.Column{
	{Name: "id", Type: "int64"}, {Name: "at", Type: "timestamp"}, {Name: "x", Type: "float64"},
}}

func scan(rows ...[]row.Value) Scan {
	return func(fn func([]row.Value) error) error {
		buf := make([]row.Value, 3)
		for _, r := range rows {
			copy(buf, r) // the same slice each time, as pgsource gives it
			if err := fn(buf); err != nil {
				return err
			}
		}
		return nil
	}
}

func r(id int64, at int64, x float64) []row.Value {
	return []row.Value{row.Int64(id), row.Timestamp(at), row.Float64(x)}
}

func TestUnorderedLegacyIsAnError(t *testing.T) {
	_, err := Compare(tbl, scan(r(2, 0, 0), r(1, 0, 0)), scan(), Options{})
	require.Error(t, err)
	assert.ErrorAs(t, err, new(*KeyError))
	assert.Contains(t, err.Error(), "not in key order")
	_, err = Compare(tbl, scan(r(1, 0, 0), r(1, 0, 0)), scan(), Options{})
	assert.ErrorAs(t, err, new(*KeyError))
	assert.ErrorContains(t, err, "holds key (id=1) twice")
}

func TestNewSideIsSortedAndDiffsComeInKeyOrder(t *testing.T) {
	rep, err := Compare(tbl, scan(r(2, 0, 0), r(3, 0, 0)), scan(r(5, 0, 0), r(3, 0, 0), r(1, 0, 0)), Options{MaxDiffs: 10})
	require.NoError(t, err)
	assert.EqualValues(t, 1, rep.Matching)
	assert.EqualValues(t, 1, rep.OnlyLegacy)
	assert.EqualValues(t, 2, rep.OnlyNew)
	var got []int64
	for _, d := range rep.Diffs {
		got = append(got, d.Key[0].Int())
	}
	assert.Equal(t, []int64{1, 2, 5}, got)
}

func TestTimestampPrecisionFloorsBefore1970(t *testing.T) {
	// -1500us is 1969-12-31 23:59:59.9985: its millisecond is -2000us, not -1000us.
	o := Options{TimestampPrecision: time.Millisecond}
	assert.True(t, equal(row.Timestamp(-1500), row.Timestamp(-1999), o))
	assert.False(t, equal(row.Timestamp(-1500), row.Timestamp(-999), o))
	assert.True(t, equal(row.TimestampTZ(1001), row.TimestampTZ(1999), o))
	assert.False(t, equal(row.Timestamp(1001), row.TimestampTZ(1001), o), "kinds still differ")
}

func TestFloatEpsilon(t *testing.T) {
	o := Options{FloatEpsilon: 0.01}
	assert.True(t, equal(row.Float64(1.0), row.Float64(1.005), o))
	assert.False(t, equal(row.Float64(1.0), row.Float64(1.02), o))
	assert.True(t, equal(row.Float64(math.NaN()), row.Float64(math.NaN()), o))
	assert.False(t, equal(row.Float64(math.NaN()), row.Float64(1), o))
	assert.False(t, equal(row.Float64(1.0), row.Float64(1.005), Options{}), "exact without it")
	assert.True(t, equal(row.List([]row.Value{row.Float64(1)}), row.List([]row.Value{row.Float64(1.001)}), o), "inside lists too")
}

func TestBadOptions(t *testing.T) {
	_, err := Compare(tbl, scan(), scan(), Options{TimestampPrecision: time.Nanosecond})
	assert.ErrorContains(t, err, "microseconds")
	_, err = Compare(tbl, scan(), scan(), Options{FreshnessColumn: "nope"})
	assert.ErrorContains(t, err, "freshness column")
}

// A table many key ranges large, the new side in another order, with
// differences the test made (so their count is known without comparing):
// keys deleted from and added to the legacy copy, values changed beyond the
// tolerances, and values changed within them (which must count as equal).
func TestTableLargerThanAKeyRange(t *testing.T) {
	wide := &jobspec.Table{Name: "w", PrimaryKey: []string{"id"}, Columns: []jobspec.Column{
		{Name: "id", Type: "int64"}, {Name: "at", Type: "timestamp"}, {Name: "x", Type: "float64"},
		{Name: "name", Type: "text"}, {Name: "tags", Type: "list"},
	}}
	const n = 5000
	rnd := rand.New(rand.NewPCG(1, 2))
	mk := func(id int64) []row.Value {
		return []row.Value{row.Int64(id), row.Timestamp(1_700_000_000_000_000 + id*1_000_000), row.Float64(float64(id) / 3),
			row.String(fmt.Sprintf("name %d", id)), row.List([]row.Value{row.String("t"), row.Int64(id)})}
	}
	var current, legacy [][]row.Value
	wantOnlyNew, wantOnlyLegacy, wantChanged := 0, 0, 0
	var wantKeys []int64
	for id := int64(0); id < n; id++ {
		c := mk(id)
		current = append(current, c)
		l := slices.Clone(c)
		switch id % 250 {
		case 7: // deleted from the legacy copy
			wantOnlyNew++
			wantKeys = append(wantKeys, id)
			continue
		case 11:
			l[3] = row.String("renamed")
			wantChanged++
			wantKeys = append(wantKeys, id)
		case 13: // inside a list
			l[4] = row.List([]row.Value{row.String("t"), row.Int64(-id)})
			wantChanged++
			wantKeys = append(wantKeys, id)
		case 17: // within the tolerances: same millisecond, float close, padded text
			l[1] = row.Timestamp(c[1].Int() + int64(rnd.IntN(1000)))
			l[2] = row.Float64(c[2].Float() + 0.0004)
			l[3] = row.String(c[3].Text() + "   ")
		}
		legacy = append(legacy, l)
		if id%500 == 3 { // a key only the legacy copy has
			legacy = append(legacy, mk(id*1000+n))
			wantOnlyLegacy++
			wantKeys = append(wantKeys, id*1000+n)
		}
	}
	slices.SortFunc(legacy, func(a, b []row.Value) int { return row.CompareKeys(a[:1], b[:1]) })
	rnd.Shuffle(len(current), func(i, j int) { current[i], current[j] = current[j], current[i] })
	slices.Sort(wantKeys)

	rep, err := Compare(wide, scanRows(legacy), scanRows(current), Options{
		TimestampPrecision: time.Millisecond, FloatEpsilon: 0.001, TrimText: true,
		MaxDiffs: 15, ExpectedRows: n, RangeRows: 100, SpillDir: t.TempDir(),
	})
	require.NoError(t, err)
	assert.EqualValues(t, wantOnlyNew, rep.OnlyNew)
	assert.EqualValues(t, wantOnlyLegacy, rep.OnlyLegacy)
	assert.EqualValues(t, wantChanged, rep.Changed)
	assert.EqualValues(t, len(legacy), rep.LegacyRows)
	assert.EqualValues(t, n, rep.NewRows)
	assert.EqualValues(t, len(legacy)-wantOnlyLegacy-wantChanged, rep.Matching)
	assert.Equal(t, map[string]int64{"name": int64(wantChanged / 2), "tags": int64(wantChanged / 2)}, rep.ChangedCols)
	assert.Equal(t, 64, rep.KeyRanges, "5000 rows at 100 a range")
	assert.Less(t, rep.KeyRangesDiffering, rep.KeyRanges, "ranges whose hashes agree are not read back")
	assert.Positive(t, rep.KeyRangesDiffering)
	var got []int64
	for _, d := range rep.Diffs {
		got = append(got, d.Key[0].Int())
	}
	assert.Equal(t, wantKeys[:15], got, "the first differing keys in key order")

	// Without the tolerances the within-tolerance rows differ too.
	rep, err = Compare(wide, scanRows(legacy), scanRows(current), Options{ExpectedRows: n, RangeRows: 100})
	require.NoError(t, err)
	assert.EqualValues(t, wantChanged+n/250, rep.Changed)
}

// A key the new side holds twice is an error, not a count.
func TestNewSideDuplicateKey(t *testing.T) {
	_, err := Compare(tbl, scan(r(1, 0, 0)), scan(r(1, 0, 0), r(1, 0, 0)), Options{})
	assert.ErrorAs(t, err, new(*KeyError))
	assert.ErrorContains(t, err, "holds key (id=1) twice")
}

// scanRows streams rows through one reused slice, as pgsource and the
// Iceberg scan do.
func scanRows(rows [][]row.Value) Scan {
	return func(fn func([]row.Value) error) error {
		for _, r := range rows {
			buf := slices.Clone(r)
			if err := fn(buf); err != nil {
				return err
			}
			clear(buf)
		}
		return nil
	}
}

// The memory a comparison holds is a key range's, not the tables': two
// sides of 2,000,000 rows (held in memory they would take well over 500 MiB)
// are compared in a child process whose peak resident memory is measured.
func TestCompareMemoryBounded(t *testing.T) {
	if os.Getenv("RECONCILE_MEMORY_CHILD") == "1" {
		compareLarge(t)
		return
	}
	if testing.Short() {
		t.Skip("compares 2,000,000 rows in a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCompareMemoryBounded$", "-test.v")
	cmd.Env = append(os.Environ(), "RECONCILE_MEMORY_CHILD=1", "TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024 // kB on Linux
	t.Logf("peak RSS %d MiB\n%s", rss>>20, out)
	assert.Less(t, rss, int64(200<<20))
}

func compareLarge(t *testing.T) {
	const n = 2_000_000
	pad := strings.Repeat("x", 150)
	gen := func(legacy bool) Scan {
		return func(fn func([]row.Value) error) error {
			buf := make([]row.Value, 3)
			for i := range int64(n) {
				id := i
				if !legacy {
					id = (i * 7919) % n // another order: 7919 is prime, so a permutation
				}
				x := id
				if legacy && id%100_000 == 0 {
					x = -1
				}
				buf[0], buf[1], buf[2] = row.Int64(id), row.Timestamp(x), row.String(pad)
				if err := fn(buf); err != nil {
					return err
				}
			}
			return nil
		}
	}
	rep, err := Compare(tbl3, gen(true), gen(false), Options{ExpectedRows: n})
	require.NoError(t, err)
	require.EqualValues(t, n/100_000, rep.Changed)
	require.EqualValues(t, n-n/100_000, rep.Matching)
	t.Logf("%d key ranges, %d compared row by row", rep.KeyRanges, rep.KeyRangesDiffering)
}

var tbl3 = &jobspec.Table{Name: "t", PrimaryKey: []string{"id"}, Columns: []jobspec.Column{
	{Name: "id", Type: "int64"}, {Name: "at", Type: "timestamp"}, {Name: "pad", Type: "text"},
}}
