package merge

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/debezium"
	"github.com/datasurface/datasurface/merge-runner/internal/debezium/encode"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
	"github.com/datasurface/datasurface/merge-runner/internal/testenv"
)

// The oracle test drives a real PostgreSQL with random transactions (some
// of several statements, some interleaved across two sessions so that the
// one committing first holds the higher change LSNs), reads back through
// logical decoding (test_decoding) the order PostgreSQL committed them in,
// each change's LSN, each commit's LSN and which values were unchanged
// TOAST, and encodes every change as the Debezium PostgreSQL connector
// would have (source.sequence = [last commit LSN, LSN], as SourceInfo
// writes it). Changes land as Kafka's default partitioner spreads them: a
// key always in the same partition, a truncate (no key) in any. The
// merge-runner applies them in runs of small batches, and after every
// batch the live and history tables must equal a replay, in commit order,
// of exactly the events the table's position says were applied, and those
// must be a prefix of the commit order. At the end of each round the
// replayed model must equal PostgreSQL's table.

// walChange is one change logical decoding reported.
type walChange struct {
	lsn       int64
	kind      string          // INSERT, UPDATE, DELETE or TRUNCATE
	unchanged map[string]bool // columns decoded as unchanged-toast-datum
}

// walTx is one transaction as logical decoding reported it.
type walTx struct {
	xid     uint32
	commit  int64
	changes []walChange
}

// parseLSN reads PostgreSQL's X/Y text form of an LSN.
func parseLSN(t *testing.T, s string) int64 {
	hi, lo, ok := strings.Cut(s, "/")
	require.True(t, ok, s)
	h, err := strconv.ParseUint(hi, 16, 32)
	require.NoError(t, err, s)
	l, err := strconv.ParseUint(lo, 16, 32)
	require.NoError(t, err, s)
	return int64(h<<32 | l)
}

// drain reads every transaction committed since the last drain, in commit
// order (pg_logical_slot_get_changes with test_decoding: "BEGIN xid",
// "table public.things: KIND: ...", "COMMIT xid", each row with its LSN).
func drain(t *testing.T, conn *pgx.Conn, slot string) []walTx {
	t.Helper()
	rows, err := conn.Query(context.Background(),
		`SELECT lsn::text, xid::text, data FROM pg_logical_slot_get_changes($1, NULL, NULL, 'include-xids', '1', 'skip-empty-xacts', '1')`, slot)
	require.NoError(t, err)
	defer rows.Close()
	var out []walTx
	var cur *walTx
	for rows.Next() {
		var lsn, xid, data string
		require.NoError(t, rows.Scan(&lsn, &xid, &data))
		switch {
		case strings.HasPrefix(data, "BEGIN "):
			x, err := strconv.ParseUint(xid, 10, 32)
			require.NoError(t, err)
			out = append(out, walTx{xid: uint32(x)})
			cur = &out[len(out)-1]
		case strings.HasPrefix(data, "COMMIT "):
			cur.commit = parseLSN(t, lsn)
			cur = nil
		default:
			rest, ok := strings.CutPrefix(data, "table public.things: ")
			require.True(t, ok, data)
			kind, _, _ := strings.Cut(rest, ":")
			c := walChange{lsn: parseLSN(t, lsn), kind: kind, unchanged: map[string]bool{}}
			for _, col := range []string{"notes[text]", "blob[bytea]"} {
				if strings.Contains(rest, col+":unchanged-toast-datum") {
					c.unchanged[strings.Split(col, "[")[0]] = true
				}
			}
			cur.changes = append(cur.changes, c)
		}
	}
	require.NoError(t, rows.Err())
	return out
}

// change is one row change a statement made, waiting for its WAL position.
type change struct {
	kind string      // insert, update, keychange, delete, truncate
	row  []row.Value // the row after (insert, update, keychange)
	old  []row.Value // the row before (update, keychange, delete)
}

// walKind is the kind logical decoding reports for a change.
func (c change) walKind() string {
	switch c.kind {
	case "insert":
		return "INSERT"
	case "update", "keychange":
		return "UPDATE"
	case "delete":
		return "DELETE"
	}
	return "TRUNCATE"
}

