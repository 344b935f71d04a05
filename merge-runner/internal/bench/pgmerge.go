package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/datasurface/datasurface/merge-runner/internal/debezium"
	"github.com/datasurface/datasurface/merge-runner/internal/landing"
	"github.com/datasurface/datasurface/merge-runner/internal/order"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

// PGOptions say where and how big the PostgreSQL comparison is.
type PGOptions struct {
	DSN string
	Dir string
	// Rows of the target table (0: dir/bench.json's).
	Rows int64
}

const pgColumns = "id, name, qty, price, updated_at, born, active, score, note, version"

const pgTableDDL = `CREATE TABLE %s (
	id bigint NOT NULL,
	name varchar(100) NOT NULL,
	qty integer NOT NULL,
	price numeric(12,2),
	updated_at timestamptz NOT NULL,
	born date,
	active boolean NOT NULL,
	score double precision,
	note text,
	version bigint NOT NULL
)`

const pgStagingDDL = `CREATE TABLE orders_staging (
	seq bigint NOT NULL,
	op text NOT NULL,
	id bigint NOT NULL,
	name varchar(100),
	qty integer,
	price numeric(12,2),
	updated_at timestamptz,
	born date,
	active boolean,
	score double precision,
	note text,
	version bigint
)`

// pgMerge is the Python reference's statement: the latest change per key
// from the staging table, merged into the target in one statement.
const pgMerge = `MERGE INTO orders t
USING (SELECT DISTINCT ON (id) * FROM orders_staging ORDER BY id, seq DESC) s
ON t.id = s.id
WHEN MATCHED AND s.op = 'd' THEN DELETE
WHEN MATCHED THEN UPDATE SET name = s.name, qty = s.qty, price = s.price, updated_at = s.updated_at,
	born = s.born, active = s.active, score = s.score, note = s.note, version = s.version
WHEN NOT MATCHED AND s.op <> 'd' THEN INSERT (` + pgColumns + `)
	VALUES (s.id, s.name, s.qty, s.price, s.updated_at, s.born, s.active, s.score, s.note, s.version)`

// pgFill fills the target with rows 0..N-1 of the bench table's shape
// (the values differ from the Iceberg table's; the sizes are alike).
func pgFill(rows int64) string {
	q := func(ss []string) string {
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = "'" + strings.ReplaceAll(s, "'", "''") + "'"
		}
		return "ARRAY[" + strings.Join(out, ",") + "]"
	}
	return fmt.Sprintf(`INSERT INTO orders SELECT
	g,
	'Customer ' || g || ' ' || (%s)[1 + g %% 16],
	(g * 7919 %% 1000)::int,
	CASE WHEN g %% 50 = 0 THEN NULL ELSE (g * 104729 %% 10000000) / 100.0 END,
	timestamptz '2024-01-01 00:00:00+00' - (g %% 31536000) * interval '1 second',
	CASE WHEN g %% 20 = 1 THEN NULL ELSE date '1980-01-01' + (g %% 18000)::int END,
	g %% 2 = 0,
	CASE WHEN g %% 30 = 2 THEN NULL ELSE (g %% 1000000) / 1000.0 END,
	CASE WHEN g %% 10 = 3 THEN NULL ELSE (%s)[1 + g %% 8] || ' #' || to_hex(g * 2654435761) END,
	0
FROM generate_series(0::bigint, %d) g`, q(surnames[:]), q(notes[:]), rows-1)
}

