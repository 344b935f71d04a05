package debezium

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

// DefaultPlaceholder is Debezium's default unavailable.value.placeholder: the
// value it writes for an unchanged TOAST column it could not read.
const DefaultPlaceholder = "__debezium_unavailable_value"

// valueError is a value that does not fit its column.
type valueError struct {
	path   string
	reason string
}

func (e *valueError) Error() string { return fmt.Sprintf("column %q: %s", e.path, e.reason) }

func colErr(cp *colPlan, format string, args ...any) error {
	return &valueError{path: cp.path, reason: fmt.Sprintf(format, args...)}
}

// inColumn names the column of a string that is not UTF-8.
func inColumn(cp *colPlan, err error) error {
	if ue, ok := err.(*utf8Error); ok {
		return &valueError{path: cp.path, reason: ue.reason()}
	}
	return err
}

// valueParser reads column values; it holds the placeholder's forms (see
// placeholderForm) and reusable buffers.
type valueParser struct {
	placeholder []byte
	// Its bytes as the JsonConverter writes BYTES: base64.
	placeholderB64 []byte
	// Its name-based UUID: an unchanged TOAST uuid[] is the list of it alone.
	placeholderUUID [16]byte

	chunk []byte // for text
}

func newValueParser(placeholder string) valueParser {
	p := []byte(placeholder)
	return valueParser{
		placeholder:     p,
		placeholderB64:  []byte(base64.StdEncoding.EncodeToString(p)),
		placeholderUUID: javaNameUUID(p),
	}
}

// javaNameUUID is Java's UUID.nameUUIDFromBytes: the MD5 of name with the
// version 3 and IETF variant bits set.
func javaNameUUID(name []byte) [16]byte {
	u := md5.Sum(name)
	u[6] = u[6]&0x0f | 0x30
	u[8] = u[8]&0x3f | 0x80
	return u
}

// isListPlaceholder reports whether the elements of a list column are
// the connector's form of the TOAST placeholder (see placeholderForm).
//
// A real integer[] whose elements are exactly the placeholder's bytes (or a
// text[] holding only the placeholder, a uuid[] holding only its UUID)
// cannot be told from an unchanged TOAST value: the connector writes both
// identically. It is read as unavailable, as Debezium's own consumers must;
// with the default placeholder that is the 28-element array of the bytes of
// "__debezium_unavailable_value", which real data is most unlikely to hold.
func (vp *valueParser) isListPlaceholder(cp *colPlan, elems []row.Value) bool {
	switch cp.ph {
	case phInts:
		if len(elems) != len(vp.placeholder) {
			return false
		}
		for i, e := range elems {
			if e.IsNull() || e.Int() != int64(int8(vp.placeholder[i])) {
				return false
			}
		}
		return true
	case phUUID:
		return len(elems) == 1 && elems[0].Kind() == row.KindUUID && elems[0].UUIDBytes() == vp.placeholderUUID
	}
	return false
}

func (vp *valueParser) isPlaceholder(b []byte) bool { return bytes.Equal(b, vp.placeholder) }

// isStringPlaceholder reports whether the string b of a column is the
// column's placeholder form.
func (vp *valueParser) isStringPlaceholder(cp *colPlan, b []byte) bool {
	switch cp.ph {
	case phText:
		return bytes.Equal(b, vp.placeholder)
	case phBase64:
		return bytes.Equal(b, vp.placeholderB64)
	}
	return false
}

// isWrappedPlaceholder reports whether the value at the scanner is a list
// column's [p] (phOneElement; p's base64 for bytea[]) or an hstore's
// {p: p}, and moves past it if so. It is checked before the elements are
// parsed as data, which a varchar(n) element, say, would refuse.
func (vp *valueParser) isWrappedPlaceholder(s *scanner, cp *colPlan) bool {
	start := s.i
	str := func(want []byte) bool {
		b, err := s.str()
		return err == nil && bytes.Equal(b, want)
	}
	ok := false
	switch cp.ph {
	case phOneElement:
		want := vp.placeholder
		if cp.elem.typ == tBinary {
			want = vp.placeholderB64
		}
		more, err := s.arrStart()
		if err == nil && more && s.peek() == '"' && str(want) {
			more, err = s.arrNext()
			ok = err == nil && !more
		}
	case phHstore:
		more, err := s.objStart()
		if err == nil && more && s.peek() == '"' {
			if k, err := s.objKey(); err == nil && bytes.Equal(k, vp.placeholder) && s.peek() == '"' && str(vp.placeholder) {
				more, err = s.objNext()
				ok = err == nil && !more
			}
		}
	}
	if !ok {
		s.i = start
	}
	return ok
}

