package capture

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
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
	"github.com/datasurface/datasurface/merge-runner/internal/debezium/encode"
	"github.com/datasurface/datasurface/merge-runner/internal/landing"
	"github.com/datasurface/datasurface/merge-runner/internal/merge"
	"github.com/datasurface/datasurface/merge-runner/internal/pgsource"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
	"github.com/datasurface/datasurface/merge-runner/internal/testenv"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		childMain()
	}
	testenv.Main(m)
}

// ddl stores notes and blob out of line once long, so that updates leaving
// them alone decode as unchanged TOAST values.
const ddl = `CREATE EXTENSION IF NOT EXISTS hstore; CREATE TABLE things (
  id int8, region varchar(8), flag boolean, qty int4 NOT NULL, ratio float4, score float8,
  price numeric(12,2), code char(3) NOT NULL, notes text, born date, opens time(6), seen_at timestamp(6),
  created_at timestamptz(6) NOT NULL, ref uuid, blob bytea, doc json, tags text[],
  small int2, big numeric(38,4), logged_at timestamp(3), nums int4[], docb jsonb, attrs hstore, PRIMARY KEY (id, region));
  ALTER TABLE things ALTER COLUMN notes SET STORAGE EXTERNAL, ALTER COLUMN blob SET STORAGE EXTERNAL`

func thingsTable() jobspec.Table {
	return jobspec.Table{
		Dataset: "things", SourceTable: "public.things", Topic: "acme.public.things", Name: "things", Mode: jobspec.ModeLive,
		PrimaryKey: []string{"id", "region"}, WriteMode: "merge_on_read",
		Columns: []jobspec.Column{
			{Name: "id", Type: "int64"},
			{Name: "region", Type: "varchar", Length: 8},
			{Name: "flag", Type: "boolean", Nullable: true},
			{Name: "qty", Type: "int32"},
			{Name: "ratio", Type: "float32", Nullable: true},
			{Name: "score", Type: "float64", Nullable: true},
			{Name: "price", Type: "decimal", Precision: 12, Scale: 2, Nullable: true},
			{Name: "code", Type: "char", Length: 3},
			{Name: "notes", Type: "text", Nullable: true},
			{Name: "born", Type: "date", Nullable: true},
			{Name: "opens", Type: "time", Nullable: true},
			{Name: "seen_at", Type: "timestamp", Nullable: true},
			{Name: "created_at", Type: "timestamptz"},
			{Name: "ref", Type: "uuid", Nullable: true},
			{Name: "blob", Type: "binary", Nullable: true},
			{Name: "doc", Type: "json", Nullable: true},
			{Name: "tags", Type: "list", Nullable: true, Element: &jobspec.Column{Name: "element", Type: "text", Nullable: true}},
			{Name: "small", Type: "int16", Nullable: true},
			{Name: "big", Type: "decimal", Precision: 38, Scale: 4, Nullable: true},
			{Name: "logged_at", Type: "timestamp", TimePrecision: intp(3), Nullable: true},
			{Name: "nums", Type: "list", Nullable: true, Element: &jobspec.Column{Name: "element", Type: "int32", Nullable: true}},
			{Name: "docb", Type: "json", Nullable: true},
			{Name: "attrs", Type: "map", Nullable: true, Key: &jobspec.Column{Name: "key", Type: "text"}, Value: &jobspec.Column{Name: "value", Type: "text", Nullable: true}},
		},
	}
}

const notesCol, blobCol = 8, 14

func intp(i int) *int { return &i }

func testSpec(dir string) *jobspec.Spec {
	enc := jobspec.Encoding{DecimalHandling: "precise", TimePrecision: "adaptive_time_microseconds", BinaryHandling: "bytes"}
	return &jobspec.Spec{
		Version: 1, Platform: "lake", Stream: "db", Datastore: "db",
		Source: jobspec.Source{Kind: jobspec.SourceDebezium, Debezium: &jobspec.DebeziumSource{
			Container: "s3", Bucket: "landing", Prefix: "cdc", Encoding: enc, GraceSeconds: 3600,
			Capture: &jobspec.Capture{Container: "pg", Credential: "cdc", Database: "appdb", Server: "acme", Slot: "ds_capture", Publication: "ds_pub"},
		}},
		Target: jobspec.Target{Catalog: "lake", CatalogKind: "sql", Namespace: "db"},
		Tables: []jobspec.Table{thingsTable()},
		Batch:  jobspec.Batch{MaxEvents: 50},
	}
}

