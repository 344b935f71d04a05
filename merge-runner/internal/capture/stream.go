package capture

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/datasurface/datasurface/merge-runner/internal/badinput"
	"github.com/datasurface/datasurface/merge-runner/internal/debezium/encode"
	"github.com/datasurface/datasurface/merge-runner/internal/pgsource"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

// relation is a table as pgoutput's Relation message describes it, with
// where each spec column is in its tuples.
type relation struct {
	msg   *pglogrepl.RelationMessage
	table *tableCap // nil: not a spec table
	index []int     // spec column -> tuple column
}

// txn is the transaction being read.
type txn struct {
	xid      uint32
	final    pglogrepl.LSN // its commit record (Begin's final LSN)
	commitMs int64
	skip     bool // landed before the state's confirmed LSN
}

// stream reads the slot from the state's confirmed LSN, landing at
// transaction ends, until ctx ends (Follow) or everything committed before
// the run began has landed.
func (cp *capturer) stream(ctx context.Context) error {
	st := cp.state
	confirmed, err := pglogrepl.ParseLSN(st.ConfirmedLSN)
	if err != nil {
		return &StateError{Key: cp.key, Reason: fmt.Sprintf("confirmed_lsn %q: %v", st.ConfirmedLSN, err)}
	}
	for _, t := range cp.tables {
		t.spool.reset(st.NextOffset[t.enc.Topic()])
	}
	// The insert position, not pg_current_wal_lsn's write position: an
	// asynchronous commit (synchronous_commit off) may not be written yet,
	// and must still be landed by this run.
	var target pglogrepl.LSN
	if err := cp.conn.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan((*lsnText)(&target)); err != nil {
		return fmt.Errorf("reading the server's WAL position: %w", err)
	}
	pub := strings.ReplaceAll(cp.cap.Publication, "'", "''")
	// Protocol version 1: transactions arrive whole at their commit; version
	// 2's streaming of transactions in progress is not asked for.
	err = pglogrepl.StartReplication(ctx, cp.repl, pgx.Identifier{cp.cap.Slot}.Sanitize(), confirmed, pglogrepl.StartReplicationOptions{
		Mode: pglogrepl.LogicalReplication, PluginArgs: []string{"proto_version '1'", "publication_names '" + pub + "'"},
	})
	if err != nil {
		return fmt.Errorf("starting replication from slot %s at %s: %w", cp.cap.Slot, confirmed, err)
	}
	cp.log.Info("streaming", "slot", cp.cap.Slot, "from", confirmed.String(), "until", map[bool]string{true: "stopped", false: target.String()}[cp.cfg.Follow])

	lastCommit := st.LastCommitLSN
	reached := confirmed    // every commit before it has been read
	landedUpTo := confirmed // the end of the last transaction read whole
	var cur *txn
	status := func(reply bool) error {
		return pglogrepl.SendStandbyStatusUpdate(ctx, cp.repl, pglogrepl.StandbyStatusUpdate{WALWritePosition: confirmed, ReplyRequested: reply})
	}
	flush := func(ctx context.Context) error {
		if cp.pending() == 0 && landedUpTo == confirmed {
			return nil
		}
		st.LastCommitLSN = lastCommit
		if err := cp.land(ctx, landedUpTo.String()); err != nil {
			return err
		}
		confirmed = landedUpTo
		return status(false)
	}
	if err := status(true); err != nil {
		return err
	}
	lastStatus := time.Now()
	for {
		if !cp.cfg.Follow && cur == nil && reached >= target {
			if err := flush(ctx); err != nil {
				return err
			}
			cp.log.Info("caught up", "confirmed_lsn", confirmed.String(), "events", cp.stats.Events, "transactions", cp.stats.Transactions)
			return nil
		}
		if ctx.Err() != nil {
			// Stopped: land what was read whole; a transaction in progress is
			// read again next time.
			for _, t := range cp.tables {
				t.spool.rollback()
			}
			if err := flush(context.WithoutCancel(ctx)); err != nil {
				return err
			}
			cp.log.Info("stopped", "confirmed_lsn", confirmed.String(), "events", cp.stats.Events)
			return nil
		}
		if cur == nil && cp.pending() > 0 {
			if sp := cp.oldest(); time.Since(sp) >= cp.cfg.MaxWait {
				if err := flush(ctx); err != nil {
					return err
				}
			}
		}
		if time.Since(lastStatus) > 10*time.Second {
			if err := status(false); err != nil {
				return err
			}
			lastStatus = time.Now()
		}
		rctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		msg, err := cp.repl.ReceiveMessage(rctx)
		cancel()
		if err != nil {
			if pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
				// Idle: ask the server where it is (its keepalive answers).
				if ctx.Err() == nil {
					if err := status(true); err != nil {
						return err
					}
					lastStatus = time.Now()
				}
				continue
			}
			return fmt.Errorf("replication from slot %s: %w", cp.cap.Slot, err)
		}
		switch m := msg.(type) {
		case *pgproto3.ErrorResponse:
			return fmt.Errorf("replication from slot %s: %w", cp.cap.Slot, pgconn.ErrorResponseToPgError(m))
		case *pgproto3.CopyData:
			if len(m.Data) == 0 {
				continue
			}
			switch m.Data[0] {
			case pglogrepl.PrimaryKeepaliveMessageByteID:
				ka, err := pglogrepl.ParsePrimaryKeepaliveMessage(m.Data[1:])
				if err != nil {
					return err
				}
				if cur == nil && ka.ServerWALEnd > reached {
					reached = ka.ServerWALEnd
				}
				if ka.ReplyRequested {
					if err := status(false); err != nil {
						return err
					}
					lastStatus = time.Now()
				}
			case pglogrepl.XLogDataByteID:
				x, err := pglogrepl.ParseXLogData(m.Data[1:])
				if err != nil {
					return err
				}
				lm, err := pglogrepl.Parse(x.WALData)
				if err != nil {
					return fmt.Errorf("decoding pgoutput message at %s: %w", x.WALStart, err)
				}
				switch lm := lm.(type) {
				case *pglogrepl.RelationMessage:
					if err := cp.relation(lm); err != nil {
						return err
					}
				case *pglogrepl.BeginMessage:
					cur = &txn{xid: lm.Xid, final: lm.FinalLSN, commitMs: lm.CommitTime.UnixMilli(), skip: lm.FinalLSN < confirmed}
				case *pglogrepl.CommitMessage:
					if cur == nil {
						return fmt.Errorf("replication from slot %s: a commit at %s without its begin", cp.cap.Slot, x.WALStart)
					}
					if !cur.skip {
						// SourceInfo's lastCommitLsn is the commit message's
						// position (PostgresStreamingChangeEventSource#commitMessage
						// with stream.lastReceivedLsn()).
						lastCommit = int64(x.WALStart)
						landedUpTo = x.WALStart
						cp.stats.Transactions++
						for _, t := range cp.tables {
							t.spool.commit()
						}
					}
					reached = max(reached, x.WALStart)
					cur = nil
					if cp.pending() >= cp.cfg.MaxEvents || (cp.pending() > 0 && time.Since(cp.oldest()) >= cp.cfg.MaxWait) {
						if err := flush(ctx); err != nil {
							return err
						}
					}
				case *pglogrepl.InsertMessage, *pglogrepl.UpdateMessage, *pglogrepl.DeleteMessage, *pglogrepl.TruncateMessage:
					if cur == nil {
						return fmt.Errorf("replication from slot %s: a change at %s outside a transaction", cp.cap.Slot, x.WALStart)
					}
					if cur.skip {
						continue
					}
					src := encode.Source{TsMs: cur.commitMs, LSN: int64(x.WALStart), TxID: int64(cur.xid), LastCommitLSN: lastCommit}
					if err := cp.change(lm, src); err != nil {
						return err
					}
				}
			}
		}
	}
}

