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

// How bytes are written (binary.handling.mode). "bytes" declares the Connect
// BYTES type, which JsonConverter#convertToJson writes as a binary node:
// base64 (Jackson's default Base64Variants.MIME_NO_LINEFEEDS, the standard
// alphabet with padding). The other modes declare a string that
// JdbcValueConverters#convertBinaryToBase64, #convertBinaryToBase64UrlSafe
// (java.util.Base64's encoders, padded) and #convertBinaryToHex (lowercase
// io.debezium.util.HexConverter) fill. bytes and base64 read alike; they
// differ in their unchanged-TOAST placeholder (see placeholderForm).
const (
	binBytes = iota
	binBase64
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

	unit        int  // time and timestamp
	connectDate bool // date: org.apache.kafka.connect.data.Date (time.precision.mode connect)
	floatBits   int  // float32 and float64: the precision the values were written with
	dec         int  // decimal
	bin         int  // binary

	fields   []*colPlan // struct
	fieldIdx map[string]int
	elem     *colPlan // list
	key, val *colPlan // map

	// ph is the form in which the connector writes an unchanged TOAST
	// value of the column (phNone for nested values, which are never
	// TOASTed on their own).
	ph uint8
}

// The forms in which the PostgreSQL connector writes an unchanged TOAST
// value, UnchangedToastedReplicationMessageColumn's markers turned into
// values by UnchangedToastedPlaceholder and PostgresValueConverter. p is
// unavailable.value.placeholder, default DefaultPlaceholder.
const (
	phNone = iota
	// The string p: PostgresValueConverter#convertString (text, varchar,
	// char, json, jsonb), #convertBinaryToHex (bytea in hex mode), and
	// #convertDecimal in string mode, where JdbcValueConverters#toBigDecimal
	// hands back #handleUnknownData's string, which the string schema
	// accepts.
	phText
	// p's bytes as the JsonConverter writes BYTES, base64:
	// PostgresValueConverter#convertBinaryToBytes (bytea in bytes mode).
	phBase64
	// A list of one element in the element's placeholder form:
	// Arrays.asList(p) for text[], varchar[], json[] and jsonb[]
	// (UNCHANGED_TEXT_ARRAY_TOAST_VALUE), Arrays.asList(p's bytes) for
	// bytea[] in bytes mode (UNCHANGED_BINARY_ARRAY_TOAST_VALUE; in the
	// other modes the byte[] element fails the string items schema and the
	// column is written as null).
	phOneElement
	// integer[], bigint[] and date[] (adaptive modes; connect's Date items
	// refuse integers): one integer per byte of p, as a Java byte (signed)
	// (UNCHANGED_INT_ARRAY_TOAST_VALUE, UNCHANGED_BIGINT_ARRAY_TOAST_VALUE).
	phInts
	// uuid[]: one element, p's name-based (MD5, version 3) UUID, Java's
	// UUID.nameUUIDFromBytes (UNCHANGED_UUID_TOAST_VALUE).
	phUUID
	// hstore (hstore.handling.mode map): the map {p: p}
	// (UNCHANGED_HSTORE_TOAST_VALUE).
	phHstore
)

// placeholderForm is the unchanged-TOAST form of a column; items is the
// envelope's schema of a list's elements, nil when the events carry none.
//
// Other types have none: fixed-width types (booleans, numbers, dates and
// times, uuid) are never stored out of line, and for numeric in precise or
// double mode, other arrays and bytea in the base64 modes the connector's
// placeholder value fails the column's schema (Struct#put's validation), so
// the value is written as null (event.converting.failure.handling.mode warn,
// the default), indistinguishable from a real null.
func placeholderForm(cp *colPlan, items *connectSchema) uint8 {
	switch cp.typ {
	case tChar, tVarchar, tText, tJSON:
		return phText
	case tDecimal:
		if cp.dec == decString {
			return phText
		}
	case tBinary:
		switch cp.bin {
		case binBytes:
			return phBase64
		case binHex:
			return phText
		}
	case tMap:
		if isHstoreText(cp.key) && isHstoreText(cp.val) {
			return phHstore
		}
	case tList:
		e := cp.elem
		if items != nil {
			// The source's element type decides: a smallint[] read into an
			// int32 list, say, has no placeholder form.
			switch {
			case items.Type == "int32" && (items.Name == "" || items.Name == nameDate),
				items.Type == "int64" && items.Name == "":
				return phInts
			case items.Type == "string" && items.Name == nameUUID:
				return phUUID
			case items.Type == "string" && (items.Name == "" || items.Name == nameJSON) && (e.typ == tVarchar || e.typ == tText || e.typ == tJSON),
				items.Type == "bytes" && e.typ == tBinary:
				return phOneElement
			}
			return phNone
		}
		switch e.typ {
		case tInt32, tInt64:
			return phInts
		case tDate:
			if !e.connectDate {
				return phInts
			}
		case tUUID:
			return phUUID
		case tVarchar, tText, tJSON: // not char: bpchar[] has no placeholder form
			return phOneElement
		case tBinary:
			if e.bin == binBytes {
				return phOneElement
			}
		}
	}
	return phNone
}

// isHstoreText reports whether a map key or value column can be an hstore's
// text.
func isHstoreText(cp *colPlan) bool { return cp.typ == tVarchar || cp.typ == tText }

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
		cp.ph = placeholderForm(cp, nil)
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
	case tFloat32:
		cp.floatBits = 32
	case tFloat64:
		cp.floatBits = 64
	case tDate:
		switch strings.ToLower(enc.TimePrecision) {
		case "", "adaptive_time_microseconds", "adaptive":
		case "connect":
			cp.connectDate = true
		default:
			return nil, fmt.Errorf("unknown time precision mode %q", enc.TimePrecision)
		}
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
		// JdbcValueConverters#schemaBuilder for Types.TIME:
		// adaptive_time_microseconds: all TIME columns are MicroTime.
		// adaptive (time.precision.mode's default,
		// RelationalDatabaseConnectorConfig.TIME_PRECISION_MODE): TIME(0..3)
		// is Time (ms), TIME(4..6) MicroTime. connect: Kafka's Time in ms.
		cp.unit = unitMicro
		switch strings.ToLower(enc.TimePrecision) {
		case "adaptive_time_microseconds":
		case "", "adaptive":
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
		case "", "bytes": // Debezium's default
			cp.bin = binBytes
		case "base64":
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
		if ep.typ == tTime {
			// PostgresValueConverter#schemaBuilder declares time[] items
			// MicroTime in every mode; values in other units fail it.
			ep.unit = unitMicro
		}
		cp.elem = ep
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
