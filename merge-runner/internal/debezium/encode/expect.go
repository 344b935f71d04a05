package encode

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

// Expect returns the row the decoder should read back from image, as this
// encoder writes it:
//
//   - a Null in a non-key column that is not nullable is the connector's
//     fallback (false, 0, 0.0, a zero decimal, "", empty bytes, the epoch,
//     an empty list or map, a struct of fallbacks);
//   - an unchanged TOAST value (row.Unavailable()) is Unavailable where the
//     connector writes a placeholder, and Null where it writes null (bytea
//     in the base64 modes, numeric in precise and double mode, arrays
//     without a placeholder form);
//   - a time list in a millisecond mode is Null (its values fail the
//     connector's MicroTime items schema);
//   - times and timestamps written in milliseconds are floored to the
//     millisecond; timestamptz values lose the fraction digits beyond the
//     column's precision (floored);
//   - decimals are at the column's scale (a numeric without precision in
//     string mode at the value's own); in double mode they are the nearest
//     float64's shortest decimal rounded half to even to the scale.
//
// It is an error when the encoder refuses the image, and when the decoder
// should: a value of the wrong kind, a null where a nested type is not
// nullable, a decimal with more fraction digits than its scale, or a
// fallback the decoder cannot read (a NOT NULL uuid, whose fallback is "").
func (e *Encoder) Expect(image []row.Value) ([]row.Value, error) {
	if image == nil {
		return nil, nil
	}
	if len(image) != len(e.cols) {
		return nil, fmt.Errorf("encode: the image has %d values for %d columns", len(image), len(e.cols))
	}
	out := make([]row.Value, len(image))
	for i, c := range e.cols {
		v := image[i]
		var err error
		switch {
		case v.IsNull() && !c.nullable && !e.isKey[i]:
			out[i], err = fallbackValue(c)
		case v.IsUnavailable():
			if e.isKey[i] {
				return nil, fmt.Errorf("encode: key column %s is unavailable", c.path)
			}
			if _, err = e.ph.appendColumn(nil, c); err == nil {
				out[i] = v
				if c.toast == toastNull {
					out[i] = row.Null()
				}
			}
		default:
			if _, err = appendValue(nil, c, v); err == nil {
				out[i], err = expectValue(c, v)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func fallbackValue(c *col) (row.Value, error) {
	switch c.typ {
	case tBool:
		return row.Bool(false), nil
	case tInt8, tInt16, tInt32:
		return row.Int32(0), nil
	case tInt64:
		return row.Int64(0), nil
	case tFloat32:
		return row.Float32(0), nil
	case tFloat64:
		return row.Float64(0), nil
	case tDecimal:
		return row.Decimal(0, c.scale), nil
	case tChar, tVarchar, tText:
		return row.String(""), nil
	case tJSON:
		return row.JSON(""), nil
	case tBinary:
		return row.Binary(""), nil
	case tDate:
		return row.Date(0), nil
	case tTime:
		return row.Time(0), nil
	case tTimestamp:
		return row.Timestamp(0), nil
	case tTimestampTZ:
		return row.TimestampTZ(0), nil
	case tList:
		return row.List([]row.Value{}), nil
	case tMap:
		return row.Map([]row.MapEntry{}), nil
	case tStruct:
		fields := make([]row.Value, len(c.fields))
		for i, f := range c.fields {
			if !f.nullable {
				v, err := fallbackValue(f)
				if err != nil {
					return row.Value{}, err
				}
				fields[i] = v
			}
		}
		return row.Struct(fields), nil
	}
	return row.Value{}, fmt.Errorf("encode: column %s: the connector writes \"\" for a null in a NOT NULL %s column, which the decoder cannot read",
		c.path, c.spec.Type)
}

func expectValue(c *col, v row.Value) (row.Value, error) {
	switch v.Kind() {
	case row.KindNull:
		return v, nil
	case row.KindUnavailable:
		return row.Value{}, fmt.Errorf("encode: %s: a nested value cannot be unavailable", c.path)
	}
	if v.Kind() != kinds[c.typ] {
		return row.Value{}, fmt.Errorf("encode: column %s (%s) cannot hold a %s value", c.path, c.spec.Type, v.Kind())
	}
	switch c.typ {
	case tFloat32:
		if math.IsNaN(v.Float()) {
			return row.Float32(float32(math.NaN())), nil // written "NaN"
		}
	case tFloat64:
		if math.IsNaN(v.Float()) {
			return row.Float64(math.NaN()), nil
		}
	case tTime:
		if !c.micros {
			return row.Time(floorDiv(v.Int(), 1000) * 1000), nil
		}
	case tTimestamp:
		if !c.micros {
			return row.Timestamp(floorDiv(v.Int(), 1000) * 1000), nil
		}
	case tTimestampTZ:
		us := v.Int()
		if c.width > 0 && c.width < 6 && us != math.MaxInt64 && us != math.MinInt64 {
			q := int64(math.Pow10(6 - c.width))
			return row.TimestampTZ(floorDiv(us, q) * q), nil
		}
	case tDecimal:
		if c.dec == decDouble {
			f, _ := strconv.ParseFloat(row.FormatDecimal(v.Unscaled(), v.Scale()), 64)
			return roundedDouble(f, c.scale), nil
		}
		if c.variable {
			// Written at its own scale (trailing zeros stripped in precise
			// mode): the decoder brings it to the column's scale, which may
			// refuse it.
			u, s := stripped(v)
			if r, ok := decimalAt(row.BigDecimal(u, s), c.scale); ok {
				return row.BigDecimal(r, c.scale), nil
			}
			return row.Value{}, fmt.Errorf("encode: column %s: %s has more fraction digits than the column's scale %d",
				c.path, row.FormatDecimal(v.Unscaled(), v.Scale()), c.scale)
		}
		u, ok := decimalAt(v, c.scale)
		if !ok {
			return row.Value{}, fmt.Errorf("encode: column %s: %s has more fraction digits than the column's scale %d",
				c.path, row.FormatDecimal(v.Unscaled(), v.Scale()), c.scale)
		}
		return row.BigDecimal(u, c.scale), nil
	case tStruct:
		fields := v.Fields()
		if len(fields) != len(c.fields) {
			return row.Value{}, fmt.Errorf("encode: struct %s has %d fields, the value %d", c.path, len(c.fields), len(fields))
		}
		out := make([]row.Value, len(fields))
		for i, f := range c.fields {
			x, err := expectNested(f, fields[i])
			if err != nil {
				return row.Value{}, err
			}
			out[i] = x
		}
		return row.Struct(out), nil
	case tList:
		if c.lost {
			return row.Null(), nil
		}
		elems := v.Elems()
		out := make([]row.Value, len(elems))
		for i, el := range elems {
			x, err := expectNested(c.elem, el)
			if err != nil {
				return row.Value{}, err
			}
			out[i] = x
		}
		return row.List(out), nil
	case tMap:
		entries := v.Entries()
		out := make([]row.MapEntry, len(entries))
		for i, en := range entries {
			if en.Key.IsNull() {
				return row.Value{}, fmt.Errorf("encode: map %s has a null key", c.path)
			}
			k, err := expectValue(c.key, en.Key)
			if err != nil {
				return row.Value{}, err
			}
			x, err := expectNested(c.val, en.Value)
			if err != nil {
				return row.Value{}, err
			}
			out[i] = row.MapEntry{Key: k, Value: x}
		}
		return row.Map(out), nil
	}
	return v, nil
}

// expectNested is expectValue for a struct field, list element or map value,
// where a null must be allowed by the spec.
func expectNested(c *col, v row.Value) (row.Value, error) {
	if v.IsNull() && !c.nullable {
		return row.Value{}, fmt.Errorf("encode: %s is null but not nullable", c.path)
	}
	return expectValue(c, v)
}

// roundedDouble is what the decoder makes of a decimal written as the
// float64 f: its shortest decimal rounded half to even to scale.
func roundedDouble(f float64, scale int32) row.Value {
	s := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±x
	mant, exp, _ := strings.Cut(s, "e")
	x, _ := strconv.Atoi(exp)
	neg := strings.HasPrefix(mant, "-")
	mant = strings.TrimPrefix(mant, "-")
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	u, _ := new(big.Int).SetString(digits, 10)
	if neg {
		u.Neg(u)
	}
	sc := int64(len(frac)) - int64(x) // the value is u * 10^-sc
	switch {
	case sc > int64(scale):
		u = roundHalfEven(u, sc-int64(scale))
	case sc < int64(scale):
		u.Mul(u, pow10(int64(scale)-sc))
	}
	return row.BigDecimal(u, scale)
}

func roundHalfEven(v *big.Int, drop int64) *big.Int {
	div := pow10(drop)
	q, r := new(big.Int).QuoRem(v, div, new(big.Int))
	twice := new(big.Int).Abs(r)
	twice.Lsh(twice, 1)
	if c := twice.Cmp(div); c > 0 || c == 0 && q.Bit(0) == 1 {
		if v.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}
