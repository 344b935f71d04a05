package generator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/generator"
	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/model"
)

// connectorBody is a Kafka Connect REST body: exactly a name and a config.
type connectorBody struct {
	Name   string                     `json:"name"`
	Config map[string]json.RawMessage `json:"config"`
}

// TestJSONArtifacts checks every JSON file of every example's tree (and of a
// customer-cdc variant on Airflow 2 with hostile documentation): all parse;
// job specs pass jobspec.Parse; connector bodies carry what Debezium's
// PostgreSQL connector and Confluent's S3 sink need and what the merge-runner
// relies on, agree with the job specs, and hold credentials only as
// ${file:...} references.
func TestJSONArtifacts(t *testing.T) {
	type jsonCase struct {
		name string
		m    *model.Model
	}
	var cases []jsonCase
	for _, ex := range examples(t) {
		cases = append(cases, jsonCase{ex, loadExample(t, ex)})
	}
	hostile := loadExample(t, "customer-cdc")
	setAirflow(hostile, 2, "kubernetes")
	setFreeText(hostile, hostileText)
	cases = append(cases, jsonCase{"hostile", hostile})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tree, err := generator.Generate(context.Background(), c.m, generator.Options{Version: "test"})
			require.NoError(t, err)
			checkJSONArtifacts(t, c.m, tree)
		})
	}
}

