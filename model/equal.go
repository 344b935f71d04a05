package model

import (
	"reflect"
	"strings"
	"sync"
)

// Equal reports whether two model values are the same as the YAML says
// them: it compares every field the decoder fills (fields with a yaml tag,
// inline ones included) and ignores positions and what the loader links in
// afterwards (folders, parents, children read from other files). A struct
// without yaml-tagged fields (Ref, OptBool, DataType) is a value and is
// compared field by field, except its position.
//
// Equality is derived from the types, so a field added to the model is
// compared without anyone remembering to.
func Equal[T any](a, b T) bool {
	return equalValue(reflect.ValueOf(&a).Elem(), reflect.ValueOf(&b).Elem())
}

var posType = reflect.TypeFor[Pos]()

// fieldPlans caches which fields of a struct type Equal compares.
var fieldPlans sync.Map // reflect.Type -> []int

func comparedFields(t reflect.Type) []int {
	if p, ok := fieldPlans.Load(t); ok {
		return p.([]int)
	}
	var tagged, exported []int
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || f.Type == posType {
			continue
		}
		exported = append(exported, i)
		if tag, ok := f.Tag.Lookup("yaml"); ok && !strings.HasPrefix(tag, "-") {
			tagged = append(tagged, i)
		}
	}
	plan := tagged
	if len(tagged) == 0 {
		plan = exported
	}
	fieldPlans.Store(t, plan)
	return plan
}

func equalValue(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Struct:
		for _, i := range comparedFields(a.Type()) {
			if !equalValue(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		if a.Pointer() == b.Pointer() {
			return true // shared (an unchanged zone of a model pair)
		}
		return equalValue(a.Elem(), b.Elem())
	case reflect.Slice:
		// A missing list and an empty one say the same in YAML.
		if a.Len() != b.Len() {
			return false
		}
		for i := 0; i < a.Len(); i++ {
			if !equalValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.Len() != b.Len() {
			return false
		}
		it := a.MapRange()
		for it.Next() {
			bv := b.MapIndex(it.Key())
			if !bv.IsValid() || !equalValue(it.Value(), bv) {
				return false
			}
		}
		return true
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		if a.Elem().Type() != b.Elem().Type() {
			return false
		}
		return equalValue(a.Elem(), b.Elem())
	default:
		return a.Equal(b)
	}
}
