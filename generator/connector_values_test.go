package generator_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/generator"
	"github.com/datasurface/datasurface/model"
	"github.com/datasurface/datasurface/model/lint"
)

// connectorField is model text of the customer-cdc example that reaches a
// connector config as it is.
type connectorField struct {
	name string
	set  func(m *model.Model, v string)
}

func crmPostgres(m *model.Model) *model.PostgresContainer {
	return teamOf(m, "crm").Containers[0].Postgres
}

func lakehouse(m *model.Model) *model.AirflowIceberg { return m.Ecosystem.Platforms[0].AirflowIceberg }

func landingStorage(m *model.Model) *model.ObjectStorageContainer {
	for i := range m.Ecosystem.Containers {
		if c := &m.Ecosystem.Containers[i]; c.Name == lakehouse(m).Landing.Container.Name {
			return c.ObjectStorage
		}
	}
	return nil
}

var connectorFields = []connectorField{
	{"host", func(m *model.Model, v string) { crmPostgres(m).Host = model.Text{Value: v} }},
	{"database", func(m *model.Model, v string) { crmPostgres(m).Database = model.Text{Value: v} }},
	{"source_schema", func(m *model.Model, v string) { datastore(m, "customer_db").Capture.SourceSchema = v }},
	{"source_table", func(m *model.Model, v string) { datastore(m, "customer_db").Datasets[0].SourceTable = v }},
	{"endpoint", func(m *model.Model, v string) { landingStorage(m).Endpoint = model.Text{Value: v} }},
	{"region", func(m *model.Model, v string) { landingStorage(m).Region = model.Text{Value: v} }},
	{"landing bucket", func(m *model.Model, v string) { lakehouse(m).Landing.Bucket = v }},
	{"landing prefix", func(m *model.Model, v string) { lakehouse(m).Landing.Prefix = v }},
	{"topic_prefix", func(m *model.Model, v string) { lakehouse(m).KafkaConnect.TopicPrefix = v }},
}

// connectorSecrets are the settings that hold the generator's own
// ${file:...} references; nothing else may hold "${".
var connectorSecrets = map[string]bool{"database.user": true, "database.password": true, "aws.access.key.id": true, "aws.secret.access.key": true}

// assertNoConfigReference checks every connector config of a tree: the
// secret settings are exactly the generator's file references, and no other
// value contains "${", which Kafka Connect would resolve.
func assertNoConfigReference(t *testing.T, tree *generator.Tree) {
	t.Helper()
	n := 0
	for _, p := range tree.Paths() {
		if !strings.Contains(p, "/connect/") {
			continue
		}
		n++
		for k, v := range connectorConfig(t, tree, p) {
			if connectorSecrets[k] {
				assert.Regexp(t, fileSecret, v, "%s: %s", p, k)
			} else {
				assert.NotContains(t, v, "${", "%s: %s reaches a config provider", p, k)
			}
		}
	}
	assert.NotZero(t, n, "no connector was rendered")
}

// hostileConnectorValues are values that Kafka Connect would resolve
// (ConfigTransformer: ${provider:[path:]key}, no escape), or that try to.
var hostileConnectorValues = []string{
	"${file:/opt/kafka/secrets/ds__minio_keys.properties:password}",
	"${file:/opt/kafka/secrets/ds__minio_keys.properties:password}.x.example",
	"x${env:HOME}x",
	"${directory:/opt/kafka/secrets:ds__minio_keys.properties}",
	"$${file:/etc/passwd:root}",
	"\\${file:/etc/passwd:root}",
	"${",
}

// TestNoLintCleanModelRendersAConfigReference puts each hostile value into
// each field: lint refuses it (value-config-reference), and the generator,
// given the model without lint, refuses to render it.
func TestNoLintCleanModelRendersAConfigReference(t *testing.T) {
	for _, f := range connectorFields {
		for _, v := range hostileConnectorValues {
			m := loadExample(t, "customer-cdc")
			f.set(m, v)
			var codes []string
			for _, p := range lint.Lint(m) {
				if p.Severity == lint.Error {
					codes = append(codes, p.Code)
				}
			}
			assert.Contains(t, codes, "value-config-reference", "%s %q: lint", f.name, v)
			tree, err := generator.Generate(context.Background(), m, generator.Options{Version: "test"})
			if !assert.Error(t, err, "%s %q: the generator renders it", f.name, v) {
				assertNoConfigReference(t, tree)
			}
		}
	}
}

