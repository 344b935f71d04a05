package generator

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/datasurface/datasurface/model"
)

// Connector is what the connector templates render: a Kafka Connect REST
// body ({"name": ..., "config": {...}}). Config values are plain strings;
// secrets are Kafka Connect config-provider references, never values.
type Connector struct {
	Name   string
	Config []ConfigEntry // sorted by key
}

// ConfigEntry is one connector property.
type ConfigEntry struct{ Key, Value string }

// secretsDir is where Kafka Connect workers keep credential files, read by
// the FileConfigProvider (config.providers=file on the worker).
const secretsDir = "/opt/kafka/secrets"

// fileSecret references a key of a credential's properties file, named
// after the credential's run-time name so that two regions' credentials of
// one name are two files.
func fileSecret(c model.ScopedCredential, key string) string {
	return "${file:" + secretsDir + "/" + c.RuntimeName() + ".properties:" + key + "}"
}

// includePattern is a table's entry of Debezium's table.include.list: a
// regular expression matched against the whole schema.table, case-insensitively
// (io.debezium.function.Predicates.includes), in a list split at commas that
// are not escaped with '\' (io.debezium.util.Strings.RegExSplitter). The
// names are quoted so that only that table matches: its '.' is a literal dot.
func includePattern(schema, table string) string {
	q := func(s string) string { return strings.ReplaceAll(regexp.QuoteMeta(s), ",", `\,`) }
	return q(schema) + `\.` + q(table)
}

// checkConfig refuses a connector config in which a value from the model
// could reach a Kafka Connect config provider: every value but the
// generator's own secret references must be free of "${", which Kafka
// Connect resolves anywhere in a value and cannot escape
// (org.apache.kafka.common.config.ConfigTransformer). Lint refuses such
// model text first (value-config-reference); this holds for a model that
// was not linted.
func checkConfig(name string, cfg, secrets map[string]string) error {
	for k, v := range cfg {
		if model.HasConfigReference(v) {
			return fmt.Errorf("connector %s: %s would be %q, which Kafka Connect would resolve as a config provider reference; fix the model (datasurface validate reports where)", name, k, v)
		}
	}
	for k, v := range secrets {
		if _, dup := cfg[k]; dup {
			return fmt.Errorf("connector %s: %s is set twice", name, k)
		}
		cfg[k] = v
	}
	return nil
}

// pgName is the slot and publication of a datastore on a platform
// (model.ReplicationName; lint keeps them unique).
func pgName(platform, datastore string) string { return model.ReplicationName(platform, datastore) }

// flushFor sets how the S3 sink closes files for a latency: records per file
// and the wall-clock rotation in milliseconds.
func flushFor(l model.Latency) (records, rotateMS string) {
	switch l {
	case model.LatencySeconds:
		return "10000", "10000"
	case model.LatencyMinutes:
		return "50000", "60000"
	case model.LatencyHours:
		return "200000", "600000"
	}
	return "1000000", "3600000"
}