// Strings are copied into shared chunks rather than allocated one by one;
// a chunk lives as long as any string in it.
const (
	textChunk = 64 << 10
	textSmall = 1 << 10 // longer strings get their own allocation
)

// text copies b into a string.
func (vp *valueParser) text(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > textSmall {
		return string(b)
	}
	if len(vp.chunk)+len(b) > cap(vp.chunk) {
		vp.chunk = make([]byte, 0, textChunk)
	}
	start := len(vp.chunk)
	vp.chunk = append(vp.chunk, b...)
	return unsafe.String(&vp.chunk[start], len(b)) // chunk bytes are never written again
}

// value reads the value of column cp at the scanner. A JSON null gives a
// Null value; the caller checks nullability. The column's placeholder form
// gives row.Unavailable().
func (vp *valueParser) value(s *scanner, cp *colPlan) (row.Value, error) {
	c := s.peek()
	if c == 'n' {
		return row.Null(), s.literal("null")
	}
	switch cp.typ {
	case tBool:
		switch c {
		case 't':
			return row.Bool(true), s.literal("true")
		case 'f':
			return row.Bool(false), s.literal("false")
		}
		return vp.mismatch(s, cp, "a boolean")
	case tInt8, tInt16, tInt32, tInt64, tDate:
		if c != '-' && (c < '0' || c > '9') {
			return vp.mismatch(s, cp, "an integer")
		}
		num, err := s.number()
		if err != nil {
			return row.Value{}, err
		}
		return intValue(cp, num)
	case tTime, tTimestamp:
		if c != '-' && (c < '0' || c > '9') {
			return vp.mismatch(s, cp, "an integer")
		}
		num, err := s.number()
		if err != nil {
			return row.Value{}, err
		}
		return temporalValue(cp, num)
	case tFloat32, tFloat64:
		return vp.floatValue(s, cp)
	case tDecimal:
		return vp.decimalValue(s, cp)
	case tStruct:
		return vp.structValue(s, cp)
	case tList:
		return vp.listValue(s, cp)
	case tMap:
		return vp.mapValue(s, cp)
	}
	// The remaining types are written as JSON strings.
	if c != '"' {
		return row.Value{}, colErr(cp, "expected a string (column type %s), found %s", cp.spec.Type, tokenKind(c))
	}
	b, err := s.str()
	if err != nil {
		return row.Value{}, err
	}
	if cp.ph != phNone && vp.isStringPlaceholder(cp, b) {
		return row.Unavailable(), nil
	}
	return vp.textValue(cp, b)
}

// mismatch handles a value of the wrong JSON kind for the column.
func (vp *valueParser) mismatch(s *scanner, cp *colPlan, want string) (row.Value, error) {
	c := s.peek()
	if c == '"' {
		b, err := s.str()
		if err != nil {
			return row.Value{}, err
		}
		if vp.isPlaceholder(b) {
			return row.Value{}, colErr(cp, "expected %s (column type %s), found the unavailable-value placeholder, "+
				"which the PostgreSQL connector does not write for such a column", want, cp.spec.Type)
		}
		return row.Value{}, colErr(cp, "expected %s (column type %s), found the string %q", want, cp.spec.Type, truncate(b))
	}
	start := s.i
	if err := s.skip(); err != nil {
		return row.Value{}, err
	}
	return row.Value{}, colErr(cp, "expected %s (column type %s), found %s", want, cp.spec.Type, truncate(s.b[start:s.i]))
}

func tokenKind(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case '"':
		return "a string"
	case 0:
		return "the end of input"
	}
	return "a number"
}

