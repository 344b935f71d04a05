package row

import (
	"math"
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAccessors(t *testing.T) {
	u := [16]byte{0x55, 0x0e, 0x84, 0x00, 0xe2, 0x9b, 0x41, 0xd4, 0xa7, 0x16, 0x44, 0x66, 0x55, 0x44, 0x00, 0xff}
	assert.Equal(t, u, UUID(u).UUIDBytes())
	assert.Equal(t, "550e8400-e29b-41d4-a716-4466554400ff", UUID(u).String())
	assert.True(t, Bool(true).Bool())
	assert.Equal(t, float64(float32(0.1)), Float32(0.1).Float())
	assert.Equal(t, int64(-5), Int32(-5).Int())
	assert.Equal(t, "12.34", Decimal(1234, 2).String())
	assert.Equal(t, "-0.05", Decimal(-5, 2).String())
	big1, _ := new(big.Int).SetString("123456789012345678901234567", 10)
	assert.Equal(t, "12345678901234567890123.4567", BigDecimal(big1, 4).String())
	n, ok := BigDecimal(big.NewInt(7), 1).DecimalInt64()
	assert.True(t, ok)
	assert.Equal(t, int64(7), n)
	_, ok = BigDecimal(big1, 4).DecimalInt64()
	assert.False(t, ok)
	assert.Equal(t, 0, big1.Cmp(BigDecimal(big1, 4).Unscaled()))
	assert.Equal(t, []byte{1, 2}, Binary("\x01\x02").Bytes())
	assert.True(t, Null().IsNull())
	assert.True(t, Unavailable().IsUnavailable())
	assert.Equal(t, KindNull, Value{}.Kind())
}

func TestEqual(t *testing.T) {
	big1, _ := new(big.Int).SetString("123456789012345678901234567", 10)
	same := [][2]Value{
		{Null(), Null()},
		{Unavailable(), Unavailable()},
		{Decimal(5, 2), BigDecimal(big.NewInt(5), 2)},
		{BigDecimal(big1, 4), BigDecimal(new(big.Int).Set(big1), 4)},
		{Float64(math.NaN()), Float64(math.NaN())},
		{List([]Value{String("a")}), List([]Value{String("a")})},
		{Map([]MapEntry{{String("k"), Int32(1)}}), Map([]MapEntry{{String("k"), Int32(1)}})},
	}
	for _, p := range same {
		assert.True(t, Equal(p[0], p[1]), "%s == %s", p[0], p[1])
	}
	different := [][2]Value{
		{Null(), Unavailable()},
		{Int32(1), Int64(1)},
		{Decimal(5, 2), Decimal(5, 3)},
		{Decimal(5, 2), BigDecimal(big1, 2)},
		{String("a"), JSON("a")},
		{Timestamp(1), TimestampTZ(1)},
		{Struct([]Value{Int32(1)}), Struct([]Value{Int32(2)})},
		{List([]Value{String("a")}), List([]Value{String("a"), String("b")})},
		{Map([]MapEntry{{String("k"), Int32(1)}}), Map([]MapEntry{{String("k"), Int32(2)}})},
	}
	for _, p := range different {
		assert.False(t, Equal(p[0], p[1]), "%s != %s", p[0], p[1])
	}
}

func TestKeyEncodingIsUnambiguous(t *testing.T) {
	keys := [][]Value{
		{String("ab"), String("c")},
		{String("a"), String("bc")},
		{String("abc")},
		{Int64(1)},
		{Int32(1)},
		{Int64(1), Int64(2)},
		{Int64(2), Int64(1)},
		{Decimal(1, 2)},
		{Decimal(1, 3)},
		{BigDecimal(new(big.Int).Lsh(big.NewInt(1), 70), 0)},
		{BigDecimal(new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 70)), 0)},
		{UUID([16]byte{1})},
		{Binary("abc")},
		{Date(1)},
		{Null()},
	}
	seen := map[string]int{}
	for i, k := range keys {
		s := KeyString(k)
		if j, dup := seen[s]; dup {
			t.Errorf("keys %d and %d encode the same", i, j)
		}
		seen[s] = i
		assert.Equal(t, s, KeyString(append([]Value(nil), k...)))
	}
	assert.Equal(t, KeyString([]Value{Decimal(5, 2)}), KeyString([]Value{BigDecimal(big.NewInt(5), 2)}))
}
