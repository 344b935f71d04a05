package row

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// Display renders a value for people: text as it is, dates and times in
// ISO 8601 (timestamps with time zone in UTC), decimals in plain notation,
// bytes in hex, nested values as JSON; NULL as the empty string's
// alternative "NULL" (callers that must tell them apart use JSONValue).
func (v Value) Display() string {
	switch v.kind {
	case KindString, KindJSON:
		return v.s
	case KindDate:
		return time.Unix(v.n*86400, 0).UTC().Format("2006-01-02")
	case KindTime:
		return time.UnixMicro(v.n).UTC().Format("15:04:05.999999")
	case KindTimestamp:
		return time.UnixMicro(v.n).UTC().Format("2006-01-02 15:04:05.999999")
	case KindTimestampTZ:
		return time.UnixMicro(v.n).UTC().Format("2006-01-02 15:04:05.999999Z07:00")
	case KindStruct, KindList, KindMap:
		b, _ := json.Marshal(v.JSONValue())
		return string(b)
	}
	return v.String()
}

// JSONValue is the value as encoding/json renders it: numbers as numbers
// (decimals and 64-bit integers as json.Number, so nothing is rounded),
// non-finite floats, bytes (base64), dates and times as strings, structs as
// arrays of their fields, maps as arrays of [key, value] pairs.
func (v Value) JSONValue() any {
	switch v.kind {
	case KindNull, KindUnavailable:
		return nil
	case KindBool:
		return v.Bool()
	case KindInt32, KindInt64:
		return json.Number(strconv.FormatInt(v.n, 10))
	case KindFloat32, KindFloat64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
		bits := 64
		if v.kind == KindFloat32 {
			bits = 32
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, bits))
	case KindDecimal:
		return json.Number(FormatDecimal(v.Unscaled(), v.Scale()))
	case KindBinary:
		return base64.StdEncoding.EncodeToString([]byte(v.s))
	case KindJSON:
		if json.Valid([]byte(v.s)) {
			return json.RawMessage(v.s)
		}
		return v.s
	case KindStruct, KindList:
		out := make([]any, 0, len(v.x.([]Value)))
		for _, e := range v.x.([]Value) {
			out = append(out, e.JSONValue())
		}
		return out
	case KindMap:
		out := make([]any, 0, len(v.Entries()))
		for _, e := range v.Entries() {
			out = append(out, []any{e.Key.JSONValue(), e.Value.JSONValue()})
		}
		return out
	case KindUUID:
		return v.String()
	}
	return strings.TrimSpace(v.Display())
}
