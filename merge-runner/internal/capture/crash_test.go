package capture

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/debezium/encode"
	"github.com/datasurface/datasurface/merge-runner/internal/landing"
	"github.com/datasurface/datasurface/merge-runner/internal/merge"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// faultStore fails the Puts fail chooses, as a crash at that point would
// stop the capture: what was put before stays, nothing after happens.
type faultStore struct {
	*landing.LocalStore
	mu   sync.Mutex
	puts []string
	fail func(key string, puts []string) bool
}

var errCrash = errors.New("crash")

func (f *faultStore) Put(ctx context.Context, key string, body io.ReadSeeker, size int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail(key, f.puts) {
		return errCrash
	}
	f.puts = append(f.puts, key)
	return f.LocalStore.Put(ctx, key, body, size)
}

func isState(key string) bool { return strings.HasSuffix(key, "/state.json") }

func mergeEqualsPostgres(t *testing.T, dsn, root string, spec *jobspec.Spec) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cat, err := target.OpenCatalog(ctx, target.CatalogConfig{Name: "lake", URI: "sqlite:" + filepath.Join(dir, "catalog.db"), Warehouse: filepath.Join(dir, "warehouse")})
	require.NoError(t, err)
	defer func() { _ = target.CloseCatalog(cat) }()
	later := func() time.Time { return time.Now().Add(24 * time.Hour) }
	_, err = merge.Run(ctx, cat, spec, merge.Options{Store: landing.NewLocalStore(root), Prefix: "cdc", Retries: 3, Now: later})
	require.NoError(t, err)
	require.Equal(t, pgRows(t, dsn, &spec.Tables[0]), icebergRows(t, cat, spec))
}

// TestCaptureCrashBetweenLandingAndState: objects landed but the state not
// written; the next run lands the same events at the same offsets again,
// line for line, and nothing is lost.
func TestCaptureCrashBetweenLandingAndState(t *testing.T) {
	ctx := context.Background()
	dsn, conn := setup(t)
	spec := testSpec("")
	tbl := &spec.Tables[0]
	w := &workload{t: t, g: gen{rand.New(rand.NewPCG(3, 5))}, conn: conn, tbl: *tbl, state: map[string][]row.Value{}, nextID: 1, byXid: map[int64][]change{}}
	root := t.TempDir()
	local := landing.NewLocalStore(root)
	_, err := Run(ctx, Config{Spec: spec, URI: dsn, Store: local})
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "SELECT pg_create_logical_replication_slot('oracle', 'test_decoding')")
	require.NoError(t, err)
	enc, err := encode.NewEncoder(tbl, spec.Source.Debezium.Encoding, encode.Meta{Server: "acme", Database: "appdb"})
	require.NoError(t, err)

	w.run(60)
	// The third state write fails: two objects' worth of events are
	// confirmed, the third object landed unconfirmed.
	states := 0
	fs := &faultStore{LocalStore: local, fail: func(key string, _ []string) bool {
		if isState(key) {
			states++
			return states == 3
		}
		return false
	}}
	_, err = Run(ctx, Config{Spec: spec, URI: dsn, Store: fs, MaxEvents: 10})
	require.ErrorIs(t, err, errCrash)
	st, err := ReadState(ctx, local, StateKey("cdc", "ds_capture"))
	require.NoError(t, err)
	landedBefore := len(readLanded(t, root, "cdc", tbl.Topic))
	require.Greater(t, int64(landedBefore), st.NextOffset[tbl.Topic], "an object landed past the state")

	_, err = Run(ctx, Config{Spec: spec, URI: dsn, Store: local, MaxEvents: 7})
	require.NoError(t, err)
	got := readLanded(t, root, "cdc", tbl.Topic)[:] // repeats were compared line by line
	exp, _ := expect(t, enc, w, drain(t, conn, "oracle"), 0, false)
	require.Equal(t, exp, got)
	mergeEqualsPostgres(t, dsn, root, spec)
}

// TestCaptureSnapshotInterrupted: a snapshot that did not land whole is
// taken again from a new slot, after the offsets already landed.
func TestCaptureSnapshotInterrupted(t *testing.T) {
	ctx := context.Background()
	dsn, conn := setup(t)
	spec := testSpec("")
	tbl := &spec.Tables[0]
	w := &workload{t: t, g: gen{rand.New(rand.NewPCG(9, 9))}, conn: conn, tbl: *tbl, state: map[string][]row.Value{}, nextID: 1, byXid: map[int64][]change{}}
	for range 30 {
		tx, err := conn.Begin(ctx)
		require.NoError(t, err)
		w.insert(tx)
		require.NoError(t, tx.Commit(ctx))
	}
	root := t.TempDir()
	local := landing.NewLocalStore(root)
	objects := 0
	fs := &faultStore{LocalStore: local, fail: func(key string, _ []string) bool {
		if !isState(key) {
			objects++
			return objects == 3
		}
		return false
	}}
	_, err := Run(ctx, Config{Spec: spec, URI: dsn, Store: fs, MaxEvents: 7})
	require.ErrorIs(t, err, errCrash)
	partial := readLanded(t, root, "cdc", tbl.Topic)
	require.Len(t, partial, 14)

	w.run(20) // changes while no capture runs: the new slot's snapshot sees them
	st, err := Run(ctx, Config{Spec: spec, URI: dsn, Store: local, MaxEvents: 7})
	require.NoError(t, err)
	require.Equal(t, int64(len(w.state)), st.SnapshotRows)
	lines := readLanded(t, root, "cdc", tbl.Topic)
	require.Equal(t, partial, lines[:14])
	require.Len(t, lines, 15+len(w.state))
	require.Contains(t, lines[14], `"op":"t"`, "the new snapshot starts with a truncate: rows the first one read may be gone")
	require.Contains(t, lines[15], `"snapshot":"first"`)
	require.Contains(t, lines[len(lines)-1], `"snapshot":"last"`)
	w.run(20)
	_, err = Run(ctx, Config{Spec: spec, URI: dsn, Store: local})
	require.NoError(t, err)
	mergeEqualsPostgres(t, dsn, root, spec)
}