// gen makes random rows; each value is written as a literal of its column.
type gen struct{ r *rand.Rand }

func (g gen) maybe(v row.Value) row.Value {
	if g.r.IntN(6) == 0 {
		return row.Null()
	}
	return v
}

func (g gen) text(n int) string {
	rs := []rune("abcxyz ÄéΩ\"'\\,{}\n\t😀")
	var b strings.Builder
	for i := 0; i < g.r.IntN(n+1); i++ {
		b.WriteRune(rs[g.r.IntN(len(rs))])
	}
	return b.String()
}

func (g gen) row(id int64, region string) []row.Value {
	day := int32(-20000 + g.r.IntN(60000))
	micros := int64(day)*86_400_000_000 + g.r.Int64N(86_400_000_000)
	var u [16]byte
	for i := range u {
		u[i] = byte(g.r.IntN(256))
	}
	blob := make([]byte, g.r.IntN(20))
	if g.r.IntN(3) == 0 {
		blob = make([]byte, 2500+g.r.IntN(2000))
	}
	for i := range blob {
		blob[i] = byte(g.r.IntN(256))
	}
	notes := g.text(30)
	if g.r.IntN(3) == 0 {
		notes = strings.Repeat(notes+"x", 300)
	}
	tags := make([]row.Value, g.r.IntN(4))
	for i := range tags {
		tags[i] = g.maybe(row.String(g.text(6)))
	}
	nums := make([]row.Value, g.r.IntN(4))
	for i := range nums {
		nums[i] = g.maybe(row.Int32(g.r.Int32() - 1<<30))
	}
	// hstore keys are distinct and arrive sorted (pgsource sorts them).
	keys := map[string]bool{}
	for range g.r.IntN(4) {
		keys[fmt.Sprintf("k%d%s", g.r.IntN(9), g.text(3))] = true
	}
	var attrs []row.MapEntry
	for k := range keys {
		attrs = append(attrs, row.MapEntry{Key: row.String(k), Value: g.maybe(row.String(g.text(5)))})
	}
	sort.Slice(attrs, func(i, j int) bool { return attrs[i].Key.Text() < attrs[j].Key.Text() })
	return []row.Value{
		row.Int64(id), row.String(region),
		g.maybe(row.Bool(g.r.IntN(2) == 0)),
		row.Int32(g.r.Int32() - 1<<30),
		g.maybe(row.Float32(float32(g.r.NormFloat64() * 1000))),
		g.maybe(row.Float64(g.r.NormFloat64() * 1e9)),
		g.maybe(row.Decimal(g.r.Int64N(1e10)-5e9, 2)),
		row.String(fmt.Sprintf("%c%c", 'A'+g.r.IntN(3), 'a'+g.r.IntN(26))), // char(3): padded by PostgreSQL
		g.maybe(row.String(notes)),
		g.maybe(row.Date(day)),
		g.maybe(row.Time(g.r.Int64N(86_400_000_000))),
		g.maybe(row.Timestamp(micros)),
		row.TimestampTZ(micros + 12345),
		g.maybe(row.UUID(u)),
		g.maybe(row.Binary(string(blob))),
		g.maybe(row.JSON(fmt.Sprintf(`{"k": %q}`, g.text(5)))),
		g.maybe(row.List(tags)),
		g.maybe(row.Int32(int32(int16(g.r.Uint32())))),
		g.maybe(g.bigDecimal(34, 4)),
		g.maybe(row.Timestamp(micros / 1000 * 1000)),
		g.maybe(row.List(nums)),
		// jsonb's text is its own normal form: keys sorted by length, then bytes.
		g.maybe(row.JSON(fmt.Sprintf(`{"k": %d, "list": [1, 2.5, null]}`, g.r.IntN(1000)))),
		g.maybe(row.Map(attrs)),
	}
}

func (g gen) bigDecimal(digits int, scale int32) row.Value {
	u := new(big.Int)
	for i := 0; i < 1+g.r.IntN(digits); i++ {
		u.Mul(u, big.NewInt(10)).Add(u, big.NewInt(int64(g.r.IntN(10))))
	}
	if g.r.IntN(2) == 0 {
		u.Neg(u)
	}
	return row.BigDecimal(u, scale)
}

