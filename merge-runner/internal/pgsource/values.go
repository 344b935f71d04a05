// Package pgsource reads a PostgreSQL table for the snapshot and watermark
// captures: every row (a snapshot) or the rows whose watermark column grew
// past a position (a watermark), as typed rows for a job spec table.
//
// Rows are read as to_jsonb(t), one JSON object per row, so that every
// PostgreSQL type arrives in one documented text form: numbers as JSON
// numbers (numeric exactly, as written), dates and times as ISO strings,
// bytea as "\x..." hex, arrays as JSON arrays, composite types, hstore and
// json(b) as objects.
package pgsource

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

// parseRow decodes one to_jsonb object into a row in the table's column
// order. A column the object lacks is an error (the spec names a column
// the source table does not have).
func parseRow(cols []jobspec.Column, obj []byte) ([]row.Value, error) {
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(obj))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	out := make([]row.Value, len(cols))
	for i := range cols {
		c := &cols[i]
		raw, ok := m[c.Name]
		if !ok {
			return nil, fmt.Errorf("column %s: the source table has no such column", c.Name)
		}
		v, err := value(c, raw)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
		out[i] = v
	}
	return out, nil
}

func value(c *jobspec.Column, raw json.RawMessage) (row.Value, error) {
	if string(raw) == "null" {
		if !c.Nullable {
			return row.Value{}, fmt.Errorf("null in a column that is not nullable")
		}
		return row.Null(), nil
	}
	str := func() (string, error) {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	switch c.Type {
	case "boolean":
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return row.Value{}, err
		}
		return row.Bool(b), nil
	case "int8", "int16", "int32", "int64":
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return row.Value{}, fmt.Errorf("%s is not an integer", raw)
		}
		if c.Type != "int64" {
			if n < math.MinInt32 || n > math.MaxInt32 {
				return row.Value{}, fmt.Errorf("%d does not fit %s", n, c.Type)
			}
			return row.Int32(int32(n)), nil
		}
		return row.Int64(n), nil
	case "float32", "float64":
		text := string(raw)
		if s, err := str(); err == nil { // "NaN", "Infinity", "-Infinity"
			text = s
		}
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return row.Value{}, fmt.Errorf("%s is not a number", raw)
		}
		if c.Type == "float32" {
			return row.Float32(float32(f)), nil
		}
		return row.Float64(f), nil
	case "decimal":
		return decimal(string(raw), c)
	case "char", "varchar", "text":
		s, err := str()
		if err != nil {
			return row.Value{}, fmt.Errorf("%s is not a string", raw)
		}
		return row.String(s), nil
	case "json":
		// json and jsonb arrive as the value itself; keep its text.
		return row.JSON(string(raw)), nil
	case "uuid":
		s, err := str()
		if err != nil {
			return row.Value{}, err
		}
		u, err := uuid.Parse(s)
		if err != nil {
			return row.Value{}, fmt.Errorf("%q is not a uuid", s)
		}
		return row.UUID(u), nil
	case "binary":
		s, err := str()
		if err != nil || !strings.HasPrefix(s, `\x`) {
			return row.Value{}, fmt.Errorf("%s is not bytea hex", raw)
		}
		b, err := hex.DecodeString(s[2:])
		if err != nil {
			return row.Value{}, fmt.Errorf("%s is not bytea hex", raw)
		}
		return row.Binary(string(b)), nil
	case "date", "time", "timestamp", "timestamptz":
		s, err := str()
		if err != nil {
			return row.Value{}, fmt.Errorf("%s is not a %s", raw, c.Type)
		}
		return temporal(c.Type, s)
	case "list":
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return row.Value{}, fmt.Errorf("%s is not an array", raw)
		}
		out := make([]row.Value, len(elems))
		for i, e := range elems {
			v, err := value(c.Element, e)
			if err != nil {
				return row.Value{}, fmt.Errorf("element %d: %w", i, err)
			}
			out[i] = v
		}
		return row.List(out), nil
	case "map":
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return row.Value{}, fmt.Errorf("%s is not an object", raw)
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make([]row.MapEntry, 0, len(m))
		for _, k := range keys {
			kv, err := value(c.Key, json.RawMessage(strconv.Quote(k)))
			if err != nil {
				return row.Value{}, fmt.Errorf("key %q: %w", k, err)
			}
			vv, err := value(c.Value, m[k])
			if err != nil {
				return row.Value{}, fmt.Errorf("value of %q: %w", k, err)
			}
			out = append(out, row.MapEntry{Key: kv, Value: vv})
		}
		return row.Map(out), nil
	case "struct":
		fs, err := parseRow(c.Fields, raw)
		if err != nil {
			return row.Value{}, err
		}
		return row.Struct(fs), nil
	}
	return row.Value{}, fmt.Errorf("type %s cannot be read from PostgreSQL", c.Type)
}

// decimal reads a JSON number exactly at the column's scale.
func decimal(text string, c *jobspec.Column) (row.Value, error) {
	neg := strings.HasPrefix(text, "-")
	digits := strings.TrimPrefix(text, "-")
	if strings.ContainsAny(digits, "eE") {
		return row.Value{}, fmt.Errorf("%s: an exponent in a numeric", text)
	}
	intPart, frac, _ := strings.Cut(digits, ".")
	frac = strings.TrimRight(frac, "0")
	if len(frac) > c.Scale {
		return row.Value{}, fmt.Errorf("%s has more than %d decimal places", text, c.Scale)
	}
	frac += strings.Repeat("0", c.Scale-len(frac))
	u, ok := new(big.Int).SetString(intPart+frac, 10)
	if !ok {
		return row.Value{}, fmt.Errorf("%s is not a number", text)
	}
	if c.Precision > 0 && len(strings.TrimLeft(u.String(), "0")) > c.Precision {
		return row.Value{}, fmt.Errorf("%s does not fit decimal(%d,%d)", text, c.Precision, c.Scale)
	}
	if neg {
		u.Neg(u)
	}
	return row.BigDecimal(u, int32(c.Scale)), nil
}

// temporal reads to_jsonb's ISO forms; timestamptz carries the session's
// offset, which the reader sets to UTC.
func temporal(typ, s string) (row.Value, error) {
	switch typ {
	case "date":
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return row.Value{}, fmt.Errorf("%q is not a date (years before 1 or after 9999 are not read)", s)
		}
		return row.Date(int32(t.Unix() / 86400)), nil
	case "time":
		t, err := time.Parse("15:04:05.999999", s)
		if err != nil {
			return row.Value{}, fmt.Errorf("%q is not a time", s)
		}
		return row.Time(int64(t.Hour())*3_600_000_000 + int64(t.Minute())*60_000_000 + int64(t.Second())*1_000_000 + int64(t.Nanosecond()/1000)), nil
	case "timestamp":
		t, err := time.Parse("2006-01-02T15:04:05.999999", s)
		if err != nil {
			return row.Value{}, fmt.Errorf("%q is not a timestamp", s)
		}
		return row.Timestamp(t.UnixMicro()), nil
	}
	t, err := time.Parse("2006-01-02T15:04:05.999999Z07:00", s)
	if err != nil {
		return row.Value{}, fmt.Errorf("%q is not a timestamp with time zone", s)
	}
	return row.TimestampTZ(t.UnixMicro()), nil
}

func sortStrings(s []string) { sort.Strings(s) }
