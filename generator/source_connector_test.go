package generator_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/generator"
	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/model"
	"github.com/datasurface/datasurface/model/lint"
	"github.com/datasurface/datasurface/model/synth"
)

// runnerOps are the Debezium operations the merge-runner applies: create,
// read (snapshot), update, delete and truncate (Envelope.Operation codes).
var runnerOps = []string{"c", "r", "u", "d", "t"}

// TestSourceConnectorsEmitWhatTheRunnerHandles reads every rendered Debezium
// source of every example and of a synthetic model as Debezium and Kafka
// Connect would, and fails if one would drop or reorder an event the
// merge-runner handles, or encode events differently from what the job spec
// tells the runner to decode.
func TestSourceConnectorsEmitWhatTheRunnerHandles(t *testing.T) {
	type sourceCase struct {
		name string
		m    *model.Model
	}
	var cases []sourceCase
	for _, ex := range examples(t) {
		cases = append(cases, sourceCase{ex, loadExample(t, ex)})
	}
	dir := t.TempDir()
	_, err := synth.Write(context.Background(), dir, 64)
	require.NoError(t, err)
	sm, errs, err := model.LoadDir(context.Background(), dir)
	require.NoError(t, err)
	require.Empty(t, errs)
	n, _, _ := lint.Count(lint.Lint(sm))
	require.Zero(t, n)
	cases = append(cases, sourceCase{"synthetic", sm})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tree, err := generator.Generate(context.Background(), c.m, generator.Options{Version: "test"})
			require.NoError(t, err)
			specs := map[string][]*jobspec.Spec{} // platform/datastore -> job specs
			for _, p := range tree.Paths() {
				parts := strings.Split(p, "/")
				if len(parts) == 4 && parts[0] == "platforms" && parts[2] == "jobs" {
					s, err := jobspec.Parse(tree.Files[p])
					require.NoError(t, err, p)
					specs[parts[1]+"/"+s.Datastore] = append(specs[parts[1]+"/"+s.Datastore], s)
				}
			}
			sources := 0
			for _, p := range tree.Paths() {
				if !strings.HasSuffix(p, ".source.json") {
					continue
				}
				sources++
				var body struct {
					Config map[string]string `json:"config"`
				}
				require.NoError(t, json.Unmarshal(tree.Files[p], &body), p)
				parts := strings.Split(p, "/")
				store := strings.TrimSuffix(parts[3], ".source.json")
				checkSourceConnector(t, p, body.Config, specs[parts[1]+"/"+store])
			}
			kafkaCDC := false // a Debezium spec not landed by merge-runner capture
			for _, list := range specs {
				for _, s := range list {
					kafkaCDC = kafkaCDC || s.Source.Debezium != nil && s.Source.Debezium.Capture == nil
				}
			}
			if kafkaCDC {
				assert.NotZero(t, sources, "the %s model captures with Debezium; no source connector was rendered", c.name)
			} else {
				assert.Zero(t, sources, "the %s model captures with merge-runner capture only; no connector should be rendered", c.name)
			}
		})
	}
}

