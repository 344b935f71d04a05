package pgsource

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

// TextSession are the settings under which TextValue reads PostgreSQL's
// text output: ISO dates, UTC time stamps, shortest exact floats and hex
// bytea. A connection whose output TextValue reads must run with them.
var TextSession = map[string]string{
	"TimeZone":           "UTC",
	"DateStyle":          "ISO, YMD",
	"extra_float_digits": "3",
	"bytea_output":       "hex",
}

// TextValue reads a scalar column's value in PostgreSQL's text output form
// (the output function of the column's type, as logical replication's
// pgoutput sends it in text mode) into the spec column's kind. list, struct
// and map values are read from their to_jsonb form with JSONValue.
func TextValue(c *jobspec.Column, b []byte) (row.Value, error) {
	s := string(b)
	switch c.Type {
	case "boolean":
		switch s {
		case "t", "true":
			return row.Bool(true), nil
		case "f", "false":
			return row.Bool(false), nil
		}
		return row.Value{}, fmt.Errorf("%q is not a boolean", s)
	case "int8", "int16", "int32", "int64":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return row.Value{}, fmt.Errorf("%q is not an integer", s)
		}
		return intOf(c, n)
	case "float32", "float64":
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return row.Value{}, fmt.Errorf("%q is not a number", s)
		}
		if c.Type == "float32" {
			return row.Float32(float32(f)), nil
		}
		return row.Float64(f), nil
	case "decimal":
		return decimalText(c, b)
	case "char", "varchar", "text":
		return textValue(c, b)
	case "json":
		return row.JSON(s), nil
	case "uuid":
		u, err := uuid.Parse(s)
		if err != nil {
			return row.Value{}, fmt.Errorf("%q is not a uuid", s)
		}
		return row.UUID(u), nil
	case "binary":
		h, ok := strings.CutPrefix(s, `\x`)
		if !ok {
			return row.Value{}, errors.New("a bytea not in hex form: set bytea_output = hex")
		}
		raw, err := hex.DecodeString(h)
		if err != nil {
			return row.Value{}, fmt.Errorf("bytea hex: %w", err)
		}
		return row.Binary(string(raw)), nil
	case "date", "time", "timestamp", "timestamptz":
		return temporal(c.Type, isoFromText(c.Type, s))
	}
	return row.Value{}, fmt.Errorf("a %s value is not read from text: read its to_jsonb form", c.Type)
}

// isoFromText turns PostgreSQL's text output of a date or time type (ISO
// DateStyle, a UTC session) into the ISO form to_jsonb writes, which
// temporal reads: a space for the T, and an offset like +00 as +00:00.
func isoFromText(typ, s string) string {
	if typ != "timestamp" && typ != "timestamptz" {
		return s
	}
	s = strings.Replace(s, " ", "T", 1)
	if typ == "timestamptz" {
		if i := strings.LastIndexAny(s, "+-"); i > len("2006-01-02") && len(s)-i == 3 {
			s += ":00"
		}
	}
	return s
}

// IsNested says whether a column's values are read with JSONValue.
func IsNested(c *jobspec.Column) bool {
	return c.Type == "list" || c.Type == "struct" || c.Type == "map"
}

// JSONValue reads a value from its to_jsonb text, as the snapshot does.
func JSONValue(c *jobspec.Column, text []byte) (row.Value, error) {
	return value(c, json.RawMessage(text))
}

// ExportedSnapshot reads every row of each table as Snapshot does, inside
// the snapshot another session exported (SET TRANSACTION SNAPSHOT, as a
// replication slot's creation exports it), so that the rows are exactly the
// state the slot's stream starts after. start gets the reading
// transaction's id before the first row.
func (s *Source) ExportedSnapshot(ctx context.Context, name string, tables []*jobspec.Table, start func(txid int64) error, fn func(i int, r []row.Value) error) error {
	tx, err := s.conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return fmt.Errorf("source %s: %w", s.uri, err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "SET TRANSACTION SNAPSHOT "+quoteLiteral(name)); err != nil {
		return fmt.Errorf("source %s: importing snapshot %s: %w", s.uri, name, err)
	}
	var txid int64
	if err := tx.QueryRow(ctx, "SELECT txid_current()").Scan(&txid); err != nil {
		return fmt.Errorf("source %s: %w", s.uri, err)
	}
	if err := start(txid); err != nil {
		return err
	}
	for i, t := range tables {
		if err := s.copyTable(ctx, tx, t, func(r []row.Value) error { return fn(i, r) }); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
