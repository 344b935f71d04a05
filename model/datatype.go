package model

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/datasurface/datasurface/model/internal/decode"
	"github.com/datasurface/datasurface/model/internal/yamlnode"
)

// Base is a data type without its parameters.
type Base uint8

// The base types. Each maps to one Iceberg type.
const (
	TypeInvalid Base = iota
	TypeBoolean
	TypeInt8
	TypeInt16
	TypeInt32
	TypeInt64
	TypeFloat32
	TypeFloat64
	TypeDecimal // decimal(p,s)
	TypeChar    // char(n)
	TypeVarchar // varchar(n)
	TypeText
	TypeDate
	TypeTime
	TypeTimestamp
	TypeTimestampTZ
	TypeUUID
	TypeBinary
	TypeJSON
	TypeStruct
	TypeList
	TypeMap
)

var baseNames = [...]string{
	TypeInvalid: "invalid", TypeBoolean: "boolean", TypeInt8: "int8", TypeInt16: "int16", TypeInt32: "int32",
	TypeInt64: "int64", TypeFloat32: "float32", TypeFloat64: "float64", TypeDecimal: "decimal",
	TypeChar: "char", TypeVarchar: "varchar", TypeText: "text", TypeDate: "date", TypeTime: "time",
	TypeTimestamp: "timestamp", TypeTimestampTZ: "timestamptz", TypeUUID: "uuid", TypeBinary: "binary",
	TypeJSON: "json", TypeStruct: "struct", TypeList: "list", TypeMap: "map",
}

var baseByName = func() map[string]Base {
	m := make(map[string]Base, len(baseNames))
	for i, n := range baseNames {
		if i > 0 {
			m[n] = Base(i)
		}
	}
	return m
}()

func (b Base) String() string { return baseNames[b] }

// Params is how many parameters the base type takes.
func (b Base) Params() int {
	switch b {
	case TypeDecimal:
		return 2
	case TypeChar, TypeVarchar:
		return 1
	}
	return 0
}

// Nested reports whether the type is struct, list or map.
func (b Base) Nested() bool { return b == TypeStruct || b == TypeList || b == TypeMap }

// Temporal reports whether the type takes an optional fractional-second
// precision: time(p), timestamp(p), timestamptz(p).
func (b Base) Temporal() bool { return b == TypeTime || b == TypeTimestamp || b == TypeTimestampTZ }

// DataType is a column type with its parameters: for decimal P is the
// precision and S the scale, for char and varchar P is the length, for time
// and timestamps P is the fractional-second precision when HasP (the source
// column's, which tells how Debezium encodes it; 6 when not given).
type DataType struct {
	Base Base
	HasP bool
	P, S int32
}

func (t DataType) String() string {
	switch {
	case t.Base.Params() == 2:
		return fmt.Sprintf("%s(%d,%d)", t.Base, t.P, t.S)
	case t.Base.Params() == 1, t.Base.Temporal() && t.HasP:
		return fmt.Sprintf("%s(%d)", t.Base, t.P)
	}
	return t.Base.String()
}

// TimePrecision is the fractional-second precision of a time or timestamp
// type: as given, else 6 (microseconds, PostgreSQL's default).
func (t DataType) TimePrecision() int32 {
	if t.HasP {
		return t.P
	}
	return 6
}

// ParseDataType reads a type such as int64, varchar(20) or decimal(10, 2).
func ParseDataType(s string) (DataType, error) {
	name, args, hasArgs := strings.Cut(strings.TrimSpace(s), "(")
	name = strings.TrimSpace(name)
	b, ok := baseByName[name]
	if !ok {
		return DataType{}, fmt.Errorf("unknown type %q; use one of %s", s, strings.Join(baseNames[1:], ", "))
	}
	t := DataType{Base: b}
	if !hasArgs {
		if b.Params() > 0 {
			return DataType{}, fmt.Errorf("type %s needs parameters: %s", name, paramsHint(b))
		}
		return t, nil
	}
	args, closed := strings.CutSuffix(strings.TrimSpace(args), ")")
	if !closed {
		return DataType{}, fmt.Errorf("type %q is missing its closing parenthesis", s)
	}
	if b.Temporal() {
		n, err := strconv.ParseInt(strings.TrimSpace(args), 10, 32)
		if err != nil {
			return DataType{}, fmt.Errorf("type %s takes an optional precision, %s(p), found %q", name, name, s)
		}
		t.HasP, t.P = true, int32(n)
		return t, nil
	}
	if b.Params() == 0 {
		return DataType{}, fmt.Errorf("type %s takes no parameters", name)
	}
	// At most two numbers: parsed in place, without allocating (this runs
	// for every column of every model).
	first, second, two := strings.Cut(args, ",")
	if two != (b.Params() == 2) || strings.Contains(second, ",") {
		return DataType{}, fmt.Errorf("type %s takes %s, found %q", name, paramsHint(b), s)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(first), 10, 32)
	if err != nil {
		return DataType{}, fmt.Errorf("type %s takes %s, found %q", name, paramsHint(b), s)
	}
	t.P = int32(n)
	if two {
		n, err := strconv.ParseInt(strings.TrimSpace(second), 10, 32)
		if err != nil {
			return DataType{}, fmt.Errorf("type %s takes %s, found %q", name, paramsHint(b), s)
		}
		t.S = int32(n)
	}
	return t, nil
}

func paramsHint(b Base) string {
	if b == TypeDecimal {
		return "precision and scale, decimal(p,s)"
	}
	return "a length, " + b.String() + "(n)"
}

// UnmarshalNode reads a type string.
func (t *DataType) UnmarshalNode(_ *decode.Decoder, n *yamlnode.Node) error {
	if n.Kind != yamlnode.ScalarNode || n.IsNull() {
		return fmt.Errorf("expected a type such as int64 or varchar(20)")
	}
	parsed, err := ParseDataType(n.Value)
	if err != nil {
		return err
	}
	*t = parsed
	return nil
}

// IcebergType names the Iceberg primitive type the base maps to
// (nested types are built from their parts).
func (t DataType) IcebergType() string {
	switch t.Base {
	case TypeBoolean:
		return "boolean"
	case TypeInt8, TypeInt16, TypeInt32:
		return "int"
	case TypeInt64:
		return "long"
	case TypeFloat32:
		return "float"
	case TypeFloat64:
		return "double"
	case TypeDecimal:
		return fmt.Sprintf("decimal(%d, %d)", t.P, t.S)
	case TypeChar, TypeVarchar, TypeText, TypeJSON:
		return "string"
	case TypeDate:
		return "date"
	case TypeTime:
		return "time"
	case TypeTimestamp:
		return "timestamp"
	case TypeTimestampTZ:
		return "timestamptz"
	case TypeUUID:
		return "uuid"
	case TypeBinary:
		return "binary"
	}
	return t.Base.String()
}

// Orderable reports whether values of the type have a meaningful order, as a
// watermark column needs.
func (t DataType) Orderable() bool {
	switch t.Base {
	case TypeInt8, TypeInt16, TypeInt32, TypeInt64, TypeFloat32, TypeFloat64, TypeDecimal,
		TypeDate, TypeTime, TypeTimestamp, TypeTimestampTZ, TypeChar, TypeVarchar, TypeText:
		return true
	}
	return false
}
