package lint_test

import (
	"testing"

	"github.com/datasurface/datasurface/model/lint"
)

// migrating gives reports' group a migration off old_dw with the given
// status and tables, the legacy database in the shop team's containers.
func migrating(t *testing.T, m modelFiles, block string) {
	t.Helper()
	m.replace(t, reportsWS, "    sinks: [orders.orders, orders.customers]\n", "    sinks: [orders.orders, orders.customers]\n    migration:\n"+block)
}

const shadowBlock = `      legacy_platform: old_dw
      status: shadow
      legacy_container: shop_db
      legacy_credential: shop_reader
      tables:
        orders.orders: dw.orders
        orders.customers: dw.customers
`

func TestMigrations(t *testing.T) {
	runFamily(t, []familyCase{
		{
			name: "a group in shadow beside the legacy platform",
			edit: func(t *testing.T, m modelFiles) { migrating(t, m, shadowBlock) },
		},
		{
			name: "switched needs no legacy database",
			edit: func(t *testing.T, m modelFiles) {
				migrating(t, m, "      legacy_platform: old_dw\n      status: switched\n      tables: {orders.orders: dw.orders, orders.customers: dw.customers}\n")
			},
		},
		{
			name: "the legacy platform is not declared",
			edit: func(t *testing.T, m modelFiles) {
				migrating(t, m, shadowBlock)
				m.replace(t, reportsWS, "legacy_platform: old_dw", "legacy_platform: old_warehouse")
			},
			want: []want{{reportsWS, "legacy_platform: old_warehouse", "ref-platform", lint.Error}},
		},
		{
			name: "the legacy platform is not of kind legacy",
			edit: func(t *testing.T, m modelFiles) {
				migrating(t, m, shadowBlock)
				m.replace(t, reportsWS, "legacy_platform: old_dw", "legacy_platform: cloud")
			},
			want: []want{{reportsWS, "legacy_platform: cloud", "migration-platform", lint.Error}},
		},
		{
			name: "the group itself is still on the legacy platform",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, reportsWS, "    platform: lakehouse\n    requirements: {history: live_only}", "    platform: old_dw\n    requirements: {history: live_only, latency: days}")
				migrating(t, m, shadowBlock)
			},
			want: []want{{reportsWS, "    platform: old_dw", "migration-platform", lint.Error}},
		},
		{
			name: "a sink without a legacy table",
			edit: func(t *testing.T, m modelFiles) {
				migrating(t, m, shadowBlock)
				m.replace(t, reportsWS, "        orders.customers: dw.customers\n", "")
			},
			want: []want{{reportsWS, "sinks: [orders.orders, orders.customers]", "migration-tables", lint.Error}},
		},
		{
			name: "a table that names no sink of the group",
			edit: func(t *testing.T, m modelFiles) {
				migrating(t, m, shadowBlock+"        orders.refunds: dw.refunds\n")
			},
			want: []want{{reportsWS, "orders.refunds: dw.refunds", "migration-tables", lint.Error}},
		},
		{
			name: "a legacy table name that is not a name",
			edit: func(t *testing.T, m modelFiles) {
				migrating(t, m, shadowBlock)
				m.replace(t, reportsWS, "orders.orders: dw.orders", `orders.orders: "dw.or-ders"`)
			},
			want: []want{{reportsWS, "orders.orders: ", "name-invalid", lint.Error}},
		},
		{
			name: "a float tolerance below zero",
			edit: func(t *testing.T, m modelFiles) {
				migrating(t, m, shadowBlock+"      tolerances: {timestamp_precision: ms, float_epsilon: -0.01}\n")
			},
			want: []want{{reportsWS, "tolerances: {", "migration-tolerances", lint.Error}},
		},
		{
			name: "shadow without the legacy database and login",
			edit: func(t *testing.T, m modelFiles) {
				migrating(t, m, shadowBlock)
				m.replace(t, reportsWS, "      legacy_container: shop_db\n      legacy_credential: shop_reader\n", "")
			},
			// both reported at the migration block.
			want: []want{
				{reportsWS, "legacy_platform: old_dw", "migration-legacy-db", lint.Error},
				{reportsWS, "legacy_platform: old_dw", "migration-legacy-db", lint.Error},
			},
		},
		{
			name: "the legacy container is not postgres and the credential not the team's",
			edit: func(t *testing.T, m modelFiles) {
				migrating(t, m, shadowBlock)
				m.replace(t, reportsWS, "legacy_container: shop_db", "legacy_container: lake")
				m.replace(t, reportsWS, "legacy_credential: shop_reader", "legacy_credential: dw_reader")
			},
			want: []want{
				{reportsWS, "legacy_container: lake", "ref-container-kind", lint.Error},
				{reportsWS, "legacy_credential: dw_reader", "ref-credential", lint.Error},
			},
		},
		{
			name: "a forensic group cannot be reconciled against a legacy copy of current rows",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, auditTrailWS, "    sinks: [orders.orders]\n", "    sinks: [orders.orders]\n    migration: {legacy_platform: old_dw, status: verified, legacy_container: shop_db, legacy_credential: shop_reader, tables: {orders.orders: dw.orders}}\n")
			},
			// shop_db and shop_reader are the shop team's, not audit's.
			want: []want{
				{auditTrailWS, "platform: lakehouse", "migration-history", lint.Error},
				{auditTrailWS, "migration:", "ref-container", lint.Error},
				{auditTrailWS, "migration:", "ref-credential", lint.Error},
			},
		},
		{
			name: "the zone's platform policy applies to a migrating group's platform",
			edit: func(t *testing.T, m modelFiles) {
				migrating(t, m, shadowBlock)
				m.replace(t, salesZone, "zone: sales\n", "zone: sales\npolicies:\n  platform:\n    - {name: only_old, allowed: [old_dw]}\n")
			},
			// The group's platform is checked, its sinks' zone's policy too
			// (audit_trail sinks sales' orders on lakehouse as well); the
			// legacy platform is not the platform that processes the data.
			want: []want{
				{reportsWS, "platform: lakehouse", "policy-platform", lint.Error},
				{reportsWS, "sinks: [orders.orders, orders.customers]", "policy-platform", lint.Error},
				{reportsWS, "sinks: [orders.orders, orders.customers]", "policy-platform", lint.Error},
				{auditTrailWS, "sinks: [orders.orders]", "policy-platform", lint.Error},
			},
		},
	})
}
