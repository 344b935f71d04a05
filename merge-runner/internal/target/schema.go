// Package target is the merge-runner's side of Iceberg: it maps a job spec
// table to an Iceberg schema and partition spec, opens catalogs, creates and
// evolves tables, and converts rows to and from Arrow.
package target

import (
	"fmt"
	"strings"

	"github.com/apache/iceberg-go"

	"github.com/datasurface/datasurface/jobspec"
)

// ConfigError is a difference between the job spec and the world that
// retrying will not fix: an unsupported type, a key that cannot be an
// identifier, a table whose schema cannot evolve to the spec's.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return e.Msg }

func configErrorf(format string, args ...any) error {
	return &ConfigError{Msg: fmt.Sprintf(format, args...)}
}

// Schema is the Iceberg schema a job spec table wants: its columns, plus the
// validity columns for a forensic table. Field IDs are assigned in order
// depth first; CreateTable reassigns them, so code looks fields up by name.
func Schema(t *jobspec.Table) (*iceberg.Schema, error) {
	ids := 0
	next := func() int { ids++; return ids }
	fields := make([]iceberg.NestedField, 0, len(t.Columns)+len(jobspec.HistoryColumns))
	byName := map[string]int{}
	for i := range t.Columns {
		c := &t.Columns[i]
		id := next()
		typ, err := icebergType(c, next)
		if err != nil {
			return nil, fmt.Errorf("table %s column %s: %w", t.Name, c.Name, err)
		}
		byName[c.Name] = id
		fields = append(fields, iceberg.NestedField{ID: id, Name: c.Name, Type: typ, Required: !c.Nullable})
	}
	var identifiers []int
	if t.Mode == jobspec.ModeForensic {
		for _, name := range jobspec.HistoryColumns {
			typ := iceberg.Type(iceberg.PrimitiveTypes.Int64)
			if name == jobspec.ColValidFrom || name == jobspec.ColValidTo {
				typ = iceberg.PrimitiveTypes.TimestampTz
			}
			if _, clash := byName[name]; clash {
				return nil, configErrorf("table %s: column %s is reserved for the history table's validity columns; rename it in the model", t.Name, name)
			}
			required := name == jobspec.ColValidFrom || name == jobspec.ColBatchIn
			fields = append(fields, iceberg.NestedField{ID: next(), Name: name, Type: typ, Required: required})
		}
	} else {
		for _, k := range t.PrimaryKey {
			id, ok := byName[k]
			if !ok {
				return nil, configErrorf("table %s: primary key column %s is not a column", t.Name, k)
			}
			identifiers = append(identifiers, id)
		}
	}
	if len(t.PrimaryKey) == 0 {
		return nil, configErrorf("table %s has no primary key; the merge needs one to apply updates and deletes", t.Name)
	}
	for _, k := range t.PrimaryKey {
		c := column(t, k)
		if c == nil {
			return nil, configErrorf("table %s: primary key column %s is not a column", t.Name, k)
		}
		switch c.Type {
		case "float32", "float64", "struct", "list", "map":
			return nil, configErrorf("table %s: primary key column %s has type %s, which cannot be an Iceberg identifier field; key the dataset on other columns", t.Name, k, c.Type)
		}
		if c.Nullable {
			return nil, configErrorf("table %s: primary key column %s is nullable; key columns must be required", t.Name, k)
		}
	}
	return iceberg.NewSchemaWithIdentifiers(0, identifiers, fields...), nil
}

func column(t *jobspec.Table, name string) *jobspec.Column {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i]
		}
	}
	return nil
}

