package model_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/model"
)

// TestEqualSeesEveryField changes every leaf value the decoder fills in
// every object of the enterprise example, one at a time, and checks that
// Equal notices, and that it ignores positions.
func TestEqualSeesEveryField(t *testing.T) {
	load := func() *model.Model {
		m, errs, err := model.LoadDir(context.Background(), "../examples/enterprise")
		require.NoError(t, err)
		require.Empty(t, errs)
		return m
	}
	a, b := load(), load()
	type pair struct{ a, b any }
	pairs := []pair{{a.Ecosystem, b.Ecosystem}}
	for i, z := range a.Zones {
		pairs = append(pairs, pair{z, b.Zones[i]})
		for j, tm := range z.Defs {
			tb := b.Zones[i].Defs[j]
			pairs = append(pairs, pair{tm, tb})
			for k := range tm.Datastores {
				pairs = append(pairs, pair{tm.Datastores[k], tb.Datastores[k]})
			}
			for k := range tm.Workspaces {
				pairs = append(pairs, pair{tm.Workspaces[k], tb.Workspaces[k]})
			}
		}
	}
	mutated := 0
	for _, p := range pairs {
		eq := func() bool { return model.Equal[any](p.a, p.b) }
		require.True(t, eq(), "%T loaded twice must be equal", p.a)
		walkLeaves(reflect.ValueOf(p.b).Elem(), "", func(path string, v reflect.Value) {
			old := reflect.New(v.Type()).Elem()
			old.Set(v)
			mutate(v)
			assert.False(t, eq(), "%T.%s changed but Equal did not notice", p.b, path)
			v.Set(old)
			mutated++
		})
		require.True(t, eq())
	}
	assert.Greater(t, mutated, 500, "leaves mutated")
	t.Logf("%d leaves mutated in %d objects", mutated, len(pairs))

	// Positions are not content.
	b.Ecosystem.Pos.Line += 10
	assert.True(t, model.Equal(*a.Ecosystem, *b.Ecosystem))
}

// walkLeaves calls fn for every scalar reachable through yaml-tagged fields
// (and the fields of untagged value structs like Ref), skipping positions.
func walkLeaves(v reflect.Value, path string, fn func(string, reflect.Value)) {
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		tagged := false
		for i := 0; i < t.NumField(); i++ {
			if _, ok := t.Field(i).Tag.Lookup("yaml"); ok {
				tagged = true
			}
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() || f.Type == reflect.TypeFor[model.Pos]() {
				continue
			}
			if _, ok := f.Tag.Lookup("yaml"); tagged && !ok {
				continue
			}
			walkLeaves(v.Field(i), path+"."+f.Name, fn)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			walkLeaves(v.Elem(), path, fn)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			walkLeaves(v.Index(i), path+"[]", fn)
		}
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint8:
		fn(path, v)
	}
}

func mutate(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.String() + "x")
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(v.Int() + 1)
	case reflect.Uint8:
		v.SetUint(v.Uint() + 1)
	}
}