func truncate(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

// textValue reads the content of a JSON string for a column whose values are
// written as strings.
func (vp *valueParser) textValue(cp *colPlan, b []byte) (row.Value, error) {
	switch cp.typ {
	case tChar, tVarchar, tText:
		if cp.length > 0 && len(b) > cp.length {
			if n := utf8.RuneCount(b); n > cp.length {
				return row.Value{}, colErr(cp, "a string of %d characters does not fit %s(%d)", n, cp.spec.Type, cp.length)
			}
		}
		return row.String(vp.text(b)), nil
	case tJSON:
		return row.JSON(vp.text(b)), nil
	case tUUID:
		u, ok := parseUUID(b)
		if !ok {
			return row.Value{}, colErr(cp, "%q is not a uuid", truncate(b))
		}
		return row.UUID(u), nil
	case tTimestampTZ:
		us, err := parseZoned(b)
		if err == errZonedRange {
			return row.Value{}, colErr(cp, "%q is out of the range of a timestamptz here (microseconds since 1970 in an int64, 290309 BC to 294247 AD)", truncate(b))
		}
		if err != nil {
			return row.Value{}, colErr(cp, "%q is not an ISO-8601 timestamp with offset: %v", truncate(b), err)
		}
		return row.TimestampTZ(us), nil
	case tBinary:
		return vp.binaryValue(cp, b)
	case tDecimal:
		return vp.decimalText(cp, b)
	case tBool, tInt8, tInt16, tInt32, tInt64, tDate, tTime, tTimestamp, tFloat32, tFloat64:
		// Map keys are written as strings; read the text as a JSON token.
		var sub scanner
		sub.reset(b)
		v, err := vp.value(&sub, cp)
		if err != nil {
			return row.Value{}, err
		}
		if sub.i != len(b) || v.IsNull() {
			return row.Value{}, colErr(cp, "%q is not a %s", truncate(b), cp.spec.Type)
		}
		return v, nil
	}
	return row.Value{}, colErr(cp, "a string does not fit a %s column", cp.spec.Type)
}

// Integers.

var intRange = [...]struct{ min, max int64 }{
	tInt8:  {math.MinInt8, math.MaxInt8},
	tInt16: {math.MinInt16, math.MaxInt16},
	tInt32: {math.MinInt32, math.MaxInt32},
	tInt64: {math.MinInt64, math.MaxInt64},
	tDate:  {math.MinInt32, math.MaxInt32},
}

func intValue(cp *colPlan, num []byte) (row.Value, error) {
	n, ok := parseInt(num)
	if !ok {
		return row.Value{}, colErr(cp, "%s does not fit %s", truncate(num), cp.spec.Type)
	}
	r := intRange[cp.typ]
	if n < r.min || n > r.max {
		return row.Value{}, colErr(cp, "%d does not fit %s", n, cp.spec.Type)
	}
	switch cp.typ {
	case tInt64:
		return row.Int64(n), nil
	case tDate:
		return row.Date(int32(n)), nil
	}
	return row.Int32(int32(n)), nil
}

// parseInt parses a JSON integer token; false if it has a fraction or
// exponent or overflows int64.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

const microsPerDay = 24 * 60 * 60 * 1_000_000

func temporalValue(cp *colPlan, num []byte) (row.Value, error) {
	n, ok := parseInt(num)
	if !ok {
		return row.Value{}, colErr(cp, "%s is not an integer %s", truncate(num), cp.spec.Type)
	}
	us, ok := toMicros(n, cp.unit)
	if !ok {
		return row.Value{}, colErr(cp, "%d does not fit a %s in microseconds", n, cp.spec.Type)
	}
	if cp.typ == tTime {
		if us < 0 || us > microsPerDay { // 24:00:00 is a valid PostgreSQL time
			return row.Value{}, colErr(cp, "%d microseconds is not a time of day", us)
		}
		return row.Time(us), nil
	}
	return row.Timestamp(us), nil
}

func toMicros(n int64, unit int) (int64, bool) {
	switch unit {
	case unitMilli:
		if n > math.MaxInt64/1000 || n < math.MinInt64/1000 {
			return 0, false
		}
		return n * 1000, true
	case unitNano:
		q := n / 1000
		if n%1000 < 0 {
			q--
		}
		return q, true
	}
	return n, true
}

// Floats.

// floatValue reads a float as Jackson writes it: Float.toString or
// Double.toString, and NaN and the infinities as the strings "NaN",
// "Infinity" and "-Infinity" (UTF8JsonGenerator#writeNumber with
// JsonWriteFeature.WRITE_NAN_AS_STRINGS, on by default).
func (vp *valueParser) floatValue(s *scanner, cp *colPlan) (row.Value, error) {
	var text []byte
	switch s.peek() {
	case '"':
		b, err := s.str()
		if err != nil {
			return row.Value{}, err
		}
		switch string(b) {
		case "NaN", "Infinity", "-Infinity":
		default:
			return row.Value{}, colErr(cp, "expected a number (column type %s), found the string %q", cp.spec.Type, truncate(b))
		}
		text = b
	case '{', '[', 't', 'f':
		return vp.mismatch(s, cp, "a number")
	default:
		num, err := s.number()
		if err != nil {
			return row.Value{}, err
		}
		text = num
	}
	bits := cp.floatBits
	var f float64
	var err error
	switch string(text) {
	case "NaN":
		f = math.NaN()
	case "Infinity":
		f = math.Inf(1)
	case "-Infinity":
		f = math.Inf(-1)
	default:
		f, err = strconv.ParseFloat(bstr(text), bits)
	}
	if err != nil {
		return row.Value{}, colErr(cp, "%s does not fit %s", truncate(text), cp.spec.Type)
	}
	if cp.typ == tFloat32 {
		return row.Float32(float32(f)), nil
	}
	return row.Float64(f), nil
}

// Decimals.

func (vp *valueParser) decimalValue(s *scanner, cp *colPlan) (row.Value, error) {
	switch c := s.peek(); c {
	case '"':
		b, err := s.str()
		if err != nil {
			return row.Value{}, err
		}
		if cp.ph != phNone && vp.isStringPlaceholder(cp, b) {
			return row.Unavailable(), nil
		}
		return vp.decimalText(cp, b)
	case '{':
		return vp.variableScaleDecimal(s, cp)
	case '[', 't', 'f':
		return vp.mismatch(s, cp, "a decimal")
	default:
		num, err := s.number()
		if err != nil {
			return row.Value{}, err
		}
		// decimal.handling.mode=double: a lossy number, rounded to the scale.
		return decimalFromText(cp, num, true)
	}
}

// decimalText reads a decimal written as a string: base64 unscaled bytes in
// precise mode, decimal text in string mode.
func (vp *valueParser) decimalText(cp *colPlan, b []byte) (row.Value, error) {
	if cp.dec != decPrecise {
		if len(b) == 3 && (string(b) == "NaN" || string(b) == "NAN") {
			return row.Value{}, colErr(cp, "NaN does not fit decimal(%d, %d)", cp.precision, cp.scale)
		}
		return decimalFromText(cp, b, false)
	}
	return decimalFromBase64(cp, b, int32(cp.scale))
}

// decimalFromBase64 reads base64 big-endian two's complement unscaled bytes
// with the given scale, rescaling to the column's scale.
func decimalFromBase64(cp *colPlan, b []byte, scale int32) (row.Value, error) {
	var stack [48]byte
	var raw []byte
	if n := base64.StdEncoding.DecodedLen(len(b)); n <= len(stack) {
		raw = stack[:n]
	} else {
		raw = make([]byte, n)
	}
	n, err := base64.StdEncoding.Decode(raw, b)
	if err != nil {
		return row.Value{}, colErr(cp, "%q is not a base64 decimal: %v", truncate(b), err)
	}
	raw = raw[:n]
	if len(raw) == 0 {
		return row.Value{}, colErr(cp, "empty decimal bytes")
	}
	if len(raw) <= 8 {
		u := int64(int8(raw[0])) // sign-extend
		for _, c := range raw[1:] {
			u = u<<8 | int64(c)
		}
		return finishDecimal(cp, u, nil, scale)
	}
	bi := new(big.Int).SetBytes(raw)
	if raw[0]&0x80 != 0 {
		bi.Sub(bi, new(big.Int).Lsh(big.NewInt(1), uint(8*len(raw))))
	}
	return finishDecimal(cp, 0, bi, scale)
}

// variableScaleDecimal reads io.debezium.data.VariableScaleDecimal:
// {"scale": s, "value": base64 unscaled bytes}.
func (vp *valueParser) variableScaleDecimal(s *scanner, cp *colPlan) (row.Value, error) {
	more, err := s.objStart()
	var scale int64
	var value []byte
	haveScale, haveValue := false, false
	for err == nil && more {
		var k []byte
		if k, err = s.objKey(); err != nil {
			break
		}
		switch string(k) {
		case "scale":
			if c := s.peek(); c != '-' && (c < '0' || c > '9') {
				return row.Value{}, colErr(cp, "variable-scale decimal has a scale that is not a number")
			}
			var num []byte
			if num, err = s.number(); err != nil {
				break
			}
			var ok bool
			if scale, ok = parseInt(num); !ok || scale < math.MinInt32 || scale > math.MaxInt32 {
				return row.Value{}, colErr(cp, "variable-scale decimal has scale %s", truncate(num))
			}
			haveScale = true
		case "value":
			if s.peek() != '"' {
				return row.Value{}, colErr(cp, "variable-scale decimal has a value that is not a string")
			}
			var b []byte
			if b, err = s.str(); err != nil {
				break
			}
			value = append([]byte(nil), b...)
			haveValue = true
		default:
			err = s.skip()
		}
		if err == nil {
			more, err = s.objNext()
		}
	}
	if err != nil {
		return row.Value{}, err
	}
	if !haveScale || !haveValue {
		return row.Value{}, colErr(cp, "variable-scale decimal needs scale and value")
	}
	return decimalFromBase64(cp, value, int32(scale))
}

// decimalFromText reads plain or exponent decimal text. A value that needs
// more fractional digits than the column's scale is an error, unless double
// is set (decimal.handling.mode=double: a JSON number), where it is rounded
// half to even.
func decimalFromText(cp *colPlan, b []byte, double bool) (row.Value, error) {
	i := 0
	neg := false
	if i < len(b) && (b[i] == '-' || b[i] == '+') {
		neg = b[i] == '-'
		i++
	}
	digits := make([]byte, 0, 24)
	scale := 0
	seenDigit, seenDot := false, false
digits:
	for ; i < len(b); i++ {
		switch c := b[i]; {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
			seenDigit = true
			if seenDot {
				scale++
			}
		case c == '.' && !seenDot:
			seenDot = true
		default:
			break digits
		}
	}
	if !seenDigit {
		return row.Value{}, colErr(cp, "%q is not a decimal number", truncate(b))
	}
	if i < len(b) {
		if b[i] != 'e' && b[i] != 'E' {
			return row.Value{}, colErr(cp, "%q is not a decimal number", truncate(b))
		}
		e, err := strconv.Atoi(bstr(b[i+1:]))
		if err != nil || e > 1000 || e < -1000 {
			return row.Value{}, colErr(cp, "%q is not a decimal number", truncate(b))
		}
		scale -= e
	}
	bi, ok := new(big.Int).SetString(string(digits), 10)
	if !ok {
		return row.Value{}, colErr(cp, "%q is not a decimal number", truncate(b))
	}
	if neg {
		bi.Neg(bi)
	}
	if double && scale > cp.scale {
		bi = roundHalfEven(bi, scale-cp.scale)
		scale = cp.scale
	}
	v, err := finishDecimal(cp, 0, bi, int32(scale))
	if ve, ok := err.(*valueError); ok && double {
		// The double nearest a value of the column's full precision can be
		// 10^precision (38 nines is 1.0E38): the value does not fit the
		// column, and what the source held is lost. Say so.
		ve.reason += "; with decimal.handling.mode=double values arrive as doubles, which keep only 15 to 17 " +
			"significant digits, so a value near the column's limit can be rounded past it: " +
			"use decimal.handling.mode=precise (or string) to read the source's exact values"
	}
	return v, err
}

func roundHalfEven(v *big.Int, drop int) *big.Int {
	div := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(drop)), nil)
	q, r := new(big.Int).QuoRem(v, div, new(big.Int))
	twice := new(big.Int).Abs(r)
	twice.Lsh(twice, 1)
	switch c := twice.Cmp(div); {
	case c > 0, c == 0 && q.Bit(0) == 1:
		if v.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

var pow10 = func() [19]int64 {
	var p [19]int64
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// finishDecimal brings an unscaled value (u, or bi when not nil) of the
// given scale to the column's scale, exactly, and checks its precision.
func finishDecimal(cp *colPlan, u int64, bi *big.Int, scale int32) (row.Value, error) {
	want := int32(cp.scale)
	if scale != want {
		if bi == nil {
			bi = big.NewInt(u)
		}
		if scale < want {
			bi = new(big.Int).Mul(bi, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(want-scale)), nil))
		} else {
			div := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale-want)), nil)
			q, r := new(big.Int).QuoRem(bi, div, new(big.Int))
			if r.Sign() != 0 {
				return row.Value{}, colErr(cp, "%s has scale %d; it does not fit decimal(%d, %d)",
					row.FormatDecimal(bi, scale), scale, cp.precision, cp.scale)
			}
			bi = q
		}
	}
	if bi != nil && bi.IsInt64() {
		u, bi = bi.Int64(), nil
	}
	if bi == nil {
		if cp.maxInt > 0 && (u >= cp.maxInt || u <= -cp.maxInt) {
			return row.Value{}, colErr(cp, "%s does not fit decimal(%d, %d)", row.FormatDecimal(big.NewInt(u), want), cp.precision, cp.scale)
		}
		return row.Decimal(u, want), nil
	}
	if cp.maxDigits != nil && new(big.Int).Abs(bi).Cmp(cp.maxDigits) >= 0 {
		return row.Value{}, colErr(cp, "%s does not fit decimal(%d, %d)", row.FormatDecimal(bi, want), cp.precision, cp.scale)
	}
	return row.BigDecimal(bi, want), nil
}

