// Package jobspec is the contract between the generator and the
// merge-runner: one JSON document per ingestion stream saying what to read,
// which Iceberg tables to maintain and how. It is versioned; a reader refuses
// a version it does not know.
//
// The spec never holds an endpoint or a secret. Containers and credentials
// appear by name; the merge-runner gets endpoints and secrets from its flags
// and environment, which the DAG fills from Airflow connections and variables.
package jobspec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Version is the spec version this package reads and writes.
const Version = 1

// Spec is one ingestion stream's job.
type Spec struct {
	Version   int     `json:"version"`
	Platform  string  `json:"platform"`
	Stream    string  `json:"stream"`    // unique per platform; also the DAG's name part
	Datastore string  `json:"datastore"` // the model's datastore
	Source    Source  `json:"source"`
	Target    Target  `json:"target"`
	Tables    []Table `json:"tables"`
	Batch     Batch   `json:"batch"`
}

// Source kinds.
const (
	SourceDebezium  = "debezium"
	SourceSnapshot  = "postgres_snapshot"
	SourceWatermark = "postgres_watermark"
	// SourceTransformer is a transformer's output, merged like a snapshot.
	SourceTransformer = "transformer"
)

// Source says where changes come from.
type Source struct {
	Kind string `json:"kind"` // debezium, postgres_snapshot or postgres_watermark
	// Debezium: change events landed by Kafka Connect's S3 sink.
	Debezium *DebeziumSource `json:"debezium,omitempty"`
	// Postgres: a snapshot or watermark query of the source tables.
	Postgres *PostgresSource `json:"postgres,omitempty"`
	// Transformer: the rows a transformer run wrote.
	Transformer *TransformerSource `json:"transformer,omitempty"`
}

// TransformerSource is where a transformer's runs write and what they read.
// Run R uses the folder <output>/<R>/: `merge-runner inputs` writes
// _inputs.json there (each input table's snapshot id, pinned before the
// transformer starts), the transformer writes <dataset>/*.parquet for each
// output dataset and, last, _manifest.json, and `merge-runner run --run R`
// merges them into the spec's tables. docs/transformers.md has the contract.
type TransformerSource struct {
	// Name is <workspace>.<transformer>.
	Name string `json:"name"`
	// Output is the location runs write under: s3://bucket/prefix, or a
	// folder (tests, local runs).
	Output string `json:"output"`
	// Inputs are the Iceberg tables the transformer reads, in the target
	// catalog.
	Inputs []TransformerInput `json:"inputs"`
}

// TransformerInput is one table a transformer reads.
type TransformerInput struct {
	// Dataset is <datastore>.<dataset> as the workspace sinks it.
	Dataset   string `json:"dataset"`
	Namespace string `json:"namespace"`
	Table     string `json:"table"`
}

// validateTransformer refuses a transformer source the merge-runner could
// not act on: the block must be there alone, name the transformer and where
// its runs write, and list each input table once.
func (s *Source) validateTransformer() error {
	tr := s.Transformer
	if tr == nil {
		return fmt.Errorf("job spec: source kind transformer needs source.transformer")
	}
	if s.Debezium != nil || s.Postgres != nil {
		return fmt.Errorf("job spec: source kind transformer reads a transformer's runs; remove source.debezium and source.postgres")
	}
	if tr.Name == "" {
		return fmt.Errorf("job spec: source.transformer.name is empty; it is <workspace>.<transformer> (regenerate the spec from the model)")
	}
	if tr.Output == "" {
		return fmt.Errorf("job spec: source.transformer.output is empty; it is where the transformer's runs write (s3://bucket/prefix or a folder)")
	}
	if rest, ok := strings.CutPrefix(tr.Output, "s3://"); ok && (rest == "" || strings.HasPrefix(rest, "/")) {
		return fmt.Errorf("job spec: source.transformer.output %q names no bucket; use s3://bucket/prefix", tr.Output)
	}
	if len(tr.Inputs) == 0 {
		return fmt.Errorf("job spec: source.transformer.inputs is empty; a transformer reads at least one table")
	}
	seen := map[string]bool{}
	for i, in := range tr.Inputs {
		if in.Dataset == "" || in.Namespace == "" || in.Table == "" {
			return fmt.Errorf("job spec: source.transformer.inputs[%d] needs dataset, namespace and table", i)
		}
		k := in.Namespace + "." + in.Table
		if seen[k] {
			return fmt.Errorf("job spec: source.transformer.inputs: table %s is listed twice", k)
		}
		seen[k] = true
	}
	return nil
}

