package lint_test

import (
	"testing"

	"github.com/datasurface/datasurface/model/lint"
)

// TestDeprecationAndProduction is the consumers family: deprecated data,
// production status, empty groups, duplicate sinks, transformer inputs.
func TestDeprecationAndProduction(t *testing.T) {
	deprecateStore := func(t *testing.T, m modelFiles) {
		m.replace(t, ordersStore, "production: true\n", "production: true\ndeprecated: {reason: Replaced by the new order service., replacement: orders.orders}\n")
	}
	runFamily(t, []familyCase{
		{name: "clean"},
		{
			// A warning, never an error: deprecating what consumers still
			// sink must leave the default branch valid. The merge-request
			// check refuses a new unacknowledged sink.
			name: "a sink on a deprecated datastore without deprecations_allowed",
			edit: deprecateStore,
			want: []want{
				{reportsWS, "sinks: [orders.orders, orders.customers]", "sink-deprecated", lint.Warning},
				{reportsWS, "sinks: [orders.orders, orders.customers]", "sink-deprecated", lint.Warning},
				{auditTrailWS, "sinks: [orders.orders]", "sink-deprecated", lint.Warning},
			},
		},
		{
			name: "a sink on a deprecated datastore with deprecations_allowed",
			edit: func(t *testing.T, m modelFiles) {
				deprecateStore(t, m)
				m.replace(t, reportsWS, "sinks: [orders.orders, orders.customers]", "sinks:\n      - {dataset: orders.orders, deprecations_allowed: true}\n      - {dataset: orders.customers, deprecations_allowed: true}")
				m.replace(t, auditTrailWS, "sinks: [orders.orders]", "sinks: [{dataset: orders.orders, deprecations_allowed: true}]")
			},
			want: []want{
				{reportsWS, "dataset: orders.orders", "sink-deprecated", lint.Warning},
				{reportsWS, "dataset: orders.customers", "sink-deprecated", lint.Warning},
				{auditTrailWS, "dataset: orders.orders", "sink-deprecated", lint.Warning},
			},
		},
		{
			name: "a deprecated dataset, and an acknowledgement nothing needs",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ordersStore, "  - name: customers\n", "  - name: customers\n    deprecated: {reason: Moved to the CRM.}\n")
				m.replace(t, reportsWS, "sinks: [orders.orders, orders.customers]", "sinks:\n      - {dataset: orders.orders, deprecations_allowed: true}\n      - orders.customers")
			},
			want: []want{
				{reportsWS, "dataset: orders.orders", "sink-deprecation-ack", lint.Info},
				{reportsWS, "- orders.customers", "sink-deprecated", lint.Warning},
			},
		},
		{
			name: "a production workspace sinking a non-production store",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ordersStore, "production: true\n", "")
			},
			// audit_trail is not production: no warning there.
			want: []want{
				{reportsWS, "sinks: [orders.orders, orders.customers]", "sink-non-production", lint.Warning},
				{reportsWS, "sinks: [orders.orders, orders.customers]", "sink-non-production", lint.Warning},
			},
		},
		{
			name: "a production workspace on a non-production platform",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ecoFile, "    kind: legacy\n    production: true\n", "    kind: legacy\n")
				m.replace(t, reportsWS, "    platform: lakehouse\n    requirements: {history: live_only}", "    platform: old_dw\n    requirements: {history: live_only, latency: days}")
				m.replace(t, auditTrailWS, "    platform: lakehouse\n    requirements: {history: forensic, latency: hours}", "    platform: old_dw\n    requirements: {history: live_only, latency: days}")
			},
			want: []want{{reportsWS, "platform: old_dw", "platform-non-production", lint.Warning}},
		},
		{
			name: "an empty group and a duplicate sink",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, reportsWS, "sinks: [orders.orders, orders.customers]", "sinks: [orders.orders, orders.customers, orders.orders]")
				m[reportsWS] += "  - name: later\n    platform: lakehouse\n    requirements: {history: live_only}\n"
			},
			want: []want{
				{reportsWS, "sinks: [orders.orders, orders.customers, orders.orders]", "sink-duplicate", lint.Warning},
				{reportsWS, "name: later", "group-empty", lint.Warning},
			},
		},
		{
			name: "a transformer in a workspace without groups has no inputs",
			edit: func(t *testing.T, m modelFiles) {
				m["zones/finance/teams/audit/workspaces/forecasts.yaml"] = `workspace: forecasts
transformers:
  - name: forecast
    platform: lakehouse
    image: "registry.example.com/forecast:1.0"
    command: [forecast]
    trigger: {external: true}
    output:
      datastore: forecast
      datasets:
        - {name: forecast, columns: [{name: day, type: date}]}
`
				consumeOutputs(t, m, "forecast.forecast")
			},
			want: []want{{"zones/finance/teams/audit/workspaces/forecasts.yaml", "- name: forecast", "transformer-no-inputs", lint.Error}},
		},
	})
}
