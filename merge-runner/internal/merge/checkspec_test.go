package merge

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/generator"
	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/debezium/encode"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
	dsmodel "github.com/datasurface/datasurface/model"
	"github.com/datasurface/datasurface/model/lint"
)

// goldenJobs are the job specs the generator renders for every example.
const goldenJobs = "../../../golden/*/platforms/*/jobs/*.json"

// TestCheckSpecAcceptsEveryGoldenJob: every job spec rendered from a model
// that lints clean is one the merge-runner accepts. examples/matrix renders
// every capture kind with each history mode and write mode; the test fails
// if the goldens stop covering one.
func TestCheckSpecAcceptsEveryGoldenJob(t *testing.T) {
	paths, err := filepath.Glob(goldenJobs)
	require.NoError(t, err)
	require.NotEmpty(t, paths, "no golden job specs at %s", goldenJobs)
	covered := map[string]bool{}
	examples := map[string]bool{}
	for _, p := range paths {
		rel, _ := filepath.Rel("../../../golden", p)
		examples[strings.Split(filepath.ToSlash(rel), "/")[0]] = true
		t.Run(filepath.ToSlash(rel), func(t *testing.T) {
			spec, err := jobspec.Read(p)
			require.NoError(t, err)
			require.NoError(t, CheckSpec(spec))
			for _, tb := range spec.Tables {
				covered[fmt.Sprintf("%s/%s/%s", spec.Source.Kind, tb.Mode, tb.WriteMode)] = true
				if len(tb.PartitionBy) > 0 {
					covered[spec.Source.Kind+"/partitioned"] = true
				} else {
					covered[spec.Source.Kind+"/unpartitioned"] = true
				}
			}
			if len(spec.Tables) > 2 {
				covered[spec.Source.Kind+"/several datasets"] = true
			}
		})
	}
	assert.True(t, examples["matrix"], "golden/matrix has no job specs")
	for _, kind := range []string{jobspec.SourceDebezium, jobspec.SourceSnapshot, jobspec.SourceWatermark} {
		for _, mode := range []string{jobspec.ModeLive, jobspec.ModeForensic} {
			for _, wm := range []string{jobspec.WriteMergeOnRead, jobspec.WriteCopyOnWrite} {
				c := kind + "/" + mode + "/" + wm
				assert.True(t, covered[c], "no golden job spec has a %s table", c)
			}
		}
		assert.True(t, covered[kind+"/partitioned"], "no golden %s table is partitioned", kind)
		assert.True(t, covered[kind+"/unpartitioned"], "every golden %s table is partitioned", kind)
	}
	// multi_dataset: one spec for the store's datasets (lint refuses it for
	// watermarks).
	assert.True(t, covered[jobspec.SourceDebezium+"/several datasets"], "no golden debezium spec has several datasets")
	assert.True(t, covered[jobspec.SourceSnapshot+"/several datasets"], "no golden snapshot spec has several datasets")
}