// DebeziumSource is where and how Debezium events were landed.
type DebeziumSource struct {
	// Container is the landing object_storage container's name.
	Container string `json:"container"`
	Bucket    string `json:"bucket"`
	// Prefix is the S3 sink's topics.dir: files are
	// <prefix>/<topic>/partition=<p>/<topic>+<p>+<startOffset>.json[.gz].
	Prefix   string   `json:"prefix"`
	Encoding Encoding `json:"encoding"`
	// GraceSeconds is how long the merge-runner waits for landing to catch
	// up (0: DefaultGraceSeconds): a missing offset before it exits with
	// IncompleteExitCode, and, on a topic of several partitions, a partition
	// that lands nothing before the events ordered after its last one are
	// applied. It should exceed the S3 sink's rotation interval.
	GraceSeconds int `json:"grace_seconds,omitempty"`
	// Limits bound what reading one landed object may cost.
	Limits Limits `json:"limits,omitzero"`
	// Capture, when set, says the events are landed by `merge-runner
	// capture` from PostgreSQL logical replication (pgoutput) instead of
	// Debezium, Kafka Connect and the S3 sink: the same JSON, topics, object
	// layout and offsets, in this Encoding, so the merge reads them alike.
	Capture *Capture `json:"capture,omitempty"`
}

// Capture is the source database an embedded capture replicates from.
type Capture struct {
	// Container is the postgres container's name; its endpoint and login
	// come from the environment, as for snapshot sources.
	Container string `json:"container"`
	// Credential is the credential's name (a login with REPLICATION).
	Credential string `json:"credential"`
	// Database is the database's name: source.db in every event.
	Database string `json:"database"`
	// Server is Debezium's topic.prefix: source.name in every event and the
	// first part of every topic (<server>.<schema>.<table>).
	Server string `json:"server"`
	// Slot is the logical replication slot (pgoutput) the capture owns.
	Slot string `json:"slot"`
	// Publication names the source tables the slot streams; created FOR
	// TABLE the spec's source tables when missing.
	Publication string `json:"publication"`
}

// validate refuses a capture block the capture could not act on: every
// field is needed, and the slot and publication are created by name, so
// they must be names PostgreSQL keeps as written: a replication slot name
// may hold only lower-case letters, digits and '_' (ReplicationSlotValidateName,
// src/backend/replication/slot.c), at most NAMEDATALEN-1 = 63 bytes, and
// the publication, an identifier, is held to the same so that it needs no
// quoting and no case folding changes it.
func (c *Capture) validate() error {
	for _, f := range []struct{ field, value string }{
		{"container", c.Container}, {"credential", c.Credential}, {"database", c.Database},
		{"server", c.Server}, {"slot", c.Slot}, {"publication", c.Publication},
	} {
		if f.value == "" {
			return fmt.Errorf("job spec: source.debezium.capture.%s is empty; the capture needs it (regenerate the spec from the model)", f.field)
		}
	}
	for _, f := range []struct{ field, value string }{{"slot", c.Slot}, {"publication", c.Publication}} {
		if err := replicationIdentifier(f.value); err != nil {
			return fmt.Errorf("job spec: source.debezium.capture.%s %q %v", f.field, f.value, err)
		}
	}
	return nil
}

// maxIdentifierBytes is PostgreSQL's NAMEDATALEN-1.
const maxIdentifierBytes = 63