// Binary.

func (vp *valueParser) binaryValue(cp *colPlan, b []byte) (row.Value, error) {
	var enc *base64.Encoding
	switch cp.bin {
	case binHex:
	case binBase64URL:
		enc = base64.URLEncoding
	default:
		enc = base64.StdEncoding
	}
	var out []byte
	var err error
	if enc == nil {
		out = make([]byte, hex.DecodedLen(len(b)))
		_, err = hex.Decode(out, b)
	} else {
		out = make([]byte, enc.DecodedLen(len(b)))
		var n int
		n, err = enc.Decode(out, b)
		out = out[:n]
	}
	if err != nil {
		return row.Value{}, colErr(cp, "%q is not binary in the %s encoding: %v", truncate(b), binName(cp.bin), err)
	}
	if len(out) == 0 {
		return row.Binary(""), nil
	}
	return row.Binary(unsafe.String(&out[0], len(out))), nil // out is not kept elsewhere
}

func binName(b int) string {
	switch b {
	case binHex:
		return "hex"
	case binBase64URL:
		return "base64-url-safe"
	}
	return "base64"
}

// UUIDs.

func parseUUID(b []byte) ([16]byte, bool) {
	var u [16]byte
	if len(b) != 36 || b[8] != '-' || b[13] != '-' || b[18] != '-' || b[23] != '-' {
		return u, false
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
			continue
		}
		hi, ok1 := unhex(b[i])
		lo, ok2 := unhex(b[i+1])
		if !ok1 || !ok2 {
			return u, false
		}
		u[j] = hi<<4 | lo
		j++
		i += 2
	}
	return u, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// Zoned timestamps: io.debezium.time.ZonedTimestamp, ISO-8601 with an