// icebergType maps a job spec column type one to one (DESIGN §3); nested
// types take IDs from next.
func icebergType(c *jobspec.Column, next func() int) (iceberg.Type, error) {
	switch c.Type {
	case "boolean":
		return iceberg.PrimitiveTypes.Bool, nil
	case "int8", "int16", "int32":
		return iceberg.PrimitiveTypes.Int32, nil
	case "int64":
		return iceberg.PrimitiveTypes.Int64, nil
	case "float32":
		return iceberg.PrimitiveTypes.Float32, nil
	case "float64":
		return iceberg.PrimitiveTypes.Float64, nil
	case "decimal":
		if c.Precision < 1 || c.Precision > 38 || c.Scale < 0 || c.Scale > c.Precision {
			return nil, configErrorf("decimal(%d,%d) is not an Iceberg decimal (precision 1-38, 0 <= scale <= precision)", c.Precision, c.Scale)
		}
		return iceberg.DecimalTypeOf(c.Precision, c.Scale), nil
	case "char", "varchar", "text", "json":
		return iceberg.PrimitiveTypes.String, nil
	case "date":
		return iceberg.PrimitiveTypes.Date, nil
	case "time":
		return iceberg.PrimitiveTypes.Time, nil
	case "timestamp":
		return iceberg.PrimitiveTypes.Timestamp, nil
	case "timestamptz":
		return iceberg.PrimitiveTypes.TimestampTz, nil
	case "uuid":
		return iceberg.PrimitiveTypes.UUID, nil
	case "binary":
		return iceberg.PrimitiveTypes.Binary, nil
	case "struct":
		fields := make([]iceberg.NestedField, 0, len(c.Fields))
		for i := range c.Fields {
			f := &c.Fields[i]
			id := next()
			typ, err := icebergType(f, next)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", f.Name, err)
			}
			fields = append(fields, iceberg.NestedField{ID: id, Name: f.Name, Type: typ, Required: !f.Nullable})
		}
		return &iceberg.StructType{FieldList: fields}, nil
	case "list":
		if c.Element == nil {
			return nil, configErrorf("list without an element type")
		}
		id := next()
		elem, err := icebergType(c.Element, next)
		if err != nil {
			return nil, fmt.Errorf("element: %w", err)
		}
		return &iceberg.ListType{ElementID: id, Element: elem, ElementRequired: !c.Element.Nullable}, nil
	case "map":
		if c.Key == nil || c.Value == nil {
			return nil, configErrorf("map without key or value type")
		}
		kid, vid := next(), next()
		k, err := icebergType(c.Key, next)
		if err != nil {
			return nil, fmt.Errorf("key: %w", err)
		}
		v, err := icebergType(c.Value, next)
		if err != nil {
			return nil, fmt.Errorf("value: %w", err)
		}
		return &iceberg.MapType{KeyID: kid, KeyType: k, ValueID: vid, ValueType: v, ValueRequired: !c.Value.Nullable}, nil
	}
	return nil, configErrorf("unknown column type %q", c.Type)
}

// PartitionSpec is identity partitioning on the spec's partition columns.
func PartitionSpec(t *jobspec.Table, sc *iceberg.Schema) (*iceberg.PartitionSpec, error) {
	if len(t.PartitionBy) == 0 {
		return iceberg.UnpartitionedSpec, nil
	}
	opts := make([]iceberg.PartitionOption, 0, len(t.PartitionBy))
	for _, name := range t.PartitionBy {
		f, ok := sc.FindFieldByName(name)
		if !ok {
			return nil, configErrorf("table %s: partition column %s is not a column", t.Name, name)
		}
		if _, nested := f.Type.(iceberg.NestedType); nested {
			return nil, configErrorf("table %s: partition column %s has a nested type; partition by a primitive column", t.Name, name)
		}
		opts = append(opts, iceberg.AddPartitionFieldBySourceID(f.ID, name, iceberg.IdentityTransform{}, sc, nil))
	}
	spec, err := iceberg.NewPartitionSpecOpts(opts...)
	if err != nil {
		return nil, configErrorf("table %s: partition spec: %v", t.Name, err)
	}
	return &spec, nil
}

// fieldPath renders a nested field path for messages.
func fieldPath(path []string) string { return strings.Join(path, ".") }
