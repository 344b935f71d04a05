package reconcile

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A spill reads back every row it was given, range by range and only the
// cells asked for, across chunk boundaries.
func TestSpillRoundTrip(t *testing.T) {
	s, err := newSpill(t.TempDir(), "t", 3, 64)
	require.NoError(t, err)
	defer s.close()
	for i := range 300 {
		require.NoError(t, s.add(i%3, uint32(i%5), fmt.Appendf(nil, "row-%d", i)))
	}
	require.NoError(t, s.finish())
	require.Greater(t, len(s.chunks[1]), 1, "a range spans several chunks")

	var got []string
	_, _, err = s.each(1, func(c uint32) bool { return c == 2 }, nil, nil, func(c uint32, enc []byte) error {
		assert.Equal(t, uint32(2), c)
		got = append(got, string(enc))
		return nil
	})
	require.NoError(t, err)
	var want []string
	for i := range 300 {
		if i%3 == 1 && i%5 == 2 {
			want = append(want, fmt.Sprintf("row-%d", i))
		}
	}
	assert.Equal(t, want, got)
}

// A spill file changed under a running reconcile is an error naming the
// file and offset, never rows misread into a verdict.
func TestSpillDamagedChunk(t *testing.T) {
	s, err := newSpill(t.TempDir(), "t", 1, 1<<10)
	require.NoError(t, err)
	defer s.close()
	for i := range 100 {
		require.NoError(t, s.add(0, 0, fmt.Appendf(nil, "value %d", i)))
	}
	require.NoError(t, s.finish())
	e := s.chunks[0][0]
	_, err = s.f.WriteAt(make([]byte, e.n), e.off) // the chunk zeroed
	require.NoError(t, err)

	_, _, err = s.each(0, func(uint32) bool { return true }, nil, nil, func(uint32, []byte) error { return nil })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "damaged chunk at offset 0")
	assert.Contains(t, err.Error(), s.f.Name())
}