// The connector settings every source and sink must have, with their value
// when it is fixed.
var (
	debeziumRequired = map[string]string{
		"connector.class":                "io.debezium.connector.postgresql.PostgresConnector",
		"plugin.name":                    "pgoutput",
		"database.hostname":              "",
		"database.port":                  "",
		"database.user":                  "",
		"database.password":              "",
		"database.dbname":                "",
		"topic.prefix":                   "",
		"slot.name":                      "",
		"publication.name":               "",
		"table.include.list":             "",
		"snapshot.mode":                  "",
		"heartbeat.interval.ms":          "",
		"decimal.handling.mode":          "",
		"time.precision.mode":            "",
		"binary.handling.mode":           "",
		"tombstones.on.delete":           "",
		"key.converter":                  "org.apache.kafka.connect.json.JsonConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"key.converter.schemas.enable":   "",
		"value.converter.schemas.enable": "",
	}
	s3SinkRequired = map[string]string{
		"connector.class":                "io.confluent.connect.s3.S3SinkConnector",
		"topics":                         "",
		"s3.bucket.name":                 "",
		"topics.dir":                     "",
		"storage.class":                  "io.confluent.connect.s3.storage.S3Storage",
		"format.class":                   "io.confluent.connect.s3.format.json.JsonFormat",
		"partitioner.class":              "io.confluent.connect.storage.partitioner.DefaultPartitioner",
		"flush.size":                     "",
		"rotate.schedule.interval.ms":    "",
		"timezone":                       "",
		"behavior.on.null.values":        "ignore", // Debezium's delete tombstones
		"key.converter":                  "org.apache.kafka.connect.json.JsonConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"key.converter.schemas.enable":   "",
		"value.converter.schemas.enable": "",
	}
	// Values Debezium 2.x accepts for its enumerated settings.
	debeziumEnums = map[string][]string{
		"snapshot.mode":         {"always", "initial", "initial_only", "no_data", "never", "when_needed", "configuration_based", "custom", "recovery"},
		"decimal.handling.mode": {"precise", "string", "double"},
		"time.precision.mode":   {"adaptive", "adaptive_time_microseconds", "connect", "isostring", "microseconds", "nanoseconds"},
		"binary.handling.mode":  {"bytes", "base64", "base64-url-safe", "hex"},
	}
	pgIdentifier = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
	kafkaTopic   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,249}$`)
	secretKey    = regexp.MustCompile(`(?i)(password|secret|passwd|\buser\b|\.user$|username|sasl|jaas|token|access\.key|credential)`)
	fileSecret   = regexp.MustCompile(`^\$\{file:/opt/kafka/secrets/(ds(?:__[a-z][a-z0-9]*(?:_[a-z0-9]+)*){1,4})\.properties:(username|password)\}$`)
)

func checkJSONArtifacts(t *testing.T, m *model.Model, tree *generator.Tree) {
	creds := runtimeNames(m)
	stores := map[string]*model.Datastore{}
	for _, z := range m.Zones {
		for _, tm := range z.Defs {
			for _, ds := range tm.Datastores {
				stores[ds.Name] = ds
			}
		}
	}
	platforms := map[string]*model.Platform{}
	for i := range m.Ecosystem.Platforms {
		platforms[m.Ecosystem.Platforms[i].Name] = &m.Ecosystem.Platforms[i]
	}

	specs := map[string][]*jobspec.Spec{}        // platform -> its job specs
	connectors := map[string]map[string]string{} // tree path -> config
	pgNames := map[string]string{}               // slot or publication name -> connector file
	connectorNames := map[string]string{}        // connector name -> file
	nameOf := map[string]string{}                // file -> connector name
	for _, p := range tree.Paths() {
		if !strings.HasSuffix(p, ".json") {
			continue
		}
		b := tree.Files[p]
		var v any
		if !assert.NoError(t, json.Unmarshal(b, &v), "%s does not parse", p) {
			continue
		}
		parts := strings.Split(p, "/")
		switch {
		case p == generator.ManifestName:
			var man generator.Manifest
			require.NoError(t, json.Unmarshal(b, &man))
			for _, e := range man.Files {
				assert.Contains(t, tree.Files, e.Path, "MANIFEST.json lists a file the tree does not have")
			}
		case len(parts) == 4 && parts[0] == "platforms" && parts[2] == "jobs":
			spec, err := jobspec.Parse(b)
			if !assert.NoError(t, err, p) {
				continue
			}
			assert.Equal(t, parts[1], spec.Platform, p)
			assert.Equal(t, strings.TrimSuffix(parts[3], ".json"), spec.Stream, p)
			for _, tb := range spec.Tables {
				// What the merge-runner distinguishes; jobspec does not validate it.
				assert.Contains(t, []string{model.WriteMergeOnRead, model.WriteCopyOnWrite}, tb.WriteMode, "%s: table %s", p, tb.Name)
			}
			specs[parts[1]] = append(specs[parts[1]], spec)
		case len(parts) == 4 && parts[0] == "platforms" && parts[2] == "connect":
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			var body connectorBody
			if !assert.NoError(t, dec.Decode(&body), "%s is not a Kafka Connect body {name, config}", p) {
				continue
			}
			assert.NotEmpty(t, body.Name, "%s: name", p)
			if other, dup := connectorNames[body.Name]; dup {
				t.Errorf("connector name %s is used by %s and %s", body.Name, other, p)
			}
			connectorNames[body.Name] = p
			nameOf[p] = body.Name
			assert.NotEmpty(t, body.Config, "%s: config", p)
			cfg := map[string]string{}
			for k, raw := range body.Config {
				var s string
				if assert.NoError(t, json.Unmarshal(raw, &s), "%s: config %s must be a string, is %s", p, k, raw) {
					cfg[k] = s
				}
			}
			connectors[p] = cfg
			assertCredentialRefs(t, p, cfg, creds)
		default:
			t.Errorf("unexpected JSON file %s", p)
		}
	}

	for file, cfg := range connectors {
		parts := strings.Split(file, "/")
		plat, base := platforms[parts[1]], parts[3]
		require.NotNil(t, plat, file)
		ai := plat.AirflowIceberg
		var storeName string
		var required map[string]string
		switch {
		case strings.HasSuffix(base, ".source.json"):
			storeName, required = strings.TrimSuffix(base, ".source.json"), debeziumRequired
		case strings.HasSuffix(base, ".s3-sink.json"):
			storeName, required = strings.TrimSuffix(base, ".s3-sink.json"), s3SinkRequired
		default:
			t.Errorf("unexpected connector file %s", file)
			continue
		}
		for k, want := range required {
			v, ok := cfg[k]
			if !assert.True(t, ok, "%s: %s is missing", file, k) {
				continue
			}
			assert.NotEmpty(t, v, "%s: %s is empty", file, k)
			if want != "" {
				assert.Equal(t, want, v, "%s: %s", file, k)
			}
		}
		ds := stores[storeName]
		if !assert.NotNil(t, ds, "%s: no datastore %s", file, storeName) {
			continue
		}
		assert.Equal(t, model.CaptureKind(model.CaptureDebezium), ds.Capture.Kind, "%s: connectors only for CDC stores", file)
		// The store's job specs on this platform: what the merge-runner reads.
		var mine []*jobspec.Spec
		tables, topics := map[string]bool{}, map[string]bool{}
		for _, s := range specs[parts[1]] {
			if s.Datastore != storeName {
				continue
			}
			mine = append(mine, s)
			require.Equal(t, jobspec.SourceDebezium, s.Source.Kind, "%s: job spec %s", file, s.Stream)
			for _, tb := range s.Tables {
				tables[tb.SourceTable] = true
				topics[tb.Topic] = true
			}
		}
		if !assert.NotEmpty(t, mine, "%s: no job spec reads what this connector lands", file) {
			continue
		}
		enc := mine[0].Source.Debezium.Encoding
		for _, s := range mine[1:] {
			assert.Equal(t, enc, s.Source.Debezium.Encoding, "%s: job specs disagree on the encoding", file)
		}
		assert.Equal(t, strconv.FormatBool(enc.SchemasEnabled), cfg["key.converter.schemas.enable"], file)
		assert.Equal(t, strconv.FormatBool(enc.SchemasEnabled), cfg["value.converter.schemas.enable"], file)

		// The name says platform, store and role: unique on a Connect cluster.
		assert.Equal(t, parts[1]+"."+storeName+"."+strings.TrimSuffix(strings.TrimPrefix(base, storeName+"."), ".json"), nameOf[file], "%s: name", file)
		if strings.HasSuffix(base, ".source.json") {
			port, err := strconv.Atoi(cfg["database.port"])
			assert.NoError(t, err, "%s: database.port", file)
			assert.True(t, port > 0 && port < 65536, "%s: database.port %d", file, port)
			assert.NotContains(t, cfg["database.hostname"], "/", "%s: database.hostname is a host name", file)
			assert.Regexp(t, kafkaTopic, cfg["topic.prefix"], "%s: topic.prefix", file)
			for _, k := range []string{"slot.name", "publication.name"} {
				n := cfg[k]
				assert.Regexp(t, pgIdentifier, n, "%s: %s must be a PostgreSQL identifier ([a-z0-9_], at most 63)", file, k)
				key := k[:strings.Index(k, ".")] + ":" + n
				if other, dup := pgNames[key]; dup {
					t.Errorf("%s %s is used by %s and %s", k, n, other, file)
				}
				pgNames[key] = file
			}
			for k, values := range debeziumEnums {
				assert.Contains(t, values, cfg[k], "%s: %s", file, k)
			}
			assert.Equal(t, enc.DecimalHandling, cfg["decimal.handling.mode"], "%s: the job spec must decode what Debezium writes", file)
			assert.Equal(t, enc.TimePrecision, cfg["time.precision.mode"], "%s: the job spec must decode what Debezium writes", file)
			assert.Equal(t, enc.BinaryHandling, cfg["binary.handling.mode"], "%s: the job spec must decode what Debezium writes", file)
			assert.Equal(t, strconv.FormatBool(enc.TombstonesOnDelete), cfg["tombstones.on.delete"], file)
			assertPositive(t, file, cfg, "heartbeat.interval.ms")
			assertCredentialIs(t, file, cfg, "database.user", captureCredential(t, m, ds), "username")
			assertCredentialIs(t, file, cfg, "database.password", captureCredential(t, m, ds), "password")

			// Debezium reads the list as regular expressions: each must
			// select exactly one of the tables the job specs read.
			includedExactly(t, file, cfg["table.include.list"], sortedKeys(tables))
			include := sortedKeys(tables)
			for _, tb := range include {
				assert.True(t, topics[cfg["topic.prefix"]+"."+tb], "%s: Debezium writes %s to %s.%s, which no job spec reads", file, tb, cfg["topic.prefix"], tb)
			}
			// Its sink lands every topic it writes.
			sink := connectors[path.Join(path.Dir(file), storeName+".s3-sink.json")]
			if assert.NotNil(t, sink, "%s has no S3 sink", file) {
				var want []string
				for _, tb := range include {
					want = append(want, cfg["topic.prefix"]+"."+tb)
				}
				sort.Strings(want)
				assert.Equal(t, want, sortedUnique(t, file, strings.Split(sink["topics"], ",")), "%s: the sink's topics and the source's tables", file)
			}
			continue
		}

		// S3 sink.
		assert.Equal(t, sortedKeys(topics), sortedUnique(t, file, strings.Split(cfg["topics"], ",")), "%s: topics and the job specs' topics", file)
		for _, tp := range strings.Split(cfg["topics"], ",") {
			assert.Regexp(t, kafkaTopic, tp, "%s: topic", file)
		}
		for _, s := range mine {
			assert.Equal(t, s.Source.Debezium.Bucket, cfg["s3.bucket.name"], "%s: the job spec %s reads another bucket", file, s.Stream)
			assert.Equal(t, s.Source.Debezium.Prefix, cfg["topics.dir"], "%s: the job spec %s reads another prefix", file, s.Stream)
		}
		assert.Equal(t, ai.Landing.Bucket, cfg["s3.bucket.name"], file)
		assertPositive(t, file, cfg, "flush.size")
		assertPositive(t, file, cfg, "rotate.schedule.interval.ms")
		if u, ok := cfg["store.url"]; ok {
			pu, err := url.Parse(u)
			if assert.NoError(t, err, "%s: store.url", file) {
				assert.Contains(t, []string{"http", "https"}, pu.Scheme, "%s: store.url", file)
				assert.Nil(t, pu.User, "%s: store.url carries credentials", file)
			}
		}
		if lc := ai.Landing.Credential.Name; lc != "" {
			c, ok := m.EcosystemCredential(lc)
			require.True(t, ok, "%s: landing credential %s", file, lc)
			assertCredentialIs(t, file, cfg, "aws.access.key.id", c.RuntimeName(), "username")
			assertCredentialIs(t, file, cfg, "aws.secret.access.key", c.RuntimeName(), "password")
		}
		assert.Contains(t, connectors, path.Join(path.Dir(file), storeName+".source.json"), "%s has no source", file)
	}

	// Every CDC job spec is fed by a source and a sink on its platform.
	for plat, list := range specs {
		for _, s := range list {
			if s.Source.Kind != jobspec.SourceDebezium {
				continue
			}
			if s.Source.Debezium.Capture != nil {
				// merge-runner capture lands it (cdc: embedded): no connector.
				for _, suffix := range []string{".source.json", ".s3-sink.json"} {
					assert.NotContains(t, connectors, "platforms/"+plat+"/connect/"+s.Datastore+suffix, "job spec %s/%s is landed by its capture, not Kafka Connect", plat, s.Stream)
				}
				continue
			}
			for _, suffix := range []string{".source.json", ".s3-sink.json"} {
				assert.Contains(t, connectors, "platforms/"+plat+"/connect/"+s.Datastore+suffix, "job spec %s/%s reads events nothing lands", plat, s.Stream)
			}
		}
	}
}

// assertCredentialRefs checks that every setting that holds a credential is
// a ${file:...} reference to a declared credential, and that no other
// setting uses a config provider or a URL with credentials.
func assertCredentialRefs(t *testing.T, file string, cfg map[string]string, creds map[string]bool) {
	t.Helper()
	for k, v := range cfg {
		isRef := fileSecret.MatchString(v)
		if secretKey.MatchString(k) {
			if assert.True(t, isRef, "%s: %s must be a ${file:...} reference, not a value", file, k) {
				cred := fileSecret.FindStringSubmatch(v)[1]
				assert.True(t, creds[cred], "%s: %s references %s, which the model does not declare", file, k, cred)
			}
			continue
		}
		assert.False(t, strings.Contains(v, "${") && !isRef, "%s: %s uses a config provider: %s", file, k, v)
		if u, err := url.Parse(v); err == nil && u.Scheme != "" {
			assert.Nil(t, u.User, "%s: %s carries credentials in its URL", file, k)
		}
	}
}

// assertCredentialIs checks that a setting references the credential's key.
func assertCredentialIs(t *testing.T, file string, cfg map[string]string, key, credential, field string) {
	t.Helper()
	sub := fileSecret.FindStringSubmatch(cfg[key])
	if assert.NotNil(t, sub, "%s: %s is not a ${file:...} reference", file, key) {
		assert.Equal(t, credential, sub[1], "%s: %s", file, key)
		assert.Equal(t, field, sub[2], "%s: %s", file, key)
	}
}

func assertPositive(t *testing.T, file string, cfg map[string]string, key string) {
	t.Helper()
	n, err := strconv.ParseInt(cfg[key], 10, 64)
	if assert.NoError(t, err, "%s: %s", file, key) {
		assert.Positive(t, n, "%s: %s", file, key)
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sortedUnique sorts a comma-separated list's items, failing on an empty or
// repeated item.
func sortedUnique(t *testing.T, file string, items []string) []string {
	t.Helper()
	out := append([]string(nil), items...)
	sort.Strings(out)
	for i, s := range out {
		assert.NotEmpty(t, s, "%s: an empty list item", file)
		if i > 0 && s == out[i-1] {
			t.Errorf("%s: %s is listed twice", file, s)
		}
	}
	return out
}
