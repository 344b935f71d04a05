package lint

import (
	"github.com/datasurface/datasurface/model"
)

// schemas checks every dataset's schema: columns, primary key, partitioning,
// types and where classifications are given.
func (l *linter) schemas() {
	l.eachDatastore(func(ds *model.Datastore) {
		if len(ds.Datasets) == 0 {
			l.warnf("schema-no-datasets", ds.Pos, storePath(ds), "datastore %q publishes no datasets; add datasets or remove it", ds.Name)
		}
		for i := range ds.Datasets {
			l.dataset(ds, &ds.Datasets[i])
		}
	})
}

func (l *linter) dataset(ds *model.Datastore, d *model.Dataset) {
	dp := datasetPath(ds, d)
	if len(d.Columns) == 0 {
		l.errorf("schema-no-columns", d.Pos, dp, "dataset %q has no columns; list its columns", d.Name)
	}
	for i := range d.Columns {
		c := &d.Columns[i]
		l.lazily(func() string { return dp + "/column:" + c.Name }, func(p string) { l.columnType(&c.TypeSpec, c.Pos, p) })
	}

	seenKey := map[string]bool{}
	for _, k := range d.PrimaryKey {
		c := d.Column(k.Name)
		switch {
		case seenKey[k.Name]:
			l.errorf("schema-key-duplicate", k.Pos, dp, "primary key lists column %q twice", k.Name)
		case c == nil:
			l.errorf("schema-key-missing", k.Pos, dp, "primary key column %q is not a column of dataset %s; fix the name or add the column", k.Name, d.Name)
		case c.Nullable.Set && c.Nullable.Value:
			l.errorf("schema-key-nullable", c.Pos, dp+"/column:"+c.Name, "column %q is in the primary key, so it cannot be nullable; remove nullable: true", c.Name)
		case !keyable(c.Type):
			l.errorf("schema-key-type", k.Pos, dp+"/column:"+c.Name, "column %q of type %s cannot be part of a primary key; use a scalar column that compares exactly (not float, json, binary or nested)", c.Name, c.Type)
		}
		seenKey[k.Name] = true
	}
	if len(d.PrimaryKey) == 0 && ds.Capture != nil && len(d.Columns) > 0 {
		// A snapshot is compared with the previous one by key, too: rows
		// without a key cannot be told apart (a table keyed by all its
		// columns would fold two equal rows into one), so no key is refused
		// rather than guessed.
		l.errorf("schema-key-required", d.Pos, dp, "dataset %q is captured with %s, which merges changes by key; give it a primary_key", d.Name, ds.Capture.Kind)
	}

	seenPart := map[string]bool{}
	for _, p := range d.PartitionBy {
		c := d.Column(p.Name)
		switch {
		case seenPart[p.Name]:
			l.errorf("schema-partition-duplicate", p.Pos, dp, "partition_by lists column %q twice", p.Name)
		case c == nil:
			l.errorf("schema-partition-missing", p.Pos, dp, "partition column %q is not a column of dataset %s; fix the name or add the column", p.Name, d.Name)
		case c.Type.Base.Nested() || c.Type.Base == model.TypeJSON || c.Type.Base == model.TypeFloat32 || c.Type.Base == model.TypeFloat64:
			l.errorf("schema-partition-type", p.Pos, dp+"/column:"+c.Name, "column %q of type %s cannot partition a table; partition by a date, timestamp, integer or string column", c.Name, c.Type)
		}
		seenPart[p.Name] = true
	}

	if len(d.Classifications) > 0 {
		for i := range d.Columns {
			if cs := appendColumnClassifications(nil, &d.Columns[i]); len(cs) > 0 {
				l.errorf("schema-classification-both", cs[0].Pos, dp+"/column:"+d.Columns[i].Name, "dataset %q is classified as a whole, so its columns cannot be classified too; keep one of the two", d.Name)
			}
		}
	}
}

// keyable reports whether a type can be part of a primary key (an Iceberg
// identifier field: required, primitive, not floating point).
func keyable(t model.DataType) bool {
	switch t.Base {
	case model.TypeFloat32, model.TypeFloat64, model.TypeJSON, model.TypeBinary, model.TypeStruct, model.TypeList, model.TypeMap, model.TypeInvalid:
		return false
	}
	return true
}

// columnType checks a type's parameters and nested parts.
func (l *linter) columnType(t *model.TypeSpec, pos model.Pos, path string) {
	dt := t.Type
	switch dt.Base {
	case model.TypeDecimal:
		if dt.P < 1 || dt.P > 38 {
			l.errorf("schema-type", pos, path, "decimal precision %d is out of range; use 1 to 38", dt.P)
		} else if dt.S < 0 || dt.S > dt.P {
			l.errorf("schema-type", pos, path, "decimal scale %d must be between 0 and the precision %d", dt.S, dt.P)
		}
	case model.TypeChar, model.TypeVarchar:
		if dt.P < 1 {
			l.errorf("schema-type", pos, path, "%s length must be at least 1, found %d", dt.Base, dt.P)
		}
	case model.TypeTime, model.TypeTimestamp, model.TypeTimestampTZ:
		if dt.HasP && (dt.P < 0 || dt.P > 6) {
			l.errorf("schema-type", pos, path, "%s precision %d is out of range; use 0 to 6 (fractional-second digits)", dt.Base, dt.P)
		}
	}
	if dt.Base.Nested() || len(t.Fields) > 0 || t.Element != nil || t.Key != nil || t.Value != nil {
		parts := [...]struct {
			name       string
			want, have bool
		}{
			{"fields", dt.Base == model.TypeStruct, len(t.Fields) > 0},
			{"element", dt.Base == model.TypeList, t.Element != nil},
			{"key", dt.Base == model.TypeMap, t.Key != nil},
			{"value", dt.Base == model.TypeMap, t.Value != nil},
		}
		for _, p := range parts {
			switch {
			case p.want && !p.have:
				l.errorf("schema-type", pos, path, "type %s needs %s", dt.Base, partHint(p.name))
			case p.have && !p.want:
				l.errorf("schema-type", pos, path, "%s is only for %s types; remove it or change the type", p.name, partOwner(p.name))
			}
		}
	}
	for i := range t.Fields {
		f := &t.Fields[i]
		l.columnType(&f.TypeSpec, f.Pos, path+"/field:"+f.Name)
	}
	if t.Element != nil {
		l.columnType(&t.Element.TypeSpec, t.Element.Pos, path+"/element")
	}
	if t.Key != nil {
		if t.Key.Nullable.Set && t.Key.Nullable.Value {
			l.errorf("schema-type", t.Key.Pos, path+"/key", "map keys cannot be null; remove nullable: true")
		}
		// A map key is compared, hashed and written as a JSON object key or
		// a [key, value] pair: the decoder reads scalar keys only.
		if t.Key.Type.Base.Nested() {
			l.errorf("schema-type", t.Key.Pos, path+"/key", "a map key of type %s cannot be captured; use a scalar key type (text, an integer, a date, ...)", t.Key.Type.Base)
		}
		l.columnType(&t.Key.TypeSpec, t.Key.Pos, path+"/key")
	}
	if t.Value != nil {
		l.columnType(&t.Value.TypeSpec, t.Value.Pos, path+"/value")
	}
}

func partHint(part string) string {
	switch part {
	case "fields":
		return "fields: a list of named fields"
	case "element":
		return "element: the type of its elements"
	}
	return part + ": the type of its " + part + "s"
}

func partOwner(part string) string {
	switch part {
	case "fields":
		return "struct"
	case "element":
		return "list"
	}
	return "map"
}
