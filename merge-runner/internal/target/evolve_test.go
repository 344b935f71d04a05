package target

import (
	"testing"

	"github.com/apache/iceberg-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPlan(t *testing.T) {
	f := func(id int, name string, typ iceberg.Type, required bool) iceberg.NestedField {
		return iceberg.NestedField{ID: id, Name: name, Type: typ, Required: required}
	}
	i32, i64 := iceberg.PrimitiveTypes.Int32, iceberg.PrimitiveTypes.Int64
	f32, f64 := iceberg.PrimitiveTypes.Float32, iceberg.PrimitiveTypes.Float64
	str := iceberg.PrimitiveTypes.String
	dec := func(p, s int) iceberg.Type { return iceberg.DecimalTypeOf(p, s) }
	st := func(fields ...iceberg.NestedField) iceberg.Type { return &iceberg.StructType{FieldList: fields} }
	for _, tc := range []struct {
		name       string
		have, want []iceberg.NestedField
		evs        []string
		err        string
	}{
		{"same", []iceberg.NestedField{f(1, "a", i32, true)}, []iceberg.NestedField{f(1, "a", i32, true)}, nil, ""},
		{"int to long", []iceberg.NestedField{f(1, "a", i32, true)}, []iceberg.NestedField{f(1, "a", i64, true)}, []string{"widen column a to long"}, ""},
		{"long to int", []iceberg.NestedField{f(1, "a", i64, true)}, []iceberg.NestedField{f(1, "a", i32, true)}, nil, "column a is long in the table and int"},
		{"float to double", []iceberg.NestedField{f(1, "a", f32, false)}, []iceberg.NestedField{f(1, "a", f64, false)}, []string{"widen column a to double"}, ""},
		{"double to float", []iceberg.NestedField{f(1, "a", f64, false)}, []iceberg.NestedField{f(1, "a", f32, false)}, nil, "column a is double"},
		{"decimal wider", []iceberg.NestedField{f(1, "a", dec(10, 2), false)}, []iceberg.NestedField{f(1, "a", dec(12, 2), false)}, []string{"widen column a to decimal(12, 2)"}, ""},
		{"decimal narrower", []iceberg.NestedField{f(1, "a", dec(12, 2), false)}, []iceberg.NestedField{f(1, "a", dec(10, 2), false)}, nil, "decimal(12, 2) in the table"},
		{"decimal scale", []iceberg.NestedField{f(1, "a", dec(10, 2), false)}, []iceberg.NestedField{f(1, "a", dec(12, 3), false)}, nil, "only added nullable columns and widenings"},
		{"type change", []iceberg.NestedField{f(1, "a", i32, false)}, []iceberg.NestedField{f(1, "a", str, false)}, nil, "column a is int in the table and string"},
		{"add nullable", []iceberg.NestedField{f(1, "a", i32, true)}, []iceberg.NestedField{f(1, "a", i32, true), f(2, "b", str, false)}, []string{"add nullable column b string"}, ""},
		{"add required", []iceberg.NestedField{f(1, "a", i32, true)}, []iceberg.NestedField{f(1, "a", i32, true), f(2, "b", str, true)}, nil, "column b is new and required"},
		{"required to nullable", []iceberg.NestedField{f(1, "a", i32, true)}, []iceberg.NestedField{f(1, "a", i32, false)}, []string{"make column a nullable"}, ""},
		{"nullable to required", []iceberg.NestedField{f(1, "a", i32, false)}, []iceberg.NestedField{f(1, "a", i32, true)}, nil, "nullable -> required"},
		{"dropped required", []iceberg.NestedField{f(1, "a", i32, true), f(2, "b", i32, true)}, []iceberg.NestedField{f(1, "a", i32, true)}, nil, "required column b is in the table but not in the job spec"},
		{"dropped nullable kept", []iceberg.NestedField{f(1, "a", i32, true), f(2, "b", i32, false)}, []iceberg.NestedField{f(1, "a", i32, true)}, nil, ""},
		{"struct field added", []iceberg.NestedField{f(1, "s", st(f(2, "x", i32, true)), false)}, []iceberg.NestedField{f(1, "s", st(f(2, "x", i32, true), f(3, "y", str, false)), false)}, []string{"add nullable column s.y string"}, ""},
		{"struct field widened", []iceberg.NestedField{f(1, "s", st(f(2, "x", i32, true)), false)}, []iceberg.NestedField{f(1, "s", st(f(2, "x", i64, true)), false)}, []string{"widen column s.x to long"}, ""},
		{"struct field required added", []iceberg.NestedField{f(1, "s", st(f(2, "x", i32, true)), false)}, []iceberg.NestedField{f(1, "s", st(f(2, "x", i32, true), f(3, "y", str, true)), false)}, nil, "column s.y is new and required"},
		{"list element widened", []iceberg.NestedField{f(1, "l", &iceberg.ListType{ElementID: 2, Element: i32, ElementRequired: true}, false)}, []iceberg.NestedField{f(1, "l", &iceberg.ListType{ElementID: 2, Element: i64, ElementRequired: true}, false)}, []string{"widen column l.element to long"}, ""},
		{"map value narrowed", []iceberg.NestedField{f(1, "m", &iceberg.MapType{KeyID: 2, KeyType: str, ValueID: 3, ValueType: i64}, false)}, []iceberg.NestedField{f(1, "m", &iceberg.MapType{KeyID: 2, KeyType: str, ValueID: 3, ValueType: i32}, false)}, nil, "column m.value is long"},
		{"list to map", []iceberg.NestedField{f(1, "l", &iceberg.ListType{ElementID: 2, Element: i32}, false)}, []iceberg.NestedField{f(1, "l", &iceberg.MapType{KeyID: 2, KeyType: str, ValueID: 3, ValueType: i32}, false)}, nil, "column l is list<int>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := Plan("ns.t", iceberg.NewSchema(0, tc.have...), iceberg.NewSchema(0, tc.want...))
			if tc.err != "" {
				require.Error(t, err)
				var ce *ConfigError
				assert.ErrorAs(t, err, &ce)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			var got []string
			for _, e := range evs {
				got = append(got, e.String())
			}
			assert.Equal(t, tc.evs, got)
		})
	}
}
