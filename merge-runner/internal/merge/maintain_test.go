package merge

import (
	"context"
	"testing"

	"github.com/apache/iceberg-go/table"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
)

func TestMaintainKeepsRowsAndPosition(t *testing.T) {
	e := newEnv(t)
	spec := itemsSpec(jobspec.ModeLive, false)
	spec.Batch.MaxEvents = 2 // one commit per two events: many small files
	land(t, e.events, 0, 0,
		ev("c", "", item(1, "a", "1.00", "eu"), 1000),
		ev("c", "", item(2, "b", "2.00", "eu"), 1001),
		ev("u", "", item(1, "a2", "1.10", "eu"), 1002),
		ev("c", "", item(3, "c", "3.00", "eu"), 1003),
		ev("d", key(2), "", 1004),
		ev("u", "", item(3, "c2", "3.30", "eu"), 1005),
	)
	st := e.run(t, spec)
	assert.EqualValues(t, 3, st[0].Batches)
	want := []string{"1|a2|1.10|eu", "3|c2|3.30|eu"}
	require.Equal(t, want, e.rows(t, spec, 0))

	ms, err := Maintain(context.Background(), e.catalog, spec, MaintainOptions{KeepLast: 1, MinInputFiles: 2})
	require.NoError(t, err)
	require.Len(t, ms, 1)
	assert.Greater(t, ms[0].RewrittenFiles, 1)
	assert.Equal(t, 1, ms[0].AddedFiles)
	assert.Greater(t, ms[0].RemovedDeleteFiles, 0)
	assert.Greater(t, ms[0].ExpiredSnapshots, 0)
	assert.Equal(t, want, e.rows(t, spec, 0))

	tbl, err := e.catalog.LoadTable(context.Background(), table.Identifier{"shop", "items"})
	require.NoError(t, err)
	assert.Len(t, tbl.Metadata().Snapshots(), 1)
	state, err := ReadState(tbl)
	require.NoError(t, err)
	assert.Equal(t, `{"0":6}`, state.Position.Encode())
	assert.EqualValues(t, 3, state.Batch)

	// The position survived: a rerun applies nothing, new events apply.
	st = e.run(t, spec)
	assert.EqualValues(t, 0, st[0].Events)
	land(t, e.events, 0, 6, ev("d", key(1), "", 2000))
	e.run(t, spec)
	assert.Equal(t, []string{"3|c2|3.30|eu"}, e.rows(t, spec, 0))
}