// PGMerge loads a PostgreSQL table of o.Rows rows, loads the landed
// events into a staging table (decoded by the merge-runner's decoder and
// sent with COPY) and times one MERGE of the latest change per key. It
// reports the MERGE's time, and the load's separately.
func PGMerge(ctx context.Context, w io.Writer, o PGOptions) error {
	spec, err := readSpec(o.Dir)
	if err != nil {
		return err
	}
	if o.Rows == 0 {
		in, err := ReadInfo(o.Dir)
		if err != nil {
			return fmt.Errorf("no --rows and no prepared table: %w", err)
		}
		o.Rows = in.Rows
	}
	conn, err := pgx.Connect(ctx, o.DSN)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	exec := func(sql string) error {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("%s: %w", firstLine(sql), err)
		}
		return nil
	}
	var version string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil {
		return err
	}
	var settings []string
	for _, s := range []string{"shared_buffers", "work_mem", "maintenance_work_mem", "max_wal_size", "fsync", "synchronous_commit", "full_page_writes", "wal_level"} {
		var v string
		if err := conn.QueryRow(ctx, "SELECT current_setting($1)", s).Scan(&v); err == nil {
			settings = append(settings, s+"="+v)
		}
	}

	// The target table: not timed.
	prepStart := time.Now()
	for _, sql := range []string{
		"DROP TABLE IF EXISTS orders_staging", "DROP TABLE IF EXISTS orders",
		fmt.Sprintf(pgTableDDL, "orders"), pgFill(o.Rows),
		"ALTER TABLE orders ADD PRIMARY KEY (id)", "VACUUM (ANALYZE) orders",
	} {
		if err := exec(sql); err != nil {
			return err
		}
	}
	checkpoint(ctx, conn)
	prep := time.Since(prepStart)

	// The staging load: decode the landed events and COPY them.
	loadStart := time.Now()
	if err := exec(pgStagingDDL); err != nil {
		return err
	}
	t := spec.Tables[0]
	dec, err := debezium.NewDecoder(&t, spec.Source.Debezium.Encoding)
	if err != nil {
		return err
	}
	store := landing.NewLocalStore(filepath.Join(o.Dir, "events"))
	files, err := landing.ListTopic(ctx, store, spec.Source.Debezium.Prefix, t.Topic)
	if err != nil {
		return err
	}
	src := &stagingSource{reader: order.New(ctx, store, files, dec, order.State{}, order.Options{})}
	defer func() { _ = src.reader.Close() }()
	cols := append([]string{"seq", "op"}, strings.Split(strings.ReplaceAll(pgColumns, " ", ""), ",")...)
	n, err := conn.CopyFrom(ctx, pgx.Identifier{"orders_staging"}, cols, src)
	if err != nil {
		return fmt.Errorf("COPY orders_staging: %w", err)
	}
	if err := exec("ANALYZE orders_staging"); err != nil {
		return err
	}
	load := time.Since(loadStart)
	checkpoint(ctx, conn)

	mergeStart := time.Now()
	tag, err := conn.Exec(ctx, pgMerge)
	if err != nil {
		return fmt.Errorf("MERGE: %w", err)
	}
	elapsed := time.Since(mergeStart)

	var pid int32
	_ = conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid)
	res := Result{Step: "pgmerge", Rows: o.Rows, Envelope: spec.Source.Debezium.Encoding.SchemasEnabled, Events: n,
		PrepSeconds: round(prep.Seconds(), 2), LoadSeconds: round(load.Seconds(), 3),
		ServerPeakRSSMiB: vmHWM(pid),
		Note:             fmt.Sprintf("PostgreSQL %s; merged rows=%d; %s", version, tag.RowsAffected(), strings.Join(settings, " "))}
	res.EventsPerSLoad = round(float64(n)/(load+elapsed).Seconds(), 0)

	var exp Expected
	if readJSON(filepath.Join(o.Dir, "expected.json"), &exp) == nil {
		var got Expected
		if err := conn.QueryRow(ctx, "SELECT count(*), coalesce(sum(id), 0)::bigint, coalesce(sum(version), 0)::bigint FROM orders").
			Scan(&got.Rows, &got.SumID, &got.SumVersion); err != nil {
			return err
		}
		if got != exp {
			return fmt.Errorf("after the MERGE the PostgreSQL table holds %+v, the events make %+v", got, exp)
		}
	}
	for _, sql := range []string{"DROP TABLE orders_staging", "DROP TABLE orders"} {
		if err := exec(sql); err != nil {
			return err
		}
	}
	return finish(w, &res, elapsed)
}

// checkpoint flushes what loading dirtied, so the MERGE does not pay for
// it; a role that may not CHECKPOINT skips it.
func checkpoint(ctx context.Context, conn *pgx.Conn) {
	_, _ = conn.Exec(ctx, "CHECKPOINT")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// vmHWM is a local process's peak resident set in MiB (0 when unknown).
func vmHWM(pid int32) float64 {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			var kb float64
			_, _ = fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &kb)
			return round(kb/1024, 1)
		}
	}
	return 0
}

// stagingSource streams decoded events to COPY: seq (the offset), op and
// the row (the key only for a delete).
type stagingSource struct {
	reader *order.Merger
	vals   []any
	err    error
}

func (s *stagingSource) Next() bool {
	for {
		ev, _, err := s.reader.Next()
		if errors.Is(err, io.EOF) {
			return false
		}
		if err != nil {
			s.err = err
			return false
		}
		var op string
		var r []row.Value
		switch ev.Op {
		case debezium.OpCreate, debezium.OpRead:
			op, r = "c", ev.After
		case debezium.OpUpdate:
			op, r = "u", ev.After
		case debezium.OpDelete:
			op = "d"
		default:
			continue
		}
		if s.vals == nil {
			s.vals = make([]any, 12)
		}
		s.vals[0], s.vals[1] = ev.Offset, op
		for i := 2; i < len(s.vals); i++ {
			s.vals[i] = nil
		}
		if r == nil {
			s.vals[2] = ev.Key[0].Int()
			return true
		}
		for i, v := range r {
			if s.vals[2+i], err = pgValue(v); err != nil {
				s.err = err
				return false
			}
		}
		return true
	}
}

func (s *stagingSource) Values() ([]any, error) { return s.vals, nil }
func (s *stagingSource) Err() error             { return s.err }

// pgValue converts a value to what pgx's COPY encodes.
func pgValue(v row.Value) (any, error) {
	switch v.Kind() {
	case row.KindNull:
		return nil, nil
	case row.KindBool:
		return v.Bool(), nil
	case row.KindInt32:
		return int32(v.Int()), nil
	case row.KindInt64:
		return v.Int(), nil
	case row.KindFloat64:
		return v.Float(), nil
	case row.KindString:
		return v.Text(), nil
	case row.KindDecimal:
		var u *big.Int
		if i, ok := v.DecimalInt64(); ok {
			u = big.NewInt(i)
		} else {
			u = v.Unscaled()
		}
		return pgtype.Numeric{Int: u, Exp: -v.Scale(), Valid: true}, nil
	case row.KindDate:
		return pgtype.Date{Time: time.Unix(v.Int()*86400, 0).UTC(), Valid: true}, nil
	case row.KindTimestampTZ:
		return time.UnixMicro(v.Int()).UTC(), nil
	}
	return nil, fmt.Errorf("no PostgreSQL value for a %s", v.Kind())
}
