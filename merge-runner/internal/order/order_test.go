package order

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/badinput"
	"github.com/datasurface/datasurface/merge-runner/internal/debezium"
	"github.com/datasurface/datasurface/merge-runner/internal/landing"
)

const topic = "acme.shop.public.items"

var table = &jobspec.Table{Name: "items", Topic: topic, Mode: jobspec.ModeLive, PrimaryKey: []string{"id"}, Columns: []jobspec.Column{
	{Name: "id", Type: "int64"}, {Name: "name", Type: "text", Nullable: true},
}}

// event is a Debezium PostgreSQL event whose source.sequence is
// [commit, lsn] (SourceInfo#sequence: a string holding two strings; 0 is
// written null); commit < 0 writes no sequence at all.
func event(op string, id int, commit, lsn int64) string {
	seq := ""
	if commit >= 0 {
		c := "null"
		if commit > 0 {
			c = fmt.Sprintf(`\"%d\"`, commit)
		}
		seq = fmt.Sprintf(`"sequence":"[%s,\"%d\"]",`, c, lsn)
	}
	img := fmt.Sprintf(`{"id":%d,"name":"n%d"}`, id, id)
	before, after := "null", img
	switch op {
	case "d":
		before, after = img, "null"
	case "t":
		after = "null"
	}
	return fmt.Sprintf(`{"before":%s,"after":%s,"source":{"connector":"postgresql","ts_ms":%d,%s"lsn":%d},"op":%q,"ts_ms":1}`, before, after, lsn, seq, lsn, op)
}

// land writes lines as the object of partition p starting at offset start.
func land(t *testing.T, root string, p int32, start int64, lines ...string) {
	t.Helper()
	dir := filepath.Join(root, "cdc", topic, fmt.Sprintf("partition=%d", p))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	name := fmt.Sprintf("%s+%d+%010d.json", topic, p, start)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(lines, "\n")+"\n"), 0o644))
}

// clock is a time relative to when the objects landed (now, in the test).
func clock(d time.Duration) func() time.Time {
	return func() time.Time { return time.Now().Add(d) }
}

// merged reads a merger to io.EOF and returns "op:id@lsn" per event.
func merged(t *testing.T, root string, st State, opts Options) ([]string, *Merger, error) {
	t.Helper()
	store := landing.NewLocalStore(root)
	files, err := landing.ListTopic(context.Background(), store, "cdc", topic)
	require.NoError(t, err)
	dec, err := debezium.NewDecoder(table, jobspec.Encoding{DecimalHandling: "precise"})
	require.NoError(t, err)
	m := New(context.Background(), store, files, dec, st, opts)
	t.Cleanup(func() { _ = m.Close() })
	var out []string
	for {
		ev, _, err := m.Next()
		if err == io.EOF {
			return out, m, nil
		}
		if err != nil {
			return out, m, err
		}
		id := "-"
		if ev.Key != nil {
			id = ev.Key[0].String()
		}
		out = append(out, fmt.Sprintf("%s:%s@%d", ev.Op, id, ev.Seq.LSN))
	}
}

func TestPartitionsMergeInCommitOrder(t *testing.T) {
	root := t.TempDir()
	// Transactions interleave in the WAL: the one committed second holds
	// the lower change LSN 40; the last-commit element orders it.
	land(t, root, 0, 0, event("c", 1, 10, 11), event("u", 1, 30, 45), event("d", 1, 50, 51))
	land(t, root, 1, 0, event("c", 2, 20, 40), event("t", 0, 45, 46), event("c", 2, 51, 52))
	land(t, root, 2, 0, event("c", 3, 30, 31))
	got, m, err := merged(t, root, State{}, Options{Grace: time.Minute, Now: clock(time.Hour)})
	require.NoError(t, err)
	assert.Equal(t, []string{"create:1@11", "create:2@40", "create:3@31", "update:1@45", "truncate:-@46", "delete:1@51", "create:2@52"}, got)
	assert.Empty(t, m.Holds())
	st := m.State()
	assert.Equal(t, landing.Position{0: 3, 1: 3, 2: 1}, st.Position)
	assert.Equal(t, debezium.Sequence{LastCommitLSN: 45, LSN: 46, Valid: true}, st.Truncate)
	assert.Equal(t, map[int32]debezium.Sequence{
		0: {LastCommitLSN: 50, LSN: 51, Valid: true}, 1: {LastCommitLSN: 51, LSN: 52, Valid: true}, 2: {LastCommitLSN: 30, LSN: 31, Valid: true},
	}, st.Seqs)
}

