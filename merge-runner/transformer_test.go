package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/iceberg-go/table"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
)

const custTopic = "crm.public.customers"

var custColumns = []jobspec.Column{
	{Name: "id", Type: "int64"},
	{Name: "name", Type: "varchar", Length: 100, Nullable: true},
	{Name: "email", Type: "varchar", Length: 200, Nullable: true},
	{Name: "city", Type: "varchar", Length: 50},
}

// customersSpec is the input store: customers landed by Debezium.
func customersSpec() *jobspec.Spec {
	return &jobspec.Spec{
		Version: 1, Platform: "lake", Stream: "customer_db", Datastore: "customer_db",
		Source: jobspec.Source{Kind: jobspec.SourceDebezium, Debezium: &jobspec.DebeziumSource{
			Container: "minio", Bucket: "landing", Prefix: "cdc",
			Encoding: jobspec.Encoding{DecimalHandling: "string", TimePrecision: "adaptive_time_microseconds", BinaryHandling: "base64"},
		}},
		Target: jobspec.Target{Catalog: "lake", CatalogKind: "sql", Namespace: "customer_db"},
		Tables: []jobspec.Table{{
			Dataset: "customers", SourceTable: "public.customers", Topic: custTopic, Name: "customers", Mode: jobspec.ModeLive,
			PrimaryKey: []string{"id"}, WriteMode: "merge_on_read", Columns: custColumns,
		}},
		Batch: jobspec.Batch{MaxEvents: 100},
	}
}

// maskedSpec is the transformer's output store, live and history.
func maskedSpec(runs string) *jobspec.Spec {
	tbl := func(name, mode string) jobspec.Table {
		return jobspec.Table{Dataset: "masked_customers", SourceTable: "masked_customers", Name: name, Mode: mode,
			PrimaryKey: []string{"id"}, WriteMode: "merge_on_read", Columns: custColumns}
	}
	return &jobspec.Spec{
		Version: 1, Platform: "lake", Stream: "masked_customers", Datastore: "masked_customers",
		Source: jobspec.Source{Kind: jobspec.SourceTransformer, Transformer: &jobspec.TransformerSource{
			Name: "analytics.mask_customers", Output: runs,
			Inputs: []jobspec.TransformerInput{{Dataset: "customer_db.customers", Namespace: "customer_db", Table: "customers"}},
		}},
		Target: jobspec.Target{Catalog: "lake", CatalogKind: "sql", Namespace: "masked"},
		Tables: []jobspec.Table{tbl("masked_customers", jobspec.ModeLive), tbl("masked_customers_history", jobspec.ModeForensic)},
		Batch:  jobspec.Batch{MaxEvents: 100},
	}
}

// custEvent is a Debezium PostgreSQL change event of customers (the
// envelope of io.debezium.connector.postgresql: before, after, source, op,
// ts_ms; source.sequence is ["<last commit LSN>","<LSN>"], SourceInfo#sequence).
func custEvent(op string, id int, name, email, city string, ts int64) string {
	img := fmt.Sprintf(`{"id":%d,"name":%q,"email":%q,"city":%q}`, id, name, email, city)
	before, after := "null", img
	if op == "d" {
		before, after = img, "null"
	}
	return fmt.Sprintf(`{"before":%s,"after":%s,"source":{"connector":"postgresql","name":"crm","ts_ms":%d,"db":"crm","sequence":"[\"%d\",\"%d\"]","schema":"public","table":"customers","lsn":%d},"op":%q,"ts_ms":%d}`, before, after, ts, ts, ts, ts, op, ts)
}

var maskBin struct {
	once sync.Once
	path string
	err  error
}

// maskCustomers builds the transformer program once: the test runs the
// command its operator runs.
func maskCustomers(t *testing.T) string {
	t.Helper()
	maskBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "mask-customers-")
		if err != nil {
			maskBin.err = err
			return
		}
		maskBin.path = filepath.Join(dir, "mask-customers")
		out, err := exec.Command("go", "build", "-o", maskBin.path, "./cmd/mask-customers").CombinedOutput()
		if err != nil {
			maskBin.err = fmt.Errorf("go build ./cmd/mask-customers: %v\n%s", err, out)
		}
	})
	require.NoError(t, maskBin.err)
	return maskBin.path
}

type trFixture struct {
	dir, state, events, runs, inJob, outJob string
	offset                                  int
}