const childEnv = "CAPTURE_TEST_CHILD"

type childConfig struct {
	Spec *jobspec.Spec `json:"spec"`
	DSN  string        `json:"dsn"`
	Root string        `json:"root"`
}

// childMain runs a following capture until SIGTERM, for the kill tests.
func childMain() {
	var cc childConfig
	if err := json.Unmarshal([]byte(os.Getenv(childEnv)), &cc); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	_, err := Run(ctx, Config{Spec: cc.Spec, URI: cc.DSN, Store: landing.NewLocalStore(cc.Root), Follow: true, MaxEvents: 5, MaxWait: 20 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(4)
	}
	os.Exit(0)
}

// TestCaptureKilled: a following capture is killed (SIGKILL) at several
// points while transactions commit, and started again; in the end the
// landed events are exactly the changes, offsets contiguous, and the merge
// equals PostgreSQL. The last stop is a SIGTERM, which must land what was
// read and exit 0.
func TestCaptureKilled(t *testing.T) {
	ctx := context.Background()
	dsn, conn := setup(t)
	spec := testSpec("")
	tbl := &spec.Tables[0]
	w := &workload{t: t, g: gen{rand.New(rand.NewPCG(21, 8))}, conn: conn, tbl: *tbl, state: map[string][]row.Value{}, nextID: 1, byXid: map[int64][]change{}}
	root := t.TempDir()
	local := landing.NewLocalStore(root)
	_, err := Run(ctx, Config{Spec: spec, URI: dsn, Store: local})
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "SELECT pg_create_logical_replication_slot('oracle', 'test_decoding')")
	require.NoError(t, err)
	enc, err := encode.NewEncoder(tbl, spec.Source.Debezium.Encoding, encode.Meta{Server: "acme", Database: "appdb"})
	require.NoError(t, err)
	cc, err := json.Marshal(childConfig{Spec: spec, DSN: dsn, Root: root})
	require.NoError(t, err)

	start := func() *exec.Cmd {
		// The killed capture's walsender lets go of the slot when it sees
		// the connection closed.
		require.Eventually(t, func() bool {
			var active bool
			err := conn.QueryRow(ctx, "SELECT active FROM pg_replication_slots WHERE slot_name = 'ds_capture'").Scan(&active)
			return err == nil && !active
		}, 30*time.Second, 20*time.Millisecond)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+string(cc))
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())
		return cmd
	}
	landedLines := func() int {
		files, err := landing.ListTopic(ctx, local, "cdc", tbl.Topic)
		require.NoError(t, err)
		return len(files)
	}
	for round := 0; round < 4; round++ {
		cmd := start()
		before := landedLines()
		// Transactions commit while the capture streams; it is killed once
		// it has landed something, a different amount each round.
		for i := 0; i < 10+round*7; i++ {
			w.run(1)
		}
		require.Eventually(t, func() bool { return landedLines() > before }, 30*time.Second, 5*time.Millisecond)
		w.run(round * 3)
		require.NoError(t, cmd.Process.Kill())
		_ = cmd.Wait()
	}
	w.run(15)
	cmd := start()
	require.Eventually(t, func() bool {
		st, err := ReadState(ctx, local, StateKey("cdc", "ds_capture"))
		require.NoError(t, err)
		var cur pgx.Row = conn.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text")
		var s string
		require.NoError(t, cur.Scan(&s))
		return st.ConfirmedLSN != "" && parseLSN(t, st.ConfirmedLSN) > 0 && len(readLanded(t, root, "cdc", tbl.Topic)) > 0 && stateCaughtUp(t, conn, st)
	}, 60*time.Second, 50*time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "a SIGTERM ends the capture cleanly")

	got := readLanded(t, root, "cdc", tbl.Topic)
	exp, seen := expect(t, enc, w, drain(t, conn, "oracle"), 0, false)
	require.Equal(t, len(exp), len(got))
	require.Equal(t, exp, got)
	mergeEqualsPostgres(t, dsn, root, spec)
	t.Logf("changes: %v", seen)
}

// stateCaughtUp: the slot's confirmed position has reached every commit.
func stateCaughtUp(t *testing.T, conn *pgx.Conn, st *State) bool {
	var behind bool
	require.NoError(t, conn.QueryRow(context.Background(),
		`SELECT EXISTS (SELECT 1 FROM pg_logical_slot_peek_changes('oracle', NULL, NULL) WHERE data LIKE 'COMMIT%' AND lsn > $1::pg_lsn)`, st.ConfirmedLSN).Scan(&behind))
	return !behind
}
