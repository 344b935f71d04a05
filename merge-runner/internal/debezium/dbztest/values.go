package dbztest

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
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

// kinds is the row kind of each column type.
var kinds = [...]row.Kind{
	tBool: row.KindBool, tInt8: row.KindInt32, tInt16: row.KindInt32, tInt32: row.KindInt32, tInt64: row.KindInt64,
	tFloat32: row.KindFloat32, tFloat64: row.KindFloat64, tDecimal: row.KindDecimal,
	tChar: row.KindString, tVarchar: row.KindString, tText: row.KindString,
	tDate: row.KindDate, tTime: row.KindTime, tTimestamp: row.KindTimestamp, tTimestampTZ: row.KindTimestampTZ,
	tUUID: row.KindUUID, tBinary: row.KindBinary, tJSON: row.KindJSON,
	tStruct: row.KindStruct, tList: row.KindList, tMap: row.KindMap,
}

// Encoding modes.
const (
	decPrecise = iota
	decString
	decDouble
)

const (
	binBase64 = iota // binary.handling.mode=base64
	binBytes         // bytes: the Connect bytes type, base64 in JSON
	binURL           // base64-url-safe
	binHex
)

const (
	timeAdaptiveMicros = iota // adaptive_time_microseconds
	timeAdaptive
	timeConnect
)

type modes struct{ dec, time, bin int }

func parseModes(enc jobspec.Encoding) (modes, error) {
	var m modes
	switch strings.ToLower(enc.DecimalHandling) {
	case "", "precise":
		m.dec = decPrecise
	case "string":
		m.dec = decString
	case "double":
		m.dec = decDouble
	default:
		return m, fmt.Errorf("dbztest: unknown decimal handling %q", enc.DecimalHandling)
	}
	switch strings.ToLower(enc.TimePrecision) {
	case "", "adaptive_time_microseconds":
		m.time = timeAdaptiveMicros
	case "adaptive":
		m.time = timeAdaptive
	case "connect":
		m.time = timeConnect
	default:
		return m, fmt.Errorf("dbztest: unknown time precision mode %q", enc.TimePrecision)
	}
	switch strings.ToLower(enc.BinaryHandling) {
	case "", "base64":
		m.bin = binBase64
	case "bytes":
		m.bin = binBytes
	case "base64-url-safe":
		m.bin = binURL
	case "hex":
		m.bin = binHex
	default:
		return m, fmt.Errorf("dbztest: unknown binary handling %q", enc.BinaryHandling)
	}
	return m, nil
}

// col says how to write one column or nested field.
type col struct {
	name, path string
	typ        colType
	spec       *jobspec.Column
	nullable   bool

	dec      int   // decimal handling
	variable bool  // precise decimal without precision: VariableScaleDecimal
	scale    int32 // decimal
	milli    bool  // time and timestamp in milliseconds
	connect  bool  // Kafka Connect temporal names (time.precision.mode=connect)
	bin      int
	width    int // timestamptz fraction digits; 0 writes the fewest

	fields        []*col
	elem          *col
	key, val      *col
	objMap        bool // a map with string keys: a JSON object
	itemsOptional bool // list items' optional flag in the schema
}

