package model_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/model"
)

func col(t *testing.T, name, typ string, nullable ...bool) model.Column {
	t.Helper()
	dt, err := model.ParseDataType(typ)
	require.NoError(t, err)
	c := model.Column{Name: name, TypeSpec: model.TypeSpec{Type: dt}}
	if len(nullable) > 0 {
		c.Nullable = model.OptBool{Set: true, Value: nullable[0]}
	}
	return c
}

func TestCompareScalarTypes(t *testing.T) {
	cases := []struct {
		old, new string
		allowed  bool
		rule     string
	}{
		{"varchar(20)", "varchar(40)", true, "widen-string"},
		{"varchar(40)", "varchar(20)", false, "narrow"},
		{"varchar(20)", "text", true, "widen-string"},
		{"text", "varchar(20)", false, "narrow"},
		{"char(2)", "varchar(2)", true, "widen-string"},
		{"int8", "int16", true, "widen-int"},
		{"int16", "int32", true, "widen-int"},
		{"int32", "int64", true, "widen-int"},
		{"int64", "int32", false, "narrow"},
		{"float32", "float64", true, "widen-float"},
		{"float64", "float32", false, "narrow"},
		{"decimal(10,2)", "decimal(12,2)", true, "widen-decimal"},
		{"decimal(12,2)", "decimal(10,2)", false, "narrow"},
		{"decimal(10,2)", "decimal(12,3)", false, "type-change"},
		{"int32", "varchar(10)", false, "type-change"},
		{"date", "timestamp", false, "type-change"},
		{"timestamp", "timestamptz", false, "type-change"},
	}
	for _, c := range cases {
		t.Run(c.old+"->"+c.new, func(t *testing.T) {
			o, n := col(t, "c", c.old), col(t, "c", c.new)
			ev := model.CompareColumn(&o, &n, false, false)
			require.Len(t, ev, 1)
			assert.Equal(t, c.allowed, ev[0].Allowed, ev[0].Message)
			assert.Equal(t, c.rule, ev[0].Rule)
		})
	}
	same := col(t, "c", "decimal(10,2)")
	assert.Empty(t, model.CompareColumn(&same, &same, false, false))
}

func TestCompareNullability(t *testing.T) {
	o, n := col(t, "c", "int32", true), col(t, "c", "int32", false)
	ev := model.CompareColumn(&o, &n, false, false)
	require.Len(t, ev, 1)
	assert.False(t, ev[0].Allowed)
	assert.Equal(t, "nullable-to-required", ev[0].Rule)
	ev = model.CompareColumn(&n, &o, false, false)
	require.Len(t, ev, 1)
	assert.True(t, ev[0].Allowed)
	// A key column is not nullable by default: same column, no change.
	k := col(t, "id", "int64")
	assert.Empty(t, model.CompareColumn(&k, &k, true, true))
	assert.True(t, model.AddedColumn(&o, false).Allowed)
	assert.False(t, model.AddedColumn(&n, false).Allowed)
	assert.False(t, model.DroppedColumn(&o).Allowed)
}

