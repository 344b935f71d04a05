package debezium

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/datasurface/datasurface/jobspec"
)

// colType is a job spec column type.
type colType uint8

const (
	tBool colType = iota
	tInt8
	tInt16
	tInt32
	tInt64
	tFloat32
	tFloat64
	tDecimal
	tChar
	tVarchar
	tText
	tDate
	tTime
	tTimestamp
	tTimestampTZ
	tUUID
	tBinary
	tJSON
	tStruct
	tList
	tMap
)

var colTypes = map[string]colType{
	"boolean": tBool, "int8": tInt8, "int16": tInt16, "int32": tInt32, "int64": tInt64,
	"float32": tFloat32, "float64": tFloat64, "decimal": tDecimal,
	"char": tChar, "varchar": tVarchar, "text": tText,
	"date": tDate, "time": tTime, "timestamp": tTimestamp, "timestamptz": tTimestampTZ,
	"uuid": tUUID, "binary": tBinary, "json": tJSON,
	"struct": tStruct, "list": tList, "map": tMap,
}

// Units of integer temporal values.
const (
	unitMilli = 1
	unitMicro = 2
	unitNano  = 3
)

// How decimals are written (decimal.handling.mode).
const (
	decPrecise = iota // base64 unscaled bytes; a struct for variable scale
	decString
	decDouble
)

// How bytes are written (binary.handling.mode). The JsonConverter writes
// BYTES as base64, so "bytes" reads as base64.
const (
	binBase64 = iota
	binBase64URL
	binHex
)

// colPlan says how to read one column or nested field.
type colPlan struct {
	name     string // the JSON field name
	path     string // dotted path, for errors
	typ      colType
	spec     *jobspec.Column
	nullable bool
	length   int // char/varchar; 0 means no limit

	precision int
	scale     int
	maxDigits *big.Int // 10^precision for precision checks; nil when not needed
	maxInt    int64    // 10^precision when precision <= 18; 0 otherwise

	unit int // time and timestamp
	dec  int // decimal
	bin  int // binary

	fields   []*colPlan // struct
	fieldIdx map[string]int
	elem     *colPlan // list
	listPH   uint8    // list: the element-typed form of the TOAST placeholder, phNone if none
	key, val *colPlan // map
}

// The element-typed forms in which Debezium's UnchangedToastedPlaceholder
// writes an unchanged TOAST array. Arrays of other element types (text[]
// and the like) carry the placeholder as their one element, in the
// element's own placeholder form (the string; base64 for bytes and precise
// decimals), which reads as unavailable element by element.
const (
	phNone = iota
	// integer[], bigint[] and date[]: one integer per byte of the
	// placeholder, as a Java byte (signed).
	phInts
	// uuid[]: one element, the placeholder's name-based (MD5, version 3)
	// UUID, Java's UUID.nameUUIDFromBytes.
	phUUID
)

// listPlaceholder is the placeholder form of a list whose elements are of
// type elem, when the events carry no schema to say the source's element type.
func listPlaceholder(elem colType) uint8 {
	switch elem {
	case tInt32, tInt64, tDate:
		return phInts
	case tUUID:
		return phUUID
	}
	return phNone
}

// tablePlan is the per-table decoder plan: column name -> index -> parser.
type tablePlan struct {
	cols  []*colPlan
	idx   map[string]int
	pk    []int  // column indexes of the primary key, in key order
	isKey []bool // by column index
}

// newTablePlan builds the plan for a table from its spec and the encoding
// the events were written with.
func newTablePlan(t *jobspec.Table, enc jobspec.Encoding) (*tablePlan, error) {
	p := &tablePlan{idx: make(map[string]int, len(t.Columns)), isKey: make([]bool, len(t.Columns))}
	for i := range t.Columns {
		c := &t.Columns[i]
		if _, dup := p.idx[c.Name]; dup {
			return nil, fmt.Errorf("table %s: column %s appears twice", t.Name, c.Name)
		}
		cp, err := newColPlan(c, c.Name, enc)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", t.Name, err)
		}
		p.idx[c.Name] = i
		p.cols = append(p.cols, cp)
	}
	if len(t.PrimaryKey) == 0 {
		return nil, fmt.Errorf("table %s has no primary key; change events cannot be folded by key", t.Name)
	}
	for _, k := range t.PrimaryKey {
		i, ok := p.idx[k]
		if !ok {
			return nil, fmt.Errorf("table %s: primary key column %s is not a column", t.Name, k)
		}
		switch p.cols[i].typ {
		case tStruct, tList, tMap:
			return nil, fmt.Errorf("table %s: primary key column %s is a %s", t.Name, k, t.Columns[i].Type)
		}
		p.pk = append(p.pk, i)
		p.isKey[i] = true
	}
	return p, nil
}

