package model

import "fmt"

// Evolution is one difference between an old and a new version of a column
// or of a nested field, judged consumer-safe (Allowed) or not. Rules follow
// what Iceberg can evolve without rewriting data and what readers of the old
// schema can still read: widening and adding nullable fields are allowed;
// narrowing, dropping, renaming and making nullable data required are not.
type Evolution struct {
	Path    string // column[.field|.element|.key|.value...]
	Allowed bool
	Rule    string // a stable name: widen-int, narrow, drop-field, ...
	Message string
	// Pos is where the new version says it: the column, field or element;
	// for a dropped field, the struct that no longer has it. Zero for a
	// dropped column (the caller knows the dataset).
	Pos Pos
}

// CompareColumn lists the evolutions from old to new of one column (matched
// by name by the caller). Nothing is returned when they are the same.
func CompareColumn(old, new *Column, oldKey, newKey bool) []Evolution {
	var out []Evolution
	compareNullability(&out, old.Name, new.Pos, old.IsNullable(oldKey), new.IsNullable(newKey))
	compareType(&out, old.Name, new.Pos, &old.TypeSpec, &new.TypeSpec)
	return out
}

// AddedColumn judges a column that exists only in the new version.
func AddedColumn(c *Column, isKey bool) Evolution {
	if c.IsNullable(isKey) {
		return Evolution{Path: c.Name, Allowed: true, Rule: "add-nullable", Message: fmt.Sprintf("adds nullable column %s %s", c.Name, c.Type), Pos: c.Pos}
	}
	return Evolution{Path: c.Name, Rule: "add-required", Message: fmt.Sprintf("adds column %s as not nullable; existing rows have no value for it, so add it as nullable", c.Name), Pos: c.Pos}
}

// DroppedColumn judges a column that exists only in the old version.
func DroppedColumn(c *Column) Evolution {
	return Evolution{Path: c.Name, Rule: "drop", Message: fmt.Sprintf("drops column %s, which consumers may read; deprecate the dataset and publish a new one instead", c.Name)}
}

func compareNullability(out *[]Evolution, path string, pos Pos, oldNull, newNull bool) {
	switch {
	case oldNull && !newNull:
		*out = append(*out, Evolution{Path: path, Rule: "nullable-to-required", Message: fmt.Sprintf("%s becomes not nullable; existing nulls would break it", path), Pos: pos})
	case !oldNull && newNull:
		*out = append(*out, Evolution{Path: path, Allowed: true, Rule: "required-to-nullable", Message: fmt.Sprintf("%s becomes nullable", path), Pos: pos})
	}
}

// compareType compares two types at path; pos is where the new one is said.
func compareType(out *[]Evolution, path string, pos Pos, old, new *TypeSpec) {
	o, n := old.Type, new.Type
	if o.Base.Nested() || n.Base.Nested() {
		if o.Base != n.Base {
			*out = append(*out, Evolution{Path: path, Rule: "type-change", Message: fmt.Sprintf("%s changes from %s to %s; a nested type cannot change kind", path, o, n), Pos: pos})
			return
		}
		switch o.Base {
		case TypeStruct:
			compareFields(out, path, pos, old.Fields, new.Fields)
		case TypeList:
			compareElement(out, path+".element", pos, old.Element, new.Element, true)
		case TypeMap:
			if old.Key != nil && new.Key != nil && old.Key.Type != new.Key.Type {
				*out = append(*out, Evolution{Path: path + ".key", Rule: "map-key-change", Message: fmt.Sprintf("%s.key changes from %s to %s; map keys cannot change", path, old.Key.Type, new.Key.Type), Pos: elementPos(new.Key, pos)})
			}
			compareElement(out, path+".value", pos, old.Value, new.Value, true)
		}
		return
	}
	if o == n || o.Base.Temporal() && o.Base == n.Base && o.TimePrecision() == n.TimePrecision() {
		return
	}
	if rule, ok := widens(o, n); ok {
		*out = append(*out, Evolution{Path: path, Allowed: true, Rule: rule, Message: fmt.Sprintf("%s widens from %s to %s", path, o, n), Pos: pos})
		return
	}
	if _, ok := widens(n, o); ok {
		*out = append(*out, Evolution{Path: path, Rule: "narrow", Message: fmt.Sprintf("%s narrows from %s to %s; values may no longer fit", path, o, n), Pos: pos})
		return
	}
	*out = append(*out, Evolution{Path: path, Rule: "type-change", Message: fmt.Sprintf("%s changes type from %s to %s, which is not a widening", path, o, n), Pos: pos})
}

