package encode

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
	binBytes  = iota // binary.handling.mode=bytes: Connect bytes, base64 in JSON
	binBase64        // base64
	binURL           // base64-url-safe
	binHex
)

const (
	timeAdaptive       = iota
	timeAdaptiveMicros // adaptive_time_microseconds
	timeConnect
)

type modes struct{ dec, time, bin int }

// parseModes reads the encoding; an unset mode is the connector's default:
// decimal.handling.mode precise, time.precision.mode adaptive
// (RelationalDatabaseConnectorConfig.DECIMAL_HANDLING_MODE and
// TIME_PRECISION_MODE), binary.handling.mode bytes
// (CommonConnectorConfig.BINARY_HANDLING_MODE).
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
		return m, fmt.Errorf("encode: unknown decimal handling %q", enc.DecimalHandling)
	}
	switch strings.ToLower(enc.TimePrecision) {
	case "", "adaptive":
		m.time = timeAdaptive
	case "adaptive_time_microseconds":
		m.time = timeAdaptiveMicros
	case "connect":
		m.time = timeConnect
	default:
		return m, fmt.Errorf("encode: unknown time precision mode %q", enc.TimePrecision)
	}
	switch strings.ToLower(enc.BinaryHandling) {
	case "", "bytes":
		m.bin = binBytes
	case "base64":
		m.bin = binBase64
	case "base64-url-safe":
		m.bin = binURL
	case "hex":
		m.bin = binHex
	default:
		return m, fmt.Errorf("encode: unknown binary handling %q", enc.BinaryHandling)
	}
	return m, nil
}

// col says how to write one column or nested field.
type col struct {
	name, path string
	typ        colType
	spec       *jobspec.Column
	nullable   bool
	schema     *connectSchema

	dec      int   // decimal handling
	variable bool  // precise decimal without precision: VariableScaleDecimal
	scale    int32 // decimal
	micros   bool  // time and timestamp values in µs, else ms
	bin      int
	width    int // timestamptz fraction digits; 0 writes the fewest

	fields   []*col
	elem     *col
	key, val *col
	objMap   bool // a map with string keys: a JSON object

	toast toastForm // how an unchanged TOAST value of the column is written
	// lost is a list whose element values fail the connector's items
	// schema: the column is written as null.
	lost bool
}