func literal(v row.Value, c jobspec.Column) string {
	if v.IsNull() {
		return "NULL"
	}
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	switch c.Type {
	case "boolean":
		return strconv.FormatBool(v.Bool())
	case "int16", "int32", "int64":
		return strconv.FormatInt(v.Int(), 10)
	case "float32":
		return q(strconv.FormatFloat(v.Float(), 'g', -1, 32)) + "::float4"
	case "float64":
		return q(strconv.FormatFloat(v.Float(), 'g', -1, 64)) + "::float8"
	case "decimal":
		return row.FormatDecimal(v.Unscaled(), v.Scale())
	case "char", "varchar", "text":
		return q(v.Text())
	case "json":
		return q(v.Text()) + "::json"
	case "date":
		return q(time.UnixMicro(v.Int()*86_400_000_000).UTC().Format("2006-01-02")) + "::date"
	case "time":
		return q(time.UnixMicro(v.Int()).UTC().Format("15:04:05.999999")) + "::time"
	case "timestamp":
		return q(time.UnixMicro(v.Int()).UTC().Format("2006-01-02 15:04:05.999999")) + "::timestamp"
	case "timestamptz":
		return q(time.UnixMicro(v.Int()).UTC().Format("2006-01-02 15:04:05.999999Z07:00")) + "::timestamptz"
	case "uuid":
		return fmt.Sprintf("'%x'::uuid", v.UUIDBytes())
	case "binary":
		return fmt.Sprintf(`'\x%x'::bytea`, v.Bytes())
	case "list":
		parts := make([]string, len(v.Elems()))
		for i, e := range v.Elems() {
			parts[i] = literal(e, *c.Element)
		}
		typ := "text[]"
		if c.Element.Type == "int32" {
			typ = "int4[]"
		}
		return "ARRAY[" + strings.Join(parts, ",") + "]::" + typ
	case "map":
		parts := make([]string, len(v.Entries()))
		for i, e := range v.Entries() {
			val := "NULL"
			if !e.Value.IsNull() {
				val = q(e.Value.Text())
			}
			parts[i] = q(e.Key.Text()) + ", " + val
		}
		if len(parts) == 0 {
			return "''::hstore"
		}
		return "hstore(ARRAY[" + strings.Join(parts, ", ") + "]::text[])"
	}
	panic(c.Type)
}

// readLanded returns a topic's landed lines by offset, checking the
// offsets run from 0 without a gap and repeats agree.
func readLanded(t *testing.T, root, prefix, topic string) []string {
	t.Helper()
	files, err := landing.ListTopic(context.Background(), landing.NewLocalStore(root), prefix, topic)
	require.NoError(t, err)
	var lines []string
	for _, f := range files {
		fh, err := os.Open(filepath.Join(root, filepath.FromSlash(f.Key)))
		require.NoError(t, err)
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<24)
		off := f.StartOffset
		require.LessOrEqual(t, off, int64(len(lines)), "a gap before %s", f.Key)
		for sc.Scan() {
			if off < int64(len(lines)) {
				require.Equal(t, lines[off], sc.Text(), "%s repeats offset %d with another line", f.Key, off)
			} else {
				lines = append(lines, sc.Text())
			}
			off++
		}
		require.NoError(t, sc.Err())
		_ = fh.Close()
	}
	return lines
}

// walTx is a transaction as test_decoding reports it: the independent
// reading of what the slot must stream.
type walTx struct {
	xid      int64
	commit   int64
	commitMs int64
	changes  []walChange
}

type walChange struct {
	lsn       int64
	kind      string
	unchanged map[int]bool
}

func parseLSN(t *testing.T, s string) int64 {
	hi, lo, ok := strings.Cut(s, "/")
	require.True(t, ok, s)
	h, err := strconv.ParseUint(hi, 16, 32)
	require.NoError(t, err)
	l, err := strconv.ParseUint(lo, 16, 32)
	require.NoError(t, err)
	return int64(h<<32 | l)
}

