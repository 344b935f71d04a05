package snapdiff

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

func r(id int64, name string) []row.Value { return []row.Value{row.Int64(id), row.String(name)} }

// diff runs one snapshot of rows against prior and returns what changed and
// the new state.
func diff(t *testing.T, prior Prior, rows ...[]row.Value) ([]string, *bytes.Buffer) {
	t.Helper()
	var state bytes.Buffer
	w, err := NewWriter(&state)
	require.NoError(t, err)
	d, err := NewDiffer(prior, w, []int{0})
	require.NoError(t, err)
	var out []string
	del := func(k []row.Value) error { out = append(out, fmt.Sprintf("delete %v", k[0])); return nil }
	for _, x := range rows {
		c, err := d.Row(x, del)
		require.NoError(t, err)
		if c != Same {
			out = append(out, fmt.Sprintf("%s %v", map[Change]string{Inserted: "insert", Updated: "update"}[c], x[0]))
		}
	}
	require.NoError(t, d.Finish(del))
	require.NoError(t, w.Close())
	return out, &state
}

func read(t *testing.T, state *bytes.Buffer) *Reader {
	t.Helper()
	rd, err := NewReader(bytes.NewReader(state.Bytes()), 1)
	require.NoError(t, err)
	t.Cleanup(rd.Close)
	return rd
}

func TestDiff(t *testing.T) {
	changes, s1 := diff(t, Empty{}, r(1, "a"), r(3, "c"), r(5, "e"))
	assert.Equal(t, []string{"insert 1", "insert 3", "insert 5"}, changes)

	changes, s2 := diff(t, read(t, s1), r(1, "a"), r(3, "c"), r(5, "e"))
	assert.Empty(t, changes, "no source change, no change")
	assert.Equal(t, s1.Bytes(), s2.Bytes())

	changes, s3 := diff(t, read(t, s2), r(0, "z"), r(3, "C"), r(4, "d"))
	assert.Equal(t, []string{"insert 0", "delete 1", "update 3", "insert 4", "delete 5"}, changes)

	changes, _ = diff(t, read(t, s3))
	assert.Equal(t, []string{"delete 0", "delete 3", "delete 4"}, changes)

	rd := read(t, s3)
	var keys []int64
	for {
		k, _, err := rd.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		keys = append(keys, k[0].Int())
	}
	assert.Equal(t, []int64{0, 3, 4}, keys)
}

func TestDiffRefusesRowsOutOfOrder(t *testing.T) {
	var state bytes.Buffer
	w, err := NewWriter(&state)
	require.NoError(t, err)
	d, err := NewDiffer(Empty{}, w, []int{0})
	require.NoError(t, err)
	_, err = d.Row(r(2, "b"), nil)
	require.NoError(t, err)
	_, err = d.Row(r(2, "b"), nil)
	var oe *OrderError
	require.ErrorAs(t, err, &oe, "a repeated key")
	_, err = d.Row(r(1, "a"), nil)
	require.ErrorAs(t, err, &oe)
}

// TestHashIsTyped: rows whose values render to the same text but differ
// in type, nullness or where one value ends hash differently.
func TestHashIsTyped(t *testing.T) {
	rows := [][]row.Value{
		{row.String("ab"), row.String("c")},
		{row.String("a"), row.String("bc")},
		{row.String("abc"), row.Null()},
		{row.String("abc"), row.String("")},
		{row.Int32(1), row.String("")},
		{row.Int64(1), row.String("")},
		{row.String("1"), row.String("")},
		{row.JSON("1"), row.String("")},
	}
	seen := map[Hash]int{}
	for i, x := range rows {
		h, _ := HashRow(nil, x)
		if j, ok := seen[h]; ok {
			t.Fatalf("rows %d and %d hash alike", j, i)
		}
		seen[h] = i
	}
	h1, _ := HashRow(nil, rows[0])
	h2, _ := HashRow(make([]byte, 100), []row.Value{row.String("ab"), row.String("c")})
	assert.Equal(t, h1, h2)
}
