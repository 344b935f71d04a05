package encode

import (
	"fmt"
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/badinput"
	"github.com/datasurface/datasurface/merge-runner/internal/debezium"
	"github.com/datasurface/datasurface/merge-runner/internal/landing"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

func oneColumn(col jobspec.Column) *jobspec.Table {
	col.Name = "v"
	return &jobspec.Table{Name: "t", SourceTable: "public.t", Topic: "srv.public.t", Mode: jobspec.ModeLive, PrimaryKey: []string{"id"},
		Columns: []jobspec.Column{{Name: "id", Type: "int32"}, col}}
}

func encodeDecode(t *testing.T, tbl *jobspec.Table, enc jobspec.Encoding, f func(e *Encoder) ([]byte, error)) ([]byte, debezium.Event, error) {
	t.Helper()
	e, err := NewEncoder(tbl, enc, Meta{})
	require.NoError(t, err)
	line, err := f(e)
	require.NoError(t, err)
	d, err := debezium.NewDecoder(tbl, enc)
	require.NoError(t, err)
	ev, err := d.Decode(landing.Record{Object: "gap", Line: 1, Data: line})
	return line, ev, err
}

var plainAndEnvelope = []jobspec.Encoding{{}, {SchemasEnabled: true}}

func envName(enc jobspec.Encoding) string {
	if enc.SchemasEnabled {
		return "envelope"
	}
	return "plain"
}

// TestDecoderGaps holds events the connector writes that the decoder once
// did not read as what they mean: the gaps this encoder found, kept as
// regression tests.
func TestDecoderGaps(t *testing.T) {
	// integer[], bigint[] and date[] columns: an unchanged TOAST value is
	// written as one integer per byte of the placeholder; uuid[] as the
	// placeholder's name-based UUID. They read as unavailable, with or
	// without the envelope (whose items are optional even where the spec's
	// elements are not nullable).
	for _, elem := range []string{"int32", "int64", "date", "uuid"} {
		for _, enc := range plainAndEnvelope {
			for _, nullable := range []bool{true, false} {
				name := "toasted " + elem + " list/" + envName(enc)
				if !nullable {
					name += "/elements not nullable"
				}
				t.Run(name, func(t *testing.T) {
					tbl := oneColumn(jobspec.Column{Type: "list", Nullable: true, Element: &jobspec.Column{Type: elem, Nullable: nullable}})
					line, ev, err := encodeDecode(t, tbl, enc, func(e *Encoder) ([]byte, error) {
						return e.Update(nil, []row.Value{row.Int32(1), row.Unavailable()})
					})
					require.NoError(t, err, "%s", line)
					require.True(t, ev.After[1].IsUnavailable(), "an unchanged TOAST %s[] decodes as %s: %s", elem, ev.After[1], line)
				})
			}
		}
	}

	// Debezium declares every array element optional; a spec whose list
	// element is not nullable reads the table's enveloped events, and still
	// refuses a null element.
	t.Run("list items optional in the envelope", func(t *testing.T) {
		tbl := oneColumn(jobspec.Column{Type: "list", Nullable: true, Element: &jobspec.Column{Type: "varchar", Length: 40}})
		enc := jobspec.Encoding{SchemasEnabled: true}
		line, ev, err := encodeDecode(t, tbl, enc, func(e *Encoder) ([]byte, error) {
			return e.Create([]row.Value{row.Int32(1), row.List([]row.Value{row.String("a")})})
		})
		require.NoError(t, err, "%s", line)
		require.Contains(t, string(line), `{"type":"array","items":{"type":"string","optional":true},"optional":true,"field":"v"}`)
		require.True(t, row.Equal(row.List([]row.Value{row.String("a")}), ev.After[1]), "%s", ev.After[1])
		line, _, err = encodeDecode(t, tbl, enc, func(e *Encoder) ([]byte, error) {
			return e.Create([]row.Value{row.Int32(1), row.List([]row.Value{row.String("a"), row.Null()})})
		})
		require.Error(t, err, "%s", line)
		be, ok := badinput.As(err)
		require.True(t, ok, "%T %v", err, err)
		require.Equal(t, "v[]", be.Column)
		require.Contains(t, be.Reason, "null element in a list whose elements are not nullable")
	})

	// A REPLICA IDENTITY DEFAULT delete carries only the key; Debezium writes
	// the fallback "" for a NOT NULL uuid column, which does not parse as a
	// uuid. Only the key of a before image is used: the column reads as Null.
	for _, enc := range plainAndEnvelope {
		t.Run("delete fallback for a NOT NULL uuid/"+envName(enc), func(t *testing.T) {
			tbl := oneColumn(jobspec.Column{Type: "uuid"})
			line, ev, err := encodeDecode(t, tbl, enc, func(e *Encoder) ([]byte, error) {
				return e.Delete(e.KeyRow([]row.Value{row.Int32(1)}))
			})
			require.NoError(t, err, "%s", line)
			require.Contains(t, string(line), `"before":{"id":1,"v":""}`)
			require.Equal(t, debezium.OpDelete, ev.Op)
			require.True(t, row.Equal(row.Int32(1), ev.Key[0]))
			require.True(t, row.Equal(row.Int32(1), ev.BeforeKey[0]))
			require.True(t, ev.Before[1].IsNull(), "%s", ev.Before[1])
		})
	}

	// PostgreSQL timestamptz runs from 4713 BC to 294276 AD; java.time
	// writes years past 9999 as +YYYYY and years before 1 AD as -YYYY.
	for _, c := range []struct {
		name string
		us   int64
	}{
		{"year 0", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()},
		{"year 10000", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()},
		{"year 200000", time.Date(200000, 12, 31, 23, 59, 59, 999999000, time.UTC).UnixMicro()},
		{"year -1", time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()},
		{"year -4712", time.Date(-4712, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()},
	} {
		for _, enc := range plainAndEnvelope {
			t.Run("timestamptz "+c.name+"/"+envName(enc), func(t *testing.T) {
				tbl := oneColumn(jobspec.Column{Type: "timestamptz"})
				line, ev, err := encodeDecode(t, tbl, enc, func(e *Encoder) ([]byte, error) {
					return e.Create([]row.Value{row.Int32(1), row.TimestampTZ(c.us)})
				})
				require.NoError(t, err, "%s", line)
				require.True(t, row.Equal(row.TimestampTZ(c.us), ev.After[1]), "%s: got %s: %s", c.name, ev.After[1], line)
			})
		}
	}

	// decimal.handling.mode=double: the double nearest a value of the
	// column's full precision can be 10^precision, which does not fit the
	// column. That is bad input — the value is not what the source held —
	// and the reason says that double mode loses precision.
	t.Run("double at full precision", func(t *testing.T) {
		tbl := oneColumn(jobspec.Column{Type: "decimal", Precision: 38, Scale: 0})
		nines := new(big.Int).Sub(new(big.Int).Exp(big.NewInt(10), big.NewInt(38), nil), big.NewInt(1))
		line, _, err := encodeDecode(t, tbl, jobspec.Encoding{DecimalHandling: "double"}, func(e *Encoder) ([]byte, error) {
			return e.Create([]row.Value{row.Int32(1), row.BigDecimal(nines, 0)})
		})
		require.Contains(t, string(line), `"v":1.0E38`)
		require.Error(t, err)
		be, ok := badinput.As(err)
		require.True(t, ok, "%T %v", err, err)
		require.Equal(t, "v", be.Column)
		require.Contains(t, be.Reason, "does not fit decimal(38, 0)")
		require.Contains(t, be.Reason, "decimal.handling.mode=double")
		require.Contains(t, be.Reason, "use decimal.handling.mode=precise")
	})
}

// TestUnavailableListOfEveryElementType: an unchanged TOAST array reads as
// unavailable where the connector has a placeholder form for its element
// type (UnchangedToastedReplicationMessageColumn#setUnchangedToastValue:
// text[], varchar[], json[], bytea[] in bytes mode, integer[], bigint[],
// date[] outside connect mode, uuid[]) and as null where the placeholder
// fails the array's schema; the types no PostgreSQL array has cannot be
// written unavailable.
func TestUnavailableListOfEveryElementType(t *testing.T) {
	elems := []jobspec.Column{
		{Type: "boolean"}, {Type: "int8"}, {Type: "int16"}, {Type: "int32"}, {Type: "int64"},
		{Type: "float32"}, {Type: "float64"},
		{Type: "decimal", Precision: 10, Scale: 2}, {Type: "decimal", Scale: 3},
		{Type: "char", Length: 3}, {Type: "varchar", Length: 5}, {Type: "text"},
		{Type: "date"}, {Type: "time"}, {Type: "time", TimePrecision: intPtr(3)},
		{Type: "timestamp"}, {Type: "timestamp", TimePrecision: intPtr(3)}, {Type: "timestamptz"},
		{Type: "uuid"}, {Type: "binary"}, {Type: "json"},
		{Type: "map", Key: &jobspec.Column{Type: "text"}, Value: &jobspec.Column{Type: "text", Nullable: true}},
		{Type: "struct", Fields: []jobspec.Column{{Name: "a", Type: "int32"}, {Name: "b", Type: "list", Element: &jobspec.Column{Type: "int64"}}}},
		{Type: "list", Element: &jobspec.Column{Type: "uuid"}},
		{Type: "map", Key: &jobspec.Column{Type: "text"}, Value: &jobspec.Column{Type: "int32", Nullable: true}},
	}
	for _, enc := range allEncodings() {
		for _, el := range elems {
			for _, nullable := range []bool{true, false} {
				el := el
				el.Nullable = nullable
				name := fmt.Sprintf("%s: list of %s", encName(enc), el.Type)
				want := "null"
				switch el.Type {
				case "varchar", "text", "json", "int32", "int64", "uuid":
					want = "unavailable"
				case "binary":
					if enc.BinaryHandling == "bytes" {
						want = "unavailable"
					}
				case "date":
					if enc.TimePrecision != "connect" {
						want = "unavailable"
					}
				case "struct", "list":
					want = "refused"
				case "map":
					if el.Value.Type != "text" {
						want = "refused"
					}
				}
				tbl := oneColumn(jobspec.Column{Type: "list", Nullable: true, Element: &el})
				e, err := NewEncoder(tbl, enc, Meta{})
				require.NoError(t, err)
				line, err := e.Update(nil, []row.Value{row.Int32(1), row.Unavailable()})
				if want == "refused" {
					require.Error(t, err, name)
					continue
				}
				require.NoError(t, err, name)
				d, err := debezium.NewDecoder(tbl, enc)
				require.NoError(t, err)
				ev, err := d.Decode(landing.Record{Object: "gap", Line: 1, Data: line})
				require.NoError(t, err, "%s: %s", name, line)
				if want == "unavailable" {
					require.True(t, ev.After[1].IsUnavailable(), "%s decodes as %s: %s", name, ev.After[1], line)
				} else {
					require.True(t, ev.After[1].IsNull(), "%s decodes as %s: %s", name, ev.After[1], line)
				}
			}
		}
	}
}

// TestDecoderEdgesThatHold are edges that look risky but decode.
func TestDecoderEdgesThatHold(t *testing.T) {
	tbl := oneColumn(jobspec.Column{Type: "timestamptz", Nullable: true})
	for _, us := range []int64{math.MaxInt64, math.MinInt64, minTs, maxTs, -1, 0} {
		_, ev, err := encodeDecode(t, tbl, jobspec.Encoding{}, func(e *Encoder) ([]byte, error) {
			return e.Create([]row.Value{row.Int32(1), row.TimestampTZ(us)})
		})
		require.NoError(t, err)
		require.True(t, row.Equal(row.TimestampTZ(us), ev.After[1]), "%d: %s", us, ev.After[1])
	}
}

// TestListItemsFollowSpec declares items as the spec's element nullability,
// which the decoder accepts.
func TestListItemsFollowSpec(t *testing.T) {
	tbl := oneColumn(jobspec.Column{Type: "list", Nullable: true, Element: &jobspec.Column{Type: "varchar", Length: 40}})
	enc := jobspec.Encoding{SchemasEnabled: true}
	e, err := NewEncoder(tbl, enc, Meta{ListItemsFollowSpec: true})
	require.NoError(t, err)
	require.Contains(t, string(e.Schema()), `{"type":"array","items":{"type":"string","optional":false},"optional":true,"field":"v"}`)
	line, err := e.Create([]row.Value{row.Int32(1), row.List([]row.Value{row.String("a")})})
	require.NoError(t, err)
	d, err := debezium.NewDecoder(tbl, enc)
	require.NoError(t, err)
	ev, err := d.Decode(landing.Record{Object: "t", Line: 1, Data: line})
	require.NoError(t, err)
	require.True(t, row.Equal(row.List([]row.Value{row.String("a")}), ev.After[1]))
}
