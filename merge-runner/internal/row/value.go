// Package row holds typed column values as the merge-runner's sources
// produce them and its writers consume them. A Value is a small tagged union
// (no interface boxing for scalars); a row is a []Value in the job spec's
// column order.
package row

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"strconv"
)

// Kind is what a Value holds.
type Kind uint8

// Kinds of values. Each job spec column type has one kind; Null and
// Unavailable can appear in any column.
const (
	KindNull        Kind = iota // SQL NULL
	KindUnavailable             // Debezium's unchanged-TOAST placeholder: keep the stored value
	KindBool
	KindInt32 // int8, int16, int32
	KindInt64
	KindFloat32
	KindFloat64
	KindDecimal     // unscaled integer and scale
	KindString      // char, varchar, text
	KindJSON        // json text
	KindBinary      // bytes
	KindDate        // days since 1970-01-01
	KindTime        // microseconds since midnight
	KindTimestamp   // microseconds since the epoch, no time zone
	KindTimestampTZ // microseconds since the epoch, UTC
	KindUUID
	KindStruct // fields in the column's field order
	KindList
	KindMap
)

var kindNames = [...]string{
	KindNull:        "null",
	KindUnavailable: "unavailable",
	KindBool:        "boolean",
	KindInt32:       "int32",
	KindInt64:       "int64",
	KindFloat32:     "float32",
	KindFloat64:     "float64",
	KindDecimal:     "decimal",
	KindString:      "string",
	KindJSON:        "json",
	KindBinary:      "binary",
	KindDate:        "date",
	KindTime:        "time",
	KindTimestamp:   "timestamp",
	KindTimestampTZ: "timestamptz",
	KindUUID:        "uuid",
	KindStruct:      "struct",
	KindList:        "list",
	KindMap:         "map",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one typed column value. The zero Value is Null.
//
// Layout: n holds integers, booleans, float bits, temporal values, the
// unscaled decimal (fast path) and the high half of a UUID; m holds a
// decimal's scale or the low half of a UUID; s holds text and bytes; x holds
// a big unscaled decimal or nested values.
type Value struct {
	kind Kind
	n    int64
	m    int64
	s    string
	x    any
}

// MapEntry is one key/value pair of a map value.
type MapEntry struct {
	Key   Value
	Value Value
}

// Constructors.

// Null is SQL NULL.
func Null() Value { return Value{} }

// Unavailable is the marker for an unchanged TOAST value whose content the
// event does not carry.
func Unavailable() Value { return Value{kind: KindUnavailable} }

// Bool makes a boolean.
func Bool(b bool) Value {
	v := Value{kind: KindBool}
	if b {
		v.n = 1
	}
	return v
}

// Int32 makes an int32 (also int8 and int16 columns).
func Int32(i int32) Value { return Value{kind: KindInt32, n: int64(i)} }

// Int64 makes an int64.
func Int64(i int64) Value { return Value{kind: KindInt64, n: i} }

// Float32 makes a float32.
func Float32(f float32) Value {
	return Value{kind: KindFloat32, n: int64(math.Float64bits(float64(f)))}
}

// Float64 makes a float64.
func Float64(f float64) Value { return Value{kind: KindFloat64, n: int64(math.Float64bits(f))} }

// Decimal makes a decimal from an unscaled int64 and a scale.
func Decimal(unscaled int64, scale int32) Value {
	return Value{kind: KindDecimal, n: unscaled, m: int64(scale)}
}

// BigDecimal makes a decimal from an unscaled big integer and a scale. It
// uses the int64 form when the value fits, so equal decimals compare equal.
func BigDecimal(unscaled *big.Int, scale int32) Value {
	if unscaled.IsInt64() {
		return Decimal(unscaled.Int64(), scale)
	}
	return Value{kind: KindDecimal, m: int64(scale), x: unscaled}
}

// String makes a text value (char, varchar, text).
func String(s string) Value { return Value{kind: KindString, s: s} }

// JSON makes a json value from its text.
func JSON(s string) Value { return Value{kind: KindJSON, s: s} }

// Binary makes a bytes value; the string holds the raw bytes.
func Binary(b string) Value { return Value{kind: KindBinary, s: b} }

// Date makes a date from days since 1970-01-01.
func Date(days int32) Value { return Value{kind: KindDate, n: int64(days)} }

// Time makes a time of day from microseconds since midnight.
func Time(micros int64) Value { return Value{kind: KindTime, n: micros} }

// Timestamp makes a timestamp without time zone from microseconds since the epoch.
func Timestamp(micros int64) Value { return Value{kind: KindTimestamp, n: micros} }

// TimestampTZ makes a UTC timestamp from microseconds since the epoch.
func TimestampTZ(micros int64) Value { return Value{kind: KindTimestampTZ, n: micros} }

// UUID makes a uuid.
func UUID(u [16]byte) Value {
	var hi, lo uint64
	for i := 0; i < 8; i++ {
		hi = hi<<8 | uint64(u[i])
		lo = lo<<8 | uint64(u[8+i])
	}
	return Value{kind: KindUUID, n: int64(hi), m: int64(lo)}
}

// Struct makes a struct from its fields in the column's field order.
func Struct(fields []Value) Value { return Value{kind: KindStruct, x: fields} }

// List makes a list.
func List(elems []Value) Value { return Value{kind: KindList, x: elems} }

// Map makes a map.
func Map(entries []MapEntry) Value { return Value{kind: KindMap, x: entries} }

// Accessors. Each is meaningful only for the kinds it names.

// Kind is what the value holds.
func (v Value) Kind() Kind { return v.kind }

// IsNull reports SQL NULL.
func (v Value) IsNull() bool { return v.kind == KindNull }

// IsUnavailable reports the unchanged-TOAST marker.
func (v Value) IsUnavailable() bool { return v.kind == KindUnavailable }

// Bool is a boolean's value.
func (v Value) Bool() bool { return v.n != 0 }

// Int is an integer's value (int32 or int64 kinds), a date's days, or a
// time's or timestamp's microseconds.
func (v Value) Int() int64 { return v.n }

// Float is a float32's or float64's value.
func (v Value) Float() float64 { return math.Float64frombits(uint64(v.n)) }

// Text is a string's or json's text, or a binary's bytes as a string.
func (v Value) Text() string { return v.s }

// Bytes is a copy of a binary's bytes.
func (v Value) Bytes() []byte { return []byte(v.s) }

// Scale is a decimal's scale.
func (v Value) Scale() int32 { return int32(v.m) }

// DecimalInt64 is a decimal's unscaled value when it fits in an int64.
func (v Value) DecimalInt64() (int64, bool) {
	if v.x != nil {
		return 0, false
	}
	return v.n, true
}

// Unscaled is a decimal's unscaled value as a new big integer.
func (v Value) Unscaled() *big.Int {
	if b, ok := v.x.(*big.Int); ok {
		return new(big.Int).Set(b)
	}
	return big.NewInt(v.n)
}

// UUIDBytes is a uuid's 16 bytes.
func (v Value) UUIDBytes() [16]byte {
	var u [16]byte
	hi, lo := uint64(v.n), uint64(v.m)
	for i := 7; i >= 0; i-- {
		u[i] = byte(hi)
		u[8+i] = byte(lo)
		hi >>= 8
		lo >>= 8
	}
	return u
}

// Fields is a struct's fields.
func (v Value) Fields() []Value { f, _ := v.x.([]Value); return f }

// Elems is a list's elements.
func (v Value) Elems() []Value { e, _ := v.x.([]Value); return e }

// Entries is a map's entries.
func (v Value) Entries() []MapEntry { e, _ := v.x.([]MapEntry); return e }

// Equal reports whether two values are the same kind and value. Floats
// compare by bits (so NaN equals NaN); decimals compare by unscaled value
// and scale.
func Equal(a, b Value) bool {
	if a.kind != b.kind {
		return false
	}
	switch a.kind {
	case KindNull, KindUnavailable:
		return true
	case KindDecimal:
		if a.m != b.m {
			return false
		}
		ab, aBig := a.x.(*big.Int)
		bb, bBig := b.x.(*big.Int)
		switch {
		case aBig && bBig:
			return ab.Cmp(bb) == 0
		case aBig || bBig:
			return false
		}
		return a.n == b.n
	case KindString, KindJSON, KindBinary:
		return a.s == b.s
	case KindStruct, KindList:
		return equalSlices(a.x.([]Value), b.x.([]Value))
	case KindMap:
		ae, be := a.Entries(), b.Entries()
		if len(ae) != len(be) {
			return false
		}
		for i := range ae {
			if !Equal(ae[i].Key, be[i].Key) || !Equal(ae[i].Value, be[i].Value) {
				return false
			}
		}
		return true
	}
	return a.n == b.n && a.m == b.m
}

func equalSlices(a, b []Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// String renders the value for logs and test failures.
func (v Value) String() string {
	switch v.kind {
	case KindNull:
		return "NULL"
	case KindUnavailable:
		return "<unavailable>"
	case KindBool:
		return strconv.FormatBool(v.Bool())
	case KindInt32, KindInt64:
		return strconv.FormatInt(v.n, 10)
	case KindFloat32:
		return strconv.FormatFloat(v.Float(), 'g', -1, 32)
	case KindFloat64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case KindDecimal:
		return FormatDecimal(v.Unscaled(), v.Scale())
	case KindString, KindJSON:
		return strconv.Quote(v.s)
	case KindBinary:
		return "0x" + hex.EncodeToString([]byte(v.s))
	case KindDate:
		return fmt.Sprintf("date(%d)", v.n)
	case KindTime:
		return fmt.Sprintf("time(%dus)", v.n)
	case KindTimestamp:
		return fmt.Sprintf("timestamp(%dus)", v.n)
	case KindTimestampTZ:
		return fmt.Sprintf("timestamptz(%dus)", v.n)
	case KindUUID:
		u := v.UUIDBytes()
		return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
	case KindStruct, KindList:
		var b bytes.Buffer
		open, closing := "{", "}"
		if v.kind == KindList {
			open, closing = "[", "]"
		}
		b.WriteString(open)
		for i, e := range v.x.([]Value) {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(e.String())
		}
		b.WriteString(closing)
		return b.String()
	case KindMap:
		var b bytes.Buffer
		b.WriteString("map[")
		for i, e := range v.Entries() {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(e.Key.String())
			b.WriteString(": ")
			b.WriteString(e.Value.String())
		}
		b.WriteString("]")
		return b.String()
	}
	return v.kind.String()
}

// FormatDecimal renders an unscaled integer with a scale as plain decimal text.
func FormatDecimal(unscaled *big.Int, scale int32) string {
	s := unscaled.String()
	if scale <= 0 {
		if scale < 0 {
			s += string(bytes.Repeat([]byte{'0'}, int(-scale)))
		}
		return s
	}
	neg := false
	if s[0] == '-' {
		neg, s = true, s[1:]
	}
	for len(s) <= int(scale) {
		s = "0" + s
	}
	s = s[:len(s)-int(scale)] + "." + s[len(s)-int(scale):]
	if neg {
		s = "-" + s
	}
	return s
}
