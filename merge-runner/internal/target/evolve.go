package target

import (
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// Evolution is one change that brings a table's schema to the spec's.
type Evolution struct {
	Path []string
	// Add is set for a new column (always nullable); otherwise the column's
	// type is widened and/or it becomes nullable.
	Add      bool
	Type     iceberg.Type
	Nullable bool
	// Relax is set when only the nullability changes (required -> nullable).
	Relax bool
}

func (e Evolution) String() string {
	if e.Add {
		return "add nullable column " + fieldPath(e.Path) + " " + e.Type.String()
	}
	if e.Relax {
		return "make column " + fieldPath(e.Path) + " nullable"
	}
	return "widen column " + fieldPath(e.Path) + " to " + e.Type.String()
}

// Plan compares the table's current schema with the wanted one, by name,
// and returns the evolutions that bring it there: added nullable columns,
// int->long, float->double, decimal precision increases, required ->
// nullable. Anything else (a new required column, a narrowing, a type
// change, nullable -> required, a column the spec no longer has that is
// required) is a *ConfigError naming the table and column.
func Plan(tableName string, have, want *iceberg.Schema) ([]Evolution, error) {
	var out []Evolution
	err := planFields(tableName, nil, have.Fields(), want.Fields(), &out)
	return out, err
}

func planFields(tableName string, path []string, have, want []iceberg.NestedField, out *[]Evolution) error {
	haveByName := make(map[string]iceberg.NestedField, len(have))
	for _, f := range have {
		haveByName[f.Name] = f
	}
	wanted := make(map[string]bool, len(want))
	for _, w := range want {
		wanted[w.Name] = true
		p := append(append([]string(nil), path...), w.Name)
		h, ok := haveByName[w.Name]
		if !ok {
			if w.Required {
				return configErrorf("table %s: column %s is new and required; the table cannot add a required column to existing rows (make it nullable in the model)", tableName, fieldPath(p))
			}
			*out = append(*out, Evolution{Path: p, Add: true, Type: w.Type, Nullable: true})
			continue
		}
		if err := planField(tableName, p, h, w, out); err != nil {
			return err
		}
	}
	for _, h := range have {
		if !wanted[h.Name] && h.Required {
			return configErrorf("table %s: required column %s is in the table but not in the job spec; columns are never dropped (restore it in the model)", tableName, fieldPath(append(append([]string(nil), path...), h.Name)))
		}
	}
	return nil
}

func planField(tableName string, p []string, h, w iceberg.NestedField, out *[]Evolution) error {
	if !h.Required && w.Required {
		return configErrorf("table %s: column %s is nullable in the table and required in the job spec; nullable -> required is not an allowed evolution", tableName, fieldPath(p))
	}
	relax := h.Required && !w.Required
	switch wt := w.Type.(type) {
	case *iceberg.StructType:
		ht, ok := h.Type.(*iceberg.StructType)
		if !ok {
			return typeChange(tableName, p, h.Type, w.Type)
		}
		if relax {
			*out = append(*out, Evolution{Path: p, Type: h.Type, Nullable: true, Relax: true})
		}
		return planFields(tableName, p, ht.FieldList, wt.FieldList, out)
	case *iceberg.ListType:
		ht, ok := h.Type.(*iceberg.ListType)
		if !ok {
			return typeChange(tableName, p, h.Type, w.Type)
		}
		if relax {
			*out = append(*out, Evolution{Path: p, Type: h.Type, Nullable: true, Relax: true})
		}
		he := iceberg.NestedField{Name: "element", Type: ht.Element, Required: ht.ElementRequired}
		we := iceberg.NestedField{Name: "element", Type: wt.Element, Required: wt.ElementRequired}
		return planField(tableName, append(p, "element"), he, we, out)
	case *iceberg.MapType:
		ht, ok := h.Type.(*iceberg.MapType)
		if !ok {
			return typeChange(tableName, p, h.Type, w.Type)
		}
		if relax {
			*out = append(*out, Evolution{Path: p, Type: h.Type, Nullable: true, Relax: true})
		}
		hk := iceberg.NestedField{Name: "key", Type: ht.KeyType, Required: true}
		wk := iceberg.NestedField{Name: "key", Type: wt.KeyType, Required: true}
		if err := planField(tableName, append(p, "key"), hk, wk, out); err != nil {
			return err
		}
		hv := iceberg.NestedField{Name: "value", Type: ht.ValueType, Required: ht.ValueRequired}
		wv := iceberg.NestedField{Name: "value", Type: wt.ValueType, Required: wt.ValueRequired}
		return planField(tableName, append(p, "value"), hv, wv, out)
	}
	if h.Type.Equals(w.Type) {
		if relax {
			*out = append(*out, Evolution{Path: p, Type: h.Type, Nullable: true, Relax: true})
		}
		return nil
	}
	if !widens(h.Type, w.Type) {
		return typeChange(tableName, p, h.Type, w.Type)
	}
	*out = append(*out, Evolution{Path: p, Type: w.Type, Nullable: !w.Required})
	return nil
}

// widens is Iceberg's allowed type promotion: int->long, float->double and
// a decimal precision increase at the same scale.
func widens(from, to iceberg.Type) bool {
	switch f := from.(type) {
	case iceberg.Int32Type:
		_, ok := to.(iceberg.Int64Type)
		return ok
	case iceberg.Float32Type:
		_, ok := to.(iceberg.Float64Type)
		return ok
	case iceberg.DecimalType:
		t, ok := to.(iceberg.DecimalType)
		return ok && t.Scale() == f.Scale() && t.Precision() > f.Precision()
	}
	return false
}

func typeChange(tableName string, p []string, from, to iceberg.Type) error {
	return configErrorf("table %s: column %s is %s in the table and %s in the job spec; only added nullable columns and widenings (int->long, float->double, larger decimal precision) are applied", tableName, fieldPath(p), from, to)
}

// Apply stages the evolutions on a transaction.
func Apply(tx *table.Transaction, evs []Evolution) error {
	if len(evs) == 0 {
		return nil
	}
	u := tx.UpdateSchema(true, false)
	for _, e := range evs {
		if e.Add {
			u.AddColumn(e.Path, e.Type, "", false, nil)
			continue
		}
		var cu table.ColumnUpdate
		if !e.Relax {
			cu.FieldType = iceberg.Optional[iceberg.Type]{Val: e.Type, Valid: true}
		}
		if e.Nullable {
			cu.Required = iceberg.Optional[bool]{Val: false, Valid: true}
		}
		u.UpdateColumn(e.Path, cu)
	}
	return u.Commit()
}