func checkSourceConnector(t *testing.T, file string, cfg map[string]string, specs []*jobspec.Spec) {
	t.Helper()
	// Debezium's CommonConnectorConfig.SKIPPED_OPERATIONS defaults to "t":
	// an absent key skips truncates. determineSkippedOperations reads "none"
	// (trimmed, any case) as nothing skipped, otherwise a comma-separated
	// list of operation codes; validateSkippedOperation accepts only
	// none, r, c, u, d and t, and not none together with another.
	ops, ok := cfg["skipped.operations"]
	if !assert.True(t, ok, "%s: skipped.operations is absent, so Debezium skips truncates (its default is t)", file) {
		ops = "t"
	}
	if !strings.EqualFold(strings.TrimSpace(ops), "none") {
		for _, op := range strings.Split(ops, ",") {
			op = strings.TrimSpace(op)
			assert.Contains(t, []string{"r", "c", "u", "d", "t"}, op, "%s: skipped.operations=%q: Debezium refuses %q", file, ops, op)
			assert.NotContains(t, runnerOps, op, "%s: skipped.operations=%q drops operation %q, which the merge-runner applies", file, ops, op)
		}
	} else {
		assert.Equal(t, "none", ops, "%s: validateSkippedOperation compares with \"none\" exactly", file)
	}
	// Only pgoutput emits truncates (PostgresConnectorConfig.LogicalDecoder#supportsTruncate).
	assert.Equal(t, "pgoutput", cfg["plugin.name"], "%s: plugin.name", file)
	// Kafka's JsonConverter replaces a null with the schema's default
	// unless told not to (JsonConverterConfig replace.null.with.default,
	// default true since Kafka 3.5), and Debezium writes the column's
	// DEFAULT into the schema.
	for _, side := range []string{"key", "value"} {
		assert.Equal(t, "false", cfg[side+".converter.replace.null.with.default"], "%s: a NULL in a column with a default would land as the default", file)
	}
	// tombstones.on.delete defaults to true in Debezium.
	assert.Equal(t, "false", cfg["tombstones.on.delete"], "%s: a tombstone takes an offset the S3 sink drops", file)
	// bytes keeps the unchanged-TOAST placeholder of a bytea
	// (PostgresValueConverter#convertBinaryToBytes); the base64 modes turn it into null.
	assert.Equal(t, "bytes", cfg["binary.handling.mode"], "%s: binary.handling.mode", file)

	// KIP-158 (Kafka's TopicCreationConfig): with topic.creation.default.*
	// set, a worker with topic.creation.enable=true creates the connector's
	// topics. The default group includes every topic (".*") unless include,
	// exclude or other groups narrow it; partitions and replication.factor
	// are required, each a positive number or -1 for the broker's default.
	assert.Equal(t, "1", cfg["topic.creation.default.partitions"], "%s: one partition per table topic: a truncate has no key and could land in any partition", file)
	rf, err := strconv.ParseInt(cfg["topic.creation.default.replication.factor"], 10, 16)
	if assert.NoError(t, err, "%s: topic.creation.default.replication.factor", file) {
		assert.True(t, rf == -1 || rf >= 1, "%s: topic.creation.default.replication.factor %d", file, rf)
	}
	for k := range cfg {
		if strings.HasPrefix(k, "topic.creation.") {
			assert.Contains(t, []string{"topic.creation.default.partitions", "topic.creation.default.replication.factor"}, k,
				"%s: %s would let some topic be created outside the one-partition default group", file, k)
		}
	}

	// What the connector writes, with Debezium's and JsonConverter's
	// defaults for absent keys, is what every job spec reading it decodes.
	get := func(k, def string) string {
		if v, ok := cfg[k]; ok {
			return v
		}
		return def
	}
	parseBool := func(k, def string) bool {
		b, err := strconv.ParseBool(get(k, def))
		assert.NoError(t, err, "%s: %s", file, k)
		return b
	}
	written := jobspec.Encoding{
		DecimalHandling:    get("decimal.handling.mode", "precise"),
		TimePrecision:      get("time.precision.mode", "adaptive"),
		BinaryHandling:     get("binary.handling.mode", "bytes"),
		SchemasEnabled:     parseBool("value.converter.schemas.enable", "true"),
		TombstonesOnDelete: parseBool("tombstones.on.delete", "true"),
	}
	assert.Equal(t, written.SchemasEnabled, parseBool("key.converter.schemas.enable", "true"), "%s: key and value converters disagree on the schema envelope", file)
	if !assert.NotEmpty(t, specs, "%s: no job spec reads this connector's events", file) {
		return
	}
	// Debezium writes the tables table.include.list selects (regular
	// expressions over schema.table) to <topic.prefix>.<schema>.<table>.
	prefix := cfg["topic.prefix"]
	include := debeziumIncludes(t, cfg["table.include.list"])
	for _, s := range specs {
		require.Equal(t, jobspec.SourceDebezium, s.Source.Kind, "%s: job spec %s", file, s.Stream)
		assert.Equal(t, written, s.Source.Debezium.Encoding, "%s: job spec %s decodes with another encoding than the connector writes", file, s.Stream)
		for _, tb := range s.Tables {
			selected := false
			for _, p := range include {
				selected = selected || p.MatchString(tb.SourceTable)
			}
			assert.True(t, selected && tb.Topic == prefix+"."+tb.SourceTable, "%s: job spec %s reads topic %s, which this connector does not write", file, s.Stream, tb.Topic)
		}
	}
}