func drain(t *testing.T, conn *pgx.Conn, slot string) []walTx {
	t.Helper()
	rows, err := conn.Query(context.Background(),
		`SELECT lsn::text, xid::text, data FROM pg_logical_slot_get_changes($1, NULL, NULL, 'include-xids', '1', 'include-timestamp', '1', 'skip-empty-xacts', '1')`, slot)
	require.NoError(t, err)
	defer rows.Close()
	var out []walTx
	for rows.Next() {
		var lsn, xid, data string
		require.NoError(t, rows.Scan(&lsn, &xid, &data))
		switch {
		case strings.HasPrefix(data, "BEGIN "):
			x, err := strconv.ParseInt(xid, 10, 64)
			require.NoError(t, err)
			out = append(out, walTx{xid: x})
		case strings.HasPrefix(data, "COMMIT "):
			cur := &out[len(out)-1]
			cur.commit = parseLSN(t, lsn)
			// test_decoding: "COMMIT xid (at <timestamptz>)" (pg_decode_commit_txn)
			_, at, ok := strings.Cut(data, "(at ")
			require.True(t, ok, data)
			ts, err := time.Parse("2006-01-02 15:04:05.999999Z07", strings.TrimSuffix(at, ")"))
			require.NoError(t, err, data)
			cur.commitMs = ts.UnixMilli()
		default:
			rest, ok := strings.CutPrefix(data, "table public.things: ")
			require.True(t, ok, data)
			kind, _, _ := strings.Cut(rest, ":")
			c := walChange{lsn: parseLSN(t, lsn), kind: kind, unchanged: map[int]bool{}}
			if strings.Contains(rest, "notes[text]:unchanged-toast-datum") {
				c.unchanged[notesCol] = true
			}
			if strings.Contains(rest, "blob[bytea]:unchanged-toast-datum") {
				c.unchanged[blobCol] = true
			}
			cur := &out[len(out)-1]
			cur.changes = append(cur.changes, c)
		}
	}
	require.NoError(t, rows.Err())
	return out
}

type change struct {
	kind     string // insert, update, keychange, delete, truncate
	row, old []row.Value
}

// workload runs random transactions on conn and returns what each changed,
// by transaction id; state is the table as they leave it.
type workload struct {
	t      *testing.T
	g      gen
	conn   *pgx.Conn
	tbl    jobspec.Table
	state  map[string][]row.Value
	nextID int64
	byXid  map[int64][]change
	order  []int64
}