func newCol(c *jobspec.Column, path string, m modes, meta Meta) (*col, error) {
	typ, ok := colTypes[strings.ToLower(c.Type)]
	if !ok {
		return nil, fmt.Errorf("column %s has unknown type %q", path, c.Type)
	}
	cp := &col{name: c.Name, path: path, typ: typ, spec: c, nullable: c.Nullable, bin: m.bin,
		connect: m.time == timeConnect}
	millisPrecision := c.TimePrecision != nil && *c.TimePrecision <= 3
	switch typ {
	case tDecimal:
		if c.Precision < 0 || c.Scale < 0 || (c.Precision > 0 && c.Scale > c.Precision) {
			return nil, fmt.Errorf("column %s: decimal(%d, %d) is not a valid decimal", path, c.Precision, c.Scale)
		}
		cp.dec, cp.scale = m.dec, int32(c.Scale)
		cp.variable = m.dec == decPrecise && c.Precision == 0
	case tTime:
		cp.milli = m.time == timeConnect || m.time == timeAdaptive && millisPrecision
	case tTimestamp:
		cp.milli = m.time == timeConnect || millisPrecision
	case tTimestampTZ:
		cp.width = 6
		if c.TimePrecision != nil {
			cp.width = min(*c.TimePrecision, 9)
		}
		if meta.LegacyZonedTimestamps {
			cp.width = 0
		}
	case tStruct:
		if len(c.Fields) == 0 {
			return nil, fmt.Errorf("column %s: struct has no fields", path)
		}
		seen := map[string]bool{}
		for i := range c.Fields {
			f := &c.Fields[i]
			if seen[f.Name] {
				return nil, fmt.Errorf("column %s: field %s appears twice", path, f.Name)
			}
			seen[f.Name] = true
			fp, err := newCol(f, path+"."+f.Name, m, meta)
			if err != nil {
				return nil, err
			}
			cp.fields = append(cp.fields, fp)
		}
	case tList:
		if c.Element == nil {
			return nil, fmt.Errorf("column %s: list has no element type", path)
		}
		ep, err := newCol(c.Element, path+"[]", m, meta)
		if err != nil {
			return nil, err
		}
		cp.elem = ep
		cp.itemsOptional = !meta.ListItemsFollowSpec || ep.nullable
	case tMap:
		if c.Key == nil || c.Value == nil {
			return nil, fmt.Errorf("column %s: map needs key and value types", path)
		}
		kp, err := newCol(c.Key, path+".key", m, meta)
		if err != nil {
			return nil, err
		}
		switch kp.typ {
		case tStruct, tList, tMap:
			return nil, fmt.Errorf("column %s: map key type %s is not supported", path, c.Key.Type)
		}
		vp, err := newCol(c.Value, path+".value", m, meta)
		if err != nil {
			return nil, err
		}
		cp.key, cp.val = kp, vp
		cp.objMap = kp.stringSchema()
	}
	return cp, nil
}

// stringSchema reports whether the column's Connect schema type is string.
func (c *col) stringSchema() bool {
	switch c.typ {
	case tChar, tVarchar, tText, tJSON, tUUID, tTimestampTZ:
		return true
	case tDecimal:
		return c.dec == decString
	case tBinary:
		return c.bin != binBytes
	}
	return false
}

// Schemas.

// envelopeSchema renders the JsonConverter value schema of the table's
// change events, as Debezium 2.x declares it for the PostgreSQL connector.
func (e *Encoder) envelopeSchema() []byte {
	var rowSchema []byte
	rowSchema = append(rowSchema, `{"type":"struct","fields":[`...)
	for i, c := range e.cols {
		if i > 0 {
			rowSchema = append(rowSchema, ',')
		}
		// A key column is never optional in the connector's schema.
		rowSchema = appendField(rowSchema, c, c.nullable && !e.isKey[i])
	}
	rowSchema = append(rowSchema, `],"optional":true,"name":`...)
	rowSchema = appendString(rowSchema, e.topic+".Value")

	b := []byte(`{"type":"struct","fields":[`)
	for _, f := range []string{"before", "after"} {
		b = append(b, rowSchema...)
		b = append(b, `,"field":"`+f+`"},`...)
	}
	b = append(b, `{"type":"struct","fields":[`+
		`{"type":"string","optional":false,"field":"version"},`+
		`{"type":"string","optional":false,"field":"connector"},`+
		`{"type":"string","optional":false,"field":"name"},`+
		`{"type":"int64","optional":false,"field":"ts_ms"},`+
		`{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"},"default":"false","field":"snapshot"},`+
		`{"type":"string","optional":false,"field":"db"},`+
		`{"type":"string","optional":true,"field":"sequence"},`+
		`{"type":"int64","optional":true,"field":"ts_us"},`+
		`{"type":"int64","optional":true,"field":"ts_ns"},`+
		`{"type":"string","optional":false,"field":"schema"},`+
		`{"type":"string","optional":false,"field":"table"},`+
		`{"type":"int64","optional":true,"field":"txId"},`+
		`{"type":"int64","optional":true,"field":"lsn"},`+
		`{"type":"int64","optional":true,"field":"xmin"}`+
		`],"optional":false,"name":"io.debezium.connector.postgresql.Source","field":"source"},`+
		`{"type":"struct","fields":[`+
		`{"type":"string","optional":false,"field":"id"},`+
		`{"type":"int64","optional":false,"field":"total_order"},`+
		`{"type":"int64","optional":false,"field":"data_collection_order"}`+
		`],"optional":true,"name":"event.block","version":1,"field":"transaction"},`+
		`{"type":"string","optional":false,"field":"op"},`+
		`{"type":"int64","optional":true,"field":"ts_ms"},`+
		`{"type":"int64","optional":true,"field":"ts_us"},`+
		`{"type":"int64","optional":true,"field":"ts_ns"}`+
		`],"optional":false,"name":`...)
	b = appendString(b, e.topic+".Envelope")
	return append(b, `,"version":2}`...)
}