func newColPlan(c *jobspec.Column, path string, enc jobspec.Encoding) (*colPlan, error) {
	typ, ok := colTypes[strings.ToLower(c.Type)]
	if !ok {
		return nil, fmt.Errorf("column %s has unknown type %q", path, c.Type)
	}
	cp := &colPlan{name: c.Name, path: path, typ: typ, spec: c, nullable: c.Nullable, length: c.Length,
		precision: c.Precision, scale: c.Scale}
	switch typ {
	case tDecimal:
		if c.Precision < 0 || c.Scale < 0 || (c.Precision > 0 && c.Scale > c.Precision) {
			return nil, fmt.Errorf("column %s: decimal(%d, %d) is not a valid decimal", path, c.Precision, c.Scale)
		}
		if c.Precision > 0 {
			cp.maxDigits = new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(c.Precision)), nil)
			if c.Precision <= 18 {
				cp.maxInt = cp.maxDigits.Int64()
			}
		}
		switch strings.ToLower(enc.DecimalHandling) {
		case "", "precise":
			cp.dec = decPrecise
		case "string":
			cp.dec = decString
		case "double":
			cp.dec = decDouble
		default:
			return nil, fmt.Errorf("unknown decimal handling %q", enc.DecimalHandling)
		}
	case tTime:
		// adaptive_time_microseconds: all TIME columns are MicroTime.
		// adaptive: TIME(0..3) is Time (ms), TIME(4..6) MicroTime.
		// connect: Time in ms.
		cp.unit = unitMicro
		switch strings.ToLower(enc.TimePrecision) {
		case "", "adaptive_time_microseconds":
		case "adaptive":
			if timeInMillis(c) {
				cp.unit = unitMilli
			}
		case "connect":
			cp.unit = unitMilli
		default:
			return nil, fmt.Errorf("unknown time precision mode %q", enc.TimePrecision)
		}
	case tTimestamp:
		// adaptive modes: TIMESTAMP(1..3) is Timestamp (ms), TIMESTAMP(4..6)
		// and TIMESTAMP MicroTimestamp; connect: ms. The spec's precision,
		// when set, is the column's fractional-second precision.
		cp.unit = unitMicro
		switch strings.ToLower(enc.TimePrecision) {
		case "", "adaptive_time_microseconds", "adaptive":
			if timeInMillis(c) {
				cp.unit = unitMilli
			}
		case "connect":
			cp.unit = unitMilli
		default:
			return nil, fmt.Errorf("unknown time precision mode %q", enc.TimePrecision)
		}
	case tBinary:
		switch strings.ToLower(enc.BinaryHandling) {
		case "", "bytes", "base64":
			cp.bin = binBase64
		case "base64-url-safe":
			cp.bin = binBase64URL
		case "hex":
			cp.bin = binHex
		default:
			return nil, fmt.Errorf("unknown binary handling %q", enc.BinaryHandling)
		}
	case tStruct:
		if len(c.Fields) == 0 {
			return nil, fmt.Errorf("column %s: struct has no fields", path)
		}
		cp.fieldIdx = make(map[string]int, len(c.Fields))
		for i := range c.Fields {
			f := &c.Fields[i]
			if _, dup := cp.fieldIdx[f.Name]; dup {
				return nil, fmt.Errorf("column %s: field %s appears twice", path, f.Name)
			}
			fp, err := newColPlan(f, path+"."+f.Name, enc)
			if err != nil {
				return nil, err
			}
			cp.fieldIdx[f.Name] = i
			cp.fields = append(cp.fields, fp)
		}
	case tList:
		if c.Element == nil {
			return nil, fmt.Errorf("column %s: list has no element type", path)
		}
		ep, err := newColPlan(c.Element, path+"[]", enc)
		if err != nil {
			return nil, err
		}
		cp.elem = ep
		cp.listPH = listPlaceholder(ep.typ)
	case tMap:
		if c.Key == nil || c.Value == nil {
			return nil, fmt.Errorf("column %s: map needs key and value types", path)
		}
		kp, err := newColPlan(c.Key, path+".key", enc)
		if err != nil {
			return nil, err
		}
		switch kp.typ {
		case tStruct, tList, tMap:
			return nil, fmt.Errorf("column %s: map key type %s is not supported", path, c.Key.Type)
		}
		vp, err := newColPlan(c.Value, path+".value", enc)
		if err != nil {
			return nil, err
		}
		cp.key, cp.val = kp, vp
	}
	return cp, nil
}

// clone copies a plan so a schema can adjust it without touching the base.
func (cp *colPlan) clone() *colPlan {
	c := *cp
	if cp.fields != nil {
		c.fields = make([]*colPlan, len(cp.fields))
		for i, f := range cp.fields {
			c.fields[i] = f.clone()
		}
	}
	if cp.elem != nil {
		c.elem = cp.elem.clone()
	}
	if cp.key != nil {
		c.key, c.val = cp.key.clone(), cp.val.clone()
	}
	return &c
}

func (p *tablePlan) clone() *tablePlan {
	c := *p
	c.cols = make([]*colPlan, len(p.cols))
	for i, cp := range p.cols {
		c.cols[i] = cp.clone()
	}
	return &c
}

// timeInMillis reports whether Debezium's adaptive modes send a time or
// timestamp column in milliseconds: when its source precision is 0 to 3.
func timeInMillis(c *jobspec.Column) bool {
	return c.TimePrecision != nil && *c.TimePrecision <= 3
}
