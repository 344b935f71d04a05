package lint_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/model/lint"
)

// TestGeneratedNameCollisions is the generated-names family: names the
// generator derives (streams, DAG ids, tables, topics, Trino schemas and
// views) must not collide, folded as Trino and case-insensitive file
// systems fold them.
func TestGeneratedNameCollisions(t *testing.T) {
	cdc := func(t *testing.T, m modelFiles) {
		m.replace(t, ordersStore, "  kind: sql_snapshot\n", "  kind: debezium_cdc\n")
	}
	store := func(name, body string) func(t *testing.T, m modelFiles) {
		return func(t *testing.T, m modelFiles) {
			m["zones/sales/teams/shop/datastores/"+name+".yaml"] = "datastore: " + name + "\ncapture: {kind: sql_snapshot, container: shop_db, credential: shop_reader, trigger: {external: true}" + body + "}\ndatasets:\n  - {name: lines, primary_key: [id], columns: [{name: id, type: int64}]}\n"
		}
	}
	const newStore = "zones/sales/teams/shop/datastores/"
	runFamily(t, []familyCase{
		{name: "clean"},
		{
			name: "a multi_dataset store named like another's single-dataset stream",
			edit: store("orders_customers", ", consistency: multi_dataset"),
			want: []want{{newStore + "orders_customers.yaml", "datastore: orders_customers", "name-collision", lint.Error}},
		},
		{
			name: "a single-dataset stream folds onto another",
			edit: func(t *testing.T, m modelFiles) {
				m[newStore+"Orders_Orders.yaml"] = "datastore: Orders_Orders\ncapture: {kind: sql_snapshot, container: shop_db, credential: shop_reader, trigger: {external: true}, consistency: multi_dataset}\ndatasets:\n  - {name: x, primary_key: [id], columns: [{name: id, type: int64}]}\n"
			},
			// Orders_Orders.yaml is read first: the error is at orders.orders.
			want: []want{{ordersStore, "  - name: orders", "name-collision", lint.Error}},
		},
		{
			name: "the two datasets of one store captured from one source table (one Kafka topic)",
			edit: func(t *testing.T, m modelFiles) {
				cdc(t, m)
				m.replace(t, ordersStore, "  - name: customers\n", "  - name: customers\n    source_table: orders\n")
			},
			want: []want{{ordersStore, "  - name: customers", "name-collision", lint.Error}},
		},
		{
			name: "topics that differ only in '.' and '_'",
			edit: func(t *testing.T, m modelFiles) {
				cdc(t, m)
				m.replace(t, ordersStore, "  trigger:", "  source_schema: a_b\n  trigger:")
				m[newStore+"orders_a.yaml"] = "datastore: orders_a\ncapture: {kind: debezium_cdc, container: shop_db, credential: shop_reader, trigger: {external: true}, source_schema: b}\ndatasets:\n  - {name: orders, primary_key: [id], columns: [{name: id, type: int64}]}\n"
			},
			// lakehouse.orders.a_b.orders and lakehouse.orders_a.b.orders.
			want: []want{{newStore + "orders_a.yaml", "name: orders,", "name-collision", lint.Error}},
		},
		{
			name: "two platforms writing topics under one prefix on one Kafka",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ecoFile, "        warehouse: {container: cloud_s3, bucket: warehouse, credential: cloud_keys}\n",
					"        warehouse: {container: cloud_s3, bucket: warehouse, credential: cloud_keys}\n      kafka_connect: {container: connect, topic_prefix: Lakehouse}\n")
			},
			want: []want{{ecoFile, "topic_prefix: Lakehouse", "name-collision", lint.Error}},
		},
		{
			// lakehouse + orders__x and lakehouse__orders + x are both the
			// DAG id lakehouse__orders__x.
			name: "DAG ids that coincide across platforms",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ecoFile, "  - name: cloud\n", "  - name: lakehouse__orders\n")
				for _, n := range []string{"orders__x", "x"} {
					m[newStore+n+".yaml"] = "datastore: " + n + "\ncapture: {kind: sql_snapshot, container: shop_db, credential: shop_reader, trigger: {external: true}, consistency: multi_dataset}\ndatasets:\n  - {name: y, primary_key: [id], columns: [{name: id, type: int64}]}\n"
				}
			},
			want: []want{{newStore + "x.yaml", "datastore: x", "name-collision", lint.Error}},
		},
		{
			name: "views that fold together in one workspace",
			edit: func(t *testing.T, m modelFiles) {
				m[newStore+"crm.yaml"] = "datastore: crm\nproduction: true\ncapture: {kind: sql_snapshot, container: shop_db, credential: shop_reader, trigger: {external: true}}\ndatasets:\n  - {name: Orders, primary_key: [id], columns: [{name: id, type: int64}]}\n"
				m.replace(t, reportsWS, "sinks: [orders.orders, orders.customers]", "sinks: [orders.orders, orders.customers, crm.Orders]")
			},
			want: []want{{reportsWS, "crm.Orders", "name-collision", lint.Error}},
		},
		{
			name: "views of the same dataset from two groups do not collide",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, reportsWS, "    sinks: [orders.orders, orders.customers]\n", "    sinks: [orders.orders, orders.customers]\n  - name: audit\n    platform: lakehouse\n    requirements: {history: forensic}\n    sinks: [orders.orders]\n")
			},
		},
		{
			name: "a workspace named like a datastore",
			edit: func(t *testing.T, m modelFiles) {
				m["zones/finance/teams/audit/workspaces/Orders.yaml"] = "workspace: Orders\ngroups:\n  - name: g\n    platform: lakehouse\n    requirements: {history: live_only}\n    sinks: [orders.customers]\n"
			},
			want: []want{{"zones/finance/teams/audit/workspaces/Orders.yaml", "workspace: Orders", "name-collision", lint.Error}},
		},
		{
			name: "datastores and datasets compare case-insensitively",
			edit: func(t *testing.T, m modelFiles) {
				m[newStore+"Orders.yaml"] = "datastore: Orders\ncapture: {kind: sql_snapshot, container: shop_db, credential: shop_reader, trigger: {external: true}}\ndatasets:\n  - {name: lines, primary_key: [id], columns: [{name: id, type: int64}]}\n"
				m.replace(t, ordersStore, "  - name: customers\n", "  - name: Customers\n    primary_key: [id]\n    columns:\n      - {name: id, type: int64}\n  - name: customers\n")
			},
			want: []want{
				// Orders.yaml sorts, and is read, before orders.yaml.
				{ordersStore, "datastore: orders", "name-duplicate", lint.Error},
				{ordersStore, "  - name: customers", "name-duplicate", lint.Error},
			},
		},
	})
}