// elementPos is where an element is said, else its parent's position.
func elementPos(e *Element, parent Pos) Pos {
	if e != nil && !e.Pos.IsZero() {
		return e.Pos
	}
	return parent
}

func compareElement(out *[]Evolution, path string, parent Pos, old, new *Element, defaultNull bool) {
	if old == nil || new == nil {
		return
	}
	oldNull, newNull := defaultNull, defaultNull
	if old.Nullable.Set {
		oldNull = old.Nullable.Value
	}
	if new.Nullable.Set {
		newNull = new.Nullable.Value
	}
	pos := elementPos(new, parent)
	compareNullability(out, path, pos, oldNull, newNull)
	compareType(out, path, pos, &old.TypeSpec, &new.TypeSpec)
}

// compareFields compares a struct's fields; pos is where the new struct is said.
func compareFields(out *[]Evolution, path string, pos Pos, old, new []Column) {
	byName := make(map[string]*Column, len(new))
	for i := range new {
		byName[new[i].Name] = &new[i]
	}
	seen := make(map[string]bool, len(old))
	for i := range old {
		of := &old[i]
		seen[of.Name] = true
		nf := byName[of.Name]
		fp := path + "." + of.Name
		if nf == nil {
			*out = append(*out, Evolution{Path: fp, Rule: "drop-field", Message: fmt.Sprintf("drops field %s, which consumers may read", fp), Pos: pos})
			continue
		}
		compareNullability(out, fp, nf.Pos, of.IsNullable(false), nf.IsNullable(false))
		compareType(out, fp, nf.Pos, &of.TypeSpec, &nf.TypeSpec)
	}
	for i := range new {
		nf := &new[i]
		if seen[nf.Name] {
			continue
		}
		fp := path + "." + nf.Name
		if nf.IsNullable(false) {
			*out = append(*out, Evolution{Path: fp, Allowed: true, Rule: "add-nullable-field", Message: fmt.Sprintf("adds nullable field %s %s", fp, nf.Type), Pos: nf.Pos})
		} else {
			*out = append(*out, Evolution{Path: fp, Rule: "add-required-field", Message: fmt.Sprintf("adds field %s as not nullable; add it as nullable", fp), Pos: nf.Pos})
		}
	}
}

// intRank orders the integer types by width.
func intRank(b Base) int {
	switch b {
	case TypeInt8:
		return 1
	case TypeInt16:
		return 2
	case TypeInt32:
		return 3
	case TypeInt64:
		return 4
	}
	return 0
}

// widens reports whether o -> n is a widening and names its rule.
func widens(o, n DataType) (string, bool) {
	switch {
	case intRank(o.Base) > 0 && intRank(n.Base) > intRank(o.Base):
		return "widen-int", true
	case o.Base == TypeFloat32 && n.Base == TypeFloat64:
		return "widen-float", true
	case o.Base == TypeDecimal && n.Base == TypeDecimal && n.S == o.S && n.P > o.P:
		return "widen-decimal", true
	case (o.Base == TypeVarchar || o.Base == TypeChar) && n.Base == TypeText:
		return "widen-string", true
	case (o.Base == TypeVarchar || o.Base == TypeChar) && n.Base == TypeVarchar && n.P > o.P:
		return "widen-string", true
	case o.Base == TypeChar && n.Base == TypeVarchar && n.P == o.P:
		return "widen-string", true
	case o.Base.Temporal() && n.Base == o.Base && n.TimePrecision() > o.TimePrecision():
		return "widen-time-precision", true
	}
	return "", false
}
