package generator

import (
	"fmt"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/model"
)

// Debezium's encodings as the source connector is configured; the job spec
// states them so the merge-runner decodes exactly what was written.
var debeziumEncoding = jobspec.Encoding{
	DecimalHandling: "precise",
	TimePrecision:   "adaptive_time_microseconds",
	// bytes: an unchanged-TOAST bytea keeps Debezium's placeholder
	// (PostgresValueConverter#convertBinaryToBytes), while the base64 modes
	// fall through to JdbcValueConverters, which make it null: a real null
	// to the merge-runner, which would overwrite the stored value.
	BinaryHandling: "bytes",
	SchemasEnabled: false,
	// No tombstones: the S3 sink drops null values, and a dropped record
	// still takes a Kafka offset, so every later line of its file would be
	// read with an offset one too low. The merge-runner derives offsets from
	// line numbers; without tombstones they are exact.
	TombstonesOnDelete: false,
}

// Default batch bounds: a commit per 100,000 events or 256 MiB of landed
// events. The merge-runner holds a batch's rows while it folds them and
// reads the next batch while it writes this one: larger batches cost memory
// and page faults for no gain (scripts/bench-merge.sh).
var defaultBatch = jobspec.Batch{MaxEvents: 100_000, MaxBytes: 256 << 20}

func (r *renderer) jobSpec(p *model.Platform, s *model.Stream) ([]byte, error) {
	ai := p.AirflowIceberg
	ds := s.Datastore
	spec := &jobspec.Spec{
		Version:   jobspec.Version,
		Platform:  p.Name,
		Stream:    s.Name,
		Datastore: ds.Name,
		Target: jobspec.Target{
			Catalog:     ai.Iceberg.Catalog.Name,
			CatalogKind: string(ai.Iceberg.Catalog.Kind),
			Warehouse:   warehouseURL(ai),
			Namespace:   ds.Name,
		},
		Batch: defaultBatch,
	}
	switch ds.Capture.Kind {
	case model.CaptureDebezium:
		spec.Source = jobspec.Source{Kind: jobspec.SourceDebezium, Debezium: &jobspec.DebeziumSource{
			Container: ai.Landing.Container.Name, Bucket: ai.Landing.Bucket, Prefix: landingPrefix(ai), Encoding: debeziumEncoding,
		}}
		if ai.EmbeddedCDC() {
			c, err := r.embeddedCapture(p, s)
			if err != nil {
				return nil, err
			}
			spec.Source.Debezium.Capture = c
		}
	case model.CaptureSnapshot, model.CaptureWatermark:
		kind := jobspec.SourceSnapshot
		if ds.Capture.Kind == model.CaptureWatermark {
			kind = jobspec.SourceWatermark
		}
		spec.Source = jobspec.Source{Kind: kind, Postgres: &jobspec.PostgresSource{
			Container: ds.Capture.Container.Name, Credential: ds.Capture.Credential.Name, WatermarkColumn: ds.Capture.WatermarkColumn,
		}}
	default:
		return nil, fmt.Errorf("datastore %s: capture kind %q cannot be ingested", ds.Name, ds.Capture.Kind)
	}
	tables, err := streamTables(p, s)
	if err != nil {
		return nil, err
	}
	spec.Tables = tables
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	return jobspec.Marshal(spec)
}

// streamTables are the Iceberg tables a stream maintains: per dataset its
// live and history tables, as the stream's consumers need them.
func streamTables(p *model.Platform, s *model.Stream) ([]jobspec.Table, error) {
	ds := s.Datastore
	var tables []jobspec.Table
	for _, st := range s.Tables {
		d := st.Dataset
		base := jobspec.Table{
			Dataset:     d.Name,
			SourceTable: sourceTable(ds, d),
			PrimaryKey:  refNames(d.PrimaryKey),
			PartitionBy: refNames(d.PartitionBy),
		}
		if ds.Capture != nil && ds.Capture.Kind == model.CaptureDebezium {
			base.Topic = topicOf(p, ds, d)
		}
		for i := range d.Columns {
			c := &d.Columns[i]
			if c.Name == jobspec.ColValidFrom || c.Name == jobspec.ColValidTo || c.Name == jobspec.ColBatchIn || c.Name == jobspec.ColBatchOut {
				return nil, fmt.Errorf("dataset %s.%s: column %s is reserved for history tables; rename it", ds.Name, d.Name, c.Name)
			}
			base.Columns = append(base.Columns, specColumn(c.Name, &c.TypeSpec, c.IsNullable(d.IsKey(c.Name))))
		}
		if st.Live {
			t := base
			t.Name, t.Mode, t.WriteMode = model.LiveTable(d.Name), jobspec.ModeLive, string(st.LiveWriteMode)
			tables = append(tables, t)
		}
		if st.Forensic {
			t := base
			t.Name, t.Mode, t.WriteMode = model.HistoryTable(d.Name), jobspec.ModeForensic, string(st.HistoryWriteMode)
			tables = append(tables, t)
		}
	}
	return tables, nil
}

