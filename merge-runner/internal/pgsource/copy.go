package pgsource

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

// A snapshot streams the table with COPY (SELECT ...) TO STDOUT (FORMAT
// binary): PostgreSQL's fastest way out, one tuple after another, so that
// memory holds a row at a time whatever the table's size. Each column is
// read in the binary form of a type whose send format is decoded here, or
// cast to one in the SELECT (PostgreSQL's documentation, "COPY: Binary
// Format": a signature, flags and an extension area, then per tuple a
// 16-bit field count and per field a 32-bit length, -1 for NULL, and the
// value in its type's send format; the trailer is a field count of -1).

// copySignature starts every binary COPY stream.
const copySignature = "PGCOPY\n\377\r\n\x00"

// Source types, by the name pg_type gives them (format_type of the base type).
const (
	pgBool        = "boolean"
	pgInt2        = "smallint"
	pgInt4        = "integer"
	pgInt8        = "bigint"
	pgFloat4      = "real"
	pgFloat8      = "double precision"
	pgNumeric     = "numeric"
	pgText        = "text"
	pgVarchar     = "character varying"
	pgChar        = "character"
	pgDate        = "date"
	pgTime        = "time without time zone"
	pgTimestamp   = "timestamp without time zone"
	pgTimestampTZ = "timestamp with time zone"
	pgUUID        = "uuid"
	pgBytea       = "bytea"
	pgJSON        = "json"
	pgJSONB       = "jsonb"
)

// accepts are the source types each model type reads (the README's table).
// Integers read into any integer at least as wide as their values need:
// each value is range-checked.
var accepts = map[string][]string{
	"boolean":     {pgBool},
	"int8":        {pgInt2, pgInt4, pgInt8},
	"int16":       {pgInt2, pgInt4, pgInt8},
	"int32":       {pgInt2, pgInt4, pgInt8},
	"int64":       {pgInt2, pgInt4, pgInt8},
	"float32":     {pgFloat4},
	"float64":     {pgFloat4, pgFloat8},
	"decimal":     {pgNumeric, pgInt2, pgInt4, pgInt8},
	"char":        {pgChar, pgVarchar, pgText},
	"varchar":     {pgChar, pgVarchar, pgText},
	"text":        {pgChar, pgVarchar, pgText},
	"date":        {pgDate},
	"time":        {pgTime},
	"timestamp":   {pgTimestamp},
	"timestamptz": {pgTimestampTZ},
	"uuid":        {pgUUID},
	"binary":      {pgBytea},
	"json":        {pgJSON, pgJSONB},
}

// Accepts lists, for documentation, the source types a model type reads;
// list, struct and map read arrays, composite types and hstore (or json
// objects) through to_jsonb.
func Accepts(modelType string) []string { return accepts[modelType] }

// sourceColumn is a spec column as the source table has it.
type sourceColumn struct {
	spec *jobspec.Column
	typ  string // format_type of the column's base type; "" when absent
	dims int    // array dimensions
	// how the SELECT reads it and how its binary field is decoded
	expr   string
	decode func(c *jobspec.Column, b []byte) (row.Value, error)
}

