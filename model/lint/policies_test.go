package lint_test

import (
	"testing"

	"github.com/datasurface/datasurface/model/lint"
)

func TestPolicies(t *testing.T) {
	// salesPolicies gives zone sales a policies block.
	salesPolicies := func(block string) func(t *testing.T, m modelFiles) {
		return func(t *testing.T, m modelFiles) {
			m.replace(t, salesZone, "zone: sales\n", "zone: sales\npolicies:\n"+block)
		}
	}
	financePolicies := func(t *testing.T, m modelFiles, block string) {
		m.replace(t, financeZone, "zone: finance\n", "zone: finance\npolicies:\n"+block)
	}
	runFamily(t, []familyCase{
		{name: "clean"},
		{
			name: "a location allows its sublocations",
			// shop_db is at onprem/dc1/rack_a, the platform's containers at onprem/dc1.
			edit: salesPolicies("  location:\n    - {name: dc1, allowed: [onprem/dc1]}\n"),
		},
		{
			name: "a location does not allow a sibling, even one its name prefixes",
			edit: func(t *testing.T, m modelFiles) {
				salesPolicies("  location:\n    - {name: dc1, allowed: [onprem/dc1]}\n")(t, m)
				m.replace(t, ecoFile, "      - {name: dc2}\n", "      - {name: dc2}\n      - {name: dc10}\n")
				m.replace(t, shopTeam, "location: onprem/dc1/rack_a", "location: onprem/dc10")
			},
			want: []want{{shopTeam, "name: shop_db", "policy-location", lint.Error}},
		},
		{
			name: "a container without a location cannot satisfy a location policy",
			edit: func(t *testing.T, m modelFiles) {
				salesPolicies("  vendor:\n    - {name: ours, allowed: [onprem]}\n")(t, m)
				m.replace(t, shopTeam, "    location: onprem/dc1/rack_a\n", "")
			},
			want: []want{{shopTeam, "name: shop_db", "policy-location", lint.Error}},
		},
		{
			name: "a denied list refuses only what it lists",
			edit: func(t *testing.T, m modelFiles) {
				salesPolicies("  vendor:\n    - {name: no_cloud, denied: [aws]}\n")(t, m)
				m.replace(t, shopTeam, "credentials:", "  - {name: shop_files, location: aws/eu_west_1, object_storage: {region: eu-west-1}}\n  - {name: shop_archive, location: onprem/dc2, object_storage: {endpoint: \"http://archive:9000\"}}\ncredentials:")
			},
			want: []want{{shopTeam, "name: shop_files", "policy-vendor", lint.Error}},
		},
		{
			name: "the consumer's platform policy at the group, the producer's at the sink",
			edit: func(t *testing.T, m modelFiles) {
				// finance's workspaces may not use old_dw; sales's data may be
				// processed only by lakehouse.
				financePolicies(t, m, "  platform:\n    - {name: no_old_dw, denied: [old_dw]}\n")
				salesPolicies("  platform:\n    - {name: lakehouse_only, allowed: [lakehouse]}\n")(t, m)
				m[auditTrailWS] += "  - name: old\n    platform: old_dw\n    requirements: {history: live_only, latency: days}\n    sinks: [orders.customers]\n"
			},
			want: []want{
				{auditTrailWS, "platform: old_dw", "policy-platform", lint.Error},
				{auditTrailWS, "sinks: [orders.customers]", "policy-platform", lint.Error},
			},
		},
		{
			name: "an optional policy applies only where it is referenced",
			edit: func(t *testing.T, m modelFiles) {
				// cpi stays on premises: customers lists the policy, orders does not.
				salesPolicies("  storage:\n    - {name: cpi_on_premises, optional: true, allowed: [shop_db, lake]}\n")(t, m)
				m.replace(t, ordersStore, "  - name: customers\n", "  - name: customers\n    policies: [cpi_on_premises]\n")
				m[reportsWS] += "  - name: cloud_copy\n    platform: cloud\n    requirements: {history: live_only}\n    sinks:\n      - orders.orders\n      - orders.customers\n"
			},
			want: []want{
				// cloud lands and keeps the data in cloud_s3: refused twice.
				{reportsWS, "      - orders.customers", "policy-storage", lint.Error},
				{reportsWS, "      - orders.customers", "policy-storage", lint.Error},
			},
		},
		{
			name: "an optional policy not referenced does nothing",
			edit: func(t *testing.T, m modelFiles) {
				salesPolicies("  storage:\n    - {name: cpi_on_premises, optional: true, allowed: [shop_db, lake]}\n")(t, m)
				m[reportsWS] += "  - name: cloud_copy\n    platform: cloud\n    requirements: {history: live_only}\n    sinks:\n      - orders.customers\n"
			},
		},
		{
			name: "a mandatory storage policy covers the capture container",
			edit: func(t *testing.T, m modelFiles) {
				salesPolicies("  storage:\n    - {name: lake_only, allowed: [lake]}\n")(t, m)
			},
			// Once per dataset of the store.
			want: []want{
				{ordersStore, "container: shop_db", "policy-storage", lint.Error},
				{ordersStore, "container: shop_db", "policy-storage", lint.Error},
			},
		},
		{
			name: "classification: the consumer's policy, then the producer's on a cross-zone sink",
			edit: func(t *testing.T, m modelFiles) {
				// finance consumes no internal data; cpi may not leave sales, a
				// policy customers lists (so sales's own reports may still read it).
				financePolicies(t, m, "  classification:\n    - {name: no_internal, denied: [internal]}\n")
				salesPolicies("  classification:\n    - {name: cpi_stays, optional: true, denied: [cpi]}\n")(t, m)
				m.replace(t, ordersStore, "  - name: customers\n", "  - name: customers\n    policies: [cpi_stays]\n")
				m.replace(t, auditTrailWS, "sinks: [orders.orders]", "sinks:\n      - orders.orders\n      - orders.customers")
			},
			want: []want{
				{auditTrailWS, "- orders.orders", "policy-classification", lint.Error},
				{auditTrailWS, "- orders.customers", "policy-classification", lint.Error},
			},
		},
		{
			name: "classification: a mandatory producer policy is not checked inside its own zone",
			edit: func(t *testing.T, m modelFiles) {
				// As a consumer policy, allowed [public, internal] refuses reports'
				// cpi sink; as a producer policy it refuses the cross-zone sink.
				salesPolicies("  classification:\n    - {name: no_cpi, allowed: [public, internal]}\n")(t, m)
				m.replace(t, auditTrailWS, "sinks: [orders.orders]", "sinks: [orders.customers]")
			},
			want: []want{
				{reportsWS, "sinks: [orders.orders, orders.customers]", "policy-classification", lint.Error},
				{auditTrailWS, "sinks: [orders.customers]", "policy-classification", lint.Error},
			},
		},
		{
			name: "classifications nested in lists and maps count too",
			edit: func(t *testing.T, m modelFiles) {
				// cpi inside a list of structs and inside a map's struct values:
				// finance may not consume it.
				financePolicies(t, m, "  classification:\n    - {name: no_cpi, denied: [cpi]}\n")
				const total = `      - {name: total, type: "decimal(10,2)", classifications: [internal]}`
				m.replace(t, ordersStore, total, total+`
      - name: contacts
        type: list
        element:
          type: struct
          fields:
            - {name: phone, type: text, classifications: [cpi]}
      - name: addresses
        type: map
        key: {type: text}
        value: {type: struct, fields: [{name: street, type: text, classifications: [cpi]}]}`)
			},
			// One problem per classification, however often it occurs.
			want: []want{{auditTrailWS, "sinks: [orders.orders]", "policy-classification", lint.Error}},
		},
		{
			name: "producer location policy on the platform a consumer chooses",
			edit: func(t *testing.T, m modelFiles) {
				salesPolicies("  vendor:\n    - {name: onprem_only, allowed: [onprem]}\n")(t, m)
				m.replace(t, auditTrailWS, "platform: lakehouse", "platform: cloud")
			},
			// cloud keeps the data in AWS: sales's vendor policy refuses it.
			want: []want{{auditTrailWS, "sinks: [orders.orders]", "policy-vendor", lint.Error}},
		},
	})
}
