// Package capture replicates PostgreSQL tables through a logical
// replication slot (pgoutput, protocol version 1) and lands the changes
// exactly as the Debezium PostgreSQL connector (2.7), Kafka Connect's
// JsonConverter and the S3 sink would: the same event lines (written by
// the encode package), topics, object names and offsets, one partition per
// topic. The merge reads them as it reads Debezium's.
//
// A first run creates the publication and the slot, exporting the slot's
// snapshot, and reads every table in it (op "r", source.snapshot as
// RelationalSnapshotChangeEventSource#setSnapshotMarker marks it); then it
// streams the slot from its consistent point. Objects land only at
// transaction ends, so an object never holds part of a transaction; the
// state object (State) is written after them and the slot is told the
// confirmed LSN only after that.
package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/badinput"
	"github.com/datasurface/datasurface/merge-runner/internal/debezium/encode"
	"github.com/datasurface/datasurface/merge-runner/internal/landing"
	"github.com/datasurface/datasurface/merge-runner/internal/pgsource"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

// Config is one capture run.
type Config struct {
	Spec *jobspec.Spec
	// URI (postgresql://HOST[:PORT]/DB), User and Password reach the source.
	URI, User, Password string
	// Store is where objects and the state land.
	Store landing.Writer
	// Follow keeps streaming until ctx ends; otherwise the run stops once it
	// has landed everything committed before it started.
	Follow bool
	// MaxEvents lands the open objects once they hold this many events
	// (default 10000); MaxWait once their first event is this old (default
	// 10s). Both are checked at transaction ends.
	MaxEvents int
	MaxWait   time.Duration
	Logger    *slog.Logger
}

// Stats is what a run landed.
type Stats struct {
	SnapshotRows int64
	Events       int64
	Objects      int
	Transactions int64
	ConfirmedLSN string
}

// ConfigError is a spec, publication, slot or source table that does not
// allow the capture; retrying will not help.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

func configErrorf(format string, args ...any) error {
	return &ConfigError{fmt.Errorf(format, args...)}
}

type tableCap struct {
	spec  *jobspec.Table
	enc   *encode.Encoder
	spool *spool
}

type capturer struct {
	cfg    Config
	cap    *jobspec.Capture
	prefix string
	log    *slog.Logger
	tables []*tableCap
	byName map[string]*tableCap // schema.table
	state  *State
	key    string
	conn   *pgx.Conn // SQL: publication, slot, WAL position, nested values
	repl   *pgconn.PgConn
	stats  Stats

	ctx    context.Context // the run's, for the queries of nested values
	rels   map[uint32]*relation
	nested map[string]string // "oid/typmod" -> format_type
}

