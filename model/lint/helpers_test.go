package lint_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/model"
	"github.com/datasurface/datasurface/model/lint"
)

// modelFiles is a model as file contents by slash-separated path.
type modelFiles map[string]string

// writeFiles writes a map of path -> content into a fresh t.TempDir() and
// returns the folder.
func writeFiles(t *testing.T, files modelFiles) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

// lintFiles writes the files, loads them with model.LoadDir, requires that
// they load, and lints them. Problems' files are made relative to the model.
func lintFiles(t *testing.T, files modelFiles) []lint.Problem {
	t.Helper()
	dir := writeFiles(t, files)
	m, errs, err := model.LoadDir(context.Background(), dir)
	require.NoError(t, err)
	for _, e := range errs {
		t.Errorf("load error: %s [%s]", e, e.Code)
	}
	require.Empty(t, errs, "the model must load")
	ps := lint.Lint(m)
	prefix := filepath.ToSlash(dir) + "/"
	for i := range ps {
		ps[i].Pos.File = strings.TrimPrefix(ps[i].Pos.File, prefix)
	}
	return ps
}

// replace changes exactly one occurrence of old in a file.
func (m modelFiles) replace(t *testing.T, path, old, new string) {
	t.Helper()
	content, ok := m[path]
	require.True(t, ok, "no file %s", path)
	require.Equal(t, 1, strings.Count(content, old), "%s must contain %q exactly once", path, old)
	m[path] = strings.Replace(content, old, new, 1)
}

func (m modelFiles) clone() modelFiles {
	c := make(modelFiles, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// want is one expected problem: its code and severity, in File on the line
// that contains At (which must be on exactly one line of the file).
type want struct {
	File string
	At   string
	Code string
	Sev  lint.Severity
}

// Short file names for the tables.
const (
	ecoFile      = "ecosystem.yaml"
	salesZone    = "zones/sales/zone.yaml"
	shopTeam     = "zones/sales/teams/shop/team.yaml"
	ordersStore  = "zones/sales/teams/shop/datastores/orders.yaml"
	reportsWS    = "zones/sales/teams/shop/workspaces/reports.yaml"
	financeZone  = "zones/finance/zone.yaml"
	auditTeam    = "zones/finance/teams/audit/team.yaml"
	auditTrailWS = "zones/finance/teams/audit/workspaces/audit_trail.yaml"
)

func lineOf(t *testing.T, files modelFiles, file, at string) int {
	t.Helper()
	content, ok := files[file]
	require.True(t, ok, "no file %s", file)
	line := 0
	for i, l := range strings.Split(content, "\n") {
		if strings.Contains(l, at) {
			require.Zero(t, line, "%q is on lines %d and %d of %s; make it unique", at, line, i+1, file)
			line = i + 1
		}
	}
	require.NotZero(t, line, "%q is on no line of %s", at, file)
	return line
}

// assertProblems compares problems with expectations on file, line, code
// and severity, as sorted lists so a difference reads as a diff.
func assertProblems(t *testing.T, files modelFiles, wants []want, got []lint.Problem) {
	t.Helper()
	var w, g []string
	for _, x := range wants {
		w = append(w, fmt.Sprintf("%s:%d %s %s", x.File, lineOf(t, files, x.File, x.At), x.Code, x.Sev))
	}
	for _, p := range got {
		g = append(g, fmt.Sprintf("%s:%d %s %s", p.Pos.File, p.Pos.Line, p.Code, p.Severity))
	}
	sort.Strings(w)
	sort.Strings(g)
	if !assert.Equal(t, w, g) {
		for _, p := range got {
			t.Log(p)
		}
	}
}

// familyCase is a row of a rule family's table: an edit of the base model
// and the exact problems it must produce (none for a passing model).
type familyCase struct {
	name string
	edit func(t *testing.T, m modelFiles)
	want []want
}

func runFamily(t *testing.T, cases []familyCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := baseModel()
			if c.edit != nil {
				c.edit(t, files)
			}
			assertProblems(t, files, c.want, lintFiles(t, files))
		})
	}
}

