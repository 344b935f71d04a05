package merge

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
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

// cliDefaults are the maintain command's flag defaults, except that
// snapshots expire as soon as keep-last allows.
var cliDefaults = func() MaintainOptions {
	o := DefaultMaintainOptions()
	o.KeepNewerThan = 0
	return o
}()

// stream lands items events and keeps what the live table and its history
// table should hold. Every run ends on a whole batch, so an event's batch
// is its offset / maxEvents + 1.
type stream struct {
	t         *testing.T
	e         *env
	maxEvents int64
	offset    int64
	ts        int64
	live      map[int64]string
	hist      []histVersion
	open      map[int64]int
}

type histVersion struct {
	img               string
	from, to          int64
	batchIn, batchOut int64
}

func newStream(t *testing.T, e *env, maxEvents int64) *stream {
	return &stream{t: t, e: e, maxEvents: maxEvents, ts: 1000, live: map[int64]string{}, open: map[int64]int{}}
}

type op struct {
	kind string // c, u or d
	id   int64
}

// land writes ops as one landed file and records what they do.
func (s *stream) land(ops ...op) {
	s.t.Helper()
	lines := make([]string, len(ops))
	start := s.offset
	for i, o := range ops {
		s.ts++
		batch := s.offset/s.maxEvents + 1
		if j, ok := s.open[o.id]; ok {
			s.hist[j].to, s.hist[j].batchOut = s.ts, batch
			delete(s.open, o.id)
		}
		if o.kind == "d" {
			lines[i] = ev("d", key(o.id), "", s.ts)
			delete(s.live, o.id)
		} else {
			name, price := fmt.Sprintf("n%d-%d", o.id, s.offset), fmt.Sprintf("%d.%02d", o.id, s.offset%100)
			lines[i] = ev(o.kind, "", item(o.id, name, price, "eu"), s.ts)
			img := fmt.Sprintf("%d|%s|%s|eu", o.id, name, price)
			s.live[o.id] = img
			s.open[o.id] = len(s.hist)
			s.hist = append(s.hist, histVersion{img: img, from: s.ts, batchIn: batch})
		}
		s.offset++
	}
	require.Zero(s.t, s.offset%s.maxEvents, "a landed file must end on a whole batch")
	land(s.t, s.e.events, 0, start, lines...)
}