// Run captures once (or, with Follow, until ctx ends).
func Run(ctx context.Context, cfg Config) (*Stats, error) {
	s := cfg.Spec
	if s == nil || s.Source.Debezium == nil || s.Source.Debezium.Capture == nil {
		return nil, configErrorf("the job spec has no source.debezium.capture: its events are landed by Debezium and Kafka Connect, not by merge-runner capture")
	}
	c := s.Source.Debezium.Capture
	if c.Slot == "" || c.Publication == "" {
		return nil, configErrorf("source.debezium.capture needs a slot and a publication name")
	}
	if cfg.MaxEvents <= 0 {
		cfg.MaxEvents = 10000
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cp := &capturer{cfg: cfg, cap: c, prefix: s.Source.Debezium.Prefix, log: cfg.Logger,
		byName: map[string]*tableCap{}, rels: map[uint32]*relation{}, nested: map[string]string{}}
	for i := range s.Tables {
		t := &s.Tables[i]
		name := qualified(t.SourceTable)
		if cp.byName[name] != nil {
			continue // a live and a history table of one source table share its topic
		}
		if t.Topic == "" {
			return nil, configErrorf("table %s has no topic", t.Name)
		}
		enc, err := encode.NewEncoder(t, s.Source.Debezium.Encoding, encode.Meta{Topic: t.Topic, Server: c.Server, Database: c.Database})
		if err != nil {
			return nil, &ConfigError{err}
		}
		tc := &tableCap{spec: t, enc: enc}
		cp.tables = append(cp.tables, tc)
		cp.byName[name] = tc
	}
	defer func() {
		for _, t := range cp.tables {
			t.spool.close()
		}
	}()
	if err := cp.run(ctx); err != nil {
		return &cp.stats, err
	}
	return &cp.stats, nil
}

func qualified(t string) string {
	if strings.Contains(t, ".") {
		return t
	}
	return "public." + t
}

func (cp *capturer) run(ctx context.Context) error {
	cp.ctx = ctx
	cp.key = StateKey(cp.prefix, cp.cap.Slot)
	st, err := ReadState(ctx, cp.cfg.Store, cp.key)
	if err != nil {
		return err
	}
	cp.state = st
	st.Slot = cp.cap.Slot
	for _, t := range cp.tables {
		if t.spool, err = newSpool(); err != nil {
			return err
		}
	}

	if cp.conn, err = cp.connect(ctx, false); err != nil {
		return err
	}
	defer func() { _ = cp.conn.Close(context.Background()) }()
	if err := cp.ensurePublication(ctx); err != nil {
		return err
	}
	var plugin string
	err = cp.conn.QueryRow(ctx, "SELECT plugin FROM pg_replication_slots WHERE slot_name = $1", cp.cap.Slot).Scan(&plugin)
	slotExists := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("reading replication slot %s: %w", cp.cap.Slot, err)
	}
	if slotExists && plugin != "pgoutput" {
		return configErrorf("replication slot %s uses the output plugin %s, not pgoutput: drop it or name another slot", cp.cap.Slot, plugin)
	}
	rc, err := cp.connect(ctx, true)
	if err != nil {
		return err
	}
	cp.repl = rc.PgConn()
	defer func() { _ = rc.Close(context.Background()) }()

	if !st.SnapshotDone {
		if slotExists {
			// A snapshot that did not land whole cannot be read again: start
			// over from a new slot (nothing of the old one was confirmed).
			cp.log.Info("the initial snapshot did not finish: making the slot again", "slot", cp.cap.Slot)
			if _, err := cp.conn.Exec(ctx, "SELECT pg_drop_replication_slot($1)", cp.cap.Slot); err != nil {
				return fmt.Errorf("dropping replication slot %s (is another capture using it?): %w", cp.cap.Slot, err)
			}
		}
		if err := cp.afterLanded(ctx); err != nil {
			return err
		}
		if err := cp.snapshot(ctx); err != nil {
			return err
		}
	} else if !slotExists {
		return &StateError{Key: cp.key, Reason: fmt.Sprintf("replication slot %s does not exist, but this state says changes up to %s were landed from it; "+
			"the changes since are lost: rebuild the tables from a new snapshot (delete this state object, then run the capture again)", cp.cap.Slot, st.ConfirmedLSN)}
	}
	return cp.stream(ctx)
}

// connect opens a SQL or a replication (replication=database) connection
// with the session settings pgsource.TextValue reads under.
func (cp *capturer) connect(ctx context.Context, replication bool) (*pgx.Conn, error) {
	u, err := url.Parse(cp.cfg.URI)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, configErrorf("source URI %q: use postgresql://HOST[:PORT]/DB", cp.cfg.URI)
	}
	if cp.cfg.User != "" {
		u.User = url.UserPassword(cp.cfg.User, cp.cfg.Password)
	}
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		return nil, configErrorf("source URI: %v", err)
	}
	for k, v := range pgsource.TextSession {
		cfg.RuntimeParams[k] = v
	}
	cfg.RuntimeParams["application_name"] = "datasurface-capture"
	if replication {
		cfg.RuntimeParams["replication"] = "database"
		// The replication protocol takes simple queries only.
		cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	}
	shown := *u
	shown.User = nil
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w (the capture needs a login with REPLICATION and wal_level=logical)", shown.String(), err)
	}
	return conn, nil
}

// ensurePublication creates the publication FOR TABLE the spec's tables,
// or checks that the existing one publishes each of them.
func (cp *capturer) ensurePublication(ctx context.Context) error {
	var level string
	if err := cp.conn.QueryRow(ctx, "SHOW wal_level").Scan(&level); err != nil {
		return err
	}
	if level != "logical" {
		return configErrorf("the source server has wal_level=%s: logical replication needs wal_level=logical (set it and restart PostgreSQL)", level)
	}
	var n int
	if err := cp.conn.QueryRow(ctx, "SELECT count(*) FROM pg_publication WHERE pubname = $1", cp.cap.Publication).Scan(&n); err != nil {
		return err
	}
	idents := make([]string, len(cp.tables))
	for i, t := range cp.tables {
		sch, name, _ := strings.Cut(qualified(t.spec.SourceTable), ".")
		idents[i] = pgx.Identifier{sch, name}.Sanitize()
	}
	if n == 0 {
		q := "CREATE PUBLICATION " + pgx.Identifier{cp.cap.Publication}.Sanitize() + " FOR TABLE " + strings.Join(idents, ", ")
		if _, err := cp.conn.Exec(ctx, q); err != nil {
			return configErrorf("creating publication %s: %v", cp.cap.Publication, err)
		}
		cp.log.Info("created publication", "publication", cp.cap.Publication, "tables", len(idents))
		return nil
	}
	rows, err := cp.conn.Query(ctx, "SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = $1", cp.cap.Publication)
	if err != nil {
		return err
	}
	have, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	var missing []string
	for _, t := range cp.tables {
		found := false
		for _, h := range have {
			found = found || h == qualified(t.spec.SourceTable)
		}
		if !found {
			missing = append(missing, qualified(t.spec.SourceTable))
		}
	}
	if len(missing) > 0 {
		return configErrorf("publication %s does not publish %s: add it (ALTER PUBLICATION %s ADD TABLE %s) or name another publication",
			cp.cap.Publication, strings.Join(missing, ", "), cp.cap.Publication, strings.Join(missing, ", "))
	}
	return nil
}