func (cp *capturer) oldest() time.Time {
	var t time.Time
	for _, tc := range cp.tables {
		if tc.spool.count > 0 && (t.IsZero() || tc.spool.first.Before(t)) {
			t = tc.spool.first
		}
	}
	return t
}

// lsnText scans PostgreSQL's X/Y text form.
type lsnText pglogrepl.LSN

func (l *lsnText) Scan(src any) error {
	s, ok := src.(string)
	if !ok {
		return fmt.Errorf("an LSN of type %T", src)
	}
	v, err := pglogrepl.ParseLSN(s)
	*l = lsnText(v)
	return err
}

func (cp *capturer) relation(m *pglogrepl.RelationMessage) error {
	r := &relation{msg: m, table: cp.byName[m.Namespace+"."+m.RelationName]}
	if r.table != nil {
		cols := r.table.spec.Columns
		r.index = make([]int, len(cols))
		for i := range cols {
			r.index[i] = -1
			for j, c := range m.Columns {
				if c.Name == cols[i].Name {
					r.index[i] = j
				}
			}
			if r.index[i] < 0 {
				return &ConfigError{&pgsource.ColumnError{Table: r.table.spec.SourceTable, Column: cols[i].Name, Reason: "the source table has no such column (its replicated relation lacks it)"}}
			}
		}
	}
	cp.rels[m.RelationID] = r
	return nil
}

