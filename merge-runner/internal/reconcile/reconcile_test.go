package reconcile

import (
	"math"
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
	assert.Contains(t, err.Error(), "not in key order")
	_, err = Compare(tbl, scan(r(1, 0, 0), r(1, 0, 0)), scan(), Options{})
	assert.ErrorContains(t, err, "not unique")
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
