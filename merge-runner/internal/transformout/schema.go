package transformout

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

// columnError is a file's column that is not the dataset's.
type columnError struct{ col, reason string }

func (e *columnError) Error() string { return "column " + e.col + ": " + e.reason }

// checkSchema matches a file's Arrow schema with the dataset's columns: each
// column there once, of the Arrow type its Iceberg type reads as (what
// target.Schema maps the model's type to), and no other column. It returns,
// per dataset column, the file's column index.
func checkSchema(cols []jobspec.Column, got *arrow.Schema) ([]int, error) {
	isc, err := icebergSchema(cols)
	if err != nil {
		return nil, err
	}
	want, err := table.SchemaToArrowSchema(isc, nil, false, false)
	if err != nil {
		return nil, err
	}
	idx := make([]int, len(cols))
	used := make([]bool, got.NumFields())
	for i, c := range cols {
		js := got.FieldIndices(c.Name)
		switch len(js) {
		case 0:
			return nil, &columnError{c.Name, fmt.Sprintf("missing: the file has %s; dataset columns are %s", names(got), colNames(cols))}
		case 1:
		default:
			return nil, &columnError{c.Name, "appears more than once"}
		}
		j := js[0]
		used[j] = true
		w := want.Field(i + 1).Type
		g := got.Field(j).Type
		if !sameType(w, g) {
			return nil, &columnError{c.Name, fmt.Sprintf("type %s is not %s, the Arrow type of the dataset's %s column (Iceberg %s)", g, w, c.Type, isc.Field(i+1).Type)}
		}
		idx[i] = j
	}
	for j, u := range used {
		if !u {
			return nil, &columnError{got.Field(j).Name, fmt.Sprintf("is not a column of the dataset (%s); write only its columns", colNames(cols))}
		}
	}
	return idx, nil
}

// icebergSchema is the Iceberg schema of the columns (target.Schema's
// mapping) behind a stand-in key column: target.Schema wants a key, and the
// key plays no part in the types.
func icebergSchema(cols []jobspec.Column) (*iceberg.Schema, error) {
	c := append([]jobspec.Column{{Name: "\x00key", Type: "int64"}}, cols...)
	sc, err := target.Schema(&jobspec.Table{Name: "output", Mode: jobspec.ModeLive, Columns: c, PrimaryKey: []string{"\x00key"}})
	if err != nil {
		return nil, &target.ConfigError{Msg: err.Error()}
	}
	return sc, nil
}

// sameType compares Arrow types as a reader of the Iceberg type sees them:
// large and small strings, binaries and lists alike; timestamps by unit and
// whether they are zoned; nullability aside (values are checked).
func sameType(want, got arrow.DataType) bool {
	switch w := want.(type) {
	case *arrow.StringType:
		return got.ID() == arrow.STRING || got.ID() == arrow.LARGE_STRING
	case *arrow.BinaryType:
		return got.ID() == arrow.BINARY || got.ID() == arrow.LARGE_BINARY
	case *arrow.TimestampType:
		g, ok := got.(*arrow.TimestampType)
		return ok && g.Unit == w.Unit && (g.TimeZone != "") == (w.TimeZone != "")
	case *extensions.UUIDType:
		if g, ok := got.(*arrow.FixedSizeBinaryType); ok {
			return g.ByteWidth == 16
		}
		_, ok := got.(*extensions.UUIDType)
		return ok
	case *arrow.StructType:
		g, ok := got.(*arrow.StructType)
		if !ok || g.NumFields() != w.NumFields() {
			return false
		}
		for i := range w.NumFields() {
			if g.Field(i).Name != w.Field(i).Name || !sameType(w.Field(i).Type, g.Field(i).Type) {
				return false
			}
		}
		return true
	case *arrow.MapType:
		g, ok := got.(*arrow.MapType)
		return ok && sameType(w.KeyType(), g.KeyType()) && sameType(w.ItemType(), g.ItemType())
	case *arrow.ListType:
		switch g := got.(type) {
		case *arrow.ListType:
			return sameType(w.Elem(), g.Elem())
		case *arrow.LargeListType:
			return sameType(w.Elem(), g.Elem())
		}
		return false
	}
	return arrow.TypeEqual(want, got)
}

func names(sc *arrow.Schema) string {
	var out []string
	for _, f := range sc.Fields() {
		out = append(out, f.Name)
	}
	return strings.Join(out, ", ")
}

func colNames(cols []jobspec.Column) string {
	var out []string
	for _, c := range cols {
		out = append(out, c.Name)
	}
	return strings.Join(out, ", ")
}