// newCol builds the writer of a column (or nested field) c whose schema is
// optional when optional is.
func newCol(c *jobspec.Column, path string, m modes, meta Meta, optional bool) (*col, error) {
	typ, ok := colTypes[strings.ToLower(c.Type)]
	if !ok {
		return nil, fmt.Errorf("column %s has unknown type %q", path, c.Type)
	}
	cp := &col{name: c.Name, path: path, typ: typ, spec: c, nullable: c.Nullable, bin: m.bin}
	// JdbcValueConverters#schemaBuilder, adaptive modes: precision 0-3 in
	// milliseconds (getTimePrecision, the column's scale). A spec without
	// a precision is PostgreSQL's default, 6.
	millisPrecision := c.TimePrecision != nil && *c.TimePrecision <= 3
	switch typ {
	case tDecimal:
		if c.Precision < 0 || c.Scale < 0 || (c.Precision > 0 && c.Scale > c.Precision) {
			return nil, fmt.Errorf("column %s: decimal(%d, %d) is not a valid decimal", path, c.Precision, c.Scale)
		}
		cp.dec, cp.scale = m.dec, int32(c.Scale)
		// PostgresValueConverter#isVariableScaleDecimal: a numeric without
		// precision.
		cp.variable = c.Precision == 0
	case tTime:
		cp.micros = m.time == timeAdaptiveMicros || m.time == timeAdaptive && !millisPrecision
	case tTimestamp:
		cp.micros = m.time != timeConnect && !millisPrecision
	case tTimestampTZ:
		// PostgresValueConverter#convertTimestampWithZone: the fraction
		// width is the column's scale; ZonedTimestamp#toIsoString pads to it,
		// or writes the fewest digits for 0.
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
			fp, err := newCol(f, path+"."+f.Name, m, meta, f.Nullable)
			if err != nil {
				return nil, err
			}
			cp.fields = append(cp.fields, fp)
		}
	case tList:
		if c.Element == nil {
			return nil, fmt.Errorf("column %s: list has no element type", path)
		}
		// PostgresValueConverter#schemaBuilder makes every array element
		// optional.
		ep, err := newCol(c.Element, path+"[]", m, meta, !meta.ListItemsFollowSpec || c.Element.Nullable)
		if err != nil {
			return nil, err
		}
		if ep.typ == tTime {
			// TIME_ARRAY items are MicroTime whatever the mode; the element
			// converter (#createArrayConverter) still follows the mode, and
			// its millisecond values fail the items schema.
			cp.lost = !ep.micros
			ep.micros = true
			ep.schema = logical(typeInt64, "io.debezium.time.MicroTime")
			ep.schema.optional = !meta.ListItemsFollowSpec || c.Element.Nullable
		}
		cp.elem = ep
	case tMap:
		if c.Key == nil || c.Value == nil {
			return nil, fmt.Errorf("column %s: map needs key and value types", path)
		}
		kp, err := newCol(c.Key, path+".key", m, meta, false)
		if err != nil {
			return nil, err
		}
		switch kp.typ {
		case tStruct, tList, tMap:
			return nil, fmt.Errorf("column %s: map key type %s is not supported", path, c.Key.Type)
		}
		// An hstore's values are optional (PostgresValueConverter#hstoreSchema:
		// STRING_SCHEMA keys, OPTIONAL_STRING_SCHEMA values).
		vp, err := newCol(c.Value, path+".value", m, meta, c.Value.Nullable || isHstore(kp, c.Value))
		if err != nil {
			return nil, err
		}
		cp.key, cp.val = kp, vp
		// JsonConverter#convertToJson: object mode when the key schema is a
		// string.
		cp.objMap = kp.schema.typ == typeString
	}
	if cp.schema == nil {
		cp.schema = columnSchema(cp, m)
	}
	cp.schema.optional = optional
	cp.toast = toastFormOf(cp, m)
	return cp, nil
}

// isHstore reports whether a map of key k and value type v stands for an
// hstore: text keys and values.
func isHstore(k *col, v *jobspec.Column) bool {
	vt := colTypes[strings.ToLower(v.Type)]
	return (k.typ == tVarchar || k.typ == tText) && (vt == tVarchar || vt == tText)
}

// Values.