// TestConnectorValuesComeFromTheModel sets every model value a connector
// config carries and reads the rendered configs back: each setting is the
// model's value, as its reader needs it.
func TestConnectorValuesComeFromTheModel(t *testing.T) {
	for _, host := range []struct{ model, rendered, url string }{
		{"crm-db-7.example.org", "crm-db-7.example.org", "crm-db-7.example.org"},
		{"10.7.0.7", "10.7.0.7", "10.7.0.7"},
		{"fd00::7", "[fd00::7]", "[fd00::7]"}, // jdbc:postgresql://${hostname}:${port}/${dbname}
	} {
		t.Run(host.model, func(t *testing.T) {
			m := loadExample(t, "customer-cdc")
			pg := crmPostgres(m)
			pg.Host = model.Text{Value: host.model}
			pg.Port = model.Port{Value: 6543}
			pg.Database = model.Text{Value: "crm_7"}
			ds := datastore(m, "customer_db")
			ds.Capture.SourceSchema = "Sales_7"
			ds.Datasets[0].SourceTable = "Customer_7"
			o := landingStorage(m)
			o.Endpoint = model.Text{Value: "https://s3-7.example.org:9443"}
			o.Region = model.Text{Value: "eu-central-7"}
			ai := lakehouse(m)
			ai.Landing.Bucket = "landing-7"
			ai.Landing.Prefix = "cdc/raw-7"
			ai.KafkaConnect.TopicPrefix = "acme-7"
			tree := generateClean(t, m)

			src := connectorConfig(t, tree, "platforms/lakehouse/connect/customer_db.source.json")
			assert.Equal(t, host.rendered, src["database.hostname"])
			assert.Equal(t, "6543", src["database.port"])
			assert.Equal(t, "crm_7", src["database.dbname"])
			assert.Equal(t, `Sales_7\.Customer_7,Sales_7\.addresses`, src["table.include.list"])
			includedExactly(t, "source", src["table.include.list"], []string{"Sales_7.Customer_7", "Sales_7.addresses"})
			assert.Equal(t, "acme-7.customer_db", src["topic.prefix"])
			assert.Equal(t, "${file:/opt/kafka/secrets/ds__retail__crm__crm_reader.properties:username}", src["database.user"])
			assert.Equal(t, "${file:/opt/kafka/secrets/ds__retail__crm__crm_reader.properties:password}", src["database.password"])

			sink := connectorConfig(t, tree, "platforms/lakehouse/connect/customer_db.s3-sink.json")
			assert.Equal(t, "acme-7.customer_db.Sales_7.Customer_7,acme-7.customer_db.Sales_7.addresses", sink["topics"])
			assert.Equal(t, "landing-7", sink["s3.bucket.name"])
			assert.Equal(t, "cdc/raw-7", sink["topics.dir"])
			assert.Equal(t, "https://s3-7.example.org:9443", sink["store.url"])
			assert.Equal(t, "eu-central-7", sink["s3.region"])
			assert.Equal(t, "${file:/opt/kafka/secrets/ds__minio_keys.properties:username}", sink["aws.access.key.id"])
			assert.Equal(t, "${file:/opt/kafka/secrets/ds__minio_keys.properties:password}", sink["aws.secret.access.key"])
			assertNoConfigReference(t, tree)

			// The SQL capture on the same database reaches it by URI.
			dag := string(tree.Files["platforms/lakehouse/dags/lakehouse__product_catalog_products.py"])
			assert.Contains(t, dag, `"DATASURFACE_SOURCE_URI": "postgresql://`+host.url+`:6543/crm_7"`)
		})
	}
}

// FuzzConnectorValues puts arbitrary text into one of the fields that reach
// connector configs: whenever lint passes, the model renders and no
// connector value but the generator's secret references contains "${"; when
// lint fails, the generator either refuses too or renders none either.
//
//	go test ./generator -run '^$' -fuzz FuzzConnectorValues -fuzztime 1m
func FuzzConnectorValues(f *testing.F) {
	for i := range connectorFields {
		for _, v := range append([]string{"crm-db", "crm", "public", "customers", "http://minio:9000", "us-east-1", "landing", "cdc", "acme", "fd00::1", "a.b", "a,b", "a\\.b", ".*", "${"}, hostileConnectorValues...) {
			f.Add(uint8(i), v)
		}
	}
	f.Fuzz(func(t *testing.T, field uint8, v string) {
		fld := connectorFields[int(field)%len(connectorFields)]
		m, errs, err := model.LoadDir(context.Background(), "../examples/customer-cdc")
		require.NoError(t, err)
		require.Empty(t, errs)
		fld.set(m, v)
		n, _, _ := lint.Count(lint.Lint(m))
		tree, err := generator.Generate(context.Background(), m, generator.Options{Version: "fuzz"})
		if n == 0 {
			require.NoError(t, err, "%s %q lints clean but does not render", fld.name, v)
		}
		if err == nil {
			assertNoConfigReference(t, tree)
		}
		if model.HasConfigReference(v) {
			assert.NotZero(t, n, "%s %q: lint lets a config provider reference through", fld.name, v)
		}
	})
}