// Partition 1 has landed its first event only: partition 0's events after
// it may have been committed after a truncate partition 1 has not landed
// yet, so they wait, for the grace period at most.
func TestSilentPartitionIsWaitedFor(t *testing.T) {
	root := t.TempDir()
	land(t, root, 0, 0, event("c", 1, 10, 11), event("c", 3, 30, 31), event("c", 5, 50, 51))
	land(t, root, 1, 0, event("c", 2, 20, 21))
	got, m, err := merged(t, root, State{}, Options{Grace: time.Minute, Now: clock(0)})
	require.NoError(t, err)
	assert.Equal(t, []string{"create:1@11", "create:2@21"}, got)
	holds := m.Holds()
	require.Len(t, holds, 1)
	assert.Equal(t, int32(1), holds[0].Partition)
	assert.True(t, holds[0].Waiting)
	assert.Equal(t, "[20,21]", holds[0].Last)
	assert.Equal(t, "[30,31]", holds[0].Held)
	assert.False(t, holds[0].Expired)
	assert.Contains(t, holds[0].String(), "partition 1 has landed nothing after sequence [20,21]")

	// The next run starts where this one stopped; once partition 1 lands
	// past the held events they go ahead.
	st := m.State()
	land(t, root, 1, 1, event("c", 4, 40, 41), event("c", 6, 60, 61))
	got, m, err = merged(t, root, st, Options{Grace: time.Minute, Now: clock(0)})
	require.NoError(t, err)
	assert.Equal(t, []string{"create:3@31", "create:4@41", "create:5@51"}, got)
	require.Len(t, m.Holds(), 1)
	assert.Equal(t, int32(0), m.Holds()[0].Partition, "partition 1's last event waits for partition 0 now")

	// Silent past the grace period: nothing older can still land.
	got, m, err = merged(t, root, m.State(), Options{Grace: time.Minute, Now: clock(2 * time.Minute)})
	require.NoError(t, err)
	assert.Equal(t, []string{"create:6@61"}, got)
	assert.Empty(t, m.Holds())
}

// A partition that recorded a sequence past the next event does not hold
// it: its later events all come after.
func TestRecordedSequencesReleaseEvents(t *testing.T) {
	root := t.TempDir()
	land(t, root, 0, 0, event("c", 1, 10, 11))
	land(t, root, 1, 0, event("c", 2, 20, 21))
	st := State{Position: landing.Position{1: 1}, Seqs: map[int32]debezium.Sequence{1: {LastCommitLSN: 20, LSN: 21, Valid: true}}}
	got, m, err := merged(t, root, st, Options{Grace: time.Minute, Now: clock(0)})
	require.NoError(t, err)
	assert.Equal(t, []string{"create:1@11"}, got)
	assert.Empty(t, m.Holds())
}

func TestGapHoldsTheTopic(t *testing.T) {
	root := t.TempDir()
	land(t, root, 0, 0, event("c", 1, 10, 11), event("c", 3, 30, 31))
	land(t, root, 1, 0, event("c", 2, 20, 21))
	land(t, root, 1, 5, event("c", 4, 40, 41)) // offsets 1-4 not landed
	got, m, err := merged(t, root, State{}, Options{Grace: time.Minute, Now: clock(0)})
	require.NoError(t, err)
	assert.Equal(t, []string{"create:1@11", "create:2@21"}, got, "partition 0's event at 31 may follow the missing ones")
	holds := m.Holds()
	require.Len(t, holds, 1)
	require.NotNil(t, holds[0].Gap)
	assert.Equal(t, int64(1), holds[0].Gap.Expected)
	assert.Equal(t, int64(5), holds[0].Gap.NextOffset)
	assert.False(t, holds[0].Expired)
	assert.Equal(t, landing.Position{0: 1, 1: 1}, m.State().Position)

	// Past the grace period the gap is still a hold, now expired; the
	// position still does not move past it.
	got, m, err = merged(t, root, m.State(), Options{Grace: time.Minute, Now: clock(2 * time.Minute)})
	require.NoError(t, err)
	assert.Empty(t, got)
	require.Len(t, m.Holds(), 1)
	assert.True(t, m.Holds()[0].Expired)
	assert.Equal(t, int64(1), m.State().Position.Next(1))

	// The missing object lands: everything goes, in order.
	land(t, root, 1, 1, event("c", 7, 22, 23), event("c", 8, 24, 25), event("c", 9, 32, 33), event("c", 10, 34, 35))
	got, m, err = merged(t, root, m.State(), Options{Grace: time.Minute, Now: clock(time.Hour)})
	require.NoError(t, err)
	assert.Equal(t, []string{"create:7@23", "create:8@25", "create:3@31", "create:9@33", "create:10@35", "create:4@41"}, got)
	assert.Empty(t, m.Holds())
}