// appendField writes a struct field's schema: the column's schema with its
// field name, as the JsonConverter orders the keys.
func appendField(b []byte, c *col, optional bool) []byte {
	b = appendSchemaBody(b, c, optional)
	b = append(b, `,"field":`...)
	b = appendString(b, c.name)
	return append(b, '}')
}

// appendSchema writes a column's schema (list items, map keys and values).
func appendSchema(b []byte, c *col, optional bool) []byte {
	return append(appendSchemaBody(b, c, optional), '}')
}

// appendSchemaBody writes a column's schema without its closing brace:
// type, fields/items/keys/values, optional, name, version, doc, parameters.
func appendSchemaBody(b []byte, c *col, optional bool) []byte {
	typ, name := "", ""
	var params []byte
	doc := ""
	switch c.typ {
	case tBool:
		typ = "boolean"
	case tInt8, tInt16:
		typ = "int16"
	case tInt32:
		typ = "int32"
	case tInt64:
		typ = "int64"
	case tFloat32:
		typ = "float32"
	case tFloat64:
		typ = "float64"
	case tDecimal:
		switch {
		case c.dec == decString:
			typ = "string"
		case c.dec == decDouble:
			typ = "float64"
		case c.variable:
			b = append(b, `{"type":"struct","fields":[{"type":"int32","optional":false,"field":"scale"},{"type":"bytes","optional":false,"field":"value"}]`...)
			typ, name, doc = "", "io.debezium.data.VariableScaleDecimal", "Variable scaled decimal"
		default:
			typ, name = "bytes", "org.apache.kafka.connect.data.Decimal"
			params = fmt.Appendf(nil, `{"scale":"%d","connect.decimal.precision":"%d"}`, c.scale, c.spec.Precision)
		}
	case tChar, tVarchar, tText:
		typ = "string"
	case tDate:
		typ, name = "int32", "io.debezium.time.Date"
		if c.connect {
			name = "org.apache.kafka.connect.data.Date"
		}
	case tTime:
		switch {
		case c.connect:
			typ, name = "int32", "org.apache.kafka.connect.data.Time"
		case c.milli:
			typ, name = "int32", "io.debezium.time.Time"
		default:
			typ, name = "int64", "io.debezium.time.MicroTime"
		}
	case tTimestamp:
		switch {
		case c.connect:
			typ, name = "int64", "org.apache.kafka.connect.data.Timestamp"
		case c.milli:
			typ, name = "int64", "io.debezium.time.Timestamp"
		default:
			typ, name = "int64", "io.debezium.time.MicroTimestamp"
		}
	case tTimestampTZ:
		typ, name = "string", "io.debezium.time.ZonedTimestamp"
	case tUUID:
		typ, name = "string", "io.debezium.data.Uuid"
	case tJSON:
		typ, name = "string", "io.debezium.data.Json"
	case tBinary:
		typ = "string"
		if c.bin == binBytes {
			typ = "bytes"
		}
	case tStruct:
		b = append(b, `{"type":"struct","fields":[`...)
		for i, f := range c.fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendField(b, f, f.nullable)
		}
		b = append(b, ']')
	case tList:
		b = append(b, `{"type":"array","items":`...)
		b = appendSchema(b, c.elem, c.itemsOptional)
	case tMap:
		b = append(b, `{"type":"map","keys":`...)
		b = appendSchema(b, c.key, false)
		b = append(b, `,"values":`...)
		b = appendSchema(b, c.val, c.val.nullable)
	}
	if typ != "" {
		b = append(b, `{"type":"`+typ+`"`...)
	}
	b = append(b, `,"optional":`...)
	b = strconv.AppendBool(b, optional)
	if name != "" {
		b = append(b, `,"name":"`+name+`","version":1`...)
	}
	if doc != "" {
		b = append(b, `,"doc":`...)
		b = appendString(b, doc)
	}
	if params != nil {
		b = append(b, `,"parameters":`...)
		b = append(b, params...)
	}
	return b
}

