package target

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

// Records builds Arrow record batches of rows for one Arrow schema. Rows
// are []row.Value in the schema's top-level field order.
type Records struct {
	sc *arrow.Schema
	b  *array.RecordBuilder
	n  int
}

// NewRecords starts a batch for schema sc.
func NewRecords(sc *arrow.Schema) *Records {
	return &Records{sc: sc, b: array.NewRecordBuilder(memory.DefaultAllocator, sc)}
}

// Append adds one row. A value that does not fit its column is an error
// naming the column; the builder is then unusable.
func (r *Records) Append(vals []row.Value) error {
	if len(vals) != r.sc.NumFields() {
		return fmt.Errorf("row has %d values for %d columns", len(vals), r.sc.NumFields())
	}
	for i, v := range vals {
		if err := appendValue(r.b.Field(i), v); err != nil {
			return fmt.Errorf("column %s: %w", r.sc.Field(i).Name, err)
		}
	}
	r.n++
	return nil
}

// Len is the number of rows appended since the last Batch.
func (r *Records) Len() int { return r.n }

// Batch returns the rows appended so far as one record batch and resets the
// builder. The caller releases the batch.
func (r *Records) Batch() arrow.RecordBatch {
	r.n = 0
	return r.b.NewRecordBatch()
}

// Release frees the builder.
func (r *Records) Release() { r.b.Release() }

func appendValue(b array.Builder, v row.Value) error {
	if v.IsNull() {
		b.AppendNull()
		return nil
	}
	if v.IsUnavailable() {
		return fmt.Errorf("an unchanged-TOAST value reached the writer without its stored value")
	}
	switch b := b.(type) {
	case *array.BooleanBuilder:
		if v.Kind() != row.KindBool {
			return mismatch(v, "boolean")
		}
		b.Append(v.Bool())
	case *array.Int32Builder:
		if v.Kind() != row.KindInt32 {
			return mismatch(v, "int")
		}
		b.Append(int32(v.Int()))
	case *array.Int64Builder:
		if v.Kind() != row.KindInt32 && v.Kind() != row.KindInt64 {
			return mismatch(v, "long")
		}
		b.Append(v.Int())
	case *array.Float32Builder:
		if v.Kind() != row.KindFloat32 {
			return mismatch(v, "float")
		}
		b.Append(float32(v.Float()))
	case *array.Float64Builder:
		if v.Kind() != row.KindFloat32 && v.Kind() != row.KindFloat64 {
			return mismatch(v, "double")
		}
		b.Append(v.Float())
	case *array.Decimal128Builder:
		if v.Kind() != row.KindDecimal {
			return mismatch(v, "decimal")
		}
		dt := b.Type().(*arrow.Decimal128Type)
		if v.Scale() != dt.Scale {
			return fmt.Errorf("decimal %s has scale %d, the column has scale %d", v, v.Scale(), dt.Scale)
		}
		var n decimal128.Num
		if u, ok := v.DecimalInt64(); ok {
			n = decimal128.FromI64(u)
		} else {
			n = decimal128.FromBigInt(v.Unscaled())
		}
		if !n.FitsInPrecision(dt.Precision) {
			return fmt.Errorf("decimal %s does not fit decimal(%d,%d)", v, dt.Precision, dt.Scale)
		}
		b.Append(n)
	case *array.StringBuilder:
		if v.Kind() != row.KindString && v.Kind() != row.KindJSON {
			return mismatch(v, "string")
		}
		b.Append(v.Text())
	case *array.BinaryBuilder:
		if v.Kind() != row.KindBinary {
			return mismatch(v, "binary")
		}
		b.Append([]byte(v.Text()))
	case *array.Date32Builder:
		if v.Kind() != row.KindDate {
			return mismatch(v, "date")
		}
		b.Append(arrow.Date32(v.Int()))
	case *array.Time64Builder:
		if v.Kind() != row.KindTime {
			return mismatch(v, "time")
		}
		b.Append(arrow.Time64(v.Int()))
	case *array.TimestampBuilder:
		zoned := b.Type().(*arrow.TimestampType).TimeZone != ""
		if zoned && v.Kind() != row.KindTimestampTZ || !zoned && v.Kind() != row.KindTimestamp {
			return mismatch(v, b.Type().String())
		}
		b.Append(arrow.Timestamp(v.Int()))
	case *extensions.UUIDBuilder:
		if v.Kind() != row.KindUUID {
			return mismatch(v, "uuid")
		}
		b.AppendBytes(v.UUIDBytes())
	case *array.StructBuilder:
		if v.Kind() != row.KindStruct {
			return mismatch(v, "struct")
		}
		fs := v.Fields()
		if len(fs) != b.NumField() {
			return fmt.Errorf("struct has %d fields, the column %d", len(fs), b.NumField())
		}
		b.Append(true)
		st := b.Type().(*arrow.StructType)
		for i, f := range fs {
			if err := appendValue(b.FieldBuilder(i), f); err != nil {
				return fmt.Errorf("%s: %w", st.Field(i).Name, err)
			}
		}
	case *array.ListBuilder:
		if v.Kind() != row.KindList {
			return mismatch(v, "list")
		}
		b.Append(true)
		for _, e := range v.Elems() {
			if err := appendValue(b.ValueBuilder(), e); err != nil {
				return fmt.Errorf("element: %w", err)
			}
		}
	case *array.MapBuilder:
		if v.Kind() != row.KindMap {
			return mismatch(v, "map")
		}
		b.Append(true)
		for _, e := range v.Entries() {
			if err := appendValue(b.KeyBuilder(), e.Key); err != nil {
				return fmt.Errorf("key: %w", err)
			}
			if err := appendValue(b.ItemBuilder(), e.Value); err != nil {
				return fmt.Errorf("value: %w", err)
			}
		}
	default:
		return fmt.Errorf("no writer for Arrow type %s", b.Type())
	}
	return nil
}