func (w *workload) keys() []string {
	ks := make([]string, 0, len(w.state))
	for k := range w.state {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func (w *workload) where(r []row.Value) string {
	return fmt.Sprintf("id = %d AND region = %s", r[0].Int(), literal(r[1], w.tbl.Columns[1]))
}

func (w *workload) insert(tx pgx.Tx) change {
	r := w.g.row(w.nextID, []string{"eu", "us", "apac"}[w.g.r.IntN(3)])
	w.nextID++
	vals := make([]string, len(r))
	for i, v := range r {
		vals[i] = literal(v, w.tbl.Columns[i])
	}
	w.exec(tx, "INSERT INTO things VALUES ("+strings.Join(vals, ", ")+")")
	r[7] = row.String(fmt.Sprintf("%-3s", r[7].Text()))
	w.state[row.KeyString(r[:2])] = r
	return change{kind: "insert", row: r}
}

func (w *workload) exec(tx pgx.Tx, sql string) {
	_, err := tx.Exec(context.Background(), sql)
	require.NoError(w.t, err, sql)
}

func (w *workload) statement(tx pgx.Tx, truncate bool) change {
	ks := w.keys()
	switch p := w.g.r.IntN(100); {
	case p < 35 || len(ks) == 0:
		return w.insert(tx)
	case p < 70:
		old := w.state[ks[w.g.r.IntN(len(ks))]]
		r := w.g.row(old[0].Int(), old[1].Text())
		r[7] = row.String(fmt.Sprintf("%-3s", r[7].Text()))
		if w.g.r.IntN(2) == 0 {
			r[notesCol] = old[notesCol]
		}
		if w.g.r.IntN(2) == 0 {
			r[blobCol] = old[blobCol]
		}
		var sets []string
		for i := 2; i < len(r); i++ {
			if (i == notesCol || i == blobCol) && row.Equal(r[i], old[i]) {
				continue
			}
			sets = append(sets, w.tbl.Columns[i].Name+" = "+literal(r[i], w.tbl.Columns[i]))
		}
		w.exec(tx, "UPDATE things SET "+strings.Join(sets, ", ")+" WHERE "+w.where(old))
		w.state[row.KeyString(r[:2])] = r
		return change{kind: "update", row: r, old: old}
	case p < 80:
		old := w.state[ks[w.g.r.IntN(len(ks))]]
		r := append([]row.Value(nil), old...)
		r[0] = row.Int64(w.nextID)
		w.nextID++
		w.exec(tx, fmt.Sprintf("UPDATE things SET id = %d WHERE %s", r[0].Int(), w.where(old)))
		delete(w.state, row.KeyString(old[:2]))
		w.state[row.KeyString(r[:2])] = r
		return change{kind: "keychange", row: r, old: old}
	case p < 97 || !truncate:
		old := w.state[ks[w.g.r.IntN(len(ks))]]
		w.exec(tx, "DELETE FROM things WHERE "+w.where(old))
		delete(w.state, row.KeyString(old[:2]))
		return change{kind: "delete", old: old}
	default:
		w.exec(tx, "TRUNCATE things")
		clear(w.state)
		return change{kind: "truncate"}
	}
}

// run makes n transactions of one to three statements.
func (w *workload) run(n int) {
	ctx := context.Background()
	for i := 0; i < n; i++ {
		tx, err := w.conn.Begin(ctx)
		require.NoError(w.t, err)
		var xid int64
		require.NoError(w.t, tx.QueryRow(ctx, "SELECT txid_current() % 4294967296").Scan(&xid))
		var cs []change
		for k := 1 + w.g.r.IntN(3); k > 0; k-- {
			cs = append(cs, w.statement(tx, k == 1))
		}
		require.NoError(w.t, tx.Commit(ctx))
		w.byXid[xid] = cs
	}
}

// expect encodes the decoded transactions as the connector would.
// With REPLICA IDENTITY FULL (full) the old row is the before image of
// updates and deletes, and fills the new row's unchanged TOAST values.
func expect(t *testing.T, enc *encode.Encoder, w *workload, txs []walTx, lastCommit int64, full bool) ([]string, map[string]int) {
	var out []string
	seen := map[string]int{}
	for _, wt := range txs {
		cs, ok := w.byXid[wt.xid]
		require.True(t, ok, "transaction %d was not made by the workload", wt.xid)
		require.Len(t, cs, len(wt.changes))
		for i, wc := range wt.changes {
			c := cs[i]
			enc.SetSource(encode.Source{TsMs: wt.commitMs, LSN: wc.lsn, TxID: wt.xid, LastCommitLSN: lastCommit})
			after := c.row
			var before, updBefore []row.Value
			if c.old != nil {
				before = enc.KeyRow(enc.Key(c.old))
			}
			if full {
				before, updBefore = c.old, c.old
			}
			if len(wc.unchanged) > 0 && !full {
				after = append([]row.Value(nil), c.row...)
				for col := range wc.unchanged {
					after[col] = row.Unavailable()
				}
				seen[c.kind+"-unchanged-toast"]++
			}
			seen[c.kind]++
			var lines [][]byte
			var err error
			switch c.kind {
			case "insert":
				var l []byte
				l, err = enc.Create(after)
				lines = [][]byte{l}
			case "update":
				var l []byte
				l, err = enc.Update(updBefore, after)
				lines = [][]byte{l}
			case "keychange":
				lines, err = enc.KeyChange(before, after)
			case "delete":
				lines, err = enc.DeleteLines(before)
			case "truncate":
				lines = [][]byte{enc.Truncate()}
			}
			require.NoError(t, err)
			for _, l := range lines {
				out = append(out, string(l))
			}
		}
		lastCommit = wt.commit
	}
	return out, seen
}

func canonical(r []row.Value) string {
	parts := make([]string, len(r))
	for i, v := range r {
		if v.Kind() == row.KindJSON {
			v = row.String(v.Text())
		}
		parts[i] = v.String()
	}
	return strings.Join(parts, " | ")
}

func pgRows(t *testing.T, dsn string, tbl *jobspec.Table) []string {
	src, err := pgsource.Open(context.Background(), dsn, "", "")
	require.NoError(t, err)
	defer func() { _ = src.Close(context.Background()) }()
	var out []string
	require.NoError(t, src.Snapshot(context.Background(), []*jobspec.Table{tbl}, func(_ int, r []row.Value) error {
		out = append(out, canonical(r))
		return nil
	}))
	sort.Strings(out)
	return out
}

func icebergRows(t *testing.T, cat interface {
	LoadTable(context.Context, table.Identifier) (*table.Table, error)
}, spec *jobspec.Spec) []string {
	tb := spec.Tables[0]
	tbl, err := cat.LoadTable(context.Background(), table.Identifier{spec.Target.Namespace, tb.Name})
	require.NoError(t, err)
	cols := make([]string, len(tb.Columns))
	for i, c := range tb.Columns {
		cols[i] = c.Name
	}
	var out []string
	require.NoError(t, target.Scan(context.Background(), tbl, iceberg.AlwaysTrue{}, cols, func(r []row.Value) error {
		out = append(out, canonical(r))
		return nil
	}))
	sort.Strings(out)
	return out
}

func setup(t *testing.T) (string, *pgx.Conn) {
	ctx := context.Background()
	dsn := testenv.Postgres(t)
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	_, err = conn.Exec(ctx, "SET TimeZone = 'UTC'; SET extra_float_digits = 3; SET synchronous_commit = on")
	require.NoError(t, err)
	_, err = conn.Exec(ctx, ddl)
	require.NoError(t, err)
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), dsn)
		if err == nil {
			_, _ = c.Exec(context.Background(), "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = current_database() AND NOT active")
			_ = c.Close(context.Background())
		}
	})
	return dsn, conn
}