func specColumn(name string, t *model.TypeSpec, nullable bool) jobspec.Column {
	c := jobspec.Column{Name: name, Type: t.Type.Base.String(), Nullable: nullable}
	switch t.Type.Base {
	case model.TypeDecimal:
		c.Precision, c.Scale = int(t.Type.P), int(t.Type.S)
	case model.TypeChar, model.TypeVarchar:
		c.Length = int(t.Type.P)
	case model.TypeTime, model.TypeTimestamp, model.TypeTimestampTZ:
		p := int(t.Type.TimePrecision())
		c.TimePrecision = &p
	}
	for i := range t.Fields {
		f := &t.Fields[i]
		c.Fields = append(c.Fields, specColumn(f.Name, &f.TypeSpec, f.IsNullable(false)))
	}
	elem := func(e *model.Element, name string, defaultNull bool) *jobspec.Column {
		if e == nil {
			return nil
		}
		null := defaultNull
		if e.Nullable.Set {
			null = e.Nullable.Value
		}
		ec := specColumn(name, &e.TypeSpec, null)
		return &ec
	}
	c.Element = elem(t.Element, "element", true)
	c.Key = elem(t.Key, "key", false)
	c.Value = elem(t.Value, "value", true)
	return c
}

func refNames(rs []model.Ref) []string {
	if len(rs) == 0 {
		return nil
	}
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out
}

// sourceTable is schema.table in the source database.
func sourceTable(ds *model.Datastore, d *model.Dataset) string {
	schema := "public"
	if ds.Capture != nil && ds.Capture.SourceSchema != "" {
		schema = ds.Capture.SourceSchema
	}
	table := d.Name
	if d.SourceTable != "" {
		table = d.SourceTable
	}
	return schema + "." + table
}

// topicPrefix is Debezium's topic.prefix for a datastore on a platform.
func topicPrefix(p *model.Platform, ds *model.Datastore) string {
	prefix := p.Name
	if tp := p.AirflowIceberg.KafkaConnect.TopicPrefix; tp != "" {
		prefix = tp
	}
	return prefix + "." + ds.Name
}

// topicOf is the topic Debezium writes a table's changes to: <prefix>.<schema>.<table>.
func topicOf(p *model.Platform, ds *model.Datastore, d *model.Dataset) string {
	return topicPrefix(p, ds) + "." + sourceTable(ds, d)
}

func warehouseURL(ai *model.AirflowIceberg) string {
	w := ai.Iceberg.Warehouse
	u := "s3://" + w.Bucket
	if w.Prefix != "" {
		u += "/" + w.Prefix
	}
	return u
}

// landingPrefix is the S3 sink's topics.dir: the platform's landing prefix,
// or the sink's own default "topics" when none is given. Both the sink config
// and the job spec use it, so they always agree.
func landingPrefix(ai *model.AirflowIceberg) string {
	if ai.Landing.Prefix == "" {
		return "topics"
	}
	return ai.Landing.Prefix
}

// embeddedCapture is what merge-runner capture needs of a debezium_cdc
// store on an embedded platform: the source database and the slot and
// publication it owns, named as the Kafka Connect path names its
// connector's (model.ReplicationName). What the connectors would check of
// the names before rendering is checked here, as no connector is rendered.
func (r *renderer) embeddedCapture(p *model.Platform, s *model.Stream) (*jobspec.Capture, error) {
	ds := s.Datastore
	c := r.container(ds.Team, ds.Capture.Container.Name)
	if c == nil || c.Postgres == nil {
		return nil, fmt.Errorf("datastore %s: capture container %q is not a postgres container; embedded CDC reads PostgreSQL logical replication", ds.Name, ds.Capture.Container.Name)
	}
	if err := checkPostgres(c.Postgres); err != nil {
		return nil, fmt.Errorf("datastore %s: %w", ds.Name, err)
	}
	if _, err := r.teamCredential(ds.Team, ds.Capture.Credential.Name); err != nil {
		return nil, fmt.Errorf("datastore %s: %w", ds.Name, err)
	}
	for _, st := range s.Tables {
		schema, table := sourceNames(ds, st.Dataset)
		for _, n := range []string{schema, table} {
			if err := model.CheckPostgresIdentifier(n); err != nil {
				return nil, fmt.Errorf("datastore %s: source name %q %v", ds.Name, n, err)
			}
		}
		if topic := topicOf(p, ds, st.Dataset); model.CheckTopicName(topic) != nil {
			return nil, fmt.Errorf("datastore %s: topic %q %v", ds.Name, topic, model.CheckTopicName(topic))
		}
	}
	name := pgName(p.Name, ds.Name)
	return &jobspec.Capture{
		Container:   ds.Capture.Container.Name,
		Credential:  ds.Capture.Credential.Name,
		Database:    c.Postgres.Database.Value,
		Server:      topicPrefix(p, ds),
		Slot:        name,
		Publication: name,
	}, nil
}
