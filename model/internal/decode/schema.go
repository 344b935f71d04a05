package decode

import (
	"reflect"
)

// Schemaer is implemented by types that describe their own JSON Schema
// (those with their own syntax, see Unmarshaler).
type Schemaer interface {
	JSONSchema() map[string]any
}

var schemaerType = reflect.TypeFor[Schemaer]()

// Schema builds a JSON Schema (draft 2020-12) whose document is one of the
// given root struct types. It follows exactly the tags Decode follows, so the
// schema and the decoder cannot disagree.
func Schema(title string, roots ...reflect.Type) map[string]any {
	g := &schemaGen{defs: map[string]any{}}
	var oneOf []any
	for _, r := range roots {
		oneOf = append(oneOf, g.of(r))
	}
	return map[string]any{
		"$schema": "https://json-schema.org/draft/2020-12/schema",
		"title":   title,
		"oneOf":   oneOf,
		"$defs":   g.defs,
	}
}

type schemaGen struct {
	defs map[string]any
}

func (g *schemaGen) of(t reflect.Type) map[string]any {
	if reflect.PointerTo(t).Implements(schemaerType) {
		return reflect.Zero(t).Interface().(Schemaer).JSONSchema()
	}
	if t.Implements(enumType) {
		vals := reflect.Zero(t).Interface().(Enum).Values()
		enum := make([]any, len(vals))
		for i, v := range vals {
			enum[i] = v
		}
		return map[string]any{"type": "string", "enum": enum}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.of(t.Elem())
	case reflect.Slice:
		return map[string]any{"type": "array", "items": g.of(t.Elem())}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Struct:
		name := t.Name()
		ref := map[string]any{"$ref": "#/$defs/" + name}
		if _, done := g.defs[name]; done {
			return ref
		}
		g.defs[name] = nil // placeholder: recursive types refer to it
		props := map[string]any{}
		var required []any
		for _, f := range Fields(t) {
			p := g.of(f.Type)
			if f.Doc != "" {
				// A $ref with siblings is fine in 2020-12; copy so the shared def stays clean.
				cp := map[string]any{}
				for k, v := range p {
					cp[k] = v
				}
				cp["description"] = f.Doc
				p = cp
			}
			props[f.Key] = p
			if f.Required {
				required = append(required, f.Key)
			}
		}
		def := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			def["required"] = required
		}
		g.defs[name] = def
		return ref
	}
	panic("decode: no schema for " + t.String())
}