// offset (Debezium writes UTC, "Z").

// errZonedRange is a timestamp outside the int64 microseconds since 1970.
var errZonedRange = errors.New("out of range")

// parseZoned reads an ISO-8601 timestamp with offset to UTC microseconds.
// PostgreSQL's infinity and -infinity, which Debezium writes as "infinity"
// and "-infinity", read as the largest and smallest int64; so no timestamp
// may read as either.
func parseZoned(b []byte) (int64, error) {
	switch us, st := parseZonedFast(b); st {
	case zonedOK:
		return us, nil
	case zonedRange:
		return 0, errZonedRange
	}
	switch string(b) {
	case "infinity", "+infinity":
		return math.MaxInt64, nil
	case "-infinity":
		return math.MinInt64, nil
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return 0, err
	}
	return t.Unix()*1_000_000 + int64(t.Nanosecond()/1000), nil
}

// What parseZonedFast made of its input.
const (
	zonedOK    = iota
	zonedOther // not its form; try the general parser
	zonedRange // its form, but out of range
)

// Microseconds since 1970 in an int64 run from 290309 BC (ISO year
// -290308) to 294247 AD; PostgreSQL's timestamptz from 4713 BC to 294276
// AD, whose last 29 years do not fit.
const (
	maxZonedSecs = math.MaxInt64 / 1_000_000
	minZonedSecs = math.MinInt64 / 1_000_000
)

