package model_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/model"
)

// The checked-in schema must be what the Go types generate; regenerate it
// with `go run ./cmd/datasurface schema > model/model.schema.json`.
func TestCheckedInSchemaIsCurrent(t *testing.T) {
	want, err := model.JSONSchema()
	require.NoError(t, err)
	got, err := os.ReadFile("model.schema.json")
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "model/model.schema.json is stale: run go run ./cmd/datasurface schema > model/model.schema.json")
}

func TestSchemaCoversTheDecoder(t *testing.T) {
	b, err := model.JSONSchema()
	require.NoError(t, err)
	var s struct {
		Defs map[string]struct {
			Properties           map[string]any `json:"properties"`
			Required             []string       `json:"required"`
			AdditionalProperties bool           `json:"additionalProperties"`
		} `json:"$defs"`
	}
	require.NoError(t, json.Unmarshal(b, &s))
	ds := s.Defs["Datastore"]
	assert.Contains(t, ds.Properties, "capture")
	assert.Equal(t, []string{"datastore"}, ds.Required)
	col := s.Defs["Column"]
	// TypeSpec's keys are inlined into Column, as the decoder reads them.
	for _, k := range []string{"name", "type", "nullable", "fields", "element", "key", "value"} {
		assert.Contains(t, col.Properties, k)
	}
	assert.NotContains(t, s.Defs, "TypeSpec")
	assert.NotContains(t, col.Properties, "Pos")
}
