package lint

import (
	"github.com/datasurface/datasurface/model"
)

// connectorValues checks the model text that the generator renders as it
// is: into Kafka Connect connector configs (the Debezium source's host,
// port, database and table.include.list, the S3 sink's bucket, topics.dir,
// endpoint and region, the topic names), and into job specs and DAG
// environments (the same containers, the warehouse). Each value must be what
// its reader expects (model.Check*), and none may contain "${": Kafka
// Connect resolves ${provider:[path:]key} in every connector config value,
// with no escape (org.apache.kafka.common.config.ConfigTransformer, KIP-297),
// so a team's host name could otherwise read the workers' secret files.
func (l *linter) connectorValues() {
	e := l.m.Ecosystem
	if e == nil {
		return
	}
	eco := "ecosystem:" + e.Name
	for i := range e.Containers {
		c := &e.Containers[i]
		l.containerValues(c, eco+"/container:"+c.Name)
	}
	for _, z := range l.m.Zones {
		for _, t := range z.Defs {
			for i := range t.Containers {
				c := &t.Containers[i]
				l.containerValues(c, teamPath(t)+"/container:"+c.Name)
			}
		}
	}
	l.eachDatastore(func(ds *model.Datastore) {
		c := ds.Capture
		if c == nil {
			return
		}
		sp := storePath(ds)
		if c.SourceSchema != "" {
			l.identifierValue("source_schema", c.SourceSchema, c.Pos, sp)
		}
		for i := range ds.Datasets {
			d := &ds.Datasets[i]
			if d.SourceTable != "" {
				l.identifierValue("source_table", d.SourceTable, d.Pos, datasetPath(ds, d))
			}
		}
	})
	for i := range e.Platforms {
		p := &e.Platforms[i]
		ai := p.AirflowIceberg
		if ai == nil || p.Kind != model.PlatformAirflowIceberg {
			continue // only airflow-iceberg platforms are rendered
		}
		pp := eco + "/platform:" + p.Name
		l.bucketValue("landing bucket", ai.Landing.Bucket, p.Pos, pp)
		if ai.Landing.Prefix != "" {
			l.keyPrefixValue("landing prefix", ai.Landing.Prefix, p.Pos, pp)
		}
		l.bucketValue("warehouse bucket", ai.Iceberg.Warehouse.Bucket, p.Pos, pp)
		if ai.Iceberg.Warehouse.Prefix != "" {
			l.keyPrefixValue("warehouse prefix", ai.Iceberg.Warehouse.Prefix, p.Pos, pp)
		}
		if tp := ai.KafkaConnect.TopicPrefix; tp != "" {
			l.topicValue("kafka_connect topic_prefix", tp, p.Pos, pp)
		}
	}
	l.topicLengths()
}

func (l *linter) containerValues(c *model.Container, path string) {
	if pg := c.Postgres; pg != nil {
		l.hostValue("host", pg.Host.Value, textPos(pg.Host, c.Pos), path)
		if pg.Port.IsSet() {
			if err := model.CheckPort(pg.Port.Value); err != nil {
				l.errorf("value-port", refPos(model.Ref{Pos: pg.Port.Pos}, c.Pos), path, "port %v; give the database's port, or omit it for %d", err, model.DefaultPostgresPort)
			}
		}
		l.identifierValue("database", pg.Database.Value, textPos(pg.Database, c.Pos), path)
	}
	if o := c.ObjectStorage; o != nil {
		if o.Endpoint.Value != "" {
			l.endpointValue("endpoint", o.Endpoint.Value, textPos(o.Endpoint, c.Pos), path)
		}
		if o.Region.Value != "" {
			l.regionValue("region", o.Region.Value, textPos(o.Region, c.Pos), path)
		}
	}
}

func textPos(t model.Text, fallback model.Pos) model.Pos {
	return refPos(model.Ref{Pos: t.Pos}, fallback)
}

// refFree reports a config provider reference in a value that is rendered
// and returns whether there was none; the value's own rule is checked only
// then.
func (l *linter) refFree(what, v string, pos model.Pos, path string) bool {
	if !model.HasConfigReference(v) {
		return true
	}
	l.errorf("value-config-reference", pos, path, "%s %q contains \"${\": Kafka Connect resolves ${provider:path:key} in every connector config value and has no escape for it, so this could read the workers' secrets (their config provider files) into the connector; remove it", what, v)
	return false
}

