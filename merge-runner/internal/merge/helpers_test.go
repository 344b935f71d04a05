package merge

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/merge-runner/internal/landing"
	"github.com/datasurface/datasurface/merge-runner/internal/row"
	"github.com/datasurface/datasurface/merge-runner/internal/target"
	"github.com/datasurface/datasurface/merge-runner/internal/testenv"
)

const testTopic = "acme.shop.public.items"

// itemsSpec is a small live table: id key, name, price, part.
func itemsSpec(mode string, partitioned bool) *jobspec.Spec {
	t := jobspec.Table{
		Dataset: "items", SourceTable: "public.items", Topic: testTopic, Name: "items", Mode: mode,
		PrimaryKey: []string{"id"}, WriteMode: "merge_on_read",
		Columns: []jobspec.Column{
			{Name: "id", Type: "int64"},
			{Name: "name", Type: "varchar", Length: 50, Nullable: true},
			{Name: "price", Type: "decimal", Precision: 10, Scale: 2, Nullable: true},
			{Name: "region", Type: "varchar", Length: 10},
		},
	}
	if mode == jobspec.ModeForensic {
		t.Name = "items_history"
	}
	if partitioned {
		t.PartitionBy = []string{"region"}
	}
	return &jobspec.Spec{
		Version: 1, Platform: "lake", Stream: "shop", Datastore: "shop",
		Source: jobspec.Source{Kind: jobspec.SourceDebezium, Debezium: &jobspec.DebeziumSource{
			Container: "minio", Bucket: "landing", Prefix: "cdc",
			Encoding: jobspec.Encoding{DecimalHandling: "string", TimePrecision: "adaptive_time_microseconds", BinaryHandling: "base64"},
		}},
		Target: jobspec.Target{Catalog: "lake", CatalogKind: "sql", Namespace: "shop"},
		Tables: []jobspec.Table{t},
		Batch:  jobspec.Batch{MaxEvents: 1000},
	}
}

// ev renders a Debezium payload (no envelope) for the items table. Its
// commit order is its time: source.sequence is [tsMs, tsMs] (SourceInfo
// writes ["<last commit LSN>","<LSN>"] as a string).
func ev(op string, before, after string, tsMs int64) string {
	if before == "" {
		before = "null"
	}
	if after == "" {
		after = "null"
	}
	return fmt.Sprintf(`{"before":%s,"after":%s,"source":{"version":"2.7.0.Final","connector":"postgresql","name":"acme","ts_ms":%d,"snapshot":"false","db":"shop","sequence":"[\"%d\",\"%d\"]","schema":"public","table":"items","txId":1,"lsn":%d},"op":%q,"ts_ms":%d}`,
		before, after, tsMs, tsMs, tsMs, tsMs, op, tsMs+5)
}

func item(id int64, name, price, region string) string {
	n := "null"
	if name != "" {
		n = fmt.Sprintf("%q", name)
	}
	p := "null"
	if price != "" {
		p = fmt.Sprintf("%q", price)
	}
	return fmt.Sprintf(`{"id":%d,"name":%s,"price":%s,"region":%q}`, id, n, p, region)
}

func key(id int64) string { return fmt.Sprintf(`{"id":%d,"name":null,"price":null,"region":null}`, id) }

// land writes lines as one landed file of partition p starting at offset start.
func land(t *testing.T, root string, p int32, start int64, lines ...string) {
	t.Helper()
	dir := filepath.Join(root, "cdc", testTopic, fmt.Sprintf("partition=%d", p))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	name := fmt.Sprintf("%s+%d+%010d.json", testTopic, p, start)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(lines, "\n")+"\n"), 0o644))
}

// env is a SQLite catalog and a local warehouse and landing folder.
type env struct {
	dir     string
	events  string
	uri     string // the catalog; SQLite in dir unless set
	catalog catalog.Catalog
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{dir: dir, events: filepath.Join(dir, "events"), uri: "sqlite:" + filepath.Join(dir, "catalog.db")}
	e.catalog = e.open(t)
	return e
}

// newPostgresEnv is an env whose SQL catalog is on a real PostgreSQL.
func newPostgresEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{dir: dir, events: filepath.Join(dir, "events"), uri: testenv.Postgres(t)}
	e.catalog = e.open(t)
	return e
}

func (e *env) open(t *testing.T) catalog.Catalog {
	t.Helper()
	cat, err := target.OpenCatalog(context.Background(), target.CatalogConfig{
		Name: "lake", URI: e.uri, Warehouse: filepath.Join(e.dir, "warehouse"),
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = target.CloseCatalog(cat) })
	return cat
}

// opts runs as if every landed object landed long ago: no partition of a
// topic of several is waited for (tests of waiting set their own clock).
func (e *env) opts() Options {
	later := func() time.Time { return time.Now().Add(24 * time.Hour) }
	return Options{Store: landing.NewLocalStore(e.events), Prefix: "cdc", Retries: 3, Now: later}
}

func (e *env) run(t *testing.T, spec *jobspec.Spec) []TableStats {
	t.Helper()
	st, err := Run(context.Background(), e.catalog, spec, e.opts())
	require.NoError(t, err)
	return st
}

// table loads the spec's first table.
func (e *env) table(t *testing.T, spec *jobspec.Spec) *table.Table {
	t.Helper()
	tbl, err := e.catalog.LoadTable(context.Background(), table.Identifier{spec.Target.Namespace, spec.Tables[0].Name})
	require.NoError(t, err)
	return tbl
}

// rows reads a table back as sorted strings, one per row.
func (e *env) rows(t *testing.T, spec *jobspec.Spec, i int) []string {
	t.Helper()
	tbl, err := e.catalog.LoadTable(context.Background(), table.Identifier{spec.Target.Namespace, spec.Tables[i].Name})
	require.NoError(t, err)
	var cols []string
	for _, f := range tbl.Schema().Fields() {
		cols = append(cols, f.Name)
	}
	var out []string
	require.NoError(t, target.Scan(context.Background(), tbl, iceberg.AlwaysTrue{}, cols, func(r []row.Value) error {
		parts := make([]string, len(r))
		for i, v := range r {
			parts[i] = v.String()
			if v.Kind() == row.KindString {
				parts[i] = v.Text()
			}
		}
		out = append(out, strings.Join(parts, "|"))
		return nil
	}))
	sort.Strings(out)
	return out
}