func replicationIdentifier(s string) error {
	if len(s) > maxIdentifierBytes {
		return fmt.Errorf("has %d bytes; PostgreSQL names have at most %d", len(s), maxIdentifierBytes)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c == '_':
		case c >= '0' && c <= '9':
			if i == 0 {
				return fmt.Errorf("starts with a digit; use a lower-case letter or '_' first")
			}
		default:
			return fmt.Errorf("has %q; use only lower-case letters, digits and '_'", rune(c))
		}
	}
	return nil
}

// DefaultGraceSeconds is the grace period when the spec sets none.
const DefaultGraceSeconds = 900

// Limits bound the reading of landed objects; 0 is the default. Anything
// past a limit is bad input naming the object.
type Limits struct {
	// MaxLineBytes is the longest event line (default 64 MiB).
	MaxLineBytes int64 `json:"max_line_bytes,omitempty"`
	// MaxObjectBytes is the most a compressed object may expand to
	// (default 16 GiB).
	MaxObjectBytes int64 `json:"max_object_bytes,omitempty"`
	// MaxCompressionRatio is the most a compressed object may expand
	// relative to its stored size, judged once it has expanded past 64 MiB
	// (default 250).
	MaxCompressionRatio int64 `json:"max_compression_ratio,omitempty"`
}

// Encoding states the Debezium and converter settings the events were
// produced with, so the reader decodes exactly what was written.
type Encoding struct {
	// DecimalHandling: precise (base64 unscaled bytes + scale), string or double.
	DecimalHandling string `json:"decimal_handling"`
	// TimePrecision: adaptive_time_microseconds, adaptive or connect.
	TimePrecision string `json:"time_precision"`
	// BinaryHandling: bytes, base64, base64-url-safe or hex.
	BinaryHandling string `json:"binary_handling"`
	// SchemasEnabled is whether each event carries the JsonConverter schema envelope.
	SchemasEnabled bool `json:"schemas_enabled"`
	// TombstonesOnDelete is whether a delete is followed by a null-value tombstone.
	TombstonesOnDelete bool `json:"tombstones_on_delete"`
}

// PostgresSource is a PostgreSQL database read by SQL.
type PostgresSource struct {
	// Container is the postgres container's name; its endpoint comes from the environment.
	Container string `json:"container"`
	// Credential is the credential's name; the secret comes from the environment.
	Credential string `json:"credential"`
	// WatermarkColumn is the column whose growth marks changed rows (watermark capture).
	WatermarkColumn string `json:"watermark_column,omitempty"`
}

// Target is the Iceberg catalog and namespace the tables live in.
type Target struct {
	// Catalog is the catalog's name; its kind tells how to reach it.
	Catalog     string `json:"catalog"`
	CatalogKind string `json:"catalog_kind"` // sql or rest
	// Warehouse is the warehouse location, e.g. s3://warehouse/iceberg.
	Warehouse string `json:"warehouse"`
	Namespace string `json:"namespace"`
}

// Modes of a table.
const (
	ModeLive     = "live"     // the current row per key
	ModeForensic = "forensic" // every version with validity columns
)

// Table is one Iceberg table the stream maintains.
type Table struct {
	Dataset string `json:"dataset"`
	// SourceTable is schema.table in the source database.
	SourceTable string `json:"source_table"`
	// Topic is the Debezium topic of the source table (debezium sources).
	Topic string `json:"topic,omitempty"`
	// Name is the Iceberg table's name in the target namespace.
	Name        string   `json:"name"`
	Mode        string   `json:"mode"` // live or forensic
	Columns     []Column `json:"columns"`
	PrimaryKey  []string `json:"primary_key"`
	PartitionBy []string `json:"partition_by,omitempty"`
	// WriteMode is WriteMergeOnRead (equality deletes) or WriteCopyOnWrite.
	WriteMode string `json:"write_mode"`
}