func newTrFixture(t *testing.T) *trFixture {
	dir := t.TempDir()
	f := &trFixture{dir: dir, state: filepath.Join(dir, "state"), events: filepath.Join(dir, "events"), runs: filepath.Join(dir, "runs"),
		inJob: filepath.Join(dir, "in.json"), outJob: filepath.Join(dir, "out.json")}
	for path, spec := range map[string]*jobspec.Spec{f.inJob: customersSpec(), f.outJob: maskedSpec(f.runs)} {
		b, err := jobspec.Marshal(spec)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, b, 0o644))
	}
	return f
}

// land lands events as the next object of partition 0 and merges them into
// the input table.
func (f *trFixture) land(t *testing.T, lines ...string) {
	t.Helper()
	part := filepath.Join(f.events, "cdc", custTopic, "partition=0")
	require.NoError(t, os.MkdirAll(part, 0o755))
	name := fmt.Sprintf("%s+0+%010d.json", custTopic, f.offset)
	require.NoError(t, os.WriteFile(filepath.Join(part, name), []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	f.offset += len(lines)
	code, out, errs := f.mr(t, "run", "--job", f.inJob, "--events", f.events)
	require.Equal(t, 0, code, "%s\n%s", out, errs)
}

func (f *trFixture) mr(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append(args, "--state", f.state), &out, &errb)
	return code, out.String(), errb.String()
}

// transform runs the transformer as the DAG's transform task would.
func (f *trFixture) transform(t *testing.T, runID string) {
	t.Helper()
	cmd := exec.Command(maskCustomers(t), "--map", "customer_db.customers=masked_customers")
	cmd.Env = append(os.Environ(),
		"DATASURFACE_RUN_ID="+runID, "DATASURFACE_RUN_DIR="+filepath.Join(f.runs, runID),
		"DATASURFACE_CATALOG_URI=sqlite:"+filepath.Join(f.state, "catalog.db"),
		"DATASURFACE_WAREHOUSE="+filepath.Join(f.state, "warehouse"), "DATASURFACE_CATALOG_NAME=lake", "MASK_SALT=s1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
}

func (f *trFixture) inputs(t *testing.T, runID string) map[string]any {
	t.Helper()
	code, out, errs := f.mr(t, "inputs", "--job", f.outJob, "--run", runID)
	require.Equal(t, 0, code, "%s\n%s", out, errs)
	return lastLine(t, out)
}

// rows are a table's rows as show prints them, sorted.
func (f *trFixture) rows(t *testing.T, name string) []string {
	t.Helper()
	code, out, errs := f.mr(t, "show", "--job", f.outJob, "--table", name, "--format", "csv")
	require.Equal(t, 0, code, "%s\n%s", out, errs)
	lines := strings.Split(strings.TrimSpace(out), "\n")[1:]
	sort.Strings(lines)
	return lines
}

func (f *trFixture) snapshotID(t *testing.T, name string) int64 {
	t.Helper()
	cat, err := target.OpenCatalog(context.Background(), target.CatalogConfig{Name: "lake", URI: "sqlite:" + filepath.Join(f.state, "catalog.db"), Warehouse: filepath.Join(f.state, "warehouse")})
	require.NoError(t, err)
	defer func() { _ = target.CloseCatalog(cat) }()
	tbl, err := cat.LoadTable(context.Background(), table.Identifier{"masked", name})
	require.NoError(t, err)
	return tbl.CurrentSnapshot().SnapshotID
}

// masked is the expected masking, computed here from its definition in
// cmd/mask-customers' package doc: SHA-256 of salt and local part, 16 hex
// digits; initials.
func masked(id int, name, email, city string) string {
	h := sha256.Sum256([]byte("s1" + email[:strings.IndexByte(email, '@')]))
	var ini strings.Builder
	for _, w := range strings.Fields(name) {
		ini.WriteString(strings.ToUpper(w[:1]) + ".")
	}
	return fmt.Sprintf("%d,%s,%s%s,%s", id, ini.String(), hex.EncodeToString(h[:8]), email[strings.IndexByte(email, '@'):], city)
}

func tableStats(t *testing.T, sum map[string]any, name string) map[string]any {
	for _, x := range sum["tables"].([]any) {
		if m := x.(map[string]any); m["table"] == name {
			return m
		}
	}
	t.Fatalf("no stats for %s in %v", name, sum)
	return nil
}

func TestTransformerEndToEnd(t *testing.T) {
	f := newTrFixture(t)
	f.land(t,
		custEvent("c", 1, "Ada Lovelace", "ada@example.com", "London", 1000),
		custEvent("c", 2, "Alan Mathison Turing", "alan@bletchley.org", "Wilmslow", 1001),
		custEvent("c", 3, "Grace Hopper", "grace@navy.mil", "Arlington", 1002))

	in := f.inputs(t, "r1")
	assert.Equal(t, true, in["pinned"])
	var pinned struct {
		Inputs []struct {
			SnapshotID int64 `json:"snapshot_id"`
		} `json:"inputs"`
	}
	b, err := os.ReadFile(filepath.Join(f.runs, "r1", "_inputs.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &pinned))
	require.Len(t, pinned.Inputs, 1)
	assert.NotZero(t, pinned.Inputs[0].SnapshotID)
	// A retried inputs task keeps what was pinned.
	assert.Equal(t, false, f.inputs(t, "r1")["pinned"])

	f.transform(t, "r1")
	code, out, errs := f.mr(t, "run", "--job", f.outJob, "--run", "r1")
	require.Equal(t, 0, code, "%s\n%s", out, errs)
	want := []string{
		masked(1, "Ada Lovelace", "ada@example.com", "London"),
		masked(2, "Alan Mathison Turing", "alan@bletchley.org", "Wilmslow"),
		masked(3, "Grace Hopper", "grace@navy.mil", "Arlington"),
	}
	assert.Equal(t, want, f.rows(t, "masked_customers"))
	assert.Contains(t, want[0], "A.L.,")
	assert.Len(t, f.rows(t, "masked_customers_history"), 3)

	// The inputs change: the second run propagates only the change.
	f.land(t,
		custEvent("u", 2, "Alan Turing", "alan@bletchley.org", "Wilmslow", 2000),
		custEvent("d", 3, "Grace Hopper", "grace@navy.mil", "Arlington", 2001),
		custEvent("c", 4, "Edsger Dijkstra", "ewd@utexas.edu", "Austin", 2002))
	f.inputs(t, "r2")
	f.transform(t, "r2")
	code, out, errs = f.mr(t, "run", "--job", f.outJob, "--run", "r2")
	require.Equal(t, 0, code, "%s\n%s", out, errs)
	live := tableStats(t, lastLine(t, out), "masked.masked_customers")
	assert.Equal(t, []any{1.0, 1.0, 1.0}, []any{live["rows_inserted"], live["rows_updated"], live["rows_deleted"]})
	assert.Equal(t, []string{
		masked(1, "Ada Lovelace", "ada@example.com", "London"),
		masked(2, "Alan Turing", "alan@bletchley.org", "Wilmslow"),
		masked(4, "Edsger Dijkstra", "ewd@utexas.edu", "Austin"),
	}, f.rows(t, "masked_customers"))
	assert.Len(t, f.rows(t, "masked_customers_history"), 5) // 3 first versions, 2's second, 4's first

	// The same run again changes nothing.
	code, out, _ = f.mr(t, "run", "--job", f.outJob, "--run", "r2")
	require.Equal(t, 0, code, out)
	live = tableStats(t, lastLine(t, out), "masked.masked_customers")
	assert.Equal(t, []any{0.0, 0.0, 0.0}, []any{live["rows_inserted"], live["rows_updated"], live["rows_deleted"]})

	before := f.snapshotID(t, "masked_customers")
	// r1 read older inputs than r2, which is merged: refused.
	code, out, _ = f.mr(t, "run", "--job", f.outJob, "--run", "r1")
	assert.Equal(t, jobspec.BadInputExitCode, code, out)
	assert.Contains(t, lastLine(t, out)["error"], "older than snapshot")
	assert.Contains(t, lastLine(t, out)["error"], "run r2, the last merged into masked.masked_customers")
	assert.Equal(t, before, f.snapshotID(t, "masked_customers"))
}

func TestTransformerFailures(t *testing.T) {
	f := newTrFixture(t)
	f.land(t,
		custEvent("c", 1, "Ada Lovelace", "ada@example.com", "London", 1000),
		custEvent("c", 2, "Alan Turing", "alan@bletchley.org", "Wilmslow", 1001))
	f.inputs(t, "r1")
	f.transform(t, "r1")
	code, out, errs := f.mr(t, "run", "--job", f.outJob, "--run", "r1")
	require.Equal(t, 0, code, "%s\n%s", out, errs)
	before := f.snapshotID(t, "masked_customers")
	rows := f.rows(t, "masked_customers")

	refused := func(t *testing.T, runID string, msgs ...string) {
		t.Helper()
		code, out, _ := f.mr(t, "run", "--job", f.outJob, "--run", runID)
		assert.Equal(t, jobspec.BadInputExitCode, code, out)
		for _, m := range msgs {
			assert.Contains(t, lastLine(t, out)["error"], m)
		}
		assert.Equal(t, before, f.snapshotID(t, "masked_customers"), "nothing committed")
		assert.Equal(t, rows, f.rows(t, "masked_customers"))
	}

	t.Run("a transformer that failed writes no manifest", func(t *testing.T) {
		f.inputs(t, "failed")
		refused(t, "failed", filepath.Join(f.runs, "failed", "_manifest.json"), "wrote no manifest", "nothing is merged")
	})
	t.Run("no inputs task", func(t *testing.T) {
		refused(t, "never", "_inputs.json: missing")
	})
	t.Run("a manifest with other inputs", func(t *testing.T) {
		f.inputs(t, "other")
		f.transform(t, "other")
		p := filepath.Join(f.runs, "other", "_manifest.json")
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		m["inputs"].([]any)[0].(map[string]any)["snapshot_id"] = 12345
		b, _ = json.Marshal(m)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		refused(t, "other", "are not the ones _inputs.json pinned")
	})

	// Each broken file replaces the transformer's part-0 of a fresh run.
	id := func(vals ...int64) arrow.Array {
		b := array.NewInt64Builder(memory.DefaultAllocator)
		b.AppendValues(vals, nil)
		return b.NewArray()
	}
	str := func(vals ...string) arrow.Array {
		b := array.NewStringBuilder(memory.DefaultAllocator)
		for _, v := range vals {
			if v == "<null>" {
				b.AppendNull()
			} else {
				b.Append(v)
			}
		}
		return b.NewArray()
	}
	field := func(name string, typ arrow.DataType) arrow.Field {
		return arrow.Field{Name: name, Type: typ, Nullable: true}
	}
	s := arrow.BinaryTypes.String
	for _, c := range []struct {
		name   string
		fields []arrow.Field
		cols   []arrow.Array
		msgs   []string
	}{
		{"a column of another type",
			[]arrow.Field{field("id", arrow.PrimitiveTypes.Int64), field("name", s), field("email", arrow.PrimitiveTypes.Int64), field("city", s)},
			[]arrow.Array{id(1), str("A."), id(7), str("London")},
			[]string{"masked_customers/part-0.parquet", `column "email": type int64 is not utf8`}},
		{"a missing column",
			[]arrow.Field{field("id", arrow.PrimitiveTypes.Int64), field("name", s), field("city", s)},
			[]arrow.Array{id(1), str("A."), str("London")},
			[]string{"masked_customers/part-0.parquet", `column "email": missing`}},
		{"a column the dataset does not have",
			[]arrow.Field{field("id", arrow.PrimitiveTypes.Int64), field("name", s), field("email", s), field("city", s), field("ssn", s)},
			[]arrow.Array{id(1), str("A."), str("x@y"), str("London"), str("123")},
			[]string{`column "ssn": is not a column of the dataset`}},
		{"a null in a non-null column",
			[]arrow.Field{field("id", arrow.PrimitiveTypes.Int64), field("name", s), field("email", s), field("city", s)},
			[]arrow.Array{id(1, 2, 3), str("A.", "B.", "C."), str("a@x", "b@x", "c@x"), str("London", "Paris", "<null>")},
			[]string{"masked_customers/part-0.parquet", `column "city": row 3: null in a non-null column`}},
		{"a key twice",
			[]arrow.Field{field("id", arrow.PrimitiveTypes.Int64), field("name", s), field("email", s), field("city", s)},
			[]arrow.Array{id(1, 2, 1), str("A.", "B.", "C."), str("a@x", "b@x", "c@x"), str("London", "Paris", "Rome")},
			[]string{`column "id": row 3: key (1) is also the key of`, "part-0.parquet row 1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			runID := strings.ReplaceAll(c.name, " ", "-")
			f.inputs(t, runID)
			f.transform(t, runID)
			rec := array.NewRecordBatch(arrow.NewSchema(c.fields, nil), c.cols, int64(c.cols[0].Len()))
			var buf bytes.Buffer
			w, err := pqarrow.NewFileWriter(rec.Schema(), &buf, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps())
			require.NoError(t, err)
			require.NoError(t, w.Write(rec))
			require.NoError(t, w.Close())
			require.NoError(t, os.WriteFile(filepath.Join(f.runs, runID, "masked_customers", "part-0.parquet"), buf.Bytes(), 0o644))
			refused(t, runID, c.msgs...)
		})
	}
}