func (s *stream) wantLive() []string {
	out := make([]string, 0, len(s.live))
	for _, r := range s.live {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

func (s *stream) wantHistory() []string {
	out := make([]string, len(s.hist))
	for i, v := range s.hist {
		to, batchOut := "NULL", "NULL"
		if v.batchOut != 0 {
			to, batchOut = fmt.Sprintf("timestamptz(%dus)", v.to*1000), strconv.FormatInt(v.batchOut, 10)
		}
		out[i] = fmt.Sprintf("%s|timestamptz(%dus)|%s|%d|%s", v.img, v.from*1000, to, v.batchIn, batchOut)
	}
	sort.Strings(out)
	return out
}

// check asserts that both tables hold what the events say and record the
// position after the last of them.
func (s *stream) check(spec *jobspec.Spec, step string) {
	s.t.Helper()
	require.Equal(s.t, s.wantLive(), s.e.rows(s.t, spec, 0), "%s: live rows", step)
	require.Equal(s.t, s.wantHistory(), s.e.rows(s.t, spec, 1), "%s: history rows", step)
	for i := range spec.Tables {
		tbl := s.e.load(s.t, spec, i)
		st, err := ReadState(tbl)
		require.NoError(s.t, err)
		require.Equal(s.t, fmt.Sprintf(`{"0":%d}`, s.offset), st.Position.Encode(), "%s: %s position", step, spec.Tables[i].Name)
		require.Equal(s.t, s.offset/s.maxEvents, st.Batch, "%s: %s batch", step, spec.Tables[i].Name)
		require.Equal(s.t, s.ts, st.SourceTsMs, "%s: %s source time", step, spec.Tables[i].Name)
		require.Empty(s.t, unreferenced(s.t, tbl), "%s: %s: files no snapshot references", step, spec.Tables[i].Name)
	}
}

func (e *env) load(t *testing.T, spec *jobspec.Spec, i int) *table.Table {
	t.Helper()
	tbl, err := e.catalog.LoadTable(context.Background(), table.Identifier{spec.Target.Namespace, spec.Tables[i].Name})
	require.NoError(t, err)
	return tbl
}

// referenced is the set of manifest lists, manifests, and data and delete
// files that snaps reference, as local paths.
func referenced(t *testing.T, tbl *table.Table, snaps ...table.Snapshot) map[string]bool {
	t.Helper()
	fs, err := tbl.FS(context.Background())
	require.NoError(t, err)
	out := map[string]bool{}
	for _, snap := range snaps {
		out[localPath(snap.ManifestList)] = true
		mans, err := snap.Manifests(fs)
		require.NoError(t, err)
		for _, m := range mans {
			out[localPath(m.FilePath())] = true
			for entry, err := range m.Entries(fs, false) {
				require.NoError(t, err)
				if entry.Status() != iceberg.EntryStatusDELETED {
					out[localPath(entry.DataFile().FilePath())] = true
				}
			}
		}
	}
	return out
}

func localPath(p string) string { return strings.TrimPrefix(p, "file://") }

// unreferenced lists the files under a local table's location, other than
// its metadata files, that no snapshot of it references.
func unreferenced(t *testing.T, tbl *table.Table) []string {
	t.Helper()
	live := referenced(t, tbl, tbl.Metadata().Snapshots()...)
	var out []string
	require.NoError(t, filepath.WalkDir(localPath(tbl.Location()), func(p string, d iofs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".metadata.json") {
			return err
		}
		if !live[p] {
			out = append(out, p)
		}
		return nil
	}))
	return out
}

// historySpec is the items table and its history table, both fed by the
// same topic, in one-batch-per-two-events commits: many small files.
func historySpec() *jobspec.Spec {
	spec := itemsSpec(jobspec.ModeLive, false)
	spec.Tables = append(spec.Tables, itemsSpec(jobspec.ModeForensic, false).Tables[0])
	spec.Batch.MaxEvents = 2
	return spec
}

// TestMaintainRepeatedly interleaves merges and maintenance with the CLI's
// defaults: from the third maintenance on, expiry removes snapshots whose
// files an earlier expiry already deleted.
func TestMaintainRepeatedly(t *testing.T) {
	for _, catalog := range []string{"sqlite", "postgres"} {
		t.Run(catalog, func(t *testing.T) {
			e := newEnv(t)
			if catalog == "postgres" {
				e = newPostgresEnv(t)
			}
			spec := historySpec()
			s := newStream(t, e, 2)
			var rewritten, expired int
			for round := range 8 {
				base := int64(10 * round)
				if round == 0 {
					s.land(op{"c", 1}, op{"c", 2}, op{"u", 1}, op{"c", 3}, op{"u", 2}, op{"u", 3})
				} else {
					s.land(op{"c", base + 1}, op{"c", base + 2}, op{"u", base + 1}, op{"c", base + 3},
						op{"d", base - 10 + 2}, op{"u", base - 10 + 3})
				}
				st := e.run(t, spec)
				for _, ts := range st {
					require.EqualValues(t, 6, ts.Events, "round %d: %s", round, ts.Table)
				}
				s.check(spec, fmt.Sprintf("round %d merge", round))

				ms, err := Maintain(context.Background(), e.catalog, spec, cliDefaults)
				require.NoError(t, err, "round %d maintenance", round)
				require.Len(t, ms, 2)
				for _, m := range ms {
					require.Equal(t, "ok", m.Status, "round %d: %s", round, m.Table)
					require.Empty(t, m.Warnings, "round %d: %s: files already gone are not a problem", round, m.Table)
					rewritten += m.RewrittenFiles
					expired += m.ExpiredSnapshots
				}
				s.check(spec, fmt.Sprintf("round %d maintenance", round))
			}
			// The rounds exercised both halves of maintenance.
			assert.Positive(t, rewritten)
			assert.Positive(t, expired)
		})
	}
}

// appendRow commits one row in a snapshot of its own with props in its
// summary, as a merge-runner that writes more properties than this one would.
func appendRow(t *testing.T, tbl *table.Table, rowJSON string, props iceberg.Properties) {
	t.Helper()
	ctx := context.Background()
	sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, false, false)
	require.NoError(t, err)
	rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, sc, strings.NewReader("["+rowJSON+"]"))
	require.NoError(t, err)
	defer rec.Release()
	rdr, err := array.NewRecordReader(sc, []arrow.RecordBatch{rec})
	require.NoError(t, err)
	defer rdr.Release()
	tx := tbl.NewTransaction()
	require.NoError(t, tx.Append(ctx, rdr, props))
	_, err = tx.Commit(ctx)
	require.NoError(t, err)
}