// Values.

func (e *Encoder) appendValue(b []byte, c *col, v row.Value) ([]byte, error) {
	switch v.Kind() {
	case row.KindNull:
		return append(b, "null"...), nil
	case row.KindUnavailable:
		return e.ph.append(b, c), nil
	}
	if v.Kind() != kinds[c.typ] {
		return nil, fmt.Errorf("dbztest: column %s (%s) cannot hold a %s value", c.path, c.spec.Type, v.Kind())
	}
	switch c.typ {
	case tBool:
		return strconv.AppendBool(b, v.Bool()), nil
	case tInt8, tInt16, tInt32, tInt64, tDate:
		return strconv.AppendInt(b, v.Int(), 10), nil
	case tFloat32:
		return appendJavaFloat(b, v.Float(), 32), nil
	case tFloat64:
		return appendJavaFloat(b, v.Float(), 64), nil
	case tDecimal:
		return appendDecimal(b, c, v)
	case tChar, tVarchar, tText, tJSON:
		return appendString(b, v.Text()), nil
	case tTime, tTimestamp:
		n := v.Int()
		if c.milli {
			n = floorDiv(n, 1000)
		}
		return strconv.AppendInt(b, n, 10), nil
	case tTimestampTZ:
		b = append(b, '"')
		b = appendZoned(b, v.Int(), c.width)
		return append(b, '"'), nil
	case tUUID:
		u := v.UUIDBytes()
		b = append(b, '"')
		b = appendUUID(b, u)
		return append(b, '"'), nil
	case tBinary:
		return appendBinary(b, c.bin, []byte(v.Text())), nil
	case tStruct:
		fields := v.Fields()
		if len(fields) != len(c.fields) {
			return nil, fmt.Errorf("dbztest: struct %s has %d fields, the value %d", c.path, len(c.fields), len(fields))
		}
		b = append(b, '{')
		for i, f := range c.fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, f.name)
			b = append(b, ':')
			var err error
			if b, err = e.appendValue(b, f, fields[i]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case tList:
		b = append(b, '[')
		for i, el := range v.Elems() {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = e.appendValue(b, c.elem, el); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case tMap:
		return e.appendMap(b, c, v.Entries())
	}
	return nil, fmt.Errorf("dbztest: column %s: unsupported type %s", c.path, c.spec.Type)
}

// appendMap writes a map as the JsonConverter does: an object when the key
// schema is a string, an array of [key, value] pairs otherwise.
func (e *Encoder) appendMap(b []byte, c *col, entries []row.MapEntry) ([]byte, error) {
	var err error
	if !c.objMap {
		b = append(b, '[')
		for i, en := range entries {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			if b, err = e.appendValue(b, c.key, en.Key); err != nil {
				return nil, err
			}
			b = append(b, ',')
			if b, err = e.appendValue(b, c.val, en.Value); err != nil {
				return nil, err
			}
			b = append(b, ']')
		}
		return append(b, ']'), nil
	}
	b = append(b, '{')
	for i, en := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		if en.Key.IsNull() {
			return nil, fmt.Errorf("dbztest: map %s has a null key, which a JSON object cannot hold", c.path)
		}
		// A string-schema key writes a JSON string: the object's field name.
		if b, err = e.appendValue(b, c.key, en.Key); err != nil {
			return nil, err
		}
		b = append(b, ':')
		if b, err = e.appendValue(b, c.val, en.Value); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendFallback writes the value the connector writes for a null in a
// column that is not optional (JdbcValueConverters' fallbacks).
func (e *Encoder) appendFallback(b []byte, c *col) []byte {
	switch c.typ {
	case tBool:
		return append(b, "false"...)
	case tInt8, tInt16, tInt32, tInt64, tDate, tTime, tTimestamp:
		return append(b, '0')
	case tFloat32, tFloat64:
		return append(b, "0.0"...)
	case tDecimal:
		switch {
		case c.dec == decString:
			return appendString(b, row.FormatDecimal(new(big.Int), c.scale))
		case c.dec == decDouble:
			return append(b, "0.0"...)
		case c.variable:
			return append(b, `{"scale":0,"value":"AA=="}`...)
		}
		return append(b, `"AA=="`...)
	case tTimestampTZ:
		return append(b, `"1970-01-01T00:00:00Z"`...)
	case tList:
		return append(b, "[]"...)
	case tMap:
		if c.objMap {
			return append(b, "{}"...)
		}
		return append(b, "[]"...)
	case tStruct:
		b = append(b, '{')
		for i, f := range c.fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, f.name)
			b = append(b, ':')
			if f.nullable {
				b = append(b, "null"...)
			} else {
				b = e.appendFallback(b, f)
			}
		}
		return append(b, '}')
	}
	// Text-like, uuid, json and binary (empty bytes in every form).
	return append(b, `""`...)
}