// baseModel is a small clean model with two zones: sales produces orders and
// consumes them in reports; finance consumes them across zones in audit_trail.
func baseModel() modelFiles {
	return modelFiles{
		ecoFile: `ecosystem: acme
owner: acme/model@main
classifications:
  - {name: public}
  - {name: internal}
  - {name: cpi}
vendors:
  - name: onprem
    locations:
      - name: dc1
        locations:
          - {name: rack_a}
          - {name: rack_b}
      - {name: dc2}
  - name: aws
    locations:
      - {name: eu_west_1}
containers:
  - {name: lake, location: onprem/dc1, object_storage: {endpoint: "http://minio:9000", path_style: true}}
  - {name: catalog_db, location: onprem/dc1, postgres: {host: catalog-db, database: iceberg}}
  - {name: kafka, location: onprem/dc1, kafka: {bootstrap: "kafka:9092"}}
  - {name: connect, location: onprem/dc1, kafka_connect: {url: "http://connect:8083", kafka: kafka}}
  - {name: cloud_s3, location: aws/eu_west_1, object_storage: {region: eu-west-1}}
credentials:
  - {name: lake_keys, kind: s3_keys}
  - {name: cloud_keys, kind: s3_keys}
platforms:
  - name: lakehouse
    kind: airflow-iceberg
    production: true
    airflow_iceberg:
      images: {merge_runner: "registry.example.com/merge-runner:1.0.0"}
      landing: {container: lake, bucket: landing, credential: lake_keys}
      iceberg:
        catalog: {kind: sql, name: lakehouse, container: catalog_db}
        warehouse: {container: lake, bucket: warehouse, credential: lake_keys}
      kafka_connect: {container: connect}
  - name: cloud
    kind: airflow-iceberg
    production: true
    airflow_iceberg:
      airflow: {version: 2, operator: kubernetes, namespace: datasurface}
      images: {merge_runner: "registry.example.com/merge-runner:1.0.0"}
      landing: {container: cloud_s3, bucket: landing, credential: cloud_keys}
      iceberg:
        catalog: {kind: rest, name: cloud, url: "https://catalog.example.com"}
        warehouse: {container: cloud_s3, bucket: warehouse, credential: cloud_keys}
  - name: old_dw
    kind: legacy
    production: true
    legacy: {description: The nightly load into the old warehouse.}
zones:
  - {name: sales, owner: acme/sales-model@main}
  - {name: finance, owner: acme/finance/model@main}
`,
		salesZone: `zone: sales
teams:
  - {name: shop, owner: acme/shop-model@main}
`,
		shopTeam: `team: shop
containers:
  - name: shop_db
    location: onprem/dc1/rack_a
    postgres: {host: shop-db, database: shop}
credentials:
  - {name: shop_reader, kind: user_password}
`,
		ordersStore: `datastore: orders
production: true
capture:
  kind: sql_snapshot
  container: shop_db
  credential: shop_reader
  trigger: {cron: "0 * * * *"}
datasets:
  - name: orders
    primary_key: [id]
    columns:
      - {name: id, type: int64}
      - {name: total, type: "decimal(10,2)", classifications: [internal]}
  - name: customers
    primary_key: [id]
    columns:
      - {name: id, type: int64}
      - {name: email, type: varchar(200), classifications: [cpi]}
`,
		reportsWS: `workspace: reports
production: true
groups:
  - name: daily
    platform: lakehouse
    requirements: {history: live_only}
    sinks: [orders.orders, orders.customers]
`,
		financeZone: `zone: finance
teams:
  - {name: audit, owner: acme/finance/audit-model@main}
`,
		auditTeam: `team: audit
`,
		auditTrailWS: `workspace: audit_trail
groups:
  - name: history
    platform: lakehouse
    requirements: {history: forensic, latency: hours}
    sinks: [orders.orders]
`,
	}
}

// dashboardsWS is the workspace consumeOutputs writes.
const dashboardsWS = "zones/sales/teams/shop/workspaces/dashboards.yaml"

// consumeOutputs sinks transformers' outputs (store.dataset) in a group on
// lakehouse of a workspace of their own, so that the platform runs them, and
// gives lakehouse the read-only logins a platform running transformers must
// name. A case that adds a transformer to test something else uses it, so
// that the transformer is not reported unused. (A transformer reads its own
// workspace's sinks on its platform: sinking its output there is a cycle.)
func consumeOutputs(t *testing.T, m modelFiles, sinks ...string) {
	t.Helper()
	m[dashboardsWS] = "workspace: dashboards\ngroups:\n  - name: outputs\n    platform: lakehouse\n    requirements: {history: live_only}\n    sinks: [" + strings.Join(sinks, ", ") + "]\n"
	m.replace(t, ecoFile, "  - {name: lake_keys, kind: s3_keys}\n", "  - {name: lake_keys, kind: s3_keys}\n  - {name: catalog_ro, kind: user_password}\n  - {name: lake_read_keys, kind: s3_keys}\n")
	m.replace(t, ecoFile, "catalog: {kind: sql, name: lakehouse, container: catalog_db}", "catalog: {kind: sql, name: lakehouse, container: catalog_db, read_only_credential: catalog_ro}")
	m.replace(t, ecoFile, "warehouse: {container: lake, bucket: warehouse, credential: lake_keys}", "warehouse: {container: lake, bucket: warehouse, credential: lake_keys, read_only_credential: lake_read_keys}")
}

func TestBaseModelIsClean(t *testing.T) {
	files := baseModel()
	assert.Empty(t, lintFiles(t, files))
}
