package lint_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/model"
	"github.com/datasurface/datasurface/model/lint"
)

// TestEmbeddedCDC: a platform with cdc: embedded captures debezium_cdc
// stores with merge-runner capture, so it needs no Kafka Connect and may not
// name one; what that path cannot read is refused where it is written.
func TestEmbeddedCDC(t *testing.T) {
	cdc := func(t *testing.T, m modelFiles) {
		m.replace(t, ordersStore, "  kind: sql_snapshot\n", "  kind: debezium_cdc\n")
	}
	// cloud has no kafka_connect; audit_trail reads orders there.
	embeddedCloud := func(t *testing.T, m modelFiles) {
		m.replace(t, ecoFile, "      airflow: {version: 2, operator: kubernetes, namespace: datasurface}\n",
			"      airflow: {version: 2, operator: kubernetes, namespace: datasurface}\n      cdc: embedded\n")
		m.replace(t, auditTrailWS, "platform: lakehouse", "platform: cloud")
	}
	const lakehouseAirflow = "      images: {merge_runner: \"registry.example.com/merge-runner:1.0.0\"}\n      landing: {container: lake,"
	runFamily(t, []familyCase{
		{name: "a debezium store on an embedded platform without kafka_connect", edit: func(t *testing.T, m modelFiles) {
			cdc(t, m)
			embeddedCloud(t, m)
		}},
		{
			name: "the same without cdc: embedded needs Kafka Connect",
			edit: func(t *testing.T, m modelFiles) {
				cdc(t, m)
				m.replace(t, auditTrailWS, "platform: lakehouse", "platform: cloud")
			},
			want: []want{{auditTrailWS, "sinks: [orders.orders]", "platform-cdc", lint.Error}},
		},
		{
			name: "an embedded platform naming a kafka_connect container",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ecoFile, lakehouseAirflow, "      cdc: embedded\n"+lakehouseAirflow)
			},
			want: []want{{ecoFile, "kafka_connect: {container: connect}", "platform-cdc", lint.Error}},
		},
		{
			name: "an embedded capture of a container that is not PostgreSQL",
			edit: func(t *testing.T, m modelFiles) {
				cdc(t, m)
				embeddedCloud(t, m)
				m.replace(t, ordersStore, "  container: shop_db\n", "  container: lake\n")
			},
			want: []want{{ordersStore, "  container: lake", "ref-container-kind", lint.Error}},
		},
		{
			name: "two embedded platforms landing the same topics in one landing",
			edit: func(t *testing.T, m modelFiles) {
				cdc(t, m)
				embeddedCloud(t, m)
				m.replace(t, ecoFile, "      kafka_connect: {container: connect}\n", "      kafka_connect: {topic_prefix: shop}\n")
				m.replace(t, ecoFile, lakehouseAirflow, "      cdc: embedded\n"+lakehouseAirflow)
				m.replace(t, ecoFile, "      landing: {container: cloud_s3, bucket: landing, credential: cloud_keys}\n",
					"      landing: {container: lake, bucket: landing, credential: lake_keys}\n      kafka_connect: {topic_prefix: shop}\n")
				m.replace(t, ecoFile, "        warehouse: {container: cloud_s3, bucket: warehouse, credential: cloud_keys}\n",
					"        warehouse: {container: lake, bucket: warehouse2, credential: lake_keys}\n")
			},
			// cloud's landing is lakehouse's: shop.orders.public.orders twice.
			want: []want{{ecoFile, "- name: cloud", "name-collision", lint.Error}},
		},
		{
			name: "two embedded platforms in two landings may share a topic prefix",
			edit: func(t *testing.T, m modelFiles) {
				cdc(t, m)
				embeddedCloud(t, m)
				m.replace(t, ecoFile, "      kafka_connect: {container: connect}\n", "      kafka_connect: {topic_prefix: shop}\n")
				m.replace(t, ecoFile, lakehouseAirflow, "      cdc: embedded\n"+lakehouseAirflow)
				m.replace(t, ecoFile, "      landing: {container: cloud_s3, bucket: landing, credential: cloud_keys}\n",
					"      landing: {container: cloud_s3, bucket: landing, credential: cloud_keys}\n      kafka_connect: {topic_prefix: shop}\n")
			},
		},
		{
			name: "docker_network on the docker operator",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ecoFile, lakehouseAirflow, "      airflow: {docker_network: datasurface_quickstart}\n"+lakehouseAirflow)
			},
		},
		{
			name: "docker_network that is not a network name",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ecoFile, lakehouseAirflow, "      airflow: {docker_network: \"my net; rm\"}\n"+lakehouseAirflow)
			},
			want: []want{{ecoFile, "- name: lakehouse", "platform-settings", lint.Error}},
		},
		{
			name: "docker_network on the kubernetes operator",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ecoFile, "airflow: {version: 2, operator: kubernetes, namespace: datasurface}", "airflow: {version: 2, operator: kubernetes, namespace: datasurface, docker_network: bridge}")
			},
			want: []want{{ecoFile, "- name: cloud", "platform-settings", lint.Error}},
		},
	})
}

// TestReplicationSlotCollision: two datastores whose slot names are equal
// on one platform (the readable part cut at 63 bytes, the hash equal: a pair
// found by a birthday search) are refused at the second.
func TestReplicationSlotCollision(t *testing.T) {
	long := "lake" + strings.Repeat("x", 50)
	store := func(name string) string {
		return "datastore: " + name + "\ncapture: {kind: debezium_cdc, container: shop_db, credential: shop_reader, trigger: {external: true}}\ndatasets:\n  - {name: lines, primary_key: [id], columns: [{name: id, type: int64}]}\n"
	}
	const dir = "zones/sales/teams/shop/datastores/"
	runFamily(t, []familyCase{
		{
			name: "two stores, one slot",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ecoFile, "  - name: old_dw\n", "  - name: "+long+"\n    kind: airflow-iceberg\n    airflow_iceberg:\n      cdc: embedded\n      images: {merge_runner: \"registry.example.com/merge-runner:1.0.0\"}\n      landing: {container: lake, bucket: landing2, credential: lake_keys}\n      iceberg:\n        catalog: {kind: sql, name: long, container: catalog_db}\n        warehouse: {container: lake, bucket: warehouse3, credential: lake_keys}\n  - name: old_dw\n")
				m[dir+"store96774.yaml"] = store("store96774")
				m[dir+"store99695.yaml"] = store("store99695")
			},
			want: []want{{dir + "store99695.yaml", "datastore: store99695", "name-collision", lint.Error}},
		},
		{
			name: "the same stores on a platform of a short name",
			edit: func(t *testing.T, m modelFiles) {
				m[dir+"store96774.yaml"] = store("store96774")
				m[dir+"store99695.yaml"] = store("store99695")
			},
		},
	})
}

// TestUnknownCDCPath: a cdc value outside the two paths is refused when
// the file is read, at its line and column.
func TestUnknownCDCPath(t *testing.T) {
	m := baseModel()
	m.replace(t, ecoFile, "      kafka_connect: {container: connect}\n", "      kafka_connect: {container: connect}\n      cdc: logical\n")
	_, errs, err := model.LoadDir(context.Background(), writeFiles(t, m))
	require.NoError(t, err)
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), `ecosystem.yaml:`+strconv.Itoa(lineOf(t, m, ecoFile, "cdc: logical"))+`:12: "logical" is not one of kafka_connect, embedded`)
}
