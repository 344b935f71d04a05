package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/merge-runner/internal/testenv"
)

// The steps on a small table: the merge must leave exactly the rows the
// events make, with and without the envelope, and the report must read the
// steps' lines. (Figures come from scripts/bench-merge.sh, not from tests.)
func TestStepsSmall(t *testing.T) {
	ctx := context.Background()
	var out bytes.Buffer
	for _, envelope := range []bool{false, true} {
		dir := t.TempDir()
		require.NoError(t, Prepare(ctx, &out, PrepareOptions{Dir: dir, Rows: 2000, Seed: 7}))
		require.NoError(t, Events(ctx, &out, EventsOptions{Dir: dir, Events: 3000, Envelope: envelope, Seed: 3, Partitions: 2, FlushSize: 500}))
		require.NoError(t, Merge(ctx, &out, MergeOptions{Dir: dir, MaxEvents: 1000}))
		require.NoError(t, Verify(ctx, &out, dir))
		require.NoError(t, Ceiling(ctx, &out, dir))
	}
	var merges int
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var r Result
		require.NoError(t, json.Unmarshal([]byte(line), &r), line)
		if r.Step == "merge" {
			merges++
			assert.EqualValues(t, 3000, r.Events)
			assert.EqualValues(t, 3, r.Batches)
		}
		if r.Step == "ceiling" {
			assert.EqualValues(t, 3000, r.Events)
			assert.Positive(t, r.RowsWritten)
		}
	}
	assert.Equal(t, 2, merges)
	var rep bytes.Buffer
	require.NoError(t, Report(strings.NewReader(out.String()), &rep))
	assert.Contains(t, rep.String(), "merge / ceiling")
}

// PGMerge loads the same changes into PostgreSQL and checks its table ends
// as the events make it.
func TestPGMergeSmall(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.Postgres(t)
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, Prepare(ctx, &out, PrepareOptions{Dir: dir, Rows: 2000, Seed: 7}))
	require.NoError(t, Events(ctx, &out, EventsOptions{Dir: dir, Events: 3000, Seed: 3}))
	out.Reset()
	require.NoError(t, PGMerge(ctx, &out, PGOptions{DSN: dsn, Dir: dir}))
	var r Result
	require.NoError(t, json.Unmarshal(out.Bytes(), &r))
	assert.Equal(t, "pgmerge", r.Step)
	assert.EqualValues(t, 3000, r.Events)
}