// checkedSpec is a spec CheckSpec accepts, of the given source kind: a
// live and a history table of one dataset.
func checkedSpec(kind string) *jobspec.Spec {
	cols := func() []jobspec.Column {
		return []jobspec.Column{
			{Name: "id", Type: "int64"},
			{Name: "region", Type: "char", Length: 2},
			{Name: "price", Type: "decimal", Precision: 10, Scale: 2, Nullable: true},
			{Name: "flag", Type: "boolean", Nullable: true},
			{Name: "dims", Type: "struct", Nullable: true, Fields: []jobspec.Column{{Name: "w", Type: "float32"}}},
			{Name: "updated_at", Type: "timestamptz"},
		}
	}
	live := jobspec.Table{Dataset: "items", SourceTable: "public.items", Name: "items", Mode: jobspec.ModeLive,
		PrimaryKey: []string{"id"}, PartitionBy: []string{"region"}, WriteMode: jobspec.WriteMergeOnRead, Columns: cols()}
	hist := live
	hist.Name, hist.Mode, hist.WriteMode, hist.Columns = "items_history", jobspec.ModeForensic, jobspec.WriteCopyOnWrite, cols()
	spec := &jobspec.Spec{
		Version: jobspec.Version, Platform: "lake", Stream: "shop", Datastore: "shop",
		Target: jobspec.Target{Catalog: "lake", CatalogKind: "sql", Namespace: "shop"},
		Tables: []jobspec.Table{live, hist},
		Batch:  jobspec.Batch{MaxEvents: 10},
	}
	switch kind {
	case jobspec.SourceDebezium:
		spec.Source = jobspec.Source{Kind: kind, Debezium: &jobspec.DebeziumSource{Container: "s3", Bucket: "landing", Prefix: "cdc",
			Encoding: jobspec.Encoding{DecimalHandling: "precise", TimePrecision: "adaptive_time_microseconds", BinaryHandling: "bytes"}}}
		for i := range spec.Tables {
			spec.Tables[i].Topic = "acme.shop.public.items"
		}
	case jobspec.SourceWatermark:
		spec.Source = jobspec.Source{Kind: kind, Postgres: &jobspec.PostgresSource{Container: "pg", Credential: "r", WatermarkColumn: "updated_at"}}
	default:
		spec.Source = jobspec.Source{Kind: kind, Postgres: &jobspec.PostgresSource{Container: "pg", Credential: "r"}}
	}
	return spec
}

