package lint_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/datasurface/datasurface/model/lint"
)

func TestValidOwner(t *testing.T) {
	valid := []string{
		"acme/model@main",
		"acme/retail/model-retail@main", // subgroups
		"acme/model@release/2024.10",    // a branch with a slash and dots
		"my.group/my_project@feature-x", // dots, dashes, underscores
		"acme/model@main@2",             // @ is allowed in a branch, @{ is not
	}
	invalid := []string{
		"acme/model",           // no @branch
		"model@main",           // no group
		"@main",                // no project
		"acme/model@",          // no branch
		"acme/model@main..x",   // .. in the branch
		"acme/model@-main",     // a branch starting with -
		"acme/model@main.",     // ending with .
		"acme/model@main.lock", // .lock component
		"acme/model@a b",       // a space
		"acme/model@a~1",       // ~
		"acme/model@x@{1}",     // @{
		"acme/model@/main",     // leading /
		"acme/model@main/",     // trailing /
		"acme/model@a//b",      // empty component
		"acme/model@.hidden",   // component starting with .
		"acme/model.git@main",  // a clone URL, not a project path
		"acme/../model@main",   // ..
		"acme//model@main",     // empty path component
		"-acme/model@main",     // path starting with -
		"https://gitlab.example.com/acme/model@main",
	}
	for _, s := range valid {
		assert.True(t, lint.ValidOwner(s), s)
	}
	for _, s := range invalid {
		assert.False(t, lint.ValidOwner(s), s)
	}
}

func TestReferences(t *testing.T) {
	runFamily(t, []familyCase{
		{name: "clean"},
		{
			name: "malformed owners: no @, no group, a bad branch",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ecoFile, "owner: acme/model@main", "owner: acme/model")
				m.replace(t, ecoFile, "owner: acme/sales-model@main", "owner: sales-model@main")
				m.replace(t, salesZone, "owner: acme/shop-model@main", "owner: acme/shop-model@main..x")
			},
			want: []want{
				{ecoFile, "owner: acme/model", "ref-owner", lint.Error},
				{ecoFile, "sales-model@main", "ref-owner", lint.Error},
				{salesZone, "shop-model@main..x", "ref-owner", lint.Error},
			},
		},
		{
			name: "sinks name existing datastores and datasets",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, reportsWS, "sinks: [orders.orders, orders.customers]", "sinks: [order.orders, orders.customer]")
			},
			want: []want{
				{reportsWS, "sinks:", "ref-sink", lint.Error},
				{reportsWS, "sinks:", "ref-sink", lint.Error},
			},
		},
		{
			name: "locations are paths of the vendors' trees",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, shopTeam, "location: onprem/dc1/rack_a", "location: onprem/rack_a")
			},
			want: []want{{shopTeam, "location: onprem/rack_a", "ref-location", lint.Error}},
		},
		{
			name: "capture needs a postgres container and a reading credential",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ordersStore, "container: shop_db", "container: lake")
				m.replace(t, ordersStore, "credential: shop_reader", "credential: lake_keys")
				m.replace(t, ecoFile, "{name: lake_keys, kind: s3_keys}", "{name: lake_keys, kind: s3_keys, granted_to: [sales]}")
			},
			want: []want{
				// The ecosystem's containers are visible to teams, and its
				// credentials once granted, but an object store cannot be
				// captured and s3 keys cannot read PostgreSQL.
				{ordersStore, "container: lake", "ref-container-kind", lint.Error},
				{ordersStore, "credential: lake_keys", "ref-credential", lint.Error},
			},
		},
		{
			name: "undeclared classifications, platforms, policies",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ordersStore, "classifications: [cpi]", "classifications: [pii]")
				m.replace(t, reportsWS, "platform: lakehouse", "platform: lakehose")
				m.replace(t, reportsWS, "production: true\n", "production: true\npolicies: [gdpr]\n")
			},
			want: []want{
				{ordersStore, "classifications: [pii]", "ref-classification", lint.Error},
				{reportsWS, "platform: lakehose", "ref-platform", lint.Error},
				{reportsWS, "policies: [gdpr]", "ref-policy", lint.Error},
			},
		},
		{
			name: "classifications of fields nested in lists and maps are declared",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ordersStore, "      - {name: email, type: varchar(200), classifications: [cpi]}",
					"      - {name: email, type: varchar(200), classifications: [cpi]}\n"+
						"      - {name: phones, type: list, element: {type: struct, fields: [{name: number, type: text, classifications: [pii]}]}}\n"+
						"      - {name: notes, type: map, key: {type: text}, value: {type: struct, fields: [{name: body, type: text, classifications: [secret]}]}}")
			},
			want: []want{
				{ordersStore, "classifications: [pii]", "ref-classification", lint.Error},
				{ordersStore, "classifications: [secret]", "ref-classification", lint.Error},
			},
		},
		{
			name: "containers are exactly one kind, and exist",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, shopTeam, "credentials:", `  - {name: shop_none, location: onprem/dc1}
  - {name: shop_two, location: onprem/dc1, postgres: {host: x, database: x}, kafka: {bootstrap: "x:9092"}}
  - {name: shop_connect, location: onprem/dc1, kafka_connect: {url: "http://c:8083", kafka: shop_kafka}}
credentials:`)
			},
			want: []want{
				{shopTeam, "name: shop_none", "container-kind", lint.Error},
				{shopTeam, "name: shop_two", "container-kind", lint.Error},
				{shopTeam, "kafka: shop_kafka", "ref-container", lint.Error},
			},
		},
		{
			name: "credentials are declared, and a transformer's are its team's or granted to it",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ordersStore, "credential: shop_reader", "credential: shop_writer")
				m[reportsWS] += `transformers:
  - name: totals
    platform: lakehouse
    image: "registry.example.com/totals:1.0"
    command: [totals]
    trigger: {external: true}
    credentials: [shop_reader, lake_keys]
    output:
      datastore: order_totals
      datasets:
        - {name: daily, columns: [{name: day, type: date}]}
`
				consumeOutputs(t, m, "order_totals.daily")
			},
			want: []want{
				{ordersStore, "credential: shop_writer", "ref-credential", lint.Error},
				{reportsWS, "credentials: [shop_reader, lake_keys]", "credential-not-granted", lint.Error},
			},
		},
		{
			name: "policies: their shape, their entries, references to them",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, salesZone, "zone: sales\n", `zone: sales
policies:
  vendor:
    - {name: mixed, allowed: [onprem], denied: [aws]}
    - {name: neither}
    - {name: ours, allowed: [onprem, gcp]}
`)
				m.replace(t, reportsWS, "production: true\n", "production: true\npolicies: [ours]\n")
			},
			want: []want{
				{salesZone, "name: mixed", "policy-shape", lint.Error},
				{salesZone, "name: neither", "policy-shape", lint.Error},
				{salesZone, "name: ours", "ref-policy-entry", lint.Error},
				// ours is mandatory: listing it changes nothing.
				{reportsWS, "policies: [ours]", "ref-policy-mandatory", lint.Info},
			},
		},
		{
			name: "a deprecation's replacement exists",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ordersStore, "  - name: customers\n", "  - name: customers\n    deprecated: {reason: Moved., replacement: crm.customers}\n")
				m.replace(t, reportsWS, "orders.customers", "{dataset: orders.customers, deprecations_allowed: true}")
			},
			want: []want{
				{ordersStore, "replacement: crm.customers", "ref-replacement", lint.Error},
				{reportsWS, "orders.customers", "sink-deprecated", lint.Warning},
			},
		},
	})
}