// describe reads the source table's columns and plans how to read each
// spec column; a column the table lacks or whose type the model type does
// not accept is an error naming both.
func describe(ctx context.Context, tx pgx.Tx, t *jobspec.Table) ([]sourceColumn, string, error) {
	schema, name, ok := strings.Cut(t.SourceTable, ".")
	if !ok {
		schema, name = "public", t.SourceTable
	}
	from := pgx.Identifier{schema, name}.Sanitize()
	rows, err := tx.Query(ctx, `SELECT a.attname, format_type(COALESCE(NULLIF(bt.typbasetype, 0), a.atttypid), NULL), a.attndims,
		       COALESCE(et.typname, '')
		FROM pg_attribute a
		JOIN pg_type bt ON bt.oid = a.atttypid
		LEFT JOIN pg_type et ON et.oid = bt.typelem AND bt.typcategory = 'A'
		WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped`, from)
	if err != nil {
		return nil, "", fmt.Errorf("reading the columns of %s: %w", t.SourceTable, err)
	}
	type pgCol struct {
		typ  string
		dims int
	}
	have := map[string]pgCol{}
	for rows.Next() {
		var n, typ, elem string
		var dims int
		if err := rows.Scan(&n, &typ, &dims, &elem); err != nil {
			rows.Close()
			return nil, "", err
		}
		if elem != "" && dims == 0 {
			dims = 1 // attndims is not kept for every array column
		}
		if dims > 0 {
			typ = strings.TrimSuffix(typ, "[]")
		}
		have[n] = pgCol{typ, dims}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	if len(have) == 0 {
		return nil, "", fmt.Errorf("source table %s has no columns (or does not exist)", t.SourceTable)
	}
	out := make([]sourceColumn, len(t.Columns))
	for i := range t.Columns {
		c := &t.Columns[i]
		pc, ok := have[c.Name]
		if !ok {
			return nil, "", &ColumnError{Table: t.SourceTable, Column: c.Name, Reason: "the source table has no such column"}
		}
		sc := sourceColumn{spec: c, typ: pc.typ, dims: pc.dims}
		if err := sc.plan(t.SourceTable); err != nil {
			return nil, "", err
		}
		out[i] = sc
	}
	return out, from, nil
}

// ColumnError is a spec column the source table cannot give.
type ColumnError struct {
	Table, Column, Reason string
}

func (e *ColumnError) Error() string {
	return fmt.Sprintf("source table %s column %s: %s", e.Table, e.Column, e.Reason)
}

// plan chooses the SELECT expression and the decoder of a column.
func (sc *sourceColumn) plan(table string) error {
	c := sc.spec
	col := pgx.Identifier{c.Name}.Sanitize()
	wrong := func() error {
		want := strings.Join(accepts[c.Type], ", ")
		if want == "" {
			want = "an array, composite, hstore or json value"
		}
		typ := sc.typ
		if sc.dims > 0 {
			typ += "[]"
		}
		return &ColumnError{Table: table, Column: c.Name, Reason: fmt.Sprintf("the source column is %s; a %s column reads %s", typ, c.Type, want)}
	}
	switch c.Type {
	case "list", "struct", "map":
		if (c.Type == "list") != (sc.dims > 0) && c.Type != "map" {
			return wrong()
		}
		// Nested values arrive as to_jsonb's JSON, read as before.
		sc.expr, sc.decode = "to_jsonb("+col+")::text", jsonValue
		return nil
	}
	if sc.dims > 0 {
		return wrong()
	}
	ok := false
	for _, a := range accepts[c.Type] {
		ok = ok || a == sc.typ
	}
	if !ok {
		return wrong()
	}
	sc.expr = col
	switch c.Type {
	case "boolean":
		sc.decode = boolValue
	case "int8", "int16", "int32", "int64":
		sc.decode = intValue
	case "float32", "float64":
		sc.decode = floatValue
	case "decimal":
		sc.expr, sc.decode = col+"::text", decimalText
	case "char", "varchar", "text":
		sc.decode = textValue
	case "json":
		sc.expr, sc.decode = col+"::text", jsonText
	case "uuid":
		sc.decode = uuidValue
	case "binary":
		sc.decode = byteaValue
	case "date":
		sc.decode = dateValue
	case "time":
		sc.decode = timeValue
	case "timestamp", "timestamptz":
		sc.decode = timestampValue
	default:
		return wrong()
	}
	return nil
}

// copyReader parses a binary COPY stream from its own buffer: a field's
// bytes are decoded where they lie.
type copyReader struct {
	src  io.Reader
	buf  []byte
	r, w int // unread bytes are buf[r:w]
	cols []sourceColumn
	n    int64 // tuples read
}

const copyBufSize = 1 << 20

// ensure makes n bytes readable at buf[r:].
func (r *copyReader) ensure(n int) error {
	if r.w-r.r >= n {
		return nil
	}
	if r.buf == nil {
		r.buf = make([]byte, copyBufSize)
	}
	if n > len(r.buf) {
		nb := make([]byte, n+copyBufSize)
		r.w = copy(nb, r.buf[r.r:r.w])
		r.buf, r.r = nb, 0
	} else if r.r > 0 {
		r.w = copy(r.buf, r.buf[r.r:r.w])
		r.r = 0
	}
	for r.w-r.r < n {
		m, err := r.src.Read(r.buf[r.w:])
		r.w += m
		if err != nil && r.w-r.r < n {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

func (r *copyReader) take(n int) ([]byte, error) {
	if err := r.ensure(n); err != nil {
		return nil, err
	}
	b := r.buf[r.r : r.r+n]
	r.r += n
	return b, nil
}

func (r *copyReader) header() error {
	h, err := r.take(len(copySignature) + 8)
	if err != nil {
		return fmt.Errorf("COPY header: %w", err)
	}
	if string(h[:len(copySignature)]) != copySignature {
		return errors.New("COPY stream has no binary signature")
	}
	ext := binary.BigEndian.Uint32(h[len(copySignature)+4:])
	_, err = r.take(int(ext))
	return err
}

// next reads one tuple into vals; io.EOF after the trailer.
func (r *copyReader) next(vals []row.Value) error {
	fc, err := r.take(2)
	if err != nil {
		return fmt.Errorf("COPY stream ended without its trailer: %w", err)
	}
	n := int16(binary.BigEndian.Uint16(fc))
	if n == -1 {
		return io.EOF
	}
	if int(n) != len(r.cols) {
		return fmt.Errorf("COPY tuple has %d fields, %d were selected", n, len(r.cols))
	}
	r.n++
	for i := range r.cols {
		l, err := r.take(4)
		if err != nil {
			return err
		}
		size := int32(binary.BigEndian.Uint32(l))
		c := &r.cols[i]
		if size < 0 {
			if !c.spec.Nullable {
				return &valueError{col: c.spec.Name, err: errors.New("null in a column that is not nullable")}
			}
			vals[i] = row.Null()
			continue
		}
		b, err := r.take(int(size))
		if err != nil {
			return err
		}
		v, err := c.decode(c.spec, b)
		if err != nil {
			return &valueError{col: c.spec.Name, err: err}
		}
		vals[i] = v
	}
	return nil
}

// valueError is a value that does not fit its column.
type valueError struct {
	col string
	err error
}

func (e *valueError) Error() string { return "column " + e.col + ": " + e.err.Error() }
func (e *valueError) Unwrap() error { return e.err }

func need(b []byte, n int, typ string) error {
	if len(b) != n {
		return fmt.Errorf("a %s value of %d bytes", typ, len(b))
	}
	return nil
}

func boolValue(_ *jobspec.Column, b []byte) (row.Value, error) {
	if err := need(b, 1, "boolean"); err != nil {
		return row.Value{}, err
	}
	return row.Bool(b[0] != 0), nil
}

// intValue reads int2, int4 or int8 (by length) into the column's width.
func intValue(c *jobspec.Column, b []byte) (row.Value, error) {
	var n int64
	switch len(b) {
	case 2:
		n = int64(int16(binary.BigEndian.Uint16(b)))
	case 4:
		n = int64(int32(binary.BigEndian.Uint32(b)))
	case 8:
		n = int64(binary.BigEndian.Uint64(b))
	default:
		return row.Value{}, fmt.Errorf("an integer of %d bytes", len(b))
	}
	return intOf(c, n)
}

// intOf range-checks an integer for its column, as the to_jsonb path does.
func intOf(c *jobspec.Column, n int64) (row.Value, error) {
	var lim int64
	switch c.Type {
	case "int64":
		return row.Int64(n), nil
	case "int8":
		lim = math.MaxInt8
	case "int16":
		lim = math.MaxInt16
	default:
		lim = math.MaxInt32
	}
	if n < -lim-1 || n > lim {
		return row.Value{}, fmt.Errorf("%d does not fit %s", n, c.Type)
	}
	return row.Int32(int32(n)), nil
}

func floatValue(c *jobspec.Column, b []byte) (row.Value, error) {
	var f float64
	switch len(b) {
	case 4:
		f = float64(math.Float32frombits(binary.BigEndian.Uint32(b)))
	case 8:
		f = math.Float64frombits(binary.BigEndian.Uint64(b))
	default:
		return row.Value{}, fmt.Errorf("a float of %d bytes", len(b))
	}
	if c.Type == "float32" {
		return row.Float32(float32(f)), nil
	}
	return row.Float64(f), nil
}

func decimalText(c *jobspec.Column, b []byte) (row.Value, error) {
	if v, ok := quickDecimal(c, b); ok {
		return v, nil
	}
	s := string(b)
	if s == "NaN" || strings.HasSuffix(s, "Infinity") {
		return row.Value{}, fmt.Errorf("%s does not fit decimal", s)
	}
	return decimal(s, c)
}

// quickDecimal reads numeric's text ([-]digits[.digits]) of at most 18
// significant digits at the column's scale without big integers; anything
// else (more digits, more decimal places than the scale, an exponent)
// takes decimal's exact path and its errors.
func quickDecimal(c *jobspec.Column, b []byte) (row.Value, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	var n int64
	digits, frac, seenDot := 0, 0, false
	for _, ch := range b {
		switch {
		case ch == '.' && !seenDot:
			seenDot = true
		case ch >= '0' && ch <= '9':
			if n == 0 && ch == '0' && !seenDot {
				continue // leading zeros
			}
			if seenDot {
				frac++
			}
			if n != 0 || ch != '0' {
				digits++
			}
			n = n*10 + int64(ch-'0')
			if digits > 18 {
				return row.Value{}, false
			}
		default:
			return row.Value{}, false
		}
	}
	if len(b) == 0 || frac > c.Scale {
		return row.Value{}, false
	}
	for ; frac < c.Scale; frac++ {
		if n > math.MaxInt64/10 {
			return row.Value{}, false
		}
		n *= 10
		if n != 0 {
			digits++
		}
	}
	if c.Precision > 0 && countDigits(n) > c.Precision {
		return row.Value{}, false
	}
	if neg {
		n = -n
	}
	return row.Decimal(n, int32(c.Scale)), true
}

func countDigits(n int64) int {
	d := 0
	for n != 0 {
		n /= 10
		d++
	}
	return d
}

func textValue(c *jobspec.Column, b []byte) (row.Value, error) {
	if c.Length > 0 && c.Type != "text" {
		if n := runeCount(b); n > c.Length {
			return row.Value{}, fmt.Errorf("a string of %d characters does not fit %s(%d)", n, c.Type, c.Length)
		}
	}
	return row.String(string(b)), nil
}

func runeCount(b []byte) int {
	n := 0
	for _, c := range b {
		if c&0xC0 != 0x80 {
			n++
		}
	}
	return n
}

func jsonText(_ *jobspec.Column, b []byte) (row.Value, error) { return row.JSON(string(b)), nil }

func jsonValue(c *jobspec.Column, b []byte) (row.Value, error) {
	return value(c, json.RawMessage(bytes.Clone(b)))
}

func uuidValue(_ *jobspec.Column, b []byte) (row.Value, error) {
	if err := need(b, 16, "uuid"); err != nil {
		return row.Value{}, err
	}
	var u [16]byte
	copy(u[:], b)
	return row.UUID(u), nil
}

func byteaValue(_ *jobspec.Column, b []byte) (row.Value, error) { return row.Binary(string(b)), nil }

// PostgreSQL's epoch for dates and timestamps is 2000-01-01.
const (
	pgEpochDays   = 10957
	pgEpochMicros = pgEpochDays * 86_400_000_000
)

func dateValue(_ *jobspec.Column, b []byte) (row.Value, error) {
	if err := need(b, 4, "date"); err != nil {
		return row.Value{}, err
	}
	d := int32(binary.BigEndian.Uint32(b))
	if d == math.MaxInt32 || d == math.MinInt32 {
		return row.Value{}, errors.New("infinity is not a date")
	}
	return row.Date(d + pgEpochDays), nil
}

func timeValue(_ *jobspec.Column, b []byte) (row.Value, error) {
	if err := need(b, 8, "time"); err != nil {
		return row.Value{}, err
	}
	return row.Time(int64(binary.BigEndian.Uint64(b))), nil
}

func timestampValue(c *jobspec.Column, b []byte) (row.Value, error) {
	if err := need(b, 8, c.Type); err != nil {
		return row.Value{}, err
	}
	us := int64(binary.BigEndian.Uint64(b))
	if us == math.MaxInt64 || us == math.MinInt64 {
		return row.Value{}, errors.New("infinity is not a " + c.Type)
	}
	if c.Type == "timestamptz" {
		return row.TimestampTZ(us + pgEpochMicros), nil
	}
	return row.Timestamp(us + pgEpochMicros), nil
}

// orderExpr is how a key column is ordered so that PostgreSQL's order is
// row.CompareKeys': text bytewise (the C collation compares bytes), a
// char(n) key padded as it is stored (bpchar comparison ignores trailing
// spaces, the bytes do not).
func (sc *sourceColumn) orderExpr() string {
	col := pgx.Identifier{sc.spec.Name}.Sanitize()
	switch sc.typ {
	case pgText, pgVarchar:
		return col + ` COLLATE "C"`
	case pgChar:
		n := sc.spec.Length
		if n <= 0 {
			n = 1
		}
		return fmt.Sprintf("convert_to(rpad(%s::text, %d), 'UTF8')", col, n)
	}
	return col
}

// Snapshot streams every row of each table, in primary-key order, from one
// consistent snapshot of the source (one repeatable-read, read-only
// transaction for all of them, so a store's tables agree). fn gets the
// table's index and its row (reused: copy what you keep). Rows come by
// binary COPY, one at a time.
func (s *Source) Snapshot(ctx context.Context, tables []*jobspec.Table, fn func(i int, r []row.Value) error) error {
	tx, err := s.conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("source %s: %w", s.uri, err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	for i, t := range tables {
		if err := s.copyTable(ctx, tx, t, func(r []row.Value) error { return fn(i, r) }); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

func (s *Source) copyTable(ctx context.Context, tx pgx.Tx, t *jobspec.Table, fn func([]row.Value) error) error {
	cols, from, err := describe(ctx, tx, t)
	if err != nil {
		return err
	}
	exprs := make([]string, len(cols))
	byName := map[string]*sourceColumn{}
	for i := range cols {
		exprs[i] = cols[i].expr
		byName[cols[i].spec.Name] = &cols[i]
	}
	order := make([]string, len(t.PrimaryKey))
	for i, k := range t.PrimaryKey {
		sc := byName[k]
		if sc == nil {
			return &ColumnError{Table: t.SourceTable, Column: k, Reason: "the primary key column is not among the spec's columns"}
		}
		order[i] = sc.orderExpr()
	}
	q := "COPY (SELECT " + strings.Join(exprs, ", ") + " FROM " + from
	if len(order) > 0 {
		q += " ORDER BY " + strings.Join(order, ", ")
	}
	q += ") TO STDOUT (FORMAT binary)"

	pr, pw := io.Pipe()
	copyDone := make(chan error, 1)
	go func() {
		// PostgreSQL sends a CopyData message per row: batch them into
		// large writes, or every row is a hand-over between goroutines.
		bw := bufio.NewWriterSize(pw, 1<<18)
		_, err := tx.Conn().PgConn().CopyTo(ctx, bw, q)
		if err == nil {
			err = bw.Flush()
		}
		_ = pw.CloseWithError(err)
		copyDone <- err
	}()
	rd := &copyReader{src: pr, cols: cols}
	readErr := func() error {
		if err := rd.header(); err != nil {
			return err
		}
		vals := make([]row.Value, len(cols))
		for {
			err := rd.next(vals)
			if err == io.EOF {
				return nil
			}
			var ve *valueError
			if errors.As(err, &ve) {
				return &RowError{Table: t.SourceTable, Row: int(rd.n), Err: err}
			}
			if err != nil {
				return err
			}
			if err := fn(vals); err != nil {
				return err
			}
		}
	}()
	// Stop the COPY if reading ended early, then wait for it.
	_ = pr.CloseWithError(errCopyStopped)
	cerr := <-copyDone
	switch {
	case readErr != nil:
		return readErr
	case cerr != nil:
		return fmt.Errorf("source %s: reading %s: %w", s.uri, t.SourceTable, cerr)
	}
	return nil
}

var errCopyStopped = errors.New("the reader stopped")