// Decimals.

// decimalAt returns a decimal's unscaled value at scale, exactly; false if
// that would drop nonzero digits.
func decimalAt(v row.Value, scale int32) (*big.Int, bool) {
	u := v.Unscaled()
	switch s := v.Scale(); {
	case s < scale:
		u.Mul(u, pow10(int64(scale-s)))
	case s > scale:
		q, r := new(big.Int).QuoRem(u, pow10(int64(s-scale)), new(big.Int))
		if r.Sign() != 0 {
			return nil, false
		}
		u = q
	}
	return u, true
}

func pow10(n int64) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(n), nil) }

func appendDecimal(b []byte, c *col, v row.Value) ([]byte, error) {
	switch {
	case c.dec == decDouble:
		f, _ := strconv.ParseFloat(row.FormatDecimal(v.Unscaled(), v.Scale()), 64) // correctly rounded, like BigDecimal.doubleValue
		return appendJavaFloat(b, f, 64), nil
	case c.variable:
		// VariableScaleDecimal: trailing zeros stripped, never a negative scale.
		u, s := v.Unscaled(), v.Scale()
		ten, r := big.NewInt(10), new(big.Int)
		for s > 0 && u.Sign() != 0 {
			q, _ := new(big.Int).QuoRem(u, ten, r)
			if r.Sign() != 0 {
				break
			}
			u, s = q, s-1
		}
		if u.Sign() == 0 {
			s = 0
		}
		if s < 0 {
			u.Mul(u, pow10(int64(-s)))
			s = 0
		}
		b = append(b, `{"scale":`...)
		b = strconv.AppendInt(b, int64(s), 10)
		b = append(b, `,"value":"`...)
		b = base64.StdEncoding.AppendEncode(b, twosComplement(u))
		return append(b, `"}`...), nil
	}
	if n, ok := v.DecimalInt64(); ok && v.Scale() == c.scale {
		if c.dec == decString {
			return appendString(b, row.FormatDecimal(big.NewInt(n), c.scale)), nil
		}
		var buf [8]byte
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, twosInt64(buf[:0], n))
		return append(b, '"'), nil
	}
	u, ok := decimalAt(v, c.scale)
	if !ok {
		return nil, fmt.Errorf("dbztest: column %s: %s has more fraction digits than the column's scale %d",
			c.path, row.FormatDecimal(v.Unscaled(), v.Scale()), c.scale)
	}
	if c.dec == decString {
		return appendString(b, row.FormatDecimal(u, c.scale)), nil
	}
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, twosComplement(u))
	return append(b, '"'), nil
}