// appendValue writes v as the connector's value for c turned into JSON by
// JsonConverter#convertToJson and Jackson.
func appendValue(b []byte, c *col, v row.Value) ([]byte, error) {
	switch v.Kind() {
	case row.KindNull:
		return append(b, "null"...), nil
	case row.KindUnavailable:
		return nil, fmt.Errorf("encode: %s: an unchanged TOAST value is a whole column's, never a nested value's", c.path)
	}
	if v.Kind() != kinds[c.typ] {
		return nil, fmt.Errorf("encode: column %s (%s) cannot hold a %s value", c.path, c.spec.Type, v.Kind())
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
		return appendString(b, v.Text(), c.path)
	case tTime, tTimestamp:
		// MicroTime#toMicroOfDay and the others floor; java.util.Date
		// values (connect mode) are milliseconds.
		n := v.Int()
		if !c.micros {
			n = floorDiv(n, 1000)
		}
		return strconv.AppendInt(b, n, 10), nil
	case tTimestampTZ:
		b = append(b, '"')
		b = appendZoned(b, v.Int(), c.width)
		return append(b, '"'), nil
	case tUUID:
		// UUID#toString: lowercase.
		b = append(b, '"')
		b = appendUUID(b, v.UUIDBytes())
		return append(b, '"'), nil
	case tBinary:
		return appendBinary(b, c.bin, []byte(v.Text())), nil
	case tStruct:
		fields := v.Fields()
		if len(fields) != len(c.fields) {
			return nil, fmt.Errorf("encode: struct %s has %d fields, the value %d", c.path, len(c.fields), len(fields))
		}
		b = append(b, '{')
		for i, f := range c.fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = mustString(b, f.name)
			b = append(b, ':')
			var err error
			if b, err = appendValue(b, f, fields[i]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case tList:
		if c.lost {
			if !c.nullable {
				return nil, fmt.Errorf("encode: column %s: the connector's %s[] values fail its MicroTime items schema "+
					"and it writes null, which the column is not nullable to hold", c.path, c.elem.spec.Type)
			}
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, el := range v.Elems() {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendValue(b, c.elem, el); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case tMap:
		return appendMap(b, c, v.Entries())
	}
	return nil, fmt.Errorf("encode: column %s: unsupported type %s", c.path, c.spec.Type)
}

// appendMap writes a map as JsonConverter#convertToJson does: an object when
// the key schema is a string (the key's text as the field name), an array
// of [key, value] pairs otherwise.
func appendMap(b []byte, c *col, entries []row.MapEntry) ([]byte, error) {
	var err error
	if !c.objMap {
		b = append(b, '[')
		for i, en := range entries {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			if b, err = appendValue(b, c.key, en.Key); err != nil {
				return nil, err
			}
			b = append(b, ',')
			if b, err = appendValue(b, c.val, en.Value); err != nil {
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
			return nil, fmt.Errorf("encode: map %s has a null key, which a JSON object cannot hold", c.path)
		}
		// A string-schema key writes a JSON string: the object's field name.
		if b, err = appendValue(b, c.key, en.Key); err != nil {
			return nil, err
		}
		b = append(b, ':')
		if b, err = appendValue(b, c.val, en.Value); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendFallback writes the value the connector writes for a null in a
// column that is not optional: JdbcValueConverters#convertValue's fallback
// argument of each converter.
func appendFallback(b []byte, c *col) []byte {
	switch c.typ {
	case tBool:
		return append(b, "false"...) // #convertBoolean
	case tInt8, tInt16, tInt32, tInt64, tDate, tTime, tTimestamp:
		// SHORT_FALSE, 0, 0L; the epoch (new java.util.Date(0L) in connect
		// mode, which the JsonConverter writes as 0).
		return append(b, '0')
	case tFloat32, tFloat64:
		return append(b, "0.0"...) // 0.0f, 0.0d
	case tDecimal:
		// #toBigDecimal: BigDecimal.ZERO at the column's scale
		// (#withScaleAdjustedIfNeeded); a variable-scale one stripped to 0.
		switch {
		case c.dec == decString:
			return mustString(b, row.FormatDecimal(new(big.Int), c.scale))
		case c.dec == decDouble:
			return append(b, "0.0"...)
		case c.variable:
			return append(b, `{"scale":0,"value":"AA=="}`...)
		}
		return append(b, `"AA=="`...)
	case tTimestampTZ:
		// fallbackTimestampWithTimeZone: the epoch at UTC, ISO_OFFSET_DATE_TIME.
		return append(b, `"1970-01-01T00:00:00Z"`...)
	case tList:
		return append(b, "[]"...) // PostgresValueConverter#convertArray: emptyList()
	case tMap:
		if c.objMap {
			return append(b, "{}"...) // #convertHstoreToMap: emptyMap()
		}
		return append(b, "[]"...)
	case tStruct:
		b = append(b, '{')
		for i, f := range c.fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = mustString(b, f.name)
			b = append(b, ':')
			if f.nullable {
				b = append(b, "null"...)
			} else {
				b = appendFallback(b, f)
			}
		}
		return append(b, '}')
	}
	// Text-like, uuid and json (#convertString: ""), binary (BYTE_ZERO, "").
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

// stripped is BigDecimal#stripTrailingZeros, then setScale(0) for a
// negative scale, as PostgresValueConverter#convertDecimal does for a
// variable-scale numeric.
func stripped(v row.Value) (*big.Int, int32) {
	u, s := v.Unscaled(), v.Scale()
	ten, r := big.NewInt(10), new(big.Int)
	for u.Sign() != 0 {
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
	return u, s
}

// appendDecimal writes a numeric as PostgresValueConverter#convertDecimal
// gives it (SpecialValueDecimal#fromLogical) and the JsonConverter writes
// it. A numeric(p,s) value is at scale s (#withScaleAdjustedIfNeeded); a
// numeric without precision keeps the value's own scale.
func appendDecimal(b []byte, c *col, v row.Value) ([]byte, error) {
	switch {
	case c.dec == decDouble:
		// BigDecimal#doubleValue, correctly rounded.
		f, _ := strconv.ParseFloat(row.FormatDecimal(v.Unscaled(), v.Scale()), 64)
		return appendJavaFloat(b, f, 64), nil
	case c.variable && c.dec == decPrecise:
		// VariableScaleDecimal#fromLogical: {scale, unscaledValue().toByteArray()}.
		u, s := stripped(v)
		b = append(b, `{"scale":`...)
		b = strconv.AppendInt(b, int64(s), 10)
		b = append(b, `,"value":"`...)
		b = base64.StdEncoding.AppendEncode(b, twosComplement(u))
		return append(b, `"}`...), nil
	case c.variable:
		// BigDecimal#toPlainString of the value as it is.
		u, s := v.Unscaled(), v.Scale()
		if s < 0 {
			u.Mul(u, pow10(int64(-s)))
			s = 0
		}
		return mustString(b, row.FormatDecimal(u, s)), nil
	}
	if n, ok := v.DecimalInt64(); ok && v.Scale() == c.scale {
		if c.dec == decString {
			return mustString(b, row.FormatDecimal(big.NewInt(n), c.scale)), nil
		}
		var buf [8]byte
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, twosInt64(buf[:0], n))
		return append(b, '"'), nil
	}
	u, ok := decimalAt(v, c.scale)
	if !ok {
		return nil, fmt.Errorf("encode: column %s: %s has more fraction digits than the column's scale %d",
			c.path, row.FormatDecimal(v.Unscaled(), v.Scale()), c.scale)
	}
	if c.dec == decString {
		return mustString(b, row.FormatDecimal(u, c.scale)), nil
	}
	// Kafka's Decimal#fromLogical: unscaledValue().toByteArray(), which
	// JsonConverter writes as a binary node, base64.
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

// appendJavaFloat writes a float as Jackson does (UTF8JsonGenerator#writeNumber
// with NumberOutput#toString): Float.toString or Double.toString, and NaN and
// the infinities as strings (JsonWriteFeature.WRITE_NAN_AS_STRINGS, on by
// default). Java (19 and later, JDK-4511638) writes the shortest decimal that
// reads back as the float, or the closest two-digit one when one digit would
// do; plain between 10^-3 and 10^7, else as d.dddE±n; always with a fraction
// digit.
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

// appendZoned writes a UTC timestamp in microseconds as
// ZonedTimestamp#toIsoString: ISO-8601 with "Z", width fraction digits
// (appendFraction truncates), or the fewest digits when width is 0
// (ISO_OFFSET_DATE_TIME). Years beyond 9999 get a '+' and years before 1 AD
// at least four digits after their '-' (ISO_LOCAL_DATE's
// SignStyle.EXCEEDS_PAD). The largest and smallest int64 are PostgreSQL's
// infinity and -infinity, which PostgresValueConverter#convertTimestampWithZone
// writes as "infinity" and "-infinity".
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

// appendBinary writes bytes as binary.handling.mode says: bytes as the
// JsonConverter writes a binary node (Jackson's default Base64Variant,
// MIME_NO_LINEFEEDS: standard alphabet, padded); base64 and
// base64-url-safe as java.util.Base64's getEncoder and getUrlEncoder
// (padded); hex as io.debezium.util.HexConverter (lowercase).
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

// appendString writes s as a JSON string as Jackson 2.16's UTF8JsonGenerator
// does with its defaults: quote and backslash escaped; \b, \t, \n, \f and
// \r, and other control characters as \u00XX (CharTypes.sOutputEscapes128,
// upper-case hex, JsonWriteFeature.WRITE_HEX_UPPER_CASE); a character
// outside the Basic Multilingual Plane as its two UTF-16 surrogates, each
// \uXXXX (#_outputMultiByteChar; COMBINE_UNICODE_SURROGATES_IN_UTF8 is off);
// everything else as UTF-8. Text that is not UTF-8 is an error naming path:
// it cannot come from the connector, whose Java strings are Unicode.
func appendString(b []byte, s, path string) ([]byte, error) {
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
			if r == utf8.RuneError && size == 1 {
				return nil, fmt.Errorf("encode: %s: %q is not UTF-8", path, s)
			}
			if r <= 0xffff {
				i += size
				continue
			}
			b = append(b, s[start:i]...)
			r1, r2 := utf16Surrogates(r)
			b = appendUnicodeEscape(b, r1)
			b = appendUnicodeEscape(b, r2)
			i += size
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
			b = appendUnicodeEscape(b, rune(c))
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"'), nil
}

// mustString is appendString for text known to be UTF-8: names and the
// encoder's own strings.
func mustString(b []byte, s string) []byte {
	out, err := appendString(b, s, "")
	if err != nil {
		panic(err)
	}
	return out
}

func utf16Surrogates(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + r>>10, 0xdc00 + r&0x3ff
}

func appendUnicodeEscape(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexUpper[r>>12&0xf], hexUpper[r>>8&0xf], hexUpper[r>>4&0xf], hexUpper[r&0xf])
}

// Unchanged TOAST values.

// toastForm is how the connector writes an unchanged TOAST value of a
// column: UnchangedToastedReplicationMessageColumn picks a marker by the
// column's type, UnchangedToastedPlaceholder maps it to a value and
// PostgresValueConverter passes that on.
type toastForm uint8

const (
	// toastNever: PostgreSQL never stores such a value out of line
	// (fixed-width types), or no PostgreSQL column has the type.
	toastNever toastForm = iota
	// toastText: the placeholder string (#convertString; #convertBinaryToHex;
	// numeric in string mode, where #toBigDecimal returns
	// #handleUnknownData's string and the string schema takes it).
	toastText
	// toastBytes: the placeholder's bytes (#convertBinaryToBytes), base64.
	toastBytes
	// toastTextList: Arrays.asList(placeholder) for text[], varchar[],
	// json[] and jsonb[] (UNCHANGED_TEXT_ARRAY_TOAST_VALUE).
	toastTextList
	// toastBytesList: Arrays.asList(the placeholder's bytes) for bytea[]
	// in bytes mode (UNCHANGED_BINARY_ARRAY_TOAST_VALUE).
	toastBytesList
	// toastInts: one integer per placeholder byte, (int) b or (long) b, for
	// integer[], date[] and bigint[] (UNCHANGED_INT_ARRAY_TOAST_VALUE,
	// UNCHANGED_BIGINT_ARRAY_TOAST_VALUE).
	toastInts
	// toastUUID: [UUID.nameUUIDFromBytes(placeholder bytes)] for uuid[].
	toastUUID
	// toastHstore: {placeholder: placeholder} (UNCHANGED_HSTORE_TOAST_VALUE).
	toastHstore
	// toastNull: the placeholder value fails the column's schema (Struct#put
	// validates it) and the connector writes null
	// (event.converting.failure.handling.mode warn): bytea in the base64
	// modes (#convertBinaryToBase64 reaches #unexpectedBinary, null),
	// numeric in precise and double mode, bytea[] outside bytes mode, date[]
	// in connect mode, and the arrays of other types, which get
	// UNCHANGED_TOAST_VALUE's string.
	toastNull
)

// toastFormOf is column c's toastForm. It applies to whole columns only.
func toastFormOf(c *col, m modes) toastForm {
	switch c.typ {
	case tChar, tVarchar, tText, tJSON:
		return toastText
	case tDecimal:
		if c.dec == decString {
			return toastText
		}
		return toastNull
	case tBinary:
		switch c.bin {
		case binBytes:
			return toastBytes
		case binHex:
			return toastText
		}
		return toastNull
	case tMap:
		if c.objMap && isHstore(c.key, c.val.spec) {
			return toastHstore
		}
	case tList:
		switch c.elem.typ {
		case tVarchar, tText, tJSON:
			return toastTextList
		case tBinary:
			if c.bin == binBytes {
				return toastBytesList
			}
			return toastNull
		case tInt32, tInt64:
			return toastInts
		case tDate:
			if m.time == timeConnect {
				return toastNull
			}
			return toastInts
		case tUUID:
			return toastUUID
		case tBool, tInt8, tInt16, tFloat32, tFloat64, tDecimal, tChar, tTime, tTimestamp, tTimestampTZ:
			return toastNull
		case tMap:
			if c.elem.toast == toastHstore {
				return toastNull // hstore[]
			}
		}
	}
	return toastNever
}

// placeholder is unavailable.value.placeholder in the forms the connector
// writes it.
type placeholder struct {
	raw  []byte // UnchangedToastedPlaceholder#getToastPlaceholderBinary
	text string // #getToastPlaceholderString: new String(raw)
	uuid [16]byte
}

// newPlaceholder reads the setting as
// PostgresConnectorConfig#getUnavailableValuePlaceholder does: "hex:" and
// hex digits, or the string's bytes (UTF-8, Java's default charset).
func newPlaceholder(setting string) (placeholder, error) {
	raw := []byte(setting)
	if h, ok := strings.CutPrefix(setting, "hex:"); ok {
		var err error
		if raw, err = hex.DecodeString(h); err != nil {
			return placeholder{}, fmt.Errorf("encode: placeholder %q: %v", setting, err)
		}
	}
	// new String(bytes) replaces each malformed byte with U+FFFD.
	var text strings.Builder
	for i := 0; i < len(raw); {
		r, size := utf8.DecodeRune(raw[i:])
		text.WriteRune(r)
		i += size
	}
	return placeholder{raw: raw, text: text.String(), uuid: nameUUID(raw)}, nil
}

// appendColumn writes an unchanged TOAST value of column c.
func (p *placeholder) appendColumn(b []byte, c *col) ([]byte, error) {
	switch c.toast {
	case toastText:
		return mustString(b, p.text), nil
	case toastBytes:
		return appendBinary(b, binBytes, p.raw), nil
	case toastTextList:
		b = append(b, '[')
		b = mustString(b, p.text)
		return append(b, ']'), nil
	case toastBytesList:
		b = append(b, '[')
		b = appendBinary(b, binBytes, p.raw)
		return append(b, ']'), nil
	case toastInts:
		b = append(b, '[')
		for i, x := range p.raw {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(int8(x)), 10) // a Java byte is signed
		}
		return append(b, ']'), nil
	case toastUUID:
		b = append(b, `["`...)
		b = appendUUID(b, p.uuid)
		return append(b, `"]`...), nil
	case toastHstore:
		b = append(b, '{')
		b = mustString(b, p.text)
		b = append(b, ':')
		b = mustString(b, p.text)
		return append(b, '}'), nil
	case toastNull:
		if !c.nullable {
			// JsonConverter#convertToJson refuses a null for a required
			// field: the connector fails the record.
			return nil, fmt.Errorf("encode: column %s (%s): the connector writes an unchanged TOAST value here as null, "+
				"which the column is not nullable to hold", c.path, c.spec.Type)
		}
		return append(b, "null"...), nil
	}
	return nil, fmt.Errorf("encode: column %s (%s) cannot be an unchanged TOAST value: PostgreSQL does not store it out of line",
		c.path, c.spec.Type)
}
