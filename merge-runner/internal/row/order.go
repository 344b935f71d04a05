package row

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Compare orders two values of one key column: numbers, dates and times by
// value, strings and bytes bytewise (PostgreSQL's order under the C
// collation, and bytea's), uuids by their bytes (PostgreSQL's uuid_cmp),
// false before true. Values of different kinds order by kind; nulls first.
func Compare(a, b Value) int {
	if a.kind != b.kind {
		return cmp.Compare(a.kind, b.kind)
	}
	switch a.kind {
	case KindNull, KindUnavailable:
		return 0
	case KindString, KindJSON, KindBinary:
		return strings.Compare(a.s, b.s)
	case KindDecimal:
		if a.x == nil && b.x == nil && a.m == b.m {
			return cmp.Compare(a.n, b.n)
		}
		return compareDecimal(a, b)
	case KindUUID:
		if c := cmp.Compare(uint64(a.n), uint64(b.n)); c != 0 {
			return c
		}
		return cmp.Compare(uint64(a.m), uint64(b.m))
	case KindFloat32, KindFloat64:
		return cmp.Compare(a.Float(), b.Float())
	}
	return cmp.Compare(a.n, b.n)
}

// compareDecimal compares decimals of any scales.
func compareDecimal(a, b Value) int {
	x, y := a.Unscaled(), b.Unscaled()
	ten := big.NewInt(10)
	for s := a.m; s < b.m; s++ {
		x.Mul(x, ten)
	}
	for s := b.m; s < a.m; s++ {
		y.Mul(y, ten)
	}
	return x.Cmp(y)
}

// CompareKeys orders keys column by column.
func CompareKeys(a, b []Value) int {
	for i := range a {
		if c := Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// DecodeKey reads n values that AppendKey wrote at the start of b, and
// returns them and the bytes after them. Nested values (a whole row's
// structs, lists and maps) decode too.
func DecodeKey(b []byte, n int) ([]Value, []byte, error) {
	return decodeValues(b, n, 0)
}

// maxDepth bounds the nesting a decoding follows, so a damaged encoding
// cannot exhaust the stack.
const maxDepth = 100

func decodeValues(b []byte, n, depth int) ([]Value, []byte, error) {
	if n > len(b) { // every value takes at least its kind byte
		return nil, nil, errShort
	}
	out := make([]Value, n)
	for i := range out {
		var err error
		if out[i], b, err = decodeValue(b, depth); err != nil {
			return nil, nil, err
		}
	}
	return out, b, nil
}

var errShort = errors.New("row: a key encoding ends early")

func decodeValue(b []byte, depth int) (Value, []byte, error) {
	if len(b) == 0 {
		return Value{}, nil, errShort
	}
	v := Value{kind: Kind(b[0])}
	b = b[1:]
	u32 := func() (int, bool) {
		if len(b) < 4 {
			return 0, false
		}
		n := int(binary.BigEndian.Uint32(b))
		b = b[4:]
		return n, true
	}
	u64 := func() (int64, bool) {
		if len(b) < 8 {
			return 0, false
		}
		n := int64(binary.BigEndian.Uint64(b))
		b = b[8:]
		return n, true
	}
	switch v.kind {
	case KindNull, KindUnavailable:
	case KindDecimal:
		scale, ok := u32()
		if !ok || len(b) < 1 {
			return Value{}, nil, errShort
		}
		v.m = int64(int32(uint32(scale)))
		form := b[0]
		b = b[1:]
		if form == 0 {
			if v.n, ok = u64(); !ok {
				return Value{}, nil, errShort
			}
			break
		}
		if len(b) < 1 {
			return Value{}, nil, errShort
		}
		sign := int(b[0]) - 1
		b = b[1:]
		l, ok := u32()
		if !ok || len(b) < l {
			return Value{}, nil, errShort
		}
		x := new(big.Int).SetBytes(b[:l])
		if sign < 0 {
			x.Neg(x)
		}
		b = b[l:]
		v.x = x
	case KindString, KindJSON, KindBinary:
		l, ok := u32()
		if !ok || len(b) < l {
			return Value{}, nil, errShort
		}
		v.s = string(b[:l])
		b = b[l:]
	case KindStruct, KindList, KindMap:
		if depth >= maxDepth {
			return Value{}, nil, fmt.Errorf("row: values nested deeper than %d", maxDepth)
		}
		n, ok := u32()
		if !ok {
			return Value{}, nil, errShort
		}
		if v.kind != KindMap {
			elems, rest, err := decodeValues(b, n, depth+1)
			if err != nil {
				return Value{}, nil, err
			}
			v.x, b = elems, rest
			break
		}
		if 2*n > len(b) {
			return Value{}, nil, errShort
		}
		entries := make([]MapEntry, n)
		for i := range entries {
			var err error
			if entries[i].Key, b, err = decodeValue(b, depth+1); err != nil {
				return Value{}, nil, err
			}
			if entries[i].Value, b, err = decodeValue(b, depth+1); err != nil {
				return Value{}, nil, err
			}
		}
		v.x = entries
	case KindUUID:
		var ok1, ok2 bool
		v.n, ok1 = u64()
		v.m, ok2 = u64()
		if !ok1 || !ok2 {
			return Value{}, nil, errShort
		}
	default:
		if v.kind > KindMap {
			return Value{}, nil, fmt.Errorf("row: unknown kind %d in a key encoding", v.kind)
		}
		var ok bool
		if v.n, ok = u64(); !ok {
			return Value{}, nil, errShort
		}
	}
	return v, b, nil
}
