package pgsource

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

// Source is a connection to the source database.
type Source struct {
	conn *pgx.Conn
	uri  string // without the password, for messages
}

// Open connects to uri (postgresql://host:port/db) with the credentials;
// the session's time zone is UTC so timestamptz values arrive in UTC.
func Open(ctx context.Context, uri, user, password string) (*Source, error) {
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("source URI %q: use postgresql://HOST[:PORT]/DB", uri)
	}
	if user != "" {
		u.User = url.UserPassword(user, password)
	}
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		return nil, fmt.Errorf("source URI: %w", err)
	}
	cfg.RuntimeParams["TimeZone"] = "UTC"
	cfg.RuntimeParams["application_name"] = "datasurface-merge-runner"
	shown := *u
	shown.User = nil
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", shown.String(), err)
	}
	return &Source{conn: conn, uri: shown.String()}, nil
}

// Close ends the connection.
func (s *Source) Close(ctx context.Context) error { return s.conn.Close(ctx) }

// Rows streams rows of t's source table to fn, in one consistent snapshot
// (a repeatable-read, read-only transaction). Without a watermark column it
// reads every row; with one, the rows whose watermark is above after (all
// when after is nil), in watermark order, each with its watermark as text.
func (s *Source) Rows(ctx context.Context, t *jobspec.Table, watermark string, after *string, fn func(r []row.Value, wm string) error) error {
	schema, name, ok := strings.Cut(t.SourceTable, ".")
	if !ok {
		schema, name = "public", t.SourceTable
	}
	from := pgx.Identifier{schema, name}.Sanitize()
	q := "SELECT to_jsonb(t)::text, '' FROM " + from + " AS t"
	var args []any
	if watermark != "" {
		wm := "t." + pgx.Identifier{watermark}.Sanitize()
		q = "SELECT to_jsonb(t)::text, " + wm + "::text FROM " + from + " AS t WHERE " + wm + " IS NOT NULL"
		if after != nil {
			q += " AND " + wm + " > $1"
			args = append(args, *after)
		}
		q += " ORDER BY " + wm
	}
	tx, err := s.conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("source %s: %w", s.uri, err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("source %s: reading %s: %w", s.uri, t.SourceTable, err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		var obj, wm string
		if err := rows.Scan(&obj, &wm); err != nil {
			return fmt.Errorf("source %s: %s row %d: %w", s.uri, t.SourceTable, n, err)
		}
		r, err := parseRow(t.Columns, []byte(obj))
		if err != nil {
			return &RowError{Table: t.SourceTable, Row: n, Watermark: wm, Err: err}
		}
		if err := fn(r, wm); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("source %s: reading %s: %w", s.uri, t.SourceTable, err)
	}
	return nil
}

// RowError is a source row that does not fit the job spec's columns.
type RowError struct {
	Table     string
	Row       int
	Watermark string
	Err       error
}

func (e *RowError) Error() string {
	where := fmt.Sprintf("row %d", e.Row)
	if e.Watermark != "" {
		where += " (watermark " + e.Watermark + ")"
	}
	return fmt.Sprintf("source table %s %s: %v", e.Table, where, e.Err)
}

func (e *RowError) Unwrap() error { return e.Err }