func TestMaintainCarriesEveryDatasurfaceProperty(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	spec := itemsSpec(jobspec.ModeLive, false)
	spec.Batch.MaxEvents = 2
	land(t, e.events, 0, 0,
		ev("c", "", item(1, "a", "1.00", "eu"), 1000),
		ev("c", "", item(2, "b", "2.00", "eu"), 1001),
		ev("u", "", item(1, "a2", "1.10", "eu"), 1002),
		ev("c", "", item(3, "c", "3.00", "eu"), 1003),
	)
	e.run(t, spec)
	tbl := e.load(t, spec, 0)
	props := iceberg.Properties{"datasurface.x": "made-up", "other.y": "not ours"}
	for k, v := range tbl.CurrentSnapshot().Summary.Properties {
		if strings.HasPrefix(k, "datasurface.") {
			props[k] = v
		}
	}
	appendRow(t, tbl, `{"id":9,"name":"x","price":"9.90","region":"eu"}`, props)
	tbl = e.load(t, spec, 0)
	before, err := ReadState(tbl)
	require.NoError(t, err)
	require.Equal(t, tbl.CurrentSnapshot().SnapshotID, before.SnapshotID)

	ms, err := Maintain(ctx, e.catalog, spec, MaintainOptions{KeepLast: 1, MinInputFiles: 2})
	require.NoError(t, err)
	require.Positive(t, ms[0].RewrittenFiles)
	tbl = e.load(t, spec, 0)
	require.Len(t, tbl.Metadata().Snapshots(), 1, "only the compaction snapshot is left")
	got := tbl.CurrentSnapshot().Summary.Properties
	for k, v := range props {
		if strings.HasPrefix(k, "datasurface.") {
			assert.Equal(t, v, got[k], k)
		}
	}
	assert.Equal(t, "made-up", got["datasurface.x"])
	assert.NotContains(t, got, "other.y", "only the merge-runner's own properties are carried")
	after, err := ReadState(tbl)
	require.NoError(t, err)
	assert.Equal(t, tbl.CurrentSnapshot().SnapshotID, after.SnapshotID)
	after.SnapshotID = before.SnapshotID
	assert.Equal(t, before, after)
	assert.Equal(t, []string{"1|a2|1.10|eu", "2|b|2.00|eu", "3|c|3.00|eu", "9|x|9.90|eu"}, e.rows(t, spec, 0))
	assert.EqualValues(t, 0, e.run(t, spec)[0].Events, "the position survived")
}