func TestCheckSpecRefuses(t *testing.T) {
	for _, kind := range []string{jobspec.SourceDebezium, jobspec.SourceSnapshot, jobspec.SourceWatermark} {
		require.NoError(t, CheckSpec(checkedSpec(kind)), kind)
	}
	for _, c := range []struct {
		name   string
		kind   string
		change func(s *jobspec.Spec)
		msg    string
	}{
		// The contract (jobspec.Validate).
		{"unknown write mode", jobspec.SourceSnapshot, func(s *jobspec.Spec) { s.Tables[1].WriteMode = "rewrite" },
			`job spec: table items_history: unknown write_mode "rewrite"; use merge_on_read or copy_on_write`},
		{"no write mode", jobspec.SourceDebezium, func(s *jobspec.Spec) { s.Tables[0].WriteMode = "" },
			`job spec: table items: unknown write_mode ""`},
		{"encoding the decoder does not read", jobspec.SourceDebezium, func(s *jobspec.Spec) { s.Source.Debezium.Encoding.BinaryHandling = "base85" },
			`source.debezium.encoding.binary_handling "base85" is not one the merge-runner decodes`},
		{"duplicate column", jobspec.SourceWatermark, func(s *jobspec.Spec) {
			s.Tables[0].Columns = append(s.Tables[0].Columns, jobspec.Column{Name: "flag", Type: "text", Nullable: true})
		}, "job spec: table items: column flag appears twice"},
		{"partition column not a column", jobspec.SourceSnapshot, func(s *jobspec.Spec) { s.Tables[0].PartitionBy = []string{"country"} },
			"job spec: table items: partition column country is not a column of the table"},
		{"no topic", jobspec.SourceDebezium, func(s *jobspec.Spec) { s.Tables[1].Topic = "" },
			"job spec: table items_history has no topic"},
		// Kind by kind.
		{"snapshot without a key", jobspec.SourceSnapshot, func(s *jobspec.Spec) { s.Tables[1].PrimaryKey = nil },
			"table shop.items_history: a snapshot capture needs a primary key to tell rows apart"},
		{"watermark column missing", jobspec.SourceWatermark, func(s *jobspec.Spec) { s.Source.Postgres.WatermarkColumn = "changed_at" },
			"table shop.items: the watermark column changed_at is not one of its columns; add it to the dataset or capture the store another way"},
		{"watermark column missing from one table", jobspec.SourceWatermark, func(s *jobspec.Spec) {
			s.Tables[1].Columns = s.Tables[1].Columns[:5]
		}, "table shop.items_history: the watermark column updated_at is not one of its columns"},
		{"watermark column without an order", jobspec.SourceWatermark, func(s *jobspec.Spec) { s.Source.Postgres.WatermarkColumn = "flag" },
			"table shop.items: the watermark column flag is boolean, which has no order; use a timestamp, date, integer, decimal or string column"},
		{"watermark column nested", jobspec.SourceWatermark, func(s *jobspec.Spec) { s.Source.Postgres.WatermarkColumn = "dims" },
			"table shop.items: the watermark column dims is struct, which has no order"},
		{"watermark without its column", jobspec.SourceWatermark, func(s *jobspec.Spec) { s.Source.Postgres.WatermarkColumn = "" },
			"job spec: source kind postgres_watermark needs source.postgres.watermark_column"},
		// The Iceberg schema and partition spec (target).
		{"nested key", jobspec.SourceSnapshot, func(s *jobspec.Spec) {
			s.Tables[0].PrimaryKey = []string{"id", "dims"}
		}, "table items: primary key column dims has type struct, which cannot be an Iceberg identifier field"},
		{"nullable key", jobspec.SourceWatermark, func(s *jobspec.Spec) { s.Tables[0].PrimaryKey = []string{"price"} },
			"table items: primary key column price is nullable; key columns must be required"},
		{"no key on a debezium table", jobspec.SourceDebezium, func(s *jobspec.Spec) { s.Tables[0].PrimaryKey = nil },
			"table items has no primary key; the merge needs one to apply updates and deletes"},
		{"history column in a forensic table", jobspec.SourceDebezium, func(s *jobspec.Spec) {
			s.Tables[1].Columns = append(s.Tables[1].Columns, jobspec.Column{Name: jobspec.ColBatchIn, Type: "int64", Nullable: true})
		}, "table items_history: column dsf_batch_in is reserved for the history table's validity columns"},
		{"decimal too wide", jobspec.SourceSnapshot, func(s *jobspec.Spec) {
			s.Tables[0].Columns[2].Precision = 40
			s.Tables[1].Columns[2].Precision = 40
		}, "table items column price: decimal(40,2) is not an Iceberg decimal"},
		{"unknown type", jobspec.SourceWatermark, func(s *jobspec.Spec) { s.Tables[1].Columns[3].Type = "money" },
			`table items_history column flag: unknown column type "money"`},
		{"list without its element", jobspec.SourceWatermark, func(s *jobspec.Spec) {
			s.Tables[0].Columns[4] = jobspec.Column{Name: "dims", Type: "list", Nullable: true}
		}, "table items column dims: list without an element type"},
		{"partitioned by a nested column", jobspec.SourceSnapshot, func(s *jobspec.Spec) {
			s.Tables[0].PartitionBy = []string{"dims"}
			s.Tables[1].PartitionBy = []string{"dims"}
		}, "table items: partition column dims has a nested type; partition by a primitive column"},
		// The Debezium decoder.
		{"struct without fields", jobspec.SourceDebezium, func(s *jobspec.Spec) { s.Tables[0].Columns[4].Fields = nil },
			"table items: column dims: struct has no fields"},
		{"map keyed by a list", jobspec.SourceDebezium, func(s *jobspec.Spec) {
			s.Tables[1].Columns[4] = jobspec.Column{Name: "dims", Type: "map", Nullable: true,
				Key:   &jobspec.Column{Name: "key", Type: "list", Element: &jobspec.Column{Name: "element", Type: "int32"}},
				Value: &jobspec.Column{Name: "value", Type: "text", Nullable: true}}
		}, "table items_history: column dims: map key type list is not supported"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := checkedSpec(c.kind)
			c.change(s)
			err := CheckSpec(s)
			require.Error(t, err)
			var ce *target.ConfigError
			require.ErrorAs(t, err, &ce, "a refused spec is a configuration error (exit 2)")
			assert.Contains(t, err.Error(), c.msg)
		})
	}
}