// parseZonedFast handles YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM), and years
// as java.time writes them outside 0000 to 9999: a sign and at least four
// digits (+10000-01-01T00:00:00Z, -0001-01-01T00:00:00Z; year -1 is 2 BC).
func parseZonedFast(b []byte) (int64, int) {
	// The year: four digits, or a sign and four or more.
	year, n := 0, 4
	switch {
	case len(b) < 20:
		return 0, zonedOther
	case b[0] == '+' || b[0] == '-':
		n = 1
		for n < len(b) && b[n] >= '0' && b[n] <= '9' {
			if n > 9 { // more than nine digits: far out of range
				return 0, zonedRange
			}
			year = year*10 + int(b[n]-'0')
			n++
		}
		if n < 5 {
			return 0, zonedOther
		}
		if b[0] == '-' {
			year = -year
		}
		b = b[n-4:] // the rest at the offsets of a four-digit year
	default:
		for _, c := range b[:4] {
			if c < '0' || c > '9' {
				return 0, zonedOther
			}
			year = year*10 + int(c-'0')
		}
	}
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != ' ') || b[13] != ':' || b[16] != ':' {
		return 0, zonedOther
	}
	num := func(i, n int) (int, bool) {
		v := 0
		for _, c := range b[i : i+n] {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	month, ok2 := num(5, 2)
	day, ok3 := num(8, 2)
	hour, ok4 := num(11, 2)
	minute, ok5 := num(14, 2)
	sec, ok6 := num(17, 2)
	if !(ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > daysIn(year, month) || hour > 23 || minute > 59 || sec > 59 {
		return 0, zonedOther
	}
	i := 19
	frac := int64(0)
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if i-start < 6 {
				frac = frac*10 + int64(b[i]-'0')
			}
			i++
		}
		n := i - start
		if n == 0 || n > 9 {
			return 0, zonedOther
		}
		for k := n; k < 6; k++ {
			frac *= 10
		}
	}
	offset := 0
	switch {
	case i == len(b)-1 && b[i] == 'Z':
	case i+6 == len(b) && (b[i] == '+' || b[i] == '-') && b[i+3] == ':':
		oh, ok1 := num(i+1, 2)
		om, ok2 := num(i+4, 2)
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return 0, zonedOther
		}
		offset = oh*3600 + om*60
		if b[i] == '-' {
			offset = -offset
		}
	default:
		return 0, zonedOther
	}
	days := daysFromCivil(year, month, day) // |year| < 10^9: no overflow
	secs := days*86400 + int64(hour*3600+minute*60+sec) - int64(offset)
	// secs*1e6+frac must fit, and not be math.MaxInt64 or math.MinInt64,
	// which are infinity and -infinity.
	if secs < minZonedSecs || secs > maxZonedSecs || secs == maxZonedSecs && frac >= math.MaxInt64%1_000_000 {
		return 0, zonedRange
	}
	return secs*1_000_000 + frac, zonedOK
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is the number of days from 1970-01-01 to y-m-d in the
// proleptic Gregorian calendar.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// Nested values.

