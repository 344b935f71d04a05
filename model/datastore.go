package model

// Datastore is a producer's store and the datasets it publishes, read from
// zones/<zone>/teams/<team>/datastores/<datastore>.yaml. A transformer's output
// is a datastore too, without capture.
type Datastore struct {
	Pos           Pos
	Name          string       `yaml:"datastore,required" doc:"The datastore's identifier, unique in the ecosystem."`
	Documentation string       `yaml:"documentation" doc:"What the store holds (markdown)."`
	Production    bool         `yaml:"production" doc:"Whether the store is a production source."`
	Deprecated    *Deprecation `yaml:"deprecated" doc:"Marks every dataset of the store deprecated."`
	Capture       *Capture     `yaml:"capture" doc:"How the store's changes are captured; required except for a transformer's output."`
	Datasets      []Dataset    `yaml:"datasets" doc:"The datasets the store publishes."`

	// Team is the team that defines the store.
	Team *Team
	// Transformer is set when the store is a transformer's output.
	Transformer *Transformer
}

// Capture says how a datastore's changes are captured.
type Capture struct {
	Pos             Pos
	Kind            CaptureKind `yaml:"kind,required" doc:"debezium_cdc, sql_snapshot or sql_watermark."`
	Container       Ref         `yaml:"container,required" doc:"The team's container holding the source tables."`
	Credential      Ref         `yaml:"credential" doc:"The team's credential used to read them."`
	Trigger         Trigger     `yaml:"trigger" doc:"When ingestion runs."`
	Consistency     Consistency `yaml:"consistency" doc:"single_dataset (each dataset its own stream, the default) or multi_dataset (one stream for all: a sql_snapshot store's tables are read from one source snapshot and committed as one atomic change; a debezium_cdc store's tables each apply their own topic and commit on their own, so between runs one may be ahead of another)."`
	SourceSchema    string      `yaml:"source_schema" doc:"The source database schema; public when omitted."`
	WatermarkColumn string      `yaml:"watermark_column" doc:"For sql_watermark: the column whose growth marks changed rows, in every dataset."`
}

// Capture kinds.
const (
	CaptureDebezium  = "debezium_cdc"
	CaptureSnapshot  = "sql_snapshot"
	CaptureWatermark = "sql_watermark"
)

// CaptureKind is how a datastore is captured.
type CaptureKind string

func (CaptureKind) Values() []string {
	return []string{CaptureDebezium, CaptureSnapshot, CaptureWatermark}
}

// Consistency is whether a store's datasets are ingested together.
type Consistency string

// Consistency values.
const (
	SingleDataset = "single_dataset"
	MultiDataset  = "multi_dataset"
)

func (Consistency) Values() []string { return []string{SingleDataset, MultiDataset} }

// Trigger is when ingestion runs: on a cron schedule or when triggered from outside.
type Trigger struct {
	Pos      Pos
	Cron     string `yaml:"cron" doc:"A five-field cron expression or @hourly, @daily, ..."`
	External bool   `yaml:"external" doc:"Runs only when triggered from outside (no schedule)."`
}

// Dataset is one published table.
type Dataset struct {
	Pos             Pos
	Name            string       `yaml:"name,required" doc:"The dataset's identifier, unique in its datastore."`
	Documentation   string       `yaml:"documentation" doc:"What a row means (markdown)."`
	SourceTable     string       `yaml:"source_table" doc:"The source table, when its name differs from the dataset's."`
	Classifications []Ref        `yaml:"classifications" doc:"Classifications of the whole dataset (or give them per column, not both)."`
	PrimaryKey      []Ref        `yaml:"primary_key" doc:"The primary key's columns, in order."`
	PartitionBy     []Ref        `yaml:"partition_by" doc:"Columns the Iceberg table is partitioned by."`
	Policies        []Ref        `yaml:"policies" doc:"Optional policies of the zone that apply to this dataset."`
	Deprecated      *Deprecation `yaml:"deprecated" doc:"Marks the dataset deprecated."`
	Columns         []Column     `yaml:"columns" doc:"The columns, in order."`
}

// Column is a column of a dataset, or a field of a struct type.
type Column struct {
	Pos             Pos
	Name            string  `yaml:"name,required" doc:"The column's identifier."`
	Documentation   string  `yaml:"documentation" doc:"What the column holds."`
	Nullable        OptBool `yaml:"nullable" doc:"Whether it may be null; true when omitted, except for primary key columns."`
	Classifications []Ref   `yaml:"classifications" doc:"Classifications of this column."`
	TypeSpec        `yaml:",inline"`
}

// Element is the element type of a list or the key or value type of a map.
type Element struct {
	Pos      Pos
	Nullable OptBool `yaml:"nullable" doc:"Whether elements may be null; true when omitted (map keys never are)."`
	TypeSpec `yaml:",inline"`
}

// TypeSpec is a data type with the parts a nested type needs.
type TypeSpec struct {
	Type    DataType `yaml:"type,required" doc:"The type: boolean, int8..int64, float32, float64, decimal(p,s), char(n), varchar(n), text, date, time, timestamp, timestamptz, uuid, binary, json, struct, list or map."`
	Fields  []Column `yaml:"fields" doc:"For struct: the named fields, in order."`
	Element *Element `yaml:"element" doc:"For list: the element type."`
	Key     *Element `yaml:"key" doc:"For map: the key type."`
	Value   *Element `yaml:"value" doc:"For map: the value type."`
}

// IsNullable reports the column's effective nullability; key columns default to not null.
func (c *Column) IsNullable(isKey bool) bool {
	if c.Nullable.Set {
		return c.Nullable.Value
	}
	return !isKey
}

// Column looks a column up by name.
func (d *Dataset) Column(name string) *Column {
	for i := range d.Columns {
		if d.Columns[i].Name == name {
			return &d.Columns[i]
		}
	}
	return nil
}

// IsKey reports whether a column is part of the primary key.
func (d *Dataset) IsKey(name string) bool {
	for _, k := range d.PrimaryKey {
		if k.Name == name {
			return true
		}
	}
	return false
}
