package encode

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/debezium"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
)

// The default placeholder's forms.
const (
	phText  = `"__debezium_unavailable_value"`
	phB64   = `"X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ=="`
	phInts  = `[95,95,100,101,98,101,122,105,117,109,95,117,110,97,118,97,105,108,97,98,108,101,95,118,97,108,117,101]`
	phUUIDs = `["b68a35a7-17ad-35b3-af2a-ae46edb4545a"]`
)

// TestUnchangedTOASTForms pins what an unchanged TOAST value of each column
// type is written as, per mode, from Debezium 2.7's
// UnchangedToastedReplicationMessageColumn#setUnchangedToastValue (the
// marker by type), UnchangedToastedPlaceholder (the marker's value) and
// PostgresValueConverter (#convertString, #convertBinaryToBytes and
// #convertBinaryToHex return the placeholder; #convertBinaryToBase64 and
// #convertBinaryToBase64UrlSafe reach JdbcValueConverters#unexpectedBinary,
// null; #handleUnknownData returns the array and hstore values, and the
// placeholder string for other types, which a schema other than a string
// refuses, so the column is null). The decoder reads each back as
// unavailable, or as null where the connector wrote null.
func TestUnchangedTOASTForms(t *testing.T) {
	list := func(elem string) jobspec.Column {
		return jobspec.Column{Type: "list", Nullable: true, Element: &jobspec.Column{Type: elem, Nullable: true}}
	}
	hstore := jobspec.Column{Type: "map", Nullable: true, Key: &jobspec.Column{Type: "text"}, Value: &jobspec.Column{Type: "text", Nullable: true}}
	cases := []struct {
		name    string
		col     jobspec.Column
		enc     jobspec.Encoding
		written string // "" when the connector cannot write it
		lost    bool   // written as null
	}{
		{"text", jobspec.Column{Type: "text", Nullable: true}, jobspec.Encoding{}, phText, false},
		{"varchar", jobspec.Column{Type: "varchar", Length: 40, Nullable: true}, jobspec.Encoding{}, phText, false},
		{"char", jobspec.Column{Type: "char", Length: 40, Nullable: true}, jobspec.Encoding{}, phText, false},
		{"json", jobspec.Column{Type: "json", Nullable: true}, jobspec.Encoding{}, phText, false},
		{"not null text", jobspec.Column{Type: "text"}, jobspec.Encoding{}, phText, false},
		{"bytea bytes", jobspec.Column{Type: "binary", Nullable: true}, jobspec.Encoding{BinaryHandling: "bytes"}, phB64, false},
		{"bytea default mode", jobspec.Column{Type: "binary", Nullable: true}, jobspec.Encoding{}, phB64, false},
		{"bytea hex", jobspec.Column{Type: "binary", Nullable: true}, jobspec.Encoding{BinaryHandling: "hex"}, phText, false},
		{"bytea base64", jobspec.Column{Type: "binary", Nullable: true}, jobspec.Encoding{BinaryHandling: "base64"}, `null`, true},
		{"bytea base64-url-safe", jobspec.Column{Type: "binary", Nullable: true}, jobspec.Encoding{BinaryHandling: "base64-url-safe"}, `null`, true},
		{"not null bytea base64", jobspec.Column{Type: "binary"}, jobspec.Encoding{BinaryHandling: "base64"}, "", false},
		{"numeric string", jobspec.Column{Type: "decimal", Precision: 20, Scale: 2, Nullable: true}, jobspec.Encoding{DecimalHandling: "string"}, phText, false},
		{"numeric precise", jobspec.Column{Type: "decimal", Precision: 20, Scale: 2, Nullable: true}, jobspec.Encoding{}, `null`, true},
		{"numeric variable", jobspec.Column{Type: "decimal", Nullable: true}, jobspec.Encoding{}, `null`, true},
		{"numeric double", jobspec.Column{Type: "decimal", Precision: 20, Scale: 2, Nullable: true}, jobspec.Encoding{DecimalHandling: "double"}, `null`, true},
		{"text[]", list("text"), jobspec.Encoding{}, `[` + phText + `]`, false},
		{"varchar[]", list("varchar"), jobspec.Encoding{}, `[` + phText + `]`, false},
		{"json[]", list("json"), jobspec.Encoding{}, `[` + phText + `]`, false},
		{"bytea[] bytes", list("binary"), jobspec.Encoding{BinaryHandling: "bytes"}, `[` + phB64 + `]`, false},
		{"bytea[] hex", list("binary"), jobspec.Encoding{BinaryHandling: "hex"}, `null`, true},
		{"bytea[] base64", list("binary"), jobspec.Encoding{BinaryHandling: "base64"}, `null`, true},
		{"integer[]", list("int32"), jobspec.Encoding{}, phInts, false},
		{"bigint[]", list("int64"), jobspec.Encoding{}, phInts, false},
		{"date[]", list("date"), jobspec.Encoding{TimePrecision: "adaptive"}, phInts, false},
		{"date[] connect", list("date"), jobspec.Encoding{TimePrecision: "connect"}, `null`, true},
		{"uuid[]", list("uuid"), jobspec.Encoding{}, phUUIDs, false},
		{"smallint[]", list("int16"), jobspec.Encoding{}, `null`, true},
		{"char[]", list("char"), jobspec.Encoding{}, `null`, true},
		{"numeric[]", list("decimal"), jobspec.Encoding{}, `null`, true},
		{"timestamptz[]", list("timestamptz"), jobspec.Encoding{}, `null`, true},
		{"hstore", hstore, jobspec.Encoding{}, `{` + phText + `:` + phText + `}`, false},
		{"int", jobspec.Column{Type: "int32", Nullable: true}, jobspec.Encoding{}, "", false},
		{"timestamptz", jobspec.Column{Type: "timestamptz", Nullable: true}, jobspec.Encoding{}, "", false},
		{"uuid", jobspec.Column{Type: "uuid", Nullable: true}, jobspec.Encoding{}, "", false},
		{"struct", jobspec.Column{Type: "struct", Nullable: true, Fields: []jobspec.Column{{Name: "a", Type: "text"}}}, jobspec.Encoding{}, "", false},
		{"map of ints", jobspec.Column{Type: "map", Nullable: true, Key: &jobspec.Column{Type: "int32"}, Value: &jobspec.Column{Type: "text"}}, jobspec.Encoding{}, "", false},
		{"list of structs", jobspec.Column{Type: "list", Nullable: true, Element: &jobspec.Column{Type: "struct", Fields: []jobspec.Column{{Name: "a", Type: "text"}}}},
			jobspec.Encoding{}, "", false},
	}
	for _, c := range cases {
		for _, env := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/envelope=%t", c.name, env), func(t *testing.T) {
				tbl := oneColumn(c.col)
				enc := c.enc
				enc.SchemasEnabled = env
				e, err := NewEncoder(tbl, enc, Meta{})
				require.NoError(t, err)
				r := []row.Value{row.Int32(1), row.Unavailable()}
				line, err := e.Update(nil, r)
				_, expErr := e.Expect(r)
				if c.written == "" {
					require.Error(t, err, "%s", line)
					require.Error(t, expErr)
					return
				}
				require.NoError(t, err)
				assert.Contains(t, string(line), `"after":{"id":1,"v":`+c.written+`}`)
				d, err := debezium.NewDecoder(tbl, enc)
				require.NoError(t, err)
				ev := decodeLine(t, d, line)
				want := row.Unavailable()
				if c.lost {
					want = row.Null()
				}
				assert.True(t, row.Equal(want, ev.After[1]), "want %s, got %s", want, ev.After[1])
				exp, err := e.Expect(r)
				require.NoError(t, err)
				assert.True(t, row.Equal(want, exp[1]), "Expect: want %s, got %s", want, exp[1])
			})
		}
	}
	// A nested value is never unavailable on its own.
	e, err := NewEncoder(oneColumn(list("text")), jobspec.Encoding{}, Meta{})
	require.NoError(t, err)
	_, err = e.Update(nil, []row.Value{row.Int32(1), row.List([]row.Value{row.String("x"), row.Unavailable()})})
	assert.ErrorContains(t, err, "never a nested value's")
}

// TestPlaceholderSetting writes a configured placeholder, and one given as
// "hex:" bytes (PostgresConnectorConfig#getUnavailableValuePlaceholder).
func TestPlaceholderSetting(t *testing.T) {
	tbl := oneColumn(jobspec.Column{Type: "list", Nullable: true, Element: &jobspec.Column{Type: "int32", Nullable: true}})
	for _, c := range []struct {
		setting, want string
	}{
		{"~", `[126]`},
		{"hex:00ff", `[0,-1]`},
	} {
		e, err := NewEncoder(tbl, jobspec.Encoding{}, Meta{Placeholder: c.setting})
		require.NoError(t, err)
		line, err := e.Update(nil, []row.Value{row.Int32(1), row.Unavailable()})
		require.NoError(t, err)
		assert.Contains(t, string(line), `"v":`+c.want+`}`)
	}
	_, err := NewEncoder(tbl, jobspec.Encoding{}, Meta{Placeholder: "hex:zz"})
	assert.Error(t, err)
}