// TestMaintainGoesOnPastAFailedTable fails two of three tables, one on a
// commit the catalog refuses, one on its configuration; the third is
// maintained, and the error is both failures.
func TestMaintainGoesOnPastAFailedTable(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	spec := historySpec()
	other := itemsSpec(jobspec.ModeLive, false).Tables[0]
	other.Name = "items_copy"
	spec.Tables = append(spec.Tables, other)
	s := newStream(t, e, 2)
	s.land(op{"c", 1}, op{"c", 2}, op{"u", 1}, op{"c", 3})
	e.run(t, spec)
	s.land(op{"d", 2}, op{"c", 4}, op{"u", 3}, op{"c", 5})
	e.run(t, spec)

	tbl := e.load(t, spec, 1)
	tx := tbl.NewTransaction()
	require.NoError(t, tx.SetProperties(iceberg.Properties{table.GCEnabledKey: "false"}))
	_, err := tx.Commit(ctx)
	require.NoError(t, err)

	opts := MaintainOptions{KeepLast: 1, MinInputFiles: 2, BeforeCommit: func(tbl, step string) error {
		if tbl == "shop.items" && step == "expiry" {
			// Another process drops the table: the expiry's commit fails.
			return e.catalog.DropTable(ctx, table.Identifier{"shop", "items"})
		}
		return nil
	}}
	ms, err := Maintain(ctx, e.catalog, spec, opts)
	require.Error(t, err)
	require.Len(t, ms, 3)

	assert.Equal(t, "failed", ms[0].Status)
	assert.Contains(t, ms[0].Error, "table shop.items: expiring snapshots: ")
	assert.Contains(t, ms[0].Error, "current table metadata does not exist")
	assert.Positive(t, ms[0].RewrittenFiles, "the compaction before the failure is reported")
	assert.Zero(t, ms[0].ExpiredSnapshots)
	var ce *target.ConfigError
	assert.False(t, errors.As(ms[0].Err, &ce), "a failed commit is retryable")

	assert.Equal(t, "failed", ms[1].Status)
	assert.Contains(t, ms[1].Error, "table shop.items_history: expiring snapshots: ")
	assert.Contains(t, ms[1].Error, "gc.enabled=false")
	assert.ErrorAs(t, ms[1].Err, &ce)
	assert.Equal(t, s.wantHistory(), e.rows(t, spec, 1))

	assert.Equal(t, "ok", ms[2].Status)
	assert.Empty(t, ms[2].Error)
	assert.Positive(t, ms[2].RewrittenFiles)
	assert.Positive(t, ms[2].ExpiredSnapshots)
	assert.Equal(t, s.wantLive(), e.rows(t, spec, 2))
	state, serr := ReadState(e.load(t, spec, 2))
	require.NoError(t, serr)
	assert.Equal(t, `{"0":8}`, state.Position.Encode())

	// The error is both failures: the configuration one decides the exit code.
	assert.ErrorAs(t, err, &ce)
	assert.Contains(t, err.Error(), ms[0].Error)
	assert.Contains(t, err.Error(), ms[1].Error)
	assert.NotContains(t, err.Error(), "items_copy")
}

// TestMaintainWarnsOnFilesItCannotDelete: a file of an expired snapshot
// that cannot be deleted (here a folder in its place) leaves the table
// maintained, with a warning naming the file; the others are deleted.
func TestMaintainWarnsOnFilesItCannotDelete(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	spec := itemsSpec(jobspec.ModeLive, false)
	spec.Batch.MaxEvents = 2
	s := newStream(t, e, 2)
	s.land(op{"c", 1}, op{"c", 2}, op{"u", 1}, op{"c", 3}, op{"d", 2}, op{"c", 4})
	e.run(t, spec)
	// Compaction only: the files it rewrote are still the old snapshots'.
	ms, err := Maintain(ctx, e.catalog, spec, MaintainOptions{KeepLast: 100, KeepNewerThan: time.Hour, MinInputFiles: 2})
	require.NoError(t, err)
	require.Positive(t, ms[0].RewrittenFiles)
	require.Zero(t, ms[0].ExpiredSnapshots)

	tbl := e.load(t, spec, 0)
	current := referenced(t, tbl, *tbl.CurrentSnapshot())
	var stuck string
	require.NoError(t, filepath.WalkDir(localPath(tbl.Location()), func(p string, d iofs.DirEntry, err error) error {
		if err == nil && stuck == "" && !d.IsDir() && strings.HasSuffix(p, ".parquet") && !current[p] {
			stuck = p
		}
		return err
	}))
	require.NotEmpty(t, stuck, "a data file only older snapshots reference")
	require.NoError(t, os.Remove(stuck))
	require.NoError(t, os.MkdirAll(filepath.Join(stuck, "x"), 0o755))

	ms, err = Maintain(ctx, e.catalog, spec, MaintainOptions{KeepLast: 1, MinInputFiles: 2})
	require.NoError(t, err)
	assert.Equal(t, "ok", ms[0].Status)
	assert.Positive(t, ms[0].ExpiredSnapshots)
	require.Len(t, ms[0].Warnings, 1)
	assert.Contains(t, ms[0].Warnings[0], stuck)
	tbl = e.load(t, spec, 0)
	assert.Len(t, tbl.Metadata().Snapshots(), 1)
	assert.Empty(t, unreferenced(t, tbl), "every other file is deleted")
	assert.DirExists(t, stuck)
	assert.Equal(t, s.wantLive(), e.rows(t, spec, 0))
}