// TestCaptureOracle: rows before the first run are its snapshot; random
// transactions after it are streamed; the landed lines equal what the
// encoder makes of the same changes as test_decoding reports them, and the
// merge of the landing equals PostgreSQL's table.
func TestCaptureOracle(t *testing.T) {
	t.Run("replica-identity-default", func(t *testing.T) { runOracle(t, false) })
	t.Run("replica-identity-full", func(t *testing.T) { runOracle(t, true) })
}

func runOracle(t *testing.T, full bool) {
	ctx := context.Background()
	dsn, conn := setup(t)
	if full {
		_, err := conn.Exec(ctx, "ALTER TABLE things REPLICA IDENTITY FULL")
		require.NoError(t, err)
	}
	spec := testSpec("")
	tbl := &spec.Tables[0]
	w := &workload{t: t, g: gen{rand.New(rand.NewPCG(7, 11))}, conn: conn, tbl: *tbl, state: map[string][]row.Value{}, nextID: 1, byXid: map[int64][]change{}}
	for range 3 {
		w.run(10)
	}
	root := t.TempDir()
	cfg := Config{Spec: spec, URI: dsn, Store: landing.NewLocalStore(root), MaxEvents: 7}

	// First run: the snapshot.
	st, err := Run(ctx, cfg)
	require.NoError(t, err)
	require.Equal(t, int64(len(w.state)), st.SnapshotRows)
	lines := readLanded(t, root, "cdc", tbl.Topic)
	require.Len(t, lines, len(w.state))
	enc, err := encode.NewEncoder(tbl, spec.Source.Debezium.Encoding, encode.Meta{Server: "acme", Database: "appdb"})
	require.NoError(t, err)
	want := pgRowsRaw(t, dsn, tbl)
	for i, l := range lines {
		var ev struct {
			Source struct {
				TsMs int64 `json:"ts_ms"`
				LSN  int64 `json:"lsn"`
				TxID int64 `json:"txId"`
			} `json:"source"`
		}
		require.NoError(t, json.Unmarshal([]byte(l), &ev))
		mark := "true"
		switch i {
		case 0:
			mark = "first"
		case len(lines) - 1:
			mark = "last"
		}
		enc.SetSource(encode.Source{TsMs: ev.Source.TsMs, LSN: ev.Source.LSN, TxID: ev.Source.TxID, Snapshot: mark})
		exp, err := enc.Read(want[i])
		require.NoError(t, err)
		require.Equal(t, string(exp), l, "snapshot line %d", i)
	}
	state, err := ReadState(ctx, landing.NewLocalStore(root), StateKey("cdc", "ds_capture"))
	require.NoError(t, err)
	require.True(t, state.SnapshotDone)
	require.Equal(t, pglsn(t, state.ConfirmedLSN), lastSource(t, lines).LSN, "snapshot reads carry the slot's consistent point")

	// The independent reading starts now: a test_decoding slot sees what
	// the capture's slot streams from here.
	_, err = conn.Exec(ctx, "SELECT pg_create_logical_replication_slot('oracle', 'test_decoding')")
	require.NoError(t, err)
	seen := map[string]int{}
	lastCommit := int64(0)
	var expected []string
	for round := 0; round < 3; round++ {
		w.run(40)
		txs := drain(t, conn, "oracle")
		exp, s := expect(t, enc, w, txs, lastCommit, full)
		for k, v := range s {
			seen[k] += v
		}
		if len(txs) > 0 {
			lastCommit = txs[len(txs)-1].commit
		}
		expected = append(expected, exp...)
		st, err := Run(ctx, cfg)
		require.NoError(t, err, "round %d", round)
		require.Zero(t, st.SnapshotRows)
		got := readLanded(t, root, "cdc", tbl.Topic)[len(want):]
		require.Equal(t, len(expected), len(got), "round %d: events landed", round)
		for i := range expected {
			require.Equal(t, expected[i], got[i], "round %d: event %d", round, i)
		}
	}
	kinds := []string{"insert", "update", "keychange", "delete", "truncate"}
	if !full {
		kinds = append(kinds, "update-unchanged-toast")
	}
	for _, k := range kinds {
		require.Positive(t, seen[k], "no %s was exercised", k)
	}

	// The merge of the landing equals PostgreSQL.
	dir := t.TempDir()
	cat, err := target.OpenCatalog(ctx, target.CatalogConfig{Name: "lake", URI: "sqlite:" + filepath.Join(dir, "catalog.db"), Warehouse: filepath.Join(dir, "warehouse")})
	require.NoError(t, err)
	defer func() { _ = target.CloseCatalog(cat) }()
	later := func() time.Time { return time.Now().Add(24 * time.Hour) }
	_, err = merge.Run(ctx, cat, spec, merge.Options{Store: landing.NewLocalStore(root), Prefix: "cdc", Retries: 3, Now: later})
	require.NoError(t, err)
	require.Equal(t, pgRows(t, dsn, tbl), icebergRows(t, cat, spec))
	t.Logf("changes: %v", seen)
}