func TestSinglePartitionKeepsLandedOrder(t *testing.T) {
	root := t.TempDir()
	// No sequences needed, and none is compared: offset order is the order.
	land(t, root, 0, 0, event("c", 1, -1, 0), event("c", 2, 30, 31), event("t", 0, 10, 11), event("c", 3, -1, 0))
	got, m, err := merged(t, root, State{}, Options{Grace: time.Minute, Now: clock(0)})
	require.NoError(t, err)
	assert.Equal(t, []string{"create:1@0", "create:2@31", "truncate:-@11", "create:3@0"}, got)
	assert.Empty(t, m.Holds())
}

func TestSeveralPartitionsNeedSequences(t *testing.T) {
	root := t.TempDir()
	land(t, root, 0, 0, event("c", 1, 10, 11), "null") // a tombstone needs no order
	land(t, root, 1, 0, event("c", 2, -1, 0))
	_, _, err := merged(t, root, State{}, Options{Grace: time.Minute, Now: clock(time.Hour)})
	be, ok := badinput.As(err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, int32(1), be.Partition)
	assert.Contains(t, be.Reason, "no source.sequence")
}

func TestTruncatesAcrossBatches(t *testing.T) {
	later := Options{Grace: time.Minute, Now: clock(time.Hour)}
	applied := State{
		Position: landing.Position{0: 5, 1: 2},
		Seqs:     map[int32]debezium.Sequence{0: {LastCommitLSN: 60, LSN: 61, Valid: true}, 1: {LastCommitLSN: 40, LSN: 41, Valid: true}},
		Truncate: debezium.Sequence{LastCommitLSN: 40, LSN: 41, Valid: true},
	}
	t.Run("events committed before an applied truncate are dropped", func(t *testing.T) {
		root := t.TempDir()
		land(t, root, 0, 5, event("c", 1, 70, 71))
		// Partition 2 lands late what the truncate at 41 already removed,
		// and repeats that truncate (a connector restart re-sends events).
		land(t, root, 2, 0, event("c", 2, 20, 21), event("t", 0, 40, 41), event("c", 3, 65, 66))
		got, m, err := merged(t, root, applied, later)
		require.NoError(t, err)
		assert.Equal(t, []string{"create:3@66", "create:1@71"}, got)
		assert.Equal(t, int64(2), m.Superseded())
		assert.Equal(t, landing.Position{0: 6, 1: 2, 2: 3}, m.State().Position)
	})
	t.Run("a truncate committed before applied events of another partition is bad input", func(t *testing.T) {
		root := t.TempDir()
		land(t, root, 1, 2, event("t", 0, 50, 51))
		_, _, err := merged(t, root, applied, later)
		be, ok := badinput.As(err)
		require.True(t, ok, "%v", err)
		assert.Equal(t, int32(1), be.Partition)
		assert.Equal(t, int64(2), be.Offset)
		assert.Contains(t, be.Reason, "a truncate committed at sequence [50,51] landed after partition 0's events up to sequence [60,61] were applied")
	})
	t.Run("a truncate after everything applied goes", func(t *testing.T) {
		root := t.TempDir()
		land(t, root, 1, 2, event("t", 0, 62, 63), event("c", 4, 64, 65))
		got, m, err := merged(t, root, applied, later)
		require.NoError(t, err)
		assert.Equal(t, []string{"truncate:-@63", "create:4@65"}, got)
		assert.Equal(t, debezium.Sequence{LastCommitLSN: 62, LSN: 63, Valid: true}, m.State().Truncate)
	})
}