// TestCheckSpecBeforeCatalog: Run and RunSQL refuse a bad spec before
// they touch the catalog or the source (both nil here: touching either
// would panic).
func TestCheckSpecBeforeCatalog(t *testing.T) {
	ctx := context.Background()
	// No table has a time column, so only the check of the whole encoding
	// sees it.
	bad := checkedSpec(jobspec.SourceDebezium)
	bad.Source.Debezium.Encoding.TimePrecision = "nanos"
	_, err := Run(ctx, nil, bad, Options{})
	var ce *target.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, err.Error(), `time_precision "nanos"`)

	for _, kind := range []string{jobspec.SourceSnapshot, jobspec.SourceWatermark} {
		bad := checkedSpec(kind)
		bad.Tables[0].Columns[0].Type = "float64" // the key
		bad.Tables[1].Columns[0].Type = "float64"
		_, err := RunSQL(ctx, nil, bad, nil, Options{})
		require.ErrorAs(t, err, &ce, kind)
		assert.Contains(t, err.Error(), "primary key column id has type float64", kind)
	}
}

// TestCheckSpecOrderableIsTheModels: the watermark types CheckSpec accepts
// are those lint accepts, so a model that lints renders a spec that runs.
func TestCheckSpecOrderableIsTheModels(t *testing.T) {
	for _, typ := range []string{"boolean", "int8", "int16", "int32", "int64", "float32", "float64", "decimal", "char", "varchar",
		"text", "date", "time", "timestamp", "timestamptz", "uuid", "binary", "json", "struct", "list", "map"} {
		src := typ
		switch typ {
		case "decimal":
			src = "decimal(10,2)"
		case "char", "varchar":
			src = typ + "(8)"
		}
		dt, err := dsmodel.ParseDataType(src)
		require.NoError(t, err, typ)
		assert.Equal(t, dt.Orderable(), orderable(typ), typ)
	}
}

// TestCheckSpecGoldenJobsRun goes past the static check: every golden job
// spec is run as the runner runs it, on a SQLite catalog and a local
// warehouse. A debezium spec applies creates, updates and deletes of rows
// with a value in every column, encoded as the connector writes them and
// landed as the S3 sink lands them, in small batches and two runs; a SQL
// spec applies three rounds of rows from a source that answers as pgsource
// does (snapshots in key order, watermarks above the recorded one). Each
// live table, and each history table's current versions, must then hold
// the rows the source holds.
func TestCheckSpecGoldenJobsRun(t *testing.T) {
	paths, err := filepath.Glob(goldenJobs)
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	for _, p := range paths {
		rel, _ := filepath.Rel("../../../golden", p)
		t.Run(filepath.ToSlash(rel), func(t *testing.T) {
			spec, err := jobspec.Read(p)
			require.NoError(t, err)
			spec.Batch.MaxEvents = 7
			e := newEnv(t)
			require.NoError(t, os.MkdirAll(e.events, 0o755))
			r := rand.New(rand.NewPCG(1, uint64(len(p))))
			var want map[string][]string // by source table: canonical rows
			if spec.Source.Kind == jobspec.SourceDebezium {
				want = landGoldenEvents(t, r, e.events, spec)
				for range 2 {
					_, err := Run(context.Background(), e.catalog, spec, e.opts())
					require.NoError(t, err)
				}
			} else {
				want = runGoldenSQL(t, r, e, spec)
			}
			for i, tb := range spec.Tables {
				w := slices.Clone(want[tb.SourceTable])
				sort.Strings(w)
				require.NotEmpty(t, w, tb.Name)
				assert.Equal(t, w, icebergRows(t, e, spec, i), "table %s (%s, %s)", tb.Name, tb.Mode, tb.WriteMode)
			}
		})
	}
}