func (vp *valueParser) structValue(s *scanner, cp *colPlan) (row.Value, error) {
	if s.peek() != '{' {
		return vp.mismatch(s, cp, "an object")
	}
	fields := make([]row.Value, len(cp.fields))
	seen := make([]bool, len(cp.fields))
	more, err := s.objStart()
	for err == nil && more {
		var k []byte
		if k, err = s.objKey(); err != nil {
			err = inColumn(cp, err)
			break
		}
		i, ok := cp.fieldIdx[bstr(k)]
		if !ok {
			err = inColumn(cp, s.skip())
		} else {
			if seen[i] {
				return row.Value{}, colErr(cp.fields[i], "appears twice")
			}
			seen[i] = true
			var v row.Value
			if v, err = vp.value(s, cp.fields[i]); err != nil {
				err = inColumn(cp.fields[i], err)
				break
			}
			if v.IsNull() && !cp.fields[i].nullable {
				return row.Value{}, colErr(cp.fields[i], "null in a field that is not nullable")
			}
			fields[i] = v
		}
		if err == nil {
			more, err = s.objNext()
		}
	}
	if err != nil {
		return row.Value{}, err
	}
	for i, f := range cp.fields {
		if !seen[i] && !f.nullable {
			return row.Value{}, colErr(f, "missing, and the field is not nullable")
		}
	}
	return row.Struct(fields), nil
}