// logged is one landed event: where it landed and what it does.
type logged struct {
	seq  debezium.Sequence
	part int32
	off  int64
	op   string // upsert, delete, truncate
	key  string
	row  []row.Value
	ts   int64
}

// model replays logged events into the rows they leave.
type model map[string][]row.Value

func (m model) apply(l logged) {
	switch l.op {
	case "upsert":
		m[l.key] = l.row
	case "delete":
		delete(m, l.key)
	case "truncate":
		clear(m)
	}
}

func (m model) rows() []string {
	out := make([]string, 0, len(m))
	for _, r := range m {
		out = append(out, canonical(r))
	}
	sort.Strings(out)
	return out
}

type oracleCase struct {
	name        string
	envelope    bool
	partitionBy []string
	partitions  int
	writeMode   string
	// partial lands a random subset of the partitions at a round's end;
	// the others keep their open files into the next round.
	partial bool
}

func TestOracle(t *testing.T) {
	for _, tc := range []oracleCase{
		{"plain", false, nil, 1, "merge_on_read", false},
		{"envelope", true, nil, 1, "merge_on_read", false},
		{"partitioned-by-code-cow", false, []string{"code"}, 1, "copy_on_write", false},
		{"3-partitions", false, nil, 3, "merge_on_read", true},
		{"4-partitions-cow", false, nil, 4, "copy_on_write", true},
		{"3-partitions-partitioned-cow", true, []string{"code"}, 3, "copy_on_write", true},
	} {
		t.Run(tc.name, func(t *testing.T) { runOracle(t, tc) })
	}
}