// landGoldenEvents lands three rounds of changes to every topic of a
// debezium spec and returns the rows each source table holds at the end.
func landGoldenEvents(t *testing.T, r *rand.Rand, root string, spec *jobspec.Spec) map[string][]string {
	t.Helper()
	want := map[string][]string{}
	lsn := int64(1000)
	for i := range spec.Tables {
		tb := &spec.Tables[i]
		if _, done := want[tb.SourceTable]; done {
			continue // the history table of a dataset reads the same topic
		}
		enc, err := encode.NewEncoder(tb, spec.Source.Debezium.Encoding, encode.Meta{})
		require.NoError(t, err)
		l, err := encode.NewLander(root, tb.Topic, encode.LandOptions{Prefix: spec.Source.Debezium.Prefix})
		require.NoError(t, err)
		rows := map[int][]row.Value{}
		for round := range 3 {
			for k := range 12 {
				lsn++
				enc.SetSource(encode.Source{TsMs: 1_700_000_000_000 + lsn, LSN: lsn, LastCommitLSN: lsn - 1})
				var line []byte
				old, ok := rows[k]
				switch {
				case !ok:
					rows[k] = goldenRow(r, tb, k, round)
					line, err = enc.Create(rows[k])
				case k%5 == 0:
					delete(rows, k)
					line, err = enc.Delete(old)
				default:
					rows[k] = goldenRow(r, tb, k, round)
					line, err = enc.Update(old, rows[k])
				}
				require.NoError(t, err)
				_, err = l.Add(0, line)
				require.NoError(t, err)
			}
			require.NoError(t, l.Rotate(0))
		}
		require.NoError(t, l.Close())
		for _, img := range rows {
			got, err := enc.Expect(img)
			require.NoError(t, err)
			want[tb.SourceTable] = append(want[tb.SourceTable], canonical(got))
		}
	}
	return want
}

// runGoldenSQL runs a SQL spec over three rounds of rows and returns the
// rows each source table's tables must hold: a snapshot's last round, or
// for a watermark (which never deletes) each key's last version.
func runGoldenSQL(t *testing.T, r *rand.Rand, e *env, spec *jobspec.Spec) map[string][]string {
	t.Helper()
	held := map[string]map[string]string{} // by source table, by key
	src := &goldenSource{rows: map[string][][]row.Value{}}
	for round := range 3 {
		done := map[string]bool{} // a dataset's live and history tables read one source table
		for i := range spec.Tables {
			tb := &spec.Tables[i]
			if done[tb.SourceTable] {
				continue
			}
			done[tb.SourceTable] = true
			if held[tb.SourceTable] == nil || spec.Source.Kind != jobspec.SourceWatermark {
				held[tb.SourceTable] = map[string]string{}
			}
			keys := keyIndexes(tb)
			wm := ""
			if spec.Source.Postgres != nil {
				wm = spec.Source.Postgres.WatermarkColumn
			}
			wi := slices.IndexFunc(tb.Columns, func(c jobspec.Column) bool { return wm != "" && c.Name == wm })
			var rows [][]row.Value
			for k := round; k < 12-2*round; k++ {
				rw := goldenRow(r, tb, k, round)
				rows = append(rows, rw)
				if wi >= 0 && rw[wi].IsNull() {
					continue // a watermark capture never reads it
				}
				held[tb.SourceTable][row.KeyString(pick(rw, keys))] = canonical(rw)
			}
			src.rows[tb.SourceTable] = rows
		}
		var err error
		if spec.Source.Kind == jobspec.SourceTransformer {
			// A transformer's run is merged as a snapshot (transformout feeds RunSnapshot).
			_, err = RunSnapshot(context.Background(), e.catalog, spec, src, e.opts())
		} else {
			_, err = RunSQL(context.Background(), e.catalog, spec, src, e.opts())
		}
		require.NoError(t, err, "round %d", round)
	}
	want := map[string][]string{}
	for st, byKey := range held {
		for _, c := range byKey {
			want[st] = append(want[st], c)
		}
	}
	return want
}

// goldenSource answers as pgsource.Source does: a snapshot in primary-key
// order, a watermark read above the recorded watermark in watermark order.
type goldenSource struct {
	rows map[string][][]row.Value
	wms  map[string]row.Value // the watermarks handed out, by their text
}

