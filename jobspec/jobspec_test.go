package jobspec_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
)

// The checked-in schema must be what the Go types generate; regenerate it with
// go run ./cmd/datasurface jobspec-schema > jobspec/jobspec.schema.json
func TestCheckedInSchemaIsCurrent(t *testing.T) {
	want, err := jobspec.JSONSchema()
	require.NoError(t, err)
	got, err := os.ReadFile("jobspec.schema.json")
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "jobspec/jobspec.schema.json is stale: run go run ./cmd/datasurface jobspec-schema > jobspec/jobspec.schema.json")
}

func TestParseRefuses(t *testing.T) {
	golden, err := os.ReadFile("../golden/customer-cdc/platforms/lakehouse/jobs/customer_db.json")
	require.NoError(t, err)
	s, err := jobspec.Parse(golden)
	require.NoError(t, err)
	assert.Equal(t, jobspec.SourceDebezium, s.Source.Kind)

	for name, c := range map[string]struct{ doc, msg string }{
		"future version": {`{"version": 2}`, "version 2 is not supported"},
		"not JSON":       {`version: 1`, "not a job spec"},
		"unknown field":  {`{"version": 1, "surprise": true}`, "unknown field"},
		"no source":      {`{"version": 1, "source": {"kind": "debezium"}, "tables": [{}]}`, "needs source.debezium"},
		"no tables":      {`{"version": 1, "source": {"kind": "postgres_snapshot", "postgres": {}}}`, "no tables"},
		"bad mode":       {`{"version": 1, "source": {"kind": "postgres_snapshot", "postgres": {}}, "tables": [{"name": "t", "mode": "sometimes"}]}`, "unknown mode"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := jobspec.Parse([]byte(c.doc))
			assert.ErrorContains(t, err, c.msg)
		})
	}
}

// validSpec is a debezium spec Validate accepts: a live and a history table
// of one dataset.
func validSpec() *jobspec.Spec {
	t := jobspec.Table{
		Dataset: "items", SourceTable: "public.items", Topic: "acme.shop.public.items", Name: "items", Mode: jobspec.ModeLive,
		PrimaryKey: []string{"id"}, PartitionBy: []string{"region"}, WriteMode: jobspec.WriteMergeOnRead,
		Columns: []jobspec.Column{
			{Name: "id", Type: "int64"},
			{Name: "region", Type: "char", Length: 2},
			{Name: "dims", Type: "struct", Nullable: true, Fields: []jobspec.Column{{Name: "w", Type: "float32"}, {Name: "h", Type: "float32"}}},
		},
	}
	h := t
	h.Name, h.Mode, h.WriteMode = "items_history", jobspec.ModeForensic, jobspec.WriteCopyOnWrite
	return &jobspec.Spec{
		Version: jobspec.Version, Platform: "lake", Stream: "shop", Datastore: "shop",
		Source: jobspec.Source{Kind: jobspec.SourceDebezium, Debezium: &jobspec.DebeziumSource{
			Container: "s3", Bucket: "landing", Prefix: "cdc",
			Encoding: jobspec.Encoding{DecimalHandling: "precise", TimePrecision: "adaptive_time_microseconds", BinaryHandling: "bytes"},
		}},
		Target: jobspec.Target{Catalog: "lake", CatalogKind: "sql", Namespace: "shop"},
		Tables: []jobspec.Table{t, h},
		Batch:  jobspec.Batch{MaxEvents: 10},
	}
}

func TestValidateAcceptsEveryEncodingAndWriteMode(t *testing.T) {
	require.NoError(t, validSpec().Validate())
	for _, enc := range []jobspec.Encoding{
		{DecimalHandling: "precise", TimePrecision: "adaptive_time_microseconds", BinaryHandling: "bytes"},
		{DecimalHandling: "string", TimePrecision: "adaptive", BinaryHandling: "base64"},
		{DecimalHandling: "double", TimePrecision: "connect", BinaryHandling: "base64-url-safe"},
		{DecimalHandling: "precise", TimePrecision: "connect", BinaryHandling: "hex"},
	} {
		s := validSpec()
		s.Source.Debezium.Encoding = enc
		assert.NoError(t, s.Validate(), "%+v", enc)
	}
	s := validSpec()
	s.Source = jobspec.Source{Kind: jobspec.SourceWatermark, Postgres: &jobspec.PostgresSource{Container: "pg", Credential: "r", WatermarkColumn: "id"}}
	assert.NoError(t, s.Validate(), "a SQL source needs no topic")
}