// Column is a column or a nested field with its type.
type Column struct {
	Name      string `json:"name"`
	Type      string `json:"type"` // boolean, int8..int64, float32, float64, decimal, char, varchar, text, date, time, timestamp, timestamptz, uuid, binary, json, struct, list, map
	Length    int    `json:"length,omitempty"`
	Precision int    `json:"precision,omitempty"`
	Scale     int    `json:"scale,omitempty"`
	// TimePrecision is a time or timestamp column's fractional-second
	// precision in the source (0-6); Debezium sends precision 0-3 in
	// milliseconds and 4-6 in microseconds.
	TimePrecision *int     `json:"time_precision,omitempty"`
	Nullable      bool     `json:"nullable"`
	Fields        []Column `json:"fields,omitempty"`  // struct
	Element       *Column  `json:"element,omitempty"` // list
	Key           *Column  `json:"key,omitempty"`     // map
	Value         *Column  `json:"value,omitempty"`   // map
}

// Batch bounds the work of one commit.
type Batch struct {
	MaxEvents int   `json:"max_events"`
	MaxBytes  int64 `json:"max_bytes"`
}

// Marshal renders a spec as indented JSON with a final newline; the output is
// deterministic for the same spec.
func Marshal(s *Spec) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Read parses and validates a spec file.
func Read(path string) (*Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Parse decodes a spec strictly (unknown fields are errors) and validates it.
func Parse(b []byte) (*Spec, error) {
	var probe struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("not a job spec: %w", err)
	}
	if probe.Version != Version {
		return nil, fmt.Errorf("job spec version %d is not supported by this merge-runner (it reads version %d); use a matching merge-runner image", probe.Version, Version)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s Spec
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("job spec: %w", err)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Validate checks what the types cannot: the contract's enumerations, that
// the source block matches the kind, and that every name a table refers to
// is one of its columns, once.
func (s *Spec) Validate() error {
	switch s.Source.Kind {
	case SourceDebezium:
		if s.Source.Debezium == nil {
			return fmt.Errorf("job spec: source kind debezium needs source.debezium")
		}
		if s.Source.Postgres != nil {
			return fmt.Errorf("job spec: source kind debezium reads landed events; remove source.postgres")
		}
		if err := s.Source.Debezium.Encoding.validate(); err != nil {
			return err
		}
		if c := s.Source.Debezium.Capture; c != nil {
			if err := c.validate(); err != nil {
				return err
			}
		}
	case SourceSnapshot, SourceWatermark:
		if s.Source.Postgres == nil {
			return fmt.Errorf("job spec: source kind %s needs source.postgres", s.Source.Kind)
		}
		if s.Source.Debezium != nil {
			return fmt.Errorf("job spec: source kind %s reads the source database; remove source.debezium", s.Source.Kind)
		}
		if s.Source.Kind == SourceWatermark && s.Source.Postgres.WatermarkColumn == "" {
			return fmt.Errorf("job spec: source kind postgres_watermark needs source.postgres.watermark_column")
		}
	case SourceTransformer:
		if err := s.Source.validateTransformer(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("job spec: unknown source kind %q", s.Source.Kind)
	}
	if len(s.Tables) == 0 {
		return fmt.Errorf("job spec: no tables")
	}
	names := map[string]bool{}
	for i := range s.Tables {
		t := &s.Tables[i]
		if names[t.Name] {
			return fmt.Errorf("job spec: table %s appears twice; each table is maintained by one entry", t.Name)
		}
		names[t.Name] = true
		if t.Mode != ModeLive && t.Mode != ModeForensic {
			return fmt.Errorf("job spec: table %s: unknown mode %q", t.Name, t.Mode)
		}
		if t.WriteMode != WriteMergeOnRead && t.WriteMode != WriteCopyOnWrite {
			return fmt.Errorf("job spec: table %s: unknown write_mode %q; use %s or %s", t.Name, t.WriteMode, WriteMergeOnRead, WriteCopyOnWrite)
		}
		if len(t.Columns) == 0 {
			return fmt.Errorf("job spec: table %s has no columns", t.Name)
		}
		if s.Source.Kind == SourceDebezium && t.Topic == "" {
			return fmt.Errorf("job spec: table %s has no topic", t.Name)
		}
		if err := uniqueNames(t.Name, "", t.Columns); err != nil {
			return err
		}
		if err := columnRefs(t, "primary key", t.PrimaryKey); err != nil {
			return err
		}
		if err := columnRefs(t, "partition", t.PartitionBy); err != nil {
			return err
		}
	}
	return nil
}

// Write modes of a table.
const (
	WriteMergeOnRead = "merge_on_read" // equality deletes for changed keys, new data files
	WriteCopyOnWrite = "copy_on_write" // the data files holding changed keys are rewritten
)

// The encoding values the merge-runner decodes: Debezium's
// decimal.handling.mode, time.precision.mode and binary.handling.mode.
var (
	decimalHandlings = []string{"precise", "string", "double"}
	timePrecisions   = []string{"adaptive_time_microseconds", "adaptive", "connect"}
	binaryHandlings  = []string{"bytes", "base64", "base64-url-safe", "hex"}
)

// validate refuses an encoding the merge-runner cannot decode. Every value
// is checked, not only those of the columns a table has today: a column
// added later must not be the first to find out.
func (e Encoding) validate() error {
	for _, f := range []struct {
		field, value string
		allowed      []string
	}{
		{"decimal_handling", e.DecimalHandling, decimalHandlings},
		{"time_precision", e.TimePrecision, timePrecisions},
		{"binary_handling", e.BinaryHandling, binaryHandlings},
	} {
		if !slices.Contains(f.allowed, f.value) {
			return fmt.Errorf("job spec: source.debezium.encoding.%s %q is not one the merge-runner decodes; use one of %s", f.field, f.value, strings.Join(f.allowed, ", "))
		}
	}
	return nil
}

// uniqueNames refuses a column, or a struct field at any depth, named twice.
func uniqueNames(table, path string, cols []Column) error {
	seen := make(map[string]bool, len(cols))
	for i := range cols {
		c := &cols[i]
		p := c.Name
		if path != "" {
			p = path + "." + c.Name
		}
		if seen[c.Name] {
			if path == "" {
				return fmt.Errorf("job spec: table %s: column %s appears twice", table, p)
			}
			return fmt.Errorf("job spec: table %s: field %s appears twice", table, p)
		}
		seen[c.Name] = true
		if err := uniqueNames(table, p, c.Fields); err != nil {
			return err
		}
	}
	return nil
}

// columnRefs refuses a primary key or partition entry that is not a column
// of the table, or that is listed twice.
func columnRefs(t *Table, what string, refs []string) error {
	seen := make(map[string]bool, len(refs))
	for _, r := range refs {
		if seen[r] {
			return fmt.Errorf("job spec: table %s: %s column %s is listed twice", t.Name, what, r)
		}
		seen[r] = true
		if !slices.ContainsFunc(t.Columns, func(c Column) bool { return c.Name == r }) {
			return fmt.Errorf("job spec: table %s: %s column %s is not a column of the table", t.Name, what, r)
		}
	}
	return nil
}

// The validity columns a forensic (history) table adds to the dataset's own:
// a version is current while its valid-to is null.
const (
	ColValidFrom = "dsf_valid_from" // timestamptz: when this version became current (source time)
	ColValidTo   = "dsf_valid_to"   // timestamptz: when it stopped being current; null while current
	ColBatchIn   = "dsf_batch_in"   // long: the merge batch that wrote this version
	ColBatchOut  = "dsf_batch_out"  // long: the merge batch that ended it; null while current
)

// HistoryColumns lists the validity columns in table order.
var HistoryColumns = []string{ColValidFrom, ColValidTo, ColBatchIn, ColBatchOut}

// BadInputExitCode is the merge-runner's exit code for input that will not
// get better by retrying (undecodable events, missing keys, values that do
// not fit): the DAG fails such a task without retries.
const BadInputExitCode = 3

// ReconcileDiffersExitCode is merge-runner reconcile's exit code when the
// live table and its legacy copy differ beyond the tolerances: the DAG fails
// the task without retries (a retry would compare the same tables; the next
// run reconciles again).
const ReconcileDiffersExitCode = 1

// IncompleteExitCode is the merge-runner's exit code when landed events
// are still missing after the grace period (an offset gap that did not
// fill): what could be applied was, and a later run resumes once the
// missing objects land. The DAG fails such a task so that someone looks.
const IncompleteExitCode = 5