func (s *goldenSource) Snapshot(_ context.Context, tables []*jobspec.Table, fn func(i int, r []row.Value) error) error {
	for i, t := range tables {
		rows := slices.Clone(s.rows[t.SourceTable])
		k := keyIndexes(t)
		slices.SortFunc(rows, func(a, b []row.Value) int { return row.CompareKeys(pick(a, k), pick(b, k)) })
		for _, r := range rows {
			if err := fn(i, r); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *goldenSource) Rows(_ context.Context, t *jobspec.Table, watermark string, after *string, fn func(r []row.Value, wm string) error) error {
	wi := slices.IndexFunc(t.Columns, func(c jobspec.Column) bool { return c.Name == watermark })
	rows := slices.Clone(s.rows[t.SourceTable])
	slices.SortFunc(rows, func(a, b []row.Value) int { return row.Compare(a[wi], b[wi]) })
	if s.wms == nil {
		s.wms = map[string]row.Value{}
	}
	for _, r := range rows {
		if r[wi].IsNull() {
			continue // WHERE wm IS NOT NULL
		}
		if after != nil {
			prev, ok := s.wms[*after]
			if !ok {
				return fmt.Errorf("watermark %q was never handed out", *after)
			}
			if row.Compare(r[wi], prev) <= 0 {
				continue
			}
		}
		wm := r[wi].String()
		s.wms[wm] = r[wi]
		if err := fn(r, wm); err != nil {
			return err
		}
	}
	return nil
}

// goldenRow is a row of table t for key number k in version v: key
// columns depend on k alone, timestamps grow with v (so a watermark does),
// the rest is random, with nulls where the column allows them.
func goldenRow(r *rand.Rand, t *jobspec.Table, k, v int) []row.Value {
	out := make([]row.Value, len(t.Columns))
	for i := range t.Columns {
		c := &t.Columns[i]
		out[i] = goldenValue(r, c, k, v, slices.Contains(t.PrimaryKey, c.Name))
	}
	return out
}

func goldenValue(r *rand.Rand, c *jobspec.Column, k, v int, isKey bool) row.Value {
	if c.Nullable && !isKey && r.IntN(5) == 0 {
		return row.Null()
	}
	fine := c.TimePrecision == nil || *c.TimePrecision > 3 // else milliseconds
	switch c.Type {
	case "boolean":
		return row.Bool(r.IntN(2) == 0)
	case "int8":
		return row.Int32(int32(int8(r.Uint32())))
	case "int16", "int32":
		if isKey {
			return row.Int32(int32(k))
		}
		return row.Int32(int32(int16(r.Uint32())))
	case "int64":
		if isKey {
			return row.Int64(int64(k) * 7919)
		}
		return row.Int64(r.Int64())
	case "float32":
		return row.Float32(float32(r.NormFloat64()))
	case "float64":
		return row.Float64(r.NormFloat64() * 1e6)
	case "decimal":
		max := int64(1)
		for range min(c.Precision, 15) {
			max *= 10
		}
		return row.Decimal(r.Int64N(max)-max/2, int32(c.Scale))
	case "char":
		if isKey {
			return row.String(fmt.Sprintf("%0*d", c.Length, k)[:c.Length])
		}
		return row.String(strings.Repeat(string(rune('A'+r.IntN(3))), c.Length))
	case "varchar", "text":
		if isKey {
			return row.String(fmt.Sprintf("k%d", k))
		}
		return row.String(fmt.Sprintf("v%d", r.IntN(4))) // a few partitions
	case "date":
		if isKey {
			return row.Date(int32(19000 + k))
		}
		return row.Date(int32(19000 + r.IntN(3)))
	case "time":
		us := r.Int64N(86_400_000_000)
		if !fine {
			us = us / 1000 * 1000
		}
		return row.Time(us)
	case "timestamp", "timestamptz":
		us := int64(1_700_000_000_000_000) + int64(v)*1_000_000_000 + int64(k)*1_000_000 + r.Int64N(1000)*1000
		if isKey {
			us = int64(1_700_000_000_000_000) + int64(k)*1_000_000
		}
		if !fine {
			us = us / 1000 * 1000
		}
		if c.Type == "timestamp" {
			return row.Timestamp(us)
		}
		return row.TimestampTZ(us)
	case "uuid":
		var u [16]byte
		if isKey {
			// High bits set in some keys: uuids order by unsigned bytes.
			u[0], u[15] = byte(k*37), byte(k)
			return row.UUID(u)
		}
		for i := range u {
			u[i] = byte(r.IntN(256))
		}
		return row.UUID(u)
	case "binary":
		b := make([]byte, r.IntN(8))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return row.Binary(string(b))
	case "json":
		return row.JSON(fmt.Sprintf(`{"n": %d}`, r.IntN(100)))
	case "struct":
		fs := make([]row.Value, len(c.Fields))
		for i := range c.Fields {
			fs[i] = goldenValue(r, &c.Fields[i], k, v, false)
		}
		return row.Struct(fs)
	case "list":
		es := make([]row.Value, r.IntN(3))
		for i := range es {
			es[i] = goldenValue(r, c.Element, k, v, false)
		}
		return row.List(es)
	case "map":
		var es []row.MapEntry
		for i := range r.IntN(3) {
			key := goldenValue(r, c.Key, k, v, false)
			if c.Key.Type == "varchar" || c.Key.Type == "text" {
				key = row.String(fmt.Sprintf("key%d", i)) // distinct keys
			}
			es = append(es, row.MapEntry{Key: key, Value: goldenValue(r, c.Value, k, v, false)})
		}
		return row.Map(es)
	}
	panic("goldenValue: no value for type " + c.Type)
}

// TestCheckSpecAcceptsWhatLintAllows: examples/matrix with one dataset
// added: a model that lints clean and renders must render job specs the
// merge-runner accepts, and what the runner cannot take lint refuses.
func TestCheckSpecAcceptsWhatLintAllows(t *testing.T) {
	for _, c := range []struct {
		name, store, dataset, sink string
		lintRefuses                string // the code lint refuses the model with, if it must
	}{
		{"the matrix as it is", "", "", "", ""},
		// The Debezium decoder reads map keys of primitive types only
		// (hstore's are text): lint refuses others.
		{"a map keyed by a list, captured by debezium", "cdc_single", `
  - name: c
    documentation: Lint lets a map key be a list.
    source_table: odd_maps
    primary_key: [id]
    columns:
      - {name: id, type: int64}
      - name: odd
        type: map
        key: {type: list, element: {type: int32}}
        value: {type: text}
`, "cdc_single.c", "schema-type"},
		// Two datasets of a multi_dataset store name one source table
		// with different columns: the snapshot reads it once per shape.
		{"two snapshot datasets of one source table", "snapshot_multi", `
  - name: c
    documentation: The employees again, without the personal columns.
    source_table: employees
    primary_key: [employee_id]
    columns:
      - {name: employee_id, type: int64}
      - {name: department, type: varchar(30), nullable: false}
`, "snapshot_multi.c", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.CopyFS(dir, os.DirFS("../../../examples/matrix")))
			if c.store != "" {
				appendTo(t, filepath.Join(dir, "zones/lab/teams/sources/datastores", c.store+".yaml"), c.dataset)
				appendTo(t, filepath.Join(dir, "zones/lab/teams/readers/workspaces/current_state.yaml"), "      - "+c.sink+"\n")
			}
			m, errs, err := dsmodel.LoadDir(context.Background(), dir)
			require.NoError(t, err)
			require.Empty(t, errs)
			problems := lint.Lint(m)
			if c.lintRefuses != "" {
				var codes []string
				for _, p := range problems {
					codes = append(codes, p.Code)
				}
				require.Contains(t, codes, c.lintRefuses, "the runner cannot take this model: lint must refuse it")
				return
			}
			n, _, _ := lint.Count(problems)
			require.Zero(t, n, "the model must lint clean: %v", problems)
			tree, err := generator.Generate(context.Background(), m, generator.Options{Version: "test"})
			require.NoError(t, err)
			jobs := 0
			for _, p := range tree.Paths() {
				if !strings.Contains(p, "/jobs/") {
					continue
				}
				jobs++
				spec, err := jobspec.Parse(tree.Files[p])
				require.NoError(t, err, p)
				assert.NoError(t, CheckSpec(spec), "%s: lint passed the model, the merge-runner refuses its job spec", p)
			}
			require.NotZero(t, jobs)
		})
	}
}

// appendTo adds text at the end of a file. The workspace's last group is
// live_cow, the datastores' last entry a dataset: each addition lands in
// its list.
func appendTo(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(text)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}