func TestCompareNestedFieldByField(t *testing.T) {
	structOf := func(fields ...model.Column) model.Column {
		c := col(t, "s", "struct")
		c.Fields = fields
		return c
	}
	old := structOf(col(t, "a", "int32", false), col(t, "b", "varchar(10)"))
	cases := []struct {
		name  string
		new   model.Column
		rules map[string]bool // path+rule -> allowed
	}{
		{"add nullable field", structOf(col(t, "a", "int32", false), col(t, "b", "varchar(10)"), col(t, "c", "date")), map[string]bool{"s.c add-nullable-field": true}},
		{"add required field", structOf(col(t, "a", "int32", false), col(t, "b", "varchar(10)"), col(t, "c", "date", false)), map[string]bool{"s.c add-required-field": false}},
		{"drop field", structOf(col(t, "a", "int32", false)), map[string]bool{"s.b drop-field": false}},
		{"widen field", structOf(col(t, "a", "int64", false), col(t, "b", "varchar(10)")), map[string]bool{"s.a widen-int": true}},
		{"narrow field", structOf(col(t, "a", "int32", false), col(t, "b", "varchar(5)")), map[string]bool{"s.b narrow": false}},
		{"field becomes required", structOf(col(t, "a", "int32", false), col(t, "b", "varchar(10)", false)), map[string]bool{"s.b nullable-to-required": false}},
		{"rename field", structOf(col(t, "a", "int32", false), col(t, "bb", "varchar(10)")), map[string]bool{"s.b drop-field": false, "s.bb add-nullable-field": true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := map[string]bool{}
			for _, e := range model.CompareColumn(&old, &c.new, false, false) {
				got[e.Path+" "+e.Rule] = e.Allowed
			}
			assert.Equal(t, c.rules, got)
		})
	}

	list := func(elem string, nullable bool) model.Column {
		c := col(t, "l", "list")
		e := col(t, "", elem)
		c.Element = &model.Element{TypeSpec: e.TypeSpec, Nullable: model.OptBool{Set: true, Value: nullable}}
		return c
	}
	o, n := list("int32", true), list("int64", true)
	ev := model.CompareColumn(&o, &n, false, false)
	require.Len(t, ev, 1)
	assert.Equal(t, "l.element", ev[0].Path)
	assert.True(t, ev[0].Allowed)
	n = list("int32", false)
	ev = model.CompareColumn(&o, &n, false, false)
	require.Len(t, ev, 1)
	assert.Equal(t, "nullable-to-required", ev[0].Rule)

	mapOf := func(k, v string) model.Column {
		c := col(t, "m", "map")
		kc, vc := col(t, "", k), col(t, "", v)
		c.Key = &model.Element{TypeSpec: kc.TypeSpec}
		c.Value = &model.Element{TypeSpec: vc.TypeSpec}
		return c
	}
	om, nm := mapOf("varchar(10)", "int32"), mapOf("varchar(20)", "int64")
	got := map[string]bool{}
	for _, e := range model.CompareColumn(&om, &nm, false, false) {
		got[e.Path+" "+e.Rule] = e.Allowed
	}
	assert.Equal(t, map[string]bool{"m.key map-key-change": false, "m.value widen-int": true}, got)

	s, l := structOf(), list("int32", true)
	ev = model.CompareColumn(&s, &l, false, false)
	require.Len(t, ev, 1)
	assert.Equal(t, "type-change", ev[0].Rule)
}

func TestTemporalPrecision(t *testing.T) {
	for _, c := range []struct {
		in, out string
		p       int32
	}{{"timestamp", "timestamp", 6}, {"timestamp(3)", "timestamp(3)", 3}, {"time(0)", "time(0)", 0}, {"timestamptz(6)", "timestamptz(6)", 6}} {
		dt, err := model.ParseDataType(c.in)
		require.NoError(t, err, c.in)
		assert.Equal(t, c.out, dt.String())
		assert.Equal(t, c.p, dt.TimePrecision())
	}
	_, err := model.ParseDataType("timestamp(x)")
	assert.ErrorContains(t, err, "optional precision")
	_, err = model.ParseDataType("date(3)")
	assert.ErrorContains(t, err, "takes no parameters")

	o, n := col(t, "ts", "timestamp(3)"), col(t, "ts", "timestamp")
	ev := model.CompareColumn(&o, &n, false, false)
	require.Len(t, ev, 1)
	assert.Equal(t, "widen-time-precision", ev[0].Rule)
	assert.True(t, ev[0].Allowed)
	ev = model.CompareColumn(&n, &o, false, false)
	require.Len(t, ev, 1)
	assert.Equal(t, "narrow", ev[0].Rule)
	// timestamp and timestamp(6) are the same type.
	six := col(t, "ts", "timestamp(6)")
	assert.Empty(t, model.CompareColumn(&n, &six, false, false))
}

func TestParseDataTypeParameters(t *testing.T) {
	for in, want := range map[string]string{
		"decimal(10,2)": "decimal(10,2)", "decimal( 10 , 2 )": "decimal(10,2)", "varchar(20)": "varchar(20)", "char( 2 )": "char(2)",
	} {
		dt, err := model.ParseDataType(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, dt.String())
	}
	for _, in := range []string{"decimal(10)", "decimal(10,2,1)", "varchar(1,2)", "varchar(x)", "decimal(a,2)", "decimal(10,b)", "varchar(20", "varchar", "text(3)", "VARCHAR(2)"} {
		_, err := model.ParseDataType(in)
		assert.Error(t, err, in)
	}
}