// twosComplement is Java's BigInteger.toByteArray: the shortest big-endian
// two's complement bytes, at least one.
func twosComplement(x *big.Int) []byte {
	if x.Sign() >= 0 {
		bs := x.Bytes()
		if len(bs) == 0 || bs[0]&0x80 != 0 {
			bs = append([]byte{0}, bs...)
		}
		return bs
	}
	m := new(big.Int).Neg(x)
	m.Sub(m, big.NewInt(1)) // -x-1 >= 0; its bytes inverted are x's
	bs := m.Bytes()
	for i := range bs {
		bs[i] = ^bs[i]
	}
	if len(bs) == 0 || bs[0]&0x80 == 0 {
		bs = append([]byte{0xff}, bs...)
	}
	return bs
}

func twosInt64(dst []byte, n int64) []byte {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], uint64(n))
	i := 0
	for i < 7 && (buf[i] == 0 && buf[i+1]&0x80 == 0 || buf[i] == 0xff && buf[i+1]&0x80 != 0) {
		i++
	}
	return append(dst, buf[i:]...)
}

// Floats.

// appendJavaFloat writes a float as Jackson does: Java's Float.toString or
// Double.toString, and NaN and the infinities as strings. Java writes the
// shortest decimal that reads back as the float, or the closest two-digit
// one when a single digit would do; plain between 10^-3 and 10^7, else as
// d.dddE±n; always with a fraction digit.
func appendJavaFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	case f == 0:
		if math.Signbit(f) {
			return append(b, "-0.0"...)
		}
		return append(b, "0.0"...)
	}
	var tmp [40]byte
	s := strconv.AppendFloat(tmp[:0], f, 'e', -1, bits) // [-]d[.ddd]e±xx
	if bytes.IndexByte(s, '.') < 0 {
		s = strconv.AppendFloat(tmp[:0], f, 'e', 1, bits)
	}
	if f < 0 {
		b = append(b, '-')
		s = s[1:]
	}
	i := bytes.IndexByte(s, 'e')
	exp, _ := strconv.Atoi(string(s[i+1:]))
	digits := append([]byte{s[0]}, s[min(2, i):i]...) // the value is d.ddd × 10^exp
	for len(digits) > 1 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
	}
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		if exp < 0 {
			b = append(b, "0."...)
			b = append(b, "00"[:-exp-1]...)
			return append(b, digits...)
		}
		for len(digits) < exp+2 {
			digits = append(digits, '0')
		}
		b = append(b, digits[:exp+1]...)
		b = append(b, '.')
		return append(b, digits[exp+1:]...)
	}
	b = append(b, digits[0], '.')
	if len(digits) == 1 {
		b = append(b, '0')
	}
	b = append(b, digits[1:]...)
	b = append(b, 'E')
	return strconv.AppendInt(b, int64(exp), 10)
}

// Temporal values.

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// appendZoned writes a UTC timestamp in microseconds as Debezium's
// ZonedTimestamp: ISO-8601 with "Z", width fraction digits (truncated), or
// the fewest digits when width is 0. The largest and smallest int64 are
// PostgreSQL's infinity and -infinity.
func appendZoned(b []byte, us int64, width int) []byte {
	switch us {
	case math.MaxInt64:
		return append(b, "infinity"...)
	case math.MinInt64:
		return append(b, "-infinity"...)
	}
	secs := floorDiv(us, 1_000_000)
	nanos := (us - secs*1_000_000) * 1000
	t := time.Unix(secs, 0).UTC()
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	switch {
	case year > 9999:
		b = append(b, '+')
		b = strconv.AppendInt(b, int64(year), 10)
	case year < 0:
		b = append(b, '-')
		b = appendPadded(b, -year, 4)
	default:
		b = appendPadded(b, year, 4)
	}
	b = append(b, '-')
	b = appendPadded(b, int(month), 2)
	b = append(b, '-')
	b = appendPadded(b, day, 2)
	b = append(b, 'T')
	b = appendPadded(b, hour, 2)
	b = append(b, ':')
	b = appendPadded(b, minute, 2)
	b = append(b, ':')
	b = appendPadded(b, sec, 2)
	var frac [9]byte
	for i, n := 8, nanos; i >= 0; i-- {
		frac[i] = byte('0' + n%10)
		n /= 10
	}
	switch {
	case width > 0:
		b = append(b, '.')
		b = append(b, frac[:width]...)
	case nanos != 0:
		b = append(b, '.')
		b = append(b, bytes.TrimRight(frac[:], "0")...)
	}
	return append(b, 'Z')
}