func (vp *valueParser) listValue(s *scanner, cp *colPlan) (row.Value, error) {
	if s.peek() != '[' {
		return vp.mismatch(s, cp, "an array")
	}
	if cp.ph == phOneElement && vp.isWrappedPlaceholder(s, cp) {
		return row.Unavailable(), nil
	}
	var elems []row.Value
	more, err := s.arrStart()
	for err == nil && more {
		var v row.Value
		if v, err = vp.value(s, cp.elem); err != nil {
			err = inColumn(cp.elem, err)
			break
		}
		if v.IsNull() && !cp.elem.nullable {
			return row.Value{}, colErr(cp.elem, "null element in a list whose elements are not nullable")
		}
		elems = append(elems, v)
		more, err = s.arrNext()
	}
	if err != nil {
		return row.Value{}, err
	}
	if cp.ph != phNone && vp.isListPlaceholder(cp, elems) {
		return row.Unavailable(), nil
	}
	if elems == nil {
		elems = []row.Value{}
	}
	return row.List(elems), nil
}

// mapValue reads a map written as a JSON object (string keys, as the
// JsonConverter writes maps with string keys) or as an array of [key, value]
// pairs (how it writes maps with other keys).
func (vp *valueParser) mapValue(s *scanner, cp *colPlan) (row.Value, error) {
	if cp.ph == phHstore && s.peek() == '{' && vp.isWrappedPlaceholder(s, cp) {
		return row.Unavailable(), nil
	}
	var entries []row.MapEntry
	add := func(k, v row.Value) error {
		if k.IsNull() {
			return colErr(cp.key, "null map key")
		}
		if v.IsNull() && !cp.val.nullable {
			return colErr(cp.val, "null map value where values are not nullable")
		}
		entries = append(entries, row.MapEntry{Key: k, Value: v})
		return nil
	}
	switch s.peek() {
	case '{':
		more, err := s.objStart()
		for err == nil && more {
			var kb []byte
			if kb, err = s.objKey(); err != nil {
				err = inColumn(cp.key, err)
				break
			}
			var k, v row.Value
			if k, err = vp.textValue(cp.key, kb); err != nil {
				break
			}
			if v, err = vp.value(s, cp.val); err != nil {
				err = inColumn(cp.val, err)
				break
			}
			if err = add(k, v); err != nil {
				break
			}
			more, err = s.objNext()
		}
		if err != nil {
			return row.Value{}, err
		}
	case '[':
		more, err := s.arrStart()
		for err == nil && more {
			var k, v row.Value
			var inner bool
			if s.peek() != '[' {
				return row.Value{}, colErr(cp, "a map entry must be a [key, value] pair")
			}
			if inner, err = s.arrStart(); err != nil {
				break
			}
			if !inner {
				return row.Value{}, colErr(cp, "a map entry must be a [key, value] pair")
			}
			if k, err = vp.value(s, cp.key); err != nil {
				err = inColumn(cp.key, err)
				break
			}
			if inner, err = s.arrNext(); err != nil {
				break
			}
			if !inner {
				return row.Value{}, colErr(cp, "a map entry must be a [key, value] pair")
			}
			if v, err = vp.value(s, cp.val); err != nil {
				err = inColumn(cp.val, err)
				break
			}
			if inner, err = s.arrNext(); err != nil {
				break
			}
			if inner {
				return row.Value{}, colErr(cp, "a map entry must be a [key, value] pair")
			}
			if err = add(k, v); err != nil {
				break
			}
			more, err = s.arrNext()
		}
		if err != nil {
			return row.Value{}, err
		}
	default:
		return vp.mismatch(s, cp, "an object")
	}
	if entries == nil {
		entries = []row.MapEntry{}
	}
	return row.Map(entries), nil
}