func TestValidateRefuses(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(s *jobspec.Spec)
		msg    string
	}{
		{"unknown write mode", func(s *jobspec.Spec) { s.Tables[1].WriteMode = "merge_on_write" },
			`job spec: table items_history: unknown write_mode "merge_on_write"; use merge_on_read or copy_on_write`},
		{"no write mode", func(s *jobspec.Spec) { s.Tables[0].WriteMode = "" },
			`job spec: table items: unknown write_mode ""; use merge_on_read or copy_on_write`},
		{"write mode spelled as the Iceberg property", func(s *jobspec.Spec) { s.Tables[0].WriteMode = "copy-on-write" },
			`unknown write_mode "copy-on-write"`},
		{"unknown decimal handling", func(s *jobspec.Spec) { s.Source.Debezium.Encoding.DecimalHandling = "exact" },
			`job spec: source.debezium.encoding.decimal_handling "exact" is not one the merge-runner decodes; use one of precise, string, double`},
		{"empty decimal handling", func(s *jobspec.Spec) { s.Source.Debezium.Encoding.DecimalHandling = "" },
			`encoding.decimal_handling "" is not one the merge-runner decodes`},
		// The table has no time column: the value is refused all the same.
		{"unknown time precision", func(s *jobspec.Spec) { s.Source.Debezium.Encoding.TimePrecision = "nanos" },
			`job spec: source.debezium.encoding.time_precision "nanos" is not one the merge-runner decodes; use one of adaptive_time_microseconds, adaptive, connect`},
		{"unknown binary handling", func(s *jobspec.Spec) { s.Source.Debezium.Encoding.BinaryHandling = "base85" },
			`job spec: source.debezium.encoding.binary_handling "base85" is not one the merge-runner decodes; use one of bytes, base64, base64-url-safe, hex`},
		{"binary handling in another case", func(s *jobspec.Spec) { s.Source.Debezium.Encoding.BinaryHandling = "BYTES" },
			`encoding.binary_handling "BYTES" is not one`},
		{"duplicate column", func(s *jobspec.Spec) {
			s.Tables[0].Columns = append(s.Tables[0].Columns, jobspec.Column{Name: "region", Type: "text", Nullable: true})
		}, "job spec: table items: column region appears twice"},
		{"duplicate struct field", func(s *jobspec.Spec) { s.Tables[0].Columns[2].Fields[1].Name = "w" },
			"job spec: table items: field dims.w appears twice"},
		{"primary key not a column", func(s *jobspec.Spec) { s.Tables[0].PrimaryKey = []string{"id", "sku"} },
			"job spec: table items: primary key column sku is not a column of the table"},
		{"primary key listed twice", func(s *jobspec.Spec) { s.Tables[0].PrimaryKey = []string{"id", "id"} },
			"job spec: table items: primary key column id is listed twice"},
		{"partition column not a column", func(s *jobspec.Spec) { s.Tables[1].PartitionBy = []string{"country"} },
			"job spec: table items_history: partition column country is not a column of the table"},
		{"partition column listed twice", func(s *jobspec.Spec) { s.Tables[0].PartitionBy = []string{"region", "region"} },
			"job spec: table items: partition column region is listed twice"},
		{"a nested field is not a key column", func(s *jobspec.Spec) { s.Tables[0].PrimaryKey = []string{"w"} },
			"primary key column w is not a column of the table"},
		{"duplicate table", func(s *jobspec.Spec) { s.Tables[1].Name = "items" },
			"job spec: table items appears twice"},
		{"debezium with a postgres block", func(s *jobspec.Spec) { s.Source.Postgres = &jobspec.PostgresSource{Container: "pg"} },
			"job spec: source kind debezium reads landed events; remove source.postgres"},
		{"snapshot with a debezium block", func(s *jobspec.Spec) {
			s.Source.Kind, s.Source.Postgres = jobspec.SourceSnapshot, &jobspec.PostgresSource{Container: "pg"}
		}, "job spec: source kind postgres_snapshot reads the source database; remove source.debezium"},
		{"watermark without its column", func(s *jobspec.Spec) {
			s.Source = jobspec.Source{Kind: jobspec.SourceWatermark, Postgres: &jobspec.PostgresSource{Container: "pg"}}
		}, "job spec: source kind postgres_watermark needs source.postgres.watermark_column"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := validSpec()
			c.change(s)
			err := s.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.msg)
			// Parse applies the same rules to the rendered document.
			b, merr := jobspec.Marshal(s)
			require.NoError(t, merr)
			_, perr := jobspec.Parse(b)
			require.Error(t, perr)
			assert.Equal(t, err.Error(), perr.Error())
		})
	}
}