func runOracle(t *testing.T, tc oracleCase) {
	ctx := context.Background()
	dsn := testenv.Postgres(t)
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	other, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer other.Close(ctx)
	var level string
	require.NoError(t, conn.QueryRow(ctx, "SHOW wal_level").Scan(&level))
	require.Equal(t, "logical", level, "the oracle reads PostgreSQL's commit order by logical decoding: the server needs wal_level=logical")
	for _, c := range []*pgx.Conn{conn, other} {
		// Logical decoding reads WAL up to what is flushed: commit
		// synchronously so that a drain sees every committed transaction.
		_, err = c.Exec(ctx, "SET TimeZone = 'UTC'; SET extra_float_digits = 3; SET synchronous_commit = on")
		require.NoError(t, err)
	}
	_, err = conn.Exec(ctx, oracleDDL)
	require.NoError(t, err)
	slot := fmt.Sprintf("oracle_%d", time.Now().UnixNano())
	_, err = conn.Exec(ctx, "SELECT pg_create_logical_replication_slot($1, 'test_decoding')", slot)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = conn.Exec(context.Background(), "SELECT pg_drop_replication_slot($1)", slot) })

	live := oracleTable(tc.partitionBy)
	live.WriteMode = tc.writeMode
	history := live
	history.Name, history.Mode = "things_history", jobspec.ModeForensic
	// The generator's encoding: bytes keeps unchanged-TOAST bytea.
	enc := jobspec.Encoding{DecimalHandling: "precise", TimePrecision: "adaptive_time_microseconds", BinaryHandling: "bytes", SchemasEnabled: tc.envelope}
	spec := &jobspec.Spec{
		Version: 1, Platform: "lake", Stream: "db", Datastore: "db",
		Source: jobspec.Source{Kind: jobspec.SourceDebezium, Debezium: &jobspec.DebeziumSource{Container: "s3", Bucket: "landing", Prefix: "cdc", Encoding: enc, GraceSeconds: 3600}},
		Target: jobspec.Target{Catalog: "lake", CatalogKind: "sql", Namespace: "db"},
		Tables: []jobspec.Table{live, history},
		Batch:  jobspec.Batch{MaxEvents: 23},
	}
	encoder, err := encode.NewEncoder(&spec.Tables[0], enc, encode.Meta{})
	require.NoError(t, err)
	e := newEnv(t)
	lander, err := encode.NewLander(e.events, live.Topic, encode.LandOptions{Prefix: "cdc", FlushSize: 17})
	require.NoError(t, err)

	g := gen{rand.New(rand.NewPCG(42, uint64(len(tc.name))))}
	state := map[string][]row.Value{} // key -> current row, as the sessions see it
	pending := map[uint32][]change{}
	var log []logged
	lastCommit := int64(0)
	ts := int64(1_700_000_000_000)
	nextID := int64(1)
	regions := []string{"eu", "us", "apac"}
	seen := map[string]int{}

	keys := func(avoid map[string]bool) []string {
		ks := make([]string, 0, len(state))
		for k := range state {
			if !avoid[k] {
				ks = append(ks, k)
			}
		}
		sort.Strings(ks)
		return ks
	}
	where := func(r []row.Value) string {
		return fmt.Sprintf("id = %d AND region = %s", r[0].Int(), pgLiteral(r[1], live.Columns[1]))
	}
	// statement runs one random statement on tx and says what it changed;
	// it touches no key in avoid (rows another open transaction holds).
	statement := func(tx pgx.Tx, truncate bool, avoid map[string]bool) change {
		exec := func(sql string) {
			_, err := tx.Exec(ctx, sql)
			require.NoError(t, err, sql)
		}
		ks := keys(avoid)
		switch p := g.r.IntN(100); {
		case p < 30 || len(ks) == 0:
			r := g.row(nextID, regions[g.r.IntN(3)])
			nextID++
			vals := make([]string, len(r))
			for i, v := range r {
				vals[i] = pgLiteral(v, live.Columns[i])
			}
			exec("INSERT INTO things VALUES (" + strings.Join(vals, ", ") + ")")
			state[row.KeyString(r[:2])] = r
			return change{kind: "insert", row: r}
		case p < 70:
			old := state[ks[g.r.IntN(len(ks))]]
			r := g.row(old[0].Int(), old[1].Text())
			if g.r.IntN(2) == 0 {
				r[11] = old[11] // notes unchanged
			}
			if g.r.IntN(2) == 0 {
				r[18] = old[18] // blob unchanged
			}
			var sets []string
			for i := 2; i < len(r); i++ {
				if (i == 11 || i == 18) && row.Equal(r[i], old[i]) {
					continue // not in the statement: an unchanged TOAST value stays unchanged
				}
				sets = append(sets, live.Columns[i].Name+" = "+pgLiteral(r[i], live.Columns[i]))
			}
			exec("UPDATE things SET " + strings.Join(sets, ", ") + " WHERE " + where(old))
			state[row.KeyString(r[:2])] = r
			return change{kind: "update", row: r, old: old}
		case p < 80:
			old := state[ks[g.r.IntN(len(ks))]]
			r := append([]row.Value(nil), old...)
			r[0], r[1] = row.Int64(nextID), row.String(regions[g.r.IntN(3)])
			nextID++
			exec(fmt.Sprintf("UPDATE things SET id = %d, region = %s WHERE %s", r[0].Int(), pgLiteral(r[1], live.Columns[1]), where(old)))
			delete(state, row.KeyString(old[:2]))
			state[row.KeyString(r[:2])] = r
			return change{kind: "keychange", row: r, old: old}
		case p < 98 || !truncate:
			old := state[ks[g.r.IntN(len(ks))]]
			exec("DELETE FROM things WHERE " + where(old))
			delete(state, row.KeyString(old[:2]))
			return change{kind: "delete", old: old}
		default:
			exec("TRUNCATE things")
			clear(state)
			return change{kind: "truncate"}
		}
	}
	begin := func(c *pgx.Conn) (pgx.Tx, uint32) {
		tx, err := c.Begin(ctx)
		require.NoError(t, err)
		var xid int64
		require.NoError(t, tx.QueryRow(ctx, "SELECT txid_current() % 4294967296").Scan(&xid))
		return tx, uint32(xid)
	}
	commit := func(tx pgx.Tx, xid uint32, cs []change) {
		require.NoError(t, tx.Commit(ctx))
		pending[xid] = cs
	}
	partOf := func(key string) int32 {
		h := fnv.New32a()
		_, _ = h.Write([]byte(key))
		return int32(h.Sum32() % uint32(tc.partitions))
	}
	// emit encodes the decoded transactions as the connector would and
	// lands their events.
	emit := func(txs []walTx) {
		for _, wt := range txs {
			cs := pending[wt.xid]
			require.Len(t, cs, len(wt.changes), "transaction %d", wt.xid)
			delete(pending, wt.xid)
			ts += 10
			for i, wc := range wt.changes {
				c := cs[i]
				require.Equal(t, c.walKind(), wc.kind, "transaction %d change %d", wt.xid, i)
				seq := debezium.Sequence{LastCommitLSN: lastCommit, LSN: wc.lsn, Valid: true}
				encoder.SetSource(encode.Source{TsMs: ts, LSN: wc.lsn, LastCommitLSN: lastCommit, TxID: int64(wt.xid)})
				add := func(part int32, op, key string, r []row.Value, line []byte) {
					off, err := lander.Add(part, line)
					require.NoError(t, err)
					log = append(log, logged{seq: seq, part: part, off: off, op: op, key: key, row: r, ts: ts})
				}
				after := c.row
				if len(wc.unchanged) > 0 {
					after = append([]row.Value(nil), c.row...)
					if wc.unchanged["notes"] {
						after[11] = row.Unavailable()
					}
					if wc.unchanged["blob"] {
						after[18] = row.Unavailable()
					}
					seen[c.kind+"-unchanged-toast"]++
				}
				seen[c.kind]++
				switch c.kind {
				case "insert":
					line, err := encoder.Create(after)
					require.NoError(t, err)
					k := row.KeyString(c.row[:2])
					add(partOf(k), "upsert", k, c.row, line)
				case "update":
					line, err := encoder.Update(nil, after)
					require.NoError(t, err)
					k := row.KeyString(c.row[:2])
					add(partOf(k), "upsert", k, c.row, line)
				case "keychange":
					lines, err := encoder.KeyChange(encoder.KeyRow(encoder.Key(c.old)), after)
					require.NoError(t, err)
					require.Len(t, lines, 2, "no tombstones")
					ok, nk := row.KeyString(c.old[:2]), row.KeyString(c.row[:2])
					add(partOf(ok), "delete", ok, nil, lines[0])
					add(partOf(nk), "upsert", nk, c.row, lines[1])
				case "delete":
					lines, err := encoder.DeleteLines(encoder.KeyRow(encoder.Key(c.old)))
					require.NoError(t, err)
					k := row.KeyString(c.old[:2])
					add(partOf(k), "delete", k, nil, lines[0])
				case "truncate":
					add(int32(g.r.IntN(tc.partitions)), "truncate", "", nil, encoder.Truncate())
				}
			}
			lastCommit = wt.commit
		}
	}

	// check compares a table with the replay of the events its position
	// says were applied.
	check := func(name string) error {
		i := 0
		if name == spec.Target.Namespace+"."+history.Name {
			i = 1
		}
		tbl, err := e.catalog.LoadTable(ctx, table.Identifier{spec.Target.Namespace, spec.Tables[i].Name})
		require.NoError(t, err)
		st, err := ReadState(tbl)
		require.NoError(t, err)
		m := model{}
		versions := 0
		var lastApplied, firstUnapplied *logged
		for j := range log {
			l := &log[j]
			if l.off >= st.Position.Next(l.part) {
				if firstUnapplied == nil {
					firstUnapplied = l
				}
				continue
			}
			lastApplied = l
			m.apply(*l)
			if l.op == "upsert" {
				versions++
			}
		}
		if lastApplied != nil && firstUnapplied != nil && firstUnapplied.seq.Compare(lastApplied.seq) < 0 {
			return fmt.Errorf("%s batch %d: the event at %s (partition %d offset %d) was applied before the one at %s (partition %d offset %d), committed earlier",
				name, st.Batch, lastApplied.seq, lastApplied.part, lastApplied.off, firstUnapplied.seq, firstUnapplied.part, firstUnapplied.off)
		}
		want, got := m.rows(), icebergRows(t, e, spec, i)
		if d := firstDiff(want, got); d != "" {
			return fmt.Errorf("%s batch %d (position %s): %s", name, st.Batch, st.Position.Encode(), d)
		}
		if i == 1 {
			var n int64
			require.NoError(t, target.Scan(ctx, tbl, iceberg.AlwaysTrue{}, []string{jobspec.ColBatchIn}, func([]row.Value) error { n++; return nil }))
			if n != int64(versions) {
				return fmt.Errorf("%s batch %d: %d versions, the applied events make %d", name, st.Batch, n, versions)
			}
		}
		return nil
	}
	opts := e.opts()
	opts.Now = nil // objects land now; the grace period is an hour: partitions are waited for
	opts.AfterCommit = func(name string, _ int64) error { return check(name) }

	const rounds = 5
	for round := 0; round < rounds; round++ {
		for step := 0; step < 100; step++ {
			switch p := g.r.IntN(100); {
			case p < 85:
				tx, xid := begin(conn)
				commit(tx, xid, []change{statement(tx, true, nil)})
			case p < 93: // a transaction of several statements
				tx, xid := begin(conn)
				var cs []change
				for n := 2 + g.r.IntN(2); n > 0; n-- {
					cs = append(cs, statement(tx, false, nil))
				}
				commit(tx, xid, cs)
				seen["multi-statement"]++
			default: // interleaved: the second session commits first
				tx1, x1 := begin(conn)
				c1 := statement(tx1, false, nil)
				held := map[string]bool{}
				for _, r := range [][]row.Value{c1.row, c1.old} {
					if r != nil {
						held[row.KeyString(r[:2])] = true
					}
				}
				tx2, x2 := begin(other)
				c2 := statement(tx2, false, held)
				commit(tx2, x2, []change{c2})
				c3 := statement(tx1, false, nil)
				commit(tx1, x1, []change{c1, c3})
				seen["interleaved"]++
			}
		}
		emit(drain(t, conn, slot))
		require.Zero(t, len(pending), "transactions committed but not decoded")
		want := model{}
		for _, l := range log {
			want.apply(l)
		}
		sameRows(t, oracleRows(t, conn, live), want.rows(), round)

		last := round == rounds-1
		if tc.partial && !last {
			for p := int32(0); p < int32(tc.partitions); p++ {
				if g.r.IntN(2) == 0 {
					require.NoError(t, lander.Rotate(p))
				}
			}
		} else {
			require.NoError(t, lander.Close())
		}
		if round == 1 {
			continue // a backlog of two rounds for the next run
		}
		if last {
			// Everything landed long ago: nothing is waited for.
			opts.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
		}
		st, err := Run(ctx, e.catalog, spec, opts)
		require.NoError(t, err, "round %d", round)
		for _, s := range st {
			require.Zero(t, s.Superseded, s.Table)
		}
		require.NoError(t, check(spec.Target.Namespace+"."+live.Name))
		require.NoError(t, check(spec.Target.Namespace+"."+history.Name))
	}
	// The last run applied everything: both tables equal PostgreSQL.
	sameRows(t, oracleRows(t, conn, live), icebergRows(t, e, spec, 0), rounds)
	sameRows(t, oracleRows(t, conn, live), icebergRows(t, e, spec, 1), rounds)
	for _, kind := range []string{"insert", "update", "update-unchanged-toast", "keychange", "delete", "truncate", "multi-statement", "interleaved"} {
		require.Positive(t, seen[kind], "no %s was exercised", kind)
	}
	t.Logf("changes applied: %v", seen)
}

// firstDiff describes the first difference of two sorted row lists.
func firstDiff(want, got []string) string {
	short := func(s string) string {
		if len(s) > 300 {
			return s[:300] + "..."
		}
		return s
	}
	for i := 0; i < len(want) || i < len(got); i++ {
		switch {
		case i >= len(want):
			return fmt.Sprintf("%d rows expected, %d found; extra: %s", len(want), len(got), short(got[i]))
		case i >= len(got):
			return fmt.Sprintf("%d rows expected, %d found; missing: %s", len(want), len(got), short(want[i]))
		case want[i] != got[i]:
			return fmt.Sprintf("row %d differs\nexpected: %s\nfound:    %s", i, short(want[i]), short(got[i]))
		}
	}
	return ""
}
