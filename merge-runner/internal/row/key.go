package row

import (
	"encoding/binary"
	"math/big"
)

// AppendKey appends a canonical, unambiguous binary encoding of vals to dst:
// equal value sequences (by Equal) encode to equal bytes and different ones
// to different bytes. Use string(AppendKey(nil, key)) as a map key.
func AppendKey(dst []byte, vals []Value) []byte {
	for _, v := range vals {
		dst = appendValue(dst, v)
	}
	return dst
}

// KeyString is string(AppendKey(nil, vals)).
func KeyString(vals []Value) string { return string(AppendKey(make([]byte, 0, 32), vals)) }

func appendValue(dst []byte, v Value) []byte {
	dst = append(dst, byte(v.kind))
	switch v.kind {
	case KindNull, KindUnavailable:
	case KindDecimal:
		dst = binary.BigEndian.AppendUint32(dst, uint32(int32(v.m)))
		if b, ok := v.x.(*big.Int); ok {
			dst = append(dst, 1, byte(b.Sign()+1))
			raw := b.Bytes()
			dst = binary.BigEndian.AppendUint32(dst, uint32(len(raw)))
			dst = append(dst, raw...)
		} else {
			dst = append(dst, 0)
			dst = binary.BigEndian.AppendUint64(dst, uint64(v.n))
		}
	case KindString, KindJSON, KindBinary:
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(v.s)))
		dst = append(dst, v.s...)
	case KindStruct, KindList:
		elems := v.x.([]Value)
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(elems)))
		dst = AppendKey(dst, elems)
	case KindMap:
		entries := v.Entries()
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(entries)))
		for _, e := range entries {
			dst = appendValue(dst, e.Key)
			dst = appendValue(dst, e.Value)
		}
	case KindUUID:
		dst = binary.BigEndian.AppendUint64(dst, uint64(v.n))
		dst = binary.BigEndian.AppendUint64(dst, uint64(v.m))
	default:
		dst = binary.BigEndian.AppendUint64(dst, uint64(v.n))
	}
	return dst
}