func mismatch(v row.Value, col string) error {
	return fmt.Errorf("a %s value (%s) does not fit a %s column", v.Kind(), v, col)
}

// Value reads row i of an Arrow array back into a row.Value. Iceberg has no
// json type: json columns come back as strings (kind String).
func Value(a arrow.Array, i int) row.Value {
	if a.IsNull(i) {
		return row.Null()
	}
	switch a := a.(type) {
	case *array.Boolean:
		return row.Bool(a.Value(i))
	case *array.Int32:
		return row.Int32(a.Value(i))
	case *array.Int64:
		return row.Int64(a.Value(i))
	case *array.Float32:
		return row.Float32(a.Value(i))
	case *array.Float64:
		return row.Float64(a.Value(i))
	case *array.Decimal128:
		dt := a.DataType().(*arrow.Decimal128Type)
		return row.BigDecimal(a.Value(i).BigInt(), dt.Scale)
	case *array.String:
		return row.String(a.Value(i))
	case *array.LargeString:
		return row.String(a.Value(i))
	case *array.Binary:
		return row.Binary(string(a.Value(i)))
	case *array.LargeBinary:
		return row.Binary(string(a.Value(i)))
	case *array.Date32:
		return row.Date(int32(a.Value(i)))
	case *array.Time64:
		return row.Time(int64(a.Value(i)))
	case *array.Timestamp:
		if a.DataType().(*arrow.TimestampType).TimeZone != "" {
			return row.TimestampTZ(int64(a.Value(i)))
		}
		return row.Timestamp(int64(a.Value(i)))
	case *extensions.UUIDArray:
		return row.UUID([16]byte(a.Value(i)))
	case *array.Struct:
		fs := make([]row.Value, a.NumField())
		for f := range fs {
			fs[f] = Value(a.Field(f), i)
		}
		return row.Struct(fs)
	case *array.Map:
		start, end := a.ValueOffsets(i)
		keys, items := a.Keys(), a.Items()
		es := make([]row.MapEntry, 0, end-start)
		for j := start; j < end; j++ {
			es = append(es, row.MapEntry{Key: Value(keys, int(j)), Value: Value(items, int(j))})
		}
		return row.Map(es)
	case *array.List:
		start, end := a.ValueOffsets(i)
		vals := a.ListValues()
		es := make([]row.Value, 0, end-start)
		for j := start; j < end; j++ {
			es = append(es, Value(vals, int(j)))
		}
		return row.List(es)
	}
	panic(fmt.Sprintf("target.Value: no reader for Arrow type %s", a.DataType()))
}
