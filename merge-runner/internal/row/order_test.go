package row

import (
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeKeyInvertsAppendKey(t *testing.T) {
	huge, _ := new(big.Int).SetString("-123456789012345678901234567890", 10)
	keys := [][]Value{
		{Int64(-5), String("a\x00b"), Bool(true)},
		{Int32(7), Decimal(-12345, 2), BigDecimal(huge, 4)},
		{Date(-3), Time(5), Timestamp(-1), TimestampTZ(1 << 40), UUID([16]byte{1, 2, 3, 250}), Binary("\xff\x00")},
		{Null(), Float64(2.5), Float32(-1)},
	}
	for _, k := range keys {
		enc := AppendKey([]byte("x"), k)[1:]
		got, rest, err := DecodeKey(append(enc, 9), len(k))
		require.NoError(t, err)
		assert.Equal(t, []byte{9}, rest)
		require.Len(t, got, len(k))
		for i := range k {
			assert.True(t, Equal(k[i], got[i]), "%v != %v", k[i], got[i])
		}
	}
	_, _, err := DecodeKey(AppendKey(nil, []Value{String("abc")})[:3], 1)
	assert.Error(t, err)
}

// Whole rows, nested columns among them, decode too: reconcile spills rows
// in this encoding and reads back the ones that differ.
func TestDecodeKeyInvertsAppendKeyNested(t *testing.T) {
	nested := []Value{
		Struct([]Value{Int64(1), List([]Value{String("a"), Null()}), Map([]MapEntry{{Key: String("k"), Value: Decimal(5, 1)}})}),
		List(nil),
		Map([]MapEntry{{Key: Int32(1), Value: Struct([]Value{Bool(false)})}, {Key: Int32(2), Value: Null()}}),
		JSON(`{"a":1}`),
	}
	enc := AppendKey(nil, nested)
	got, rest, err := DecodeKey(enc, len(nested))
	require.NoError(t, err)
	assert.Empty(t, rest)
	for i := range nested {
		assert.True(t, Equal(nested[i], got[i]), "%v != %v", nested[i].Display(), got[i].Display())
	}
	for cut := 1; cut < len(enc); cut++ {
		_, _, err := DecodeKey(enc[:cut], len(nested))
		assert.Error(t, err, "cut at %d", cut)
	}
	// A count larger than the bytes left is refused before anything is
	// allocated for it.
	_, _, err = DecodeKey([]byte{byte(KindList), 0xff, 0xff, 0xff, 0xff}, 1)
	assert.Error(t, err)
}

func TestCompare(t *testing.T) {
	huge, _ := new(big.Int).SetString("100000000000000000000000", 10)
	for _, c := range []struct{ a, b Value }{
		{Int64(-2), Int64(1)},
		{String("B"), String("a")}, // bytewise: upper case first, as the C collation
		{String("a"), String("ab")},
		{String("z"), String("é")}, // UTF-8 bytes order as code points
		{Binary("\x00"), Binary("\x00\x00")},
		{Decimal(-101, 2), Decimal(-100, 2)},
		{Decimal(5, 0), BigDecimal(huge, 2)},
		{UUID([16]byte{0x7f}), UUID([16]byte{0x80})}, // unsigned bytes
		{Bool(false), Bool(true)},
		{TimestampTZ(-1), TimestampTZ(0)},
	} {
		assert.Equal(t, -1, Compare(c.a, c.b), "%v < %v", c.a, c.b)
		assert.Equal(t, 1, Compare(c.b, c.a))
		assert.Equal(t, 0, Compare(c.a, c.a))
	}
	assert.Equal(t, 0, Compare(Decimal(100, 2), Decimal(1, 0)), "equal values of different scales")
	assert.Equal(t, -1, CompareKeys([]Value{Int64(1), String("b")}, []Value{Int64(1), String("c")}))
}