func appendPadded(b []byte, n, width int) []byte {
	s := strconv.Itoa(n)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// UUIDs and bytes.

func appendUUID(b []byte, u [16]byte) []byte {
	b = hex.AppendEncode(b, u[0:4])
	b = append(b, '-')
	b = hex.AppendEncode(b, u[4:6])
	b = append(b, '-')
	b = hex.AppendEncode(b, u[6:8])
	b = append(b, '-')
	b = hex.AppendEncode(b, u[8:10])
	b = append(b, '-')
	return hex.AppendEncode(b, u[10:16])
}

// nameUUID is Java's UUID.nameUUIDFromBytes: an MD5 (version 3) UUID.
func nameUUID(name []byte) [16]byte {
	u := md5.Sum(name)
	u[6] = u[6]&0x0f | 0x30
	u[8] = u[8]&0x3f | 0x80
	return u
}

func appendBinary(b []byte, mode int, raw []byte) []byte {
	b = append(b, '"')
	switch mode {
	case binHex:
		b = hex.AppendEncode(b, raw)
	case binURL:
		b = base64.URLEncoding.AppendEncode(b, raw)
	default:
		b = base64.StdEncoding.AppendEncode(b, raw)
	}
	return append(b, '"')
}

// Strings.

const hexUpper = "0123456789ABCDEF"

// appendString writes s as a JSON string as Jackson escapes it: quote,
// backslash and control characters; everything else as UTF-8. Invalid UTF-8
// is written as U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, `\b`...)
		case '\t':
			b = append(b, `\t`...)
		case '\n':
			b = append(b, `\n`...)
		case '\f':
			b = append(b, `\f`...)
		case '\r':
			b = append(b, `\r`...)
		default:
			b = append(b, '\\', 'u', '0', '0', hexUpper[c>>4], hexUpper[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// Placeholders.

// placeholders are the forms of unavailable.value.placeholder.
type placeholders struct {
	text   string
	raw    []byte
	b64    string
	uuid   [16]byte
	quoted []byte
}

func newPlaceholders(p string) placeholders {
	return placeholders{text: p, raw: []byte(p), b64: base64.StdEncoding.EncodeToString([]byte(p)),
		uuid: nameUUID([]byte(p)), quoted: appendString(nil, p)}
}

// append writes the placeholder as the connector writes it for column c.
func (p *placeholders) append(b []byte, c *col) []byte {
	switch c.typ {
	case tDecimal:
		if c.dec == decPrecise {
			return append(append(append(b, '"'), p.b64...), '"')
		}
	case tBinary:
		return appendBinary(b, c.bin, p.raw)
	case tList:
		b = append(b, '[')
		switch c.elem.typ {
		case tInt32, tInt64, tDate:
			// integer[], bigint[] and date[]: one element per placeholder byte.
			for i, x := range p.raw {
				if i > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendInt(b, int64(int8(x)), 10)
			}
		case tUUID:
			// uuid[]: the placeholder's name-based UUID.
			b = append(b, '"')
			b = appendUUID(b, p.uuid)
			b = append(b, '"')
		default:
			b = p.append(b, c.elem)
		}
		return append(b, ']')
	case tMap:
		if c.objMap {
			b = append(b, '{')
			b = p.append(b, c.key)
			b = append(b, ':')
			b = p.append(b, c.val)
			return append(b, '}')
		}
		b = append(b, '[', '[')
		b = p.append(b, c.key)
		b = append(b, ',')
		b = p.append(b, c.val)
		return append(b, ']', ']')
	case tStruct:
		b = append(b, '{')
		for i, f := range c.fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, f.name)
			b = append(b, ':')
			b = p.append(b, f)
		}
		return append(b, '}')
	}
	return append(b, p.quoted...)
}
