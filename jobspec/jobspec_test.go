package jobspec_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
)

// The checked-in schema must be what the Go types generate; regenerate it with
// go run ./cmd/datasurface jobspec-schema > jobspec/jobspec.schema.json
func TestCheckedInSchemaIsCurrent(t *testing.T) {
	want, err := jobspec.JSONSchema()
	require.NoError(t, err)
	got, err := os.ReadFile("jobspec.schema.json")
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "jobspec/jobspec.schema.json is stale: run go run ./cmd/datasurface jobspec-schema > jobspec/jobspec.schema.json")
}

func TestParseRefuses(t *testing.T) {
	golden, err := os.ReadFile("../golden/customer-cdc/platforms/lakehouse/jobs/customer_db.json")
	require.NoError(t, err)
	s, err := jobspec.Parse(golden)
	require.NoError(t, err)
	assert.Equal(t, jobspec.SourceDebezium, s.Source.Kind)

	for name, c := range map[string]struct{ doc, msg string }{
		"future version": {`{"version": 2}`, "version 2 is not supported"},
		"not JSON":       {`version: 1`, "not a job spec"},
		"unknown field":  {`{"version": 1, "surprise": true}`, "unknown field"},
		"no source":      {`{"version": 1, "source": {"kind": "debezium"}, "tables": [{}]}`, "needs source.debezium"},
		"no tables":      {`{"version": 1, "source": {"kind": "postgres_snapshot", "postgres": {}}}`, "no tables"},
		"bad mode":       {`{"version": 1, "source": {"kind": "postgres_snapshot", "postgres": {}}, "tables": [{"name": "t", "mode": "sometimes"}]}`, "unknown mode"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := jobspec.Parse([]byte(c.doc))
			assert.ErrorContains(t, err, c.msg)
		})
	}
}