// connectors renders a Debezium source and an S3 sink per CDC datastore.
func (r *renderer) connectors(pg *model.PlatformGraph) error {
	p := pg.Platform
	ai := p.AirflowIceberg
	type cdc struct {
		ds      *model.Datastore
		tables  []*model.Dataset
		latency model.Latency
	}
	// The DAGs report an environment that cannot be rendered; checked here
	// too, as a scoped generation may render no stream's DAG.
	if err := r.environment(p).err; err != nil {
		return err
	}
	if ai.EmbeddedCDC() {
		// merge-runner capture lands the changes: no connector to deploy.
		return nil
	}
	var stores []*cdc
	byStore := map[*model.Datastore]*cdc{}
	for _, s := range pg.Streams {
		if s.Datastore.Capture == nil || s.Datastore.Capture.Kind != model.CaptureDebezium {
			continue
		}
		c := byStore[s.Datastore]
		if c == nil {
			c = &cdc{ds: s.Datastore, latency: s.Latency}
			byStore[s.Datastore] = c
			stores = append(stores, c)
		}
		for _, st := range s.Tables {
			c.tables = append(c.tables, st.Dataset)
		}
		if s.Latency.Rank() < c.latency.Rank() {
			c.latency = s.Latency
		}
	}
	for _, c := range stores {
		ds := c.ds
		var pgc *model.PostgresContainer
		if c := r.container(ds.Team, ds.Capture.Container.Name); c != nil {
			pgc = c.Postgres
		}
		if pgc == nil {
			continue // lint reports an unresolved or non-postgres container
		}
		if err := checkPostgres(pgc); err != nil {
			return fmt.Errorf("datastore %s: %w", ds.Name, err)
		}
		cred, err := r.teamCredential(ds.Team, ds.Capture.Credential.Name)
		if err != nil {
			return fmt.Errorf("datastore %s: %w", ds.Name, err)
		}
		port := itoa(pgc.EffectivePort())
		var tables, topics []string
		for _, d := range c.tables {
			schema, table := sourceNames(ds, d)
			for _, n := range []string{schema, table} {
				if err := model.CheckPostgresIdentifier(n); err != nil {
					return fmt.Errorf("datastore %s: source name %q %v", ds.Name, n, err)
				}
			}
			tables = append(tables, includePattern(schema, table))
			topic := topicOf(p, ds, d)
			if err := model.CheckTopicName(topic); err != nil {
				return fmt.Errorf("datastore %s: topic %q %v", ds.Name, topic, err)
			}
			topics = append(topics, topic)
		}
		sourceSecrets := map[string]string{
			"database.user":     fileSecret(cred, "username"),
			"database.password": fileSecret(cred, "password"),
		}
		sourceCfg := map[string]string{
			"connector.class": "io.debezium.connector.postgresql.PostgresConnector",
			"tasks.max":       "1",
			"plugin.name":     "pgoutput",
			// Debezium puts the host into jdbc:postgresql://${hostname}:${port}/${dbname}
			// (PostgresConnection.URL_PATTERN): an IPv6 literal needs brackets.
			"database.hostname":              model.HostInURL(pgc.Host.Value),
			"database.port":                  port,
			"database.dbname":                pgc.Database.Value,
			"topic.prefix":                   topicPrefix(p, ds),
			"slot.name":                      pgName(p.Name, ds.Name),
			"publication.name":               pgName(p.Name, ds.Name),
			"publication.autocreate.mode":    "filtered",
			"table.include.list":             strings.Join(tables, ","),
			"snapshot.mode":                  "initial",
			"heartbeat.interval.ms":          "10000",
			"decimal.handling.mode":          debeziumEncoding.DecimalHandling,
			"time.precision.mode":            debeziumEncoding.TimePrecision,
			"binary.handling.mode":           debeziumEncoding.BinaryHandling,
			"tombstones.on.delete":           boolString(debeziumEncoding.TombstonesOnDelete),
			"key.converter":                  "org.apache.kafka.connect.json.JsonConverter",
			"key.converter.schemas.enable":   boolString(debeziumEncoding.SchemasEnabled),
			"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
			"value.converter.schemas.enable": boolString(debeziumEncoding.SchemasEnabled),
			"datasurface.managed":            "true",
		}
		// Debezium's default skips truncates ("t",
		// CommonConnectorConfig.SKIPPED_OPERATIONS), which the merge-runner
		// applies. "none" is the documented value for skipping nothing;
		// validateSkippedOperation compares it exactly, hence lower case.
		sourceCfg["skipped.operations"] = "none"
		// Kafka's JsonConverter (3.5 and later) writes a column's schema
		// default in place of a null value unless told not to
		// (JsonConverterConfig REPLACE_NULL_WITH_DEFAULT_CONFIG, default
		// true; JsonConverter#convertToJson), and Debezium puts the source
		// column's DEFAULT in the schema: a NULL would land as the default.
		sourceCfg["key.converter.replace.null.with.default"] = "false"
		sourceCfg["value.converter.replace.null.with.default"] = "false"
		// KIP-158 topic creation (Kafka's TopicCreationConfig): a worker with
		// topic.creation.enable=true (its default) creates each table topic
		// with one partition. A truncate has no key, so the producer may put
		// it in any partition; one partition keeps it in order with the rows.
		// Both keys are required for the default group, whose include is
		// ".*"; -1 is the broker's default replication factor. Topics that
		// already exist are left as they are.
		sourceCfg["topic.creation.default.partitions"] = "1"
		sourceCfg["topic.creation.default.replication.factor"] = "-1"
		source := Connector{Name: p.Name + "." + ds.Name + ".source"}
		if err := checkConfig(source.Name, sourceCfg, sourceSecrets); err != nil {
			return err
		}
		source.Config = sorted(sourceCfg)
		records, rotate := flushFor(c.latency)
		sinkCfg := map[string]string{
			"connector.class":                "io.confluent.connect.s3.S3SinkConnector",
			"tasks.max":                      "1",
			"topics":                         strings.Join(topics, ","),
			"s3.bucket.name":                 ai.Landing.Bucket,
			"topics.dir":                     landingPrefix(ai),
			"storage.class":                  "io.confluent.connect.s3.storage.S3Storage",
			"format.class":                   "io.confluent.connect.s3.format.json.JsonFormat",
			"partitioner.class":              "io.confluent.connect.storage.partitioner.DefaultPartitioner",
			"flush.size":                     records,
			"rotate.schedule.interval.ms":    rotate,
			"timezone":                       "UTC",
			"behavior.on.null.values":        "ignore",
			"key.converter":                  "org.apache.kafka.connect.json.JsonConverter",
			"key.converter.schemas.enable":   boolString(debeziumEncoding.SchemasEnabled),
			"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
			"value.converter.schemas.enable": boolString(debeziumEncoding.SchemasEnabled),
			"datasurface.managed":            "true",
		}
		if err := checkLanding(ai); err != nil {
			return err
		}
		if lc := r.container(nil, ai.Landing.Container.Name); lc != nil && lc.ObjectStorage != nil {
			o := lc.ObjectStorage
			if err := checkObjectStorage(o); err != nil {
				return fmt.Errorf("container %s: %w", lc.Name, err)
			}
			if o.Endpoint.Value != "" {
				sinkCfg["store.url"] = o.Endpoint.Value
			}
			if o.Region.Value != "" {
				sinkCfg["s3.region"] = o.Region.Value
			}
			if o.PathStyle {
				sinkCfg["s3.path.style.access.enabled"] = "true"
			}
		}
		sinkSecrets := map[string]string{}
		if lcred := ai.Landing.Credential.Name; lcred != "" {
			c, err := r.ecosystemCredential(lcred)
			if err != nil {
				return err
			}
			sinkSecrets["aws.access.key.id"] = fileSecret(c, "username")
			sinkSecrets["aws.secret.access.key"] = fileSecret(c, "password")
		}
		sink := Connector{Name: p.Name + "." + ds.Name + ".s3-sink"}
		if err := checkConfig(sink.Name, sinkCfg, sinkSecrets); err != nil {
			return err
		}
		sink.Config = sorted(sinkCfg)
		for _, conn := range []struct {
			c    Connector
			file string
		}{{source, ds.Name + ".source.json"}, {sink, ds.Name + ".s3-sink.json"}} {
			b, err := r.ts.Render("connector.json.tmpl", conn.c)
			if err != nil {
				return err
			}
			if err := r.tree.add(platformDir(p)+"/connect/"+conn.file, b); err != nil {
				return err
			}
		}
	}
	return nil
}