// afterLanded sets every topic's next offset after the objects already
// landed (an unfinished snapshot's, whose lines a new snapshot does not
// repeat).
func (cp *capturer) afterLanded(ctx context.Context) error {
	for _, t := range cp.tables {
		files, err := landing.ListTopic(ctx, cp.cfg.Store, cp.prefix, t.enc.Topic())
		if err != nil {
			return err
		}
		next := cp.state.NextOffset[t.enc.Topic()]
		for _, f := range files {
			n, err := countLines(ctx, cp.cfg.Store, f.Key)
			if err != nil {
				return err
			}
			next = max(next, f.StartOffset+n)
		}
		cp.state.NextOffset[t.enc.Topic()] = next
		t.spool.reset(next)
	}
	return nil
}

func countLines(ctx context.Context, st landing.Store, key string) (int64, error) {
	rc, err := st.Open(ctx, key)
	if err != nil {
		return 0, err
	}
	defer func() { _ = rc.Close() }()
	buf := make([]byte, 1<<16)
	var n int64
	for {
		m, err := rc.Read(buf)
		for _, b := range buf[:m] {
			if b == '\n' {
				n++
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// snapshot creates the slot exporting its snapshot and reads every table in
// it; the reads land, then a state saying the snapshot is done and the
// stream starts at the slot's consistent point.
func (cp *capturer) snapshot(ctx context.Context) error {
	res, err := pglogrepl.CreateReplicationSlot(ctx, cp.repl, cp.cap.Slot, "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: "EXPORT_SNAPSHOT"})
	if err != nil {
		return configErrorf("creating replication slot %s: %v", cp.cap.Slot, err)
	}
	point, err := pglogrepl.ParseLSN(res.ConsistentPoint)
	if err != nil {
		return err
	}
	cp.log.Info("created replication slot", "slot", cp.cap.Slot, "consistent_point", res.ConsistentPoint, "snapshot", res.SnapshotName)
	src, err := pgsource.Open(ctx, cp.cfg.URI, cp.cfg.User, cp.cfg.Password)
	if err != nil {
		return err
	}
	defer func() { _ = src.Close(context.Background()) }()
	specs := make([]*jobspec.Table, len(cp.tables))
	for i, t := range cp.tables {
		specs[i] = t.spec
	}
	// Debezium stamps snapshot reads with the slot's start LSN, the reading
	// transaction's id and the time the snapshot began
	// (PostgresSnapshotChangeEventSource#updateOffsetForSnapshot).
	src0 := encode.Source{TsMs: time.Now().UnixMilli(), LSN: int64(point)}
	// A row is held back until the next is read, to know whether it is its
	// table's last (RelationalSnapshotChangeEventSource#setSnapshotMarker).
	var held []row.Value
	heldTable, heldRows := -1, 0
	emit := func(last bool) error {
		tc := cp.tables[heldTable]
		firstTable, lastTable := heldTable == 0, heldTable == len(cp.tables)-1
		first := heldRows == 1
		mark := "true"
		switch {
		case last && lastTable:
			mark = "last"
		case first && firstTable:
			mark = "first"
		case last:
			mark = "last_in_data_collection"
		case first:
			mark = "first_in_data_collection"
		}
		s := src0
		s.Snapshot = mark
		tc.enc.SetSource(s)
		line, err := tc.enc.Read(held)
		if err != nil {
			return &badinput.Error{Object: "source table " + tc.spec.SourceTable, Reason: "snapshot row", Err: err}
		}
		if err := tc.spool.add(line); err != nil {
			return err
		}
		cp.stats.SnapshotRows++
		if cp.pending() >= cp.cfg.MaxEvents {
			return cp.land(ctx, "")
		}
		return nil
	}
	err = src.ExportedSnapshot(ctx, res.SnapshotName, specs, func(txid int64) error {
		src0.TxID = txid
		// An unfinished snapshot landed before this one: rows it read that
		// were deleted since are in no event of the new one. A truncate
		// first makes the new snapshot the whole table.
		for _, t := range cp.tables {
			if cp.state.NextOffset[t.enc.Topic()] == 0 {
				continue
			}
			t.enc.SetSource(src0)
			if err := t.spool.add(t.enc.Truncate()); err != nil {
				return err
			}
		}
		return nil
	}, func(i int, r []row.Value) error {
		if held != nil {
			if err := emit(i != heldTable); err != nil {
				return err
			}
		}
		if i != heldTable {
			heldTable, heldRows = i, 0
		}
		heldRows++
		held = append(held[:0], r...)
		return nil
	})
	if err == nil && held != nil {
		err = emit(true)
	}
	if err != nil {
		var re *pgsource.RowError
		var ce *pgsource.ColumnError
		switch {
		case errors.As(err, &ce):
			return &ConfigError{err}
		case errors.As(err, &re):
			return &badinput.Error{Object: "source table " + re.Table, Reason: "snapshot", Err: err}
		}
		return err
	}
	cp.state.SnapshotDone = true
	if err := cp.land(ctx, point.String()); err != nil {
		return err
	}
	cp.log.Info("snapshot landed", "rows", cp.stats.SnapshotRows, "consistent_point", point.String())
	return nil
}

func (cp *capturer) pending() int {
	n := 0
	for _, t := range cp.tables {
		n += t.spool.count
	}
	return n
}

// land puts every topic's open object, then the state (with confirmed as
// its LSN when not empty); the slot is told by the caller.
func (cp *capturer) land(ctx context.Context, confirmed string) error {
	for _, t := range cp.tables {
		sp := t.spool
		if sp.count == 0 {
			continue
		}
		topic := t.enc.Topic()
		key := landing.TopicPrefix(cp.prefix, topic) + fmt.Sprintf("partition=0/%s+0+%010d.json", topic, sp.start)
		if err := sp.put(ctx, cp.cfg.Store, key); err != nil {
			return err
		}
		cp.stats.Objects++
		cp.stats.Events += int64(sp.count)
		cp.log.Info("landed", "object", key, "events", sp.count)
		next := sp.start + int64(sp.count)
		cp.state.NextOffset[topic] = next
		sp.reset(next)
	}
	if confirmed != "" {
		cp.state.ConfirmedLSN = confirmed
	}
	if err := writeState(ctx, cp.cfg.Store, cp.key, cp.state); err != nil {
		return err
	}
	cp.stats.ConfirmedLSN = cp.state.ConfirmedLSN
	return nil
}

// spool is a topic's open object, in a temporary file so that a large
// transaction does not have to fit in memory.
type spool struct {
	f     *os.File
	size  int64
	count int
	// what the transactions read whole hold; the rest is the one in progress
	doneSize  int64
	doneCount int
	start     int64
	first     time.Time
}

func newSpool() (*spool, error) {
	f, err := os.CreateTemp("", "capture-*.json")
	if err != nil {
		return nil, fmt.Errorf("capture spool: %w", err)
	}
	_ = os.Remove(f.Name()) // open until closed, gone after a crash
	return &spool{f: f}, nil
}

func (s *spool) add(line []byte) error {
	if s.count == 0 {
		s.first = time.Now()
	}
	if _, err := s.f.WriteAt(append(line, '\n'), s.size); err != nil {
		return fmt.Errorf("capture spool: %w", err)
	}
	s.size += int64(len(line)) + 1
	s.count++
	return nil
}

// commit marks what was added as a whole transaction's.
func (s *spool) commit() { s.doneSize, s.doneCount = s.size, s.count }

// rollback drops what the transaction in progress added.
func (s *spool) rollback() { s.size, s.count = s.doneSize, s.doneCount }

func (s *spool) put(ctx context.Context, w landing.Writer, key string) error {
	return w.Put(ctx, key, io.NewSectionReader(s.f, 0, s.size), s.size)
}

func (s *spool) reset(start int64) {
	s.size, s.count, s.start, s.doneSize, s.doneCount = 0, 0, start, 0, 0
	_ = s.f.Truncate(0)
}

func (s *spool) close() {
	if s != nil && s.f != nil {
		_ = s.f.Close()
	}
}