func (cp *capturer) change(m pglogrepl.Message, src encode.Source) error {
	var relID uint32
	switch m := m.(type) {
	case *pglogrepl.InsertMessage:
		relID = m.RelationID
	case *pglogrepl.UpdateMessage:
		relID = m.RelationID
	case *pglogrepl.DeleteMessage:
		relID = m.RelationID
	case *pglogrepl.TruncateMessage:
		for _, id := range m.RelationIDs {
			r := cp.rels[id]
			if r == nil {
				return fmt.Errorf("replication: a truncate of relation %d, which no Relation message described", id)
			}
			if r.table == nil {
				continue
			}
			r.table.enc.SetSource(src)
			if err := r.table.spool.add(r.table.enc.Truncate()); err != nil {
				return err
			}
		}
		return nil
	}
	r := cp.rels[relID]
	if r == nil {
		return fmt.Errorf("replication: a change of relation %d, which no Relation message described", relID)
	}
	if r.table == nil {
		return nil
	}
	t := r.table
	t.enc.SetSource(src)
	where := func(what string, err error) error {
		return &badinput.Error{Object: fmt.Sprintf("source table %s at LSN %s", t.spec.SourceTable, pglogrepl.LSN(src.LSN)), Reason: what, Err: err}
	}
	var lines [][]byte
	var err error
	switch m := m.(type) {
	case *pglogrepl.InsertMessage:
		after, err := cp.image(r, m.Tuple, nil)
		if err != nil {
			return where("insert", err)
		}
		line, err := t.enc.Create(after)
		if err != nil {
			return where("insert", err)
		}
		lines = [][]byte{line}
	case *pglogrepl.UpdateMessage:
		var before []row.Value
		if m.OldTuple != nil {
			// 'K': the old key (REPLICA IDENTITY DEFAULT or USING INDEX, sent
			// when the key changed), its other columns null; 'O': the whole
			// old row (FULL). Debezium's before image is that tuple
			// (PostgresChangeRecordEmitter#getOldColumnValues).
			if before, err = cp.image(r, m.OldTuple, nil); err != nil {
				return where("update's old row", err)
			}
		}
		// The old row of FULL fills the new one's unchanged TOAST values
		// (PostgresChangeRecordEmitter#columnValues).
		fill := before
		if m.OldTupleType != 'O' {
			fill = nil
		}
		after, err := cp.image(r, m.NewTuple, fill)
		if err != nil {
			return where("update", err)
		}
		if before != nil && row.KeyString(t.enc.Key(before)) != row.KeyString(t.enc.Key(after)) {
			lines, err = t.enc.KeyChange(before, after)
		} else {
			var line []byte
			if line, err = t.enc.Update(before, after); err == nil {
				lines = [][]byte{line}
			}
		}
		if err != nil {
			return where("update", err)
		}
	case *pglogrepl.DeleteMessage:
		if m.OldTuple == nil {
			return where("delete", errors.New("the delete carries no old key: the table's REPLICA IDENTITY is NOTHING; set REPLICA IDENTITY DEFAULT (with a primary key) or FULL"))
		}
		before, err := cp.image(r, m.OldTuple, nil)
		if err != nil {
			return where("delete", err)
		}
		if lines, err = t.enc.DeleteLines(before); err != nil {
			return where("delete", err)
		}
	}
	for _, l := range lines {
		if err := t.spool.add(l); err != nil {
			return err
		}
	}
	return nil
}

// image reads a tuple into the spec's column order: 'n' is Null, 'u' (an
// unchanged TOAST value) is the fill row's value or else Unavailable.
func (cp *capturer) image(r *relation, tup *pglogrepl.TupleData, fill []row.Value) ([]row.Value, error) {
	if tup == nil {
		return nil, errors.New("no tuple")
	}
	cols := r.table.spec.Columns
	out := make([]row.Value, len(cols))
	for i := range cols {
		j := r.index[i]
		if j >= len(tup.Columns) {
			return nil, fmt.Errorf("column %s: the tuple has %d columns", cols[i].Name, len(tup.Columns))
		}
		tc := tup.Columns[j]
		switch tc.DataType {
		case pglogrepl.TupleDataTypeNull:
			out[i] = row.Null()
		case pglogrepl.TupleDataTypeToast:
			out[i] = row.Unavailable()
			if fill != nil && !fill[i].IsUnavailable() {
				out[i] = fill[i]
			}
		case pglogrepl.TupleDataTypeText:
			v, err := cp.value(r, i, tc.Data)
			if err != nil {
				return nil, fmt.Errorf("column %s: %w", cols[i].Name, err)
			}
			out[i] = v
		default:
			return nil, fmt.Errorf("column %s: tuple data of kind %q (binary mode is not asked for)", cols[i].Name, tc.DataType)
		}
	}
	return out, nil
}

// value reads a text value; arrays, composites and hstore go through the
// server's to_jsonb, as the snapshot reads them.
func (cp *capturer) value(r *relation, i int, text []byte) (row.Value, error) {
	c := &r.table.spec.Columns[i]
	if !pgsource.IsNested(c) {
		return pgsource.TextValue(c, text)
	}
	rc := r.msg.Columns[r.index[i]]
	k := fmt.Sprintf("%d/%d", rc.DataType, rc.TypeModifier)
	typ, ok := cp.nested[k]
	if !ok {
		if err := cp.conn.QueryRow(cp.ctx, "SELECT format_type($1::oid, $2::int)", rc.DataType, rc.TypeModifier).Scan(&typ); err != nil {
			return row.Value{}, err
		}
		cp.nested[k] = typ
	}
	var js string
	if err := cp.conn.QueryRow(cp.ctx, "SELECT to_jsonb($1::text::"+typ+")::text", string(text)).Scan(&js); err != nil {
		return row.Value{}, err
	}
	return pgsource.JSONValue(c, []byte(js))
}