// The messages name both places and say what to do.
func TestGeneratedNameCollisionMessages(t *testing.T) {
	files := baseModel()
	files["zones/sales/teams/shop/datastores/orders_customers.yaml"] = "datastore: orders_customers\ncapture: {kind: sql_snapshot, container: shop_db, credential: shop_reader, trigger: {external: true}, consistency: multi_dataset}\ndatasets:\n  - {name: lines, primary_key: [id], columns: [{name: id, type: int64}]}\n"
	files.replace(t, ordersStore, "      - {name: id, type: int64}\n      - {name: total", "      - {name: id, type: int64}\n      - {name: Dsf_Valid_From, type: timestamptz}\n      - {name: total")
	ps := lintFiles(t, files)
	var msgs []string
	for _, p := range ps {
		msgs = append(msgs, p.Pos.String()+" "+p.Message)
	}
	require.Len(t, ps, 2, strings.Join(msgs, "\n"))
	all := strings.Join(msgs, "\n")
	assert.Contains(t, all, "zones/sales/teams/shop/datastores/orders_customers.yaml:1:1 datastore orders_customers would be ingested as stream orders_customers, the stream of dataset orders.customers at ")
	assert.Contains(t, all, ordersStore+":"+strconv.Itoa(lineOf(t, files, ordersStore, "- name: customers"))+":5")
	assert.Contains(t, all, "rename a dataset or datastore")
	assert.Contains(t, all, "column Dsf_Valid_From would collide with dsf_valid_from, a column history tables add themselves")
}