func (l *linter) hostValue(what, v string, pos model.Pos, path string) {
	if !l.refFree(what, v, pos, path) {
		return
	}
	if err := model.CheckHost(v); err != nil {
		l.errorf("value-host", pos, path, "%s %q %v; write a host name (RFC 1123 labels, e.g. db.example.com) or an IP address", what, v, err)
	}
}

func (l *linter) identifierValue(what, v string, pos model.Pos, path string) {
	if !l.refFree(what, v, pos, path) {
		return
	}
	if err := model.CheckPostgresIdentifier(v); err != nil {
		l.errorf("value-identifier", pos, path, "%s %q %v; write the name as an unquoted PostgreSQL identifier: a letter or _, then letters, digits or _, at most %d", what, v, err, model.MaxIdentifierLength)
	}
}

func (l *linter) bucketValue(what, v string, pos model.Pos, path string) {
	if !l.refFree(what, v, pos, path) {
		return
	}
	if err := model.CheckBucket(v); err != nil {
		l.errorf("value-bucket", pos, path, "%s %q %v; write the bucket's name as S3 accepts it (3 to 63 lower-case letters, digits, '.' and '-')", what, v, err)
	}
}

func (l *linter) keyPrefixValue(what, v string, pos model.Pos, path string) {
	if !l.refFree(what, v, pos, path) {
		return
	}
	if err := model.CheckKeyPrefix(v); err != nil {
		l.errorf("value-key-prefix", pos, path, "%s %q %v; write segments of letters, digits, '.', '_' and '-' separated by single '/'", what, v, err)
	}
}

func (l *linter) endpointValue(what, v string, pos model.Pos, path string) {
	if !l.refFree(what, v, pos, path) {
		return
	}
	if err := model.CheckEndpoint(v); err != nil {
		l.errorf("value-url", pos, path, "%s %q %v; write http(s)://host[:port]", what, v, err)
	}
}

func (l *linter) regionValue(what, v string, pos model.Pos, path string) {
	if !l.refFree(what, v, pos, path) {
		return
	}
	if err := model.CheckRegion(v); err != nil {
		l.errorf("value-region", pos, path, "%s %q %v; write a region code such as eu-west-1", what, v, err)
	}
}

func (l *linter) topicValue(what, v string, pos model.Pos, path string) {
	if !l.refFree(what, v, pos, path) {
		return
	}
	if err := model.CheckTopicName(v); err != nil {
		l.errorf("value-topic", pos, path, "%s %q %v", what, v, err)
	}
}

// topicLengths checks the topic names Debezium will write for the CDC
// datasets that airflow-iceberg platforms ingest: <prefix>.<datastore>.<schema>.<table>,
// at most model.MaxTopicLength characters.
func (l *linter) topicLengths() {
	type key struct {
		p *model.Platform
		d *model.Dataset
	}
	seen := map[key]bool{}
	l.eachWorkspace(func(w *model.Workspace) {
		for gi := range w.Groups {
			g := &w.Groups[gi]
			p := l.ix.platforms[g.Platform.Name]
			if p == nil || p.AirflowIceberg == nil || !p.AirflowIceberg.KafkaConnect.Container.IsSet() && !p.AirflowIceberg.EmbeddedCDC() {
				continue
			}
			prefix := p.Name
			if tp := p.AirflowIceberg.KafkaConnect.TopicPrefix; tp != "" {
				prefix = tp
			}
			for _, s := range g.Sinks {
				ds, d := l.ix.dataset(s.Datastore, s.Dataset)
				if d == nil || ds.Capture == nil || ds.Capture.Kind != model.CaptureDebezium || seen[key{p, d}] {
					continue
				}
				seen[key{p, d}] = true
				schema, table := "public", d.Name
				if ds.Capture.SourceSchema != "" {
					schema = ds.Capture.SourceSchema
				}
				if d.SourceTable != "" {
					table = d.SourceTable
				}
				if topic := prefix + "." + ds.Name + "." + schema + "." + table; len(topic) > model.MaxTopicLength {
					l.errorf("value-topic", d.Pos, datasetPath(ds, d), "on platform %s dataset %s would be written to topic %s, of %d characters; Kafka allows %d: shorten the platform's topic_prefix, the datastore's name or the source schema or table", p.Name, d.Name, topic, len(topic), model.MaxTopicLength)
				}
			}
		}
	})
}
