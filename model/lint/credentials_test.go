package lint_test

import (
	"testing"

	"github.com/datasurface/datasurface/model/lint"
)

// TestCredentialScopes: a credential belongs to the region that declares it;
// a team uses its own and those its zone or the ecosystem grant to it
// (granted_to), platforms use the ecosystem's.
func TestCredentialScopes(t *testing.T) {
	const ecoCreds = "  - {name: lake_keys, kind: s3_keys}\n"
	withEcoCred := func(t *testing.T, m modelFiles, cred string) {
		m.replace(t, ecoFile, ecoCreds, ecoCreds+"  - "+cred+"\n")
	}
	zoneCreds := func(t *testing.T, m modelFiles, file, creds string) {
		m.replace(t, file, "teams:\n", "credentials:\n"+creds+"teams:\n")
	}
	useCred := func(t *testing.T, m modelFiles, name string) {
		m.replace(t, ordersStore, "credential: shop_reader", "credential: "+name)
	}
	transformer := func(creds string) string {
		return `transformers:
  - name: totals
    platform: lakehouse
    image: "registry.example.com/totals:1.0"
    command: [totals]
    trigger: {external: true}
    credentials: ` + creds + `
    output:
      datastore: order_totals
      datasets:
        - {name: daily, columns: [{name: day, type: date}]}
`
	}
	runFamily(t, []familyCase{
		{name: "clean"},
		{
			// The attack: a team's capture names the ecosystem's read-write
			// catalog login, against a host the team chooses.
			name: "a team cannot use an ecosystem credential it is not granted",
			edit: func(t *testing.T, m modelFiles) {
				withEcoCred(t, m, "{name: catalog_rw, kind: user_password}")
				useCred(t, m, "catalog_rw")
			},
			want: []want{{ordersStore, "credential: catalog_rw", "credential-not-granted", lint.Error}},
		},
		{
			name: "an ecosystem credential granted to the team's zone",
			edit: func(t *testing.T, m modelFiles) {
				withEcoCred(t, m, "{name: catalog_rw, kind: user_password, granted_to: [sales]}")
				useCred(t, m, "catalog_rw")
			},
		},
		{
			name: "an ecosystem credential granted to zone/team",
			edit: func(t *testing.T, m modelFiles) {
				withEcoCred(t, m, "{name: catalog_rw, kind: user_password, granted_to: [finance/audit, sales/shop]}")
				useCred(t, m, "catalog_rw")
			},
		},
		{
			name: "an ecosystem credential granted to another zone or another zone's team",
			edit: func(t *testing.T, m modelFiles) {
				withEcoCred(t, m, "{name: catalog_rw, kind: user_password, granted_to: [finance, finance/audit]}")
				useCred(t, m, "catalog_rw")
			},
			want: []want{{ordersStore, "credential: catalog_rw", "credential-not-granted", lint.Error}},
		},
		{
			name: "a zone credential granted to the team",
			edit: func(t *testing.T, m modelFiles) {
				zoneCreds(t, m, salesZone, "  - {name: replica, kind: user_password, granted_to: [shop]}\n")
				useCred(t, m, "replica")
			},
		},
		{
			name: "a zone credential not granted, another zone's credential",
			edit: func(t *testing.T, m modelFiles) {
				zoneCreds(t, m, salesZone, "  - {name: replica, kind: user_password}\n")
				zoneCreds(t, m, financeZone, "  - {name: ledger_reader, kind: user_password, granted_to: [audit]}\n")
				useCred(t, m, "replica")
				m[reportsWS] += transformer("[ledger_reader]")
				consumeOutputs(t, m, "order_totals.daily")
			},
			want: []want{
				{ordersStore, "credential: replica", "credential-not-granted", lint.Error},
				// Another zone's credentials are not even visible.
				{reportsWS, "credentials: [ledger_reader]", "ref-credential", lint.Error},
			},
		},
		{
			// Declaring another team's credential name gives the team its own
			// credential of that name (a different secret, see the
			// generator's tests), not the other team's.
			name: "a team declares a credential named like another team's",
			edit: func(t *testing.T, m modelFiles) {
				m[auditTeam] = "team: audit\ncredentials:\n  - {name: shop_reader, kind: user_password}\n"
			},
		},
		{
			name: "the team's own credential comes first, then the zone's, then the ecosystem's",
			edit: func(t *testing.T, m modelFiles) {
				withEcoCred(t, m, "{name: shop_reader, kind: s3_keys, granted_to: [sales]}")
				zoneCreds(t, m, salesZone, "  - {name: shop_reader, kind: token, granted_to: [shop]}\n")
			},
			// user_password, the team's own: no kind problem.
		},
		{
			name: "a zone's grant beats the ecosystem's",
			edit: func(t *testing.T, m modelFiles) {
				withEcoCred(t, m, "{name: replica, kind: user_password, granted_to: [sales]}")
				zoneCreds(t, m, salesZone, "  - {name: replica, kind: s3_keys, granted_to: [shop]}\n")
				useCred(t, m, "replica")
			},
			want: []want{{ordersStore, "credential: replica", "ref-credential", lint.Error}}, // s3_keys cannot read PostgreSQL
		},
		{
			name: "a transformer uses granted credentials",
			edit: func(t *testing.T, m modelFiles) {
				withEcoCred(t, m, "{name: fx_api, kind: token, granted_to: [sales/shop]}")
				zoneCreds(t, m, salesZone, "  - {name: replica, kind: user_password, granted_to: [shop]}\n")
				m[reportsWS] += transformer("[shop_reader, fx_api, replica]")
				consumeOutputs(t, m, "order_totals.daily")
			},
		},
		{
			name: "platform settings use the ecosystem's credentials only",
			edit: func(t *testing.T, m modelFiles) {
				zoneCreds(t, m, salesZone, "  - {name: sales_keys, kind: s3_keys, granted_to: [shop]}\n")
				m.replace(t, ecoFile, "landing: {container: lake, bucket: landing, credential: lake_keys}", "landing: {container: lake, bucket: landing, credential: sales_keys}")
				m.replace(t, ecoFile, "warehouse: {container: lake, bucket: warehouse, credential: lake_keys}", "warehouse: {container: lake, bucket: warehouse, credential: shop_reader}")
			},
			want: []want{
				{ecoFile, "credential: sales_keys", "ref-credential", lint.Error},
				{ecoFile, "credential: shop_reader", "ref-credential", lint.Error},
			},
		},
		{
			name: "grants name zones and teams that exist; teams do not grant",
			edit: func(t *testing.T, m modelFiles) {
				withEcoCred(t, m, "{name: shared, kind: token, granted_to: [sales, marketing, finance/nobody, sales/shop/x, finance/]}")
				zoneCreds(t, m, salesZone, "  - {name: replica, kind: user_password, granted_to: [shop, audit, sales/shop]}\n")
				m.replace(t, shopTeam, "{name: shop_reader, kind: user_password}", "{name: shop_reader, kind: user_password, granted_to: [audit]}")
			},
			want: []want{
				{ecoFile, "name: shared", "credential-grant", lint.Error},    // marketing
				{ecoFile, "name: shared", "credential-grant", lint.Error},    // finance/nobody
				{ecoFile, "name: shared", "credential-grant", lint.Error},    // sales/shop/x
				{ecoFile, "name: shared", "credential-grant", lint.Error},    // finance/
				{salesZone, "name: replica", "credential-grant", lint.Error}, // audit is finance's
				{salesZone, "name: replica", "credential-grant", lint.Error}, // a zone names its teams alone
				{shopTeam, "granted_to: [audit]", "credential-grant", lint.Error},
			},
		},
		{
			name: "zone credentials have valid, unique names",
			edit: func(t *testing.T, m modelFiles) {
				zoneCreds(t, m, salesZone, "  - {name: replica, kind: user_password}\n  - {name: replica, kind: token}\n  - {name: 9lives, kind: token}\n")
			},
			want: []want{
				{salesZone, "{name: replica, kind: token}", "name-duplicate", lint.Error},
				{salesZone, "9lives", "name-invalid", lint.Error},
			},
		},
		{
			name: "run-time names are lower case with single underscores",
			edit: func(t *testing.T, m modelFiles) {
				withEcoCred(t, m, "{name: Lake_Keys2, kind: s3_keys}")
				zoneCreds(t, m, salesZone, "  - {name: sales__replica, kind: user_password}\n")
				m.replace(t, shopTeam, "{name: shop_reader, kind: user_password}", "{name: shop_reader_, kind: user_password}")
				useCred(t, m, "shop_reader_")
			},
			want: []want{
				{ecoFile, "Lake_Keys2", "credential-runtime-name", lint.Error},
				{salesZone, "sales__replica", "credential-runtime-name", lint.Error},
				{shopTeam, "shop_reader_", "credential-runtime-name", lint.Error},
			},
		},
	})
}