func pglsn(t *testing.T, s string) int64 { return parseLSN(t, s) }

func lastSource(t *testing.T, lines []string) encode.Source {
	var ev struct {
		Source struct {
			LSN int64 `json:"lsn"`
		} `json:"source"`
	}
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &ev))
	return encode.Source{LSN: ev.Source.LSN}
}

// pgRowsRaw reads the table in key order, as the snapshot does.
func pgRowsRaw(t *testing.T, dsn string, tbl *jobspec.Table) [][]row.Value {
	src, err := pgsource.Open(context.Background(), dsn, "", "")
	require.NoError(t, err)
	defer func() { _ = src.Close(context.Background()) }()
	var out [][]row.Value
	require.NoError(t, src.Snapshot(context.Background(), []*jobspec.Table{tbl}, func(_ int, r []row.Value) error {
		out = append(out, append([]row.Value(nil), r...))
		return nil
	}))
	return out
}

// TestCaptureRefusesPublicationWithoutTable: an existing publication that
// does not publish a spec table is a configuration error naming it.
func TestCaptureRefusesPublicationWithoutTable(t *testing.T) {
	ctx := context.Background()
	dsn, conn := setup(t)
	_, err := conn.Exec(ctx, "CREATE TABLE other (id int PRIMARY KEY); CREATE PUBLICATION ds_pub FOR TABLE other")
	require.NoError(t, err)
	_, err = Run(ctx, Config{Spec: testSpec(""), URI: dsn, Store: landing.NewLocalStore(t.TempDir())})
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	require.Contains(t, err.Error(), "publication ds_pub does not publish public.things")
	require.Contains(t, err.Error(), "ALTER PUBLICATION ds_pub ADD TABLE public.things")
}
