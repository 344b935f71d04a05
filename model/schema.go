package model

import (
	"encoding/json"
	"reflect"

	"github.com/datasurface/datasurface/model/internal/decode"
)

// JSONSchema returns the JSON Schema of the model files, generated from the
// Go types: a file is an ecosystem, zone, team, datastore or workspace.
func JSONSchema() ([]byte, error) {
	s := decode.Schema("DataSurface model file",
		reflect.TypeFor[Ecosystem](), reflect.TypeFor[Zone](), reflect.TypeFor[Team](),
		reflect.TypeFor[Datastore](), reflect.TypeFor[Workspace]())
	s["$id"] = "https://datasurface.dev/schemas/model.schema.json"
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// JSONSchema of a reference: a name.
func (Ref) JSONSchema() map[string]any { return map[string]any{"type": "string"} }

// JSONSchema of an optional boolean.
func (OptBool) JSONSchema() map[string]any { return map[string]any{"type": "boolean"} }

// JSONSchema of a data type string.
func (DataType) JSONSchema() map[string]any {
	return map[string]any{
		"type":    "string",
		"pattern": `^\s*(boolean|int8|int16|int32|int64|float32|float64|text|date|uuid|binary|json|struct|list|map|(time|timestamp|timestamptz)(\s*\(\s*\d+\s*\))?|(char|varchar)\s*\(\s*\d+\s*\)|decimal\s*\(\s*\d+\s*,\s*\d+\s*\))\s*$`,
	}
}

// JSONSchema of a sink: datastore.dataset or a mapping.
func (Sink) JSONSchema() map[string]any {
	return map[string]any{"oneOf": []any{
		map[string]any{"type": "string", "pattern": `^[^.]+\.[^.]+$`, "description": "datastore.dataset"},
		map[string]any{
			"type": "object", "additionalProperties": false, "required": []any{"dataset"},
			"properties": map[string]any{
				"dataset":              map[string]any{"type": "string", "pattern": `^[^.]+\.[^.]+$`, "description": "datastore.dataset"},
				"deprecations_allowed": map[string]any{"type": "boolean", "description": "Acknowledge that the dataset is deprecated; its use then warns instead of failing."},
			},
		},
	}}
}