func sorted(m map[string]string) []ConfigEntry {
	out := make([]ConfigEntry, 0, len(m))
	for k, v := range m {
		out = append(out, ConfigEntry{k, v})
	}
	sortEntries(out)
	return out
}

// The generator checks again what lint checks of the model text it renders
// (value-* codes), so that a model that was not linted cannot render a
// value its reader would misread.

func checkPostgres(pg *model.PostgresContainer) error {
	if err := model.CheckHost(pg.Host.Value); err != nil {
		return fmt.Errorf("host %q %v", pg.Host.Value, err)
	}
	if err := model.CheckPort(pg.EffectivePort()); err != nil {
		return fmt.Errorf("port %v", err)
	}
	if err := model.CheckPostgresIdentifier(pg.Database.Value); err != nil {
		return fmt.Errorf("database %q %v", pg.Database.Value, err)
	}
	return nil
}

func checkObjectStorage(o *model.ObjectStorageContainer) error {
	if v := o.Endpoint.Value; v != "" {
		if err := model.CheckEndpoint(v); err != nil {
			return fmt.Errorf("endpoint %q %v", v, err)
		}
	}
	if v := o.Region.Value; v != "" {
		if err := model.CheckRegion(v); err != nil {
			return fmt.Errorf("region %q %v", v, err)
		}
	}
	return nil
}

func checkLanding(ai *model.AirflowIceberg) error {
	if err := model.CheckBucket(ai.Landing.Bucket); err != nil {
		return fmt.Errorf("landing bucket %q %v", ai.Landing.Bucket, err)
	}
	if err := model.CheckKeyPrefix(landingPrefix(ai)); err != nil {
		return fmt.Errorf("landing prefix %q %v", ai.Landing.Prefix, err)
	}
	return nil
}

// sourceNames are the schema and table of a dataset in the source database,
// as sourceTable joins them.
func sourceNames(ds *model.Datastore, d *model.Dataset) (schema, table string) {
	schema, table = "public", d.Name
	if ds.Capture != nil && ds.Capture.SourceSchema != "" {
		schema = ds.Capture.SourceSchema
	}
	if d.SourceTable != "" {
		table = d.SourceTable
	}
	return schema, table
}
