package lint_test

import (
	"testing"

	"github.com/datasurface/datasurface/model/lint"
)

func TestLayout(t *testing.T) {
	runFamily(t, []familyCase{
		{name: "clean"},
		{
			name: "a zone the ecosystem does not declare",
			edit: func(t *testing.T, m modelFiles) {
				m["zones/returns/zone.yaml"] = "zone: returns\n"
			},
			want: []want{{"zones/returns/zone.yaml", "zone: returns", "layout-undeclared-zone", lint.Error}},
		},
		{
			name: "a zone defined in another zone's folder",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, financeZone, "zone: finance", "zone: treasury")
				m.replace(t, ecoFile, "  - {name: finance, owner: acme/finance/model@main}\n",
					"  - {name: finance, owner: acme/finance/model@main}\n  - {name: treasury, owner: acme/treasury/model@main}\n")
			},
			want: []want{
				{financeZone, "zone: treasury", "layout-name-mismatch", lint.Error},
				// finance is declared, and now defined nowhere.
				{ecoFile, "name: finance,", "layout-undefined-zone", lint.Info},
			},
		},
		{
			name: "a team the zone does not declare",
			edit: func(t *testing.T, m modelFiles) {
				m["zones/sales/teams/stock/team.yaml"] = "team: stock\n"
			},
			want: []want{{"zones/sales/teams/stock/team.yaml", "team: stock", "layout-undeclared-team", lint.Error}},
		},
		{
			name: "a team defined in another team's folder",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, auditTeam, "team: audit", "team: auditors")
				m.replace(t, financeZone, "teams:\n", "teams:\n  - {name: auditors, owner: acme/finance/auditors@main}\n")
			},
			want: []want{
				{auditTeam, "team: auditors", "layout-name-mismatch", lint.Error},
				{financeZone, "name: audit,", "layout-undefined-team", lint.Info},
			},
		},
		{
			name: "declared but not yet defined is information",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ecoFile, "zones:\n", "zones:\n  - {name: hr, owner: acme/hr/model@main}\n")
				m.replace(t, salesZone, "teams:\n", "teams:\n  - {name: stock, owner: acme/stock-model@main}\n")
			},
			want: []want{
				{ecoFile, "name: hr,", "layout-undefined-zone", lint.Info},
				{salesZone, "name: stock,", "layout-undefined-team", lint.Info},
			},
		},
		{
			name: "files named after what they define",
			edit: func(t *testing.T, m modelFiles) {
				m["zones/sales/teams/shop/datastores/order_book.yaml"] = m[ordersStore]
				delete(m, ordersStore)
				m["zones/sales/teams/shop/workspaces/daily.yaml"] = m[reportsWS]
				delete(m, reportsWS)
			},
			want: []want{
				{"zones/sales/teams/shop/datastores/order_book.yaml", "datastore: orders", "layout-file-name", lint.Warning},
				{"zones/sales/teams/shop/workspaces/daily.yaml", "workspace: reports", "layout-file-name", lint.Warning},
			},
		},
	})
}
