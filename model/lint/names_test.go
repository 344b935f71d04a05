package lint_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/datasurface/datasurface/model/lint"
)

func TestNames(t *testing.T) {
	name63 := "c" + strings.Repeat("x", 62)
	name64 := "c" + strings.Repeat("x", 63)
	column := func(line string) func(t *testing.T, m modelFiles) {
		return func(t *testing.T, m modelFiles) {
			const total = `      - {name: total, type: "decimal(10,2)", classifications: [internal]}`
			m.replace(t, ordersStore, total, total+"\n"+line)
		}
	}
	runFamily(t, []familyCase{
		{name: "clean"},
		{
			name: "63 characters is the limit",
			edit: column("      - {name: " + name63 + ", type: text}"),
		},
		{
			name: "64 characters is too long",
			edit: column("      - {name: " + name64 + ", type: text}"),
			want: []want{{ordersStore, name64, "name-too-long", lint.Error}},
		},
		{
			name: "a reserved word, in any case",
			edit: column("      - {name: select, type: text}\n      - {name: Where, type: text}\n      - {name: selection, type: text}"),
			want: []want{
				{ordersStore, "name: select,", "name-reserved", lint.Error},
				{ordersStore, "name: Where,", "name-reserved", lint.Error},
			},
		},
		{
			name: "a schema the engines keep for themselves",
			edit: column("      - {name: Information_Schema, type: text}"),
			want: []want{{ordersStore, "name: Information_Schema", "name-reserved", lint.Error}},
		},
		{
			name: "not an identifier",
			edit: column("      - {name: unit-price, type: text}\n      - {name: 9lives, type: text}\n      - {name: _x, type: text}"),
			want: []want{
				{ordersStore, "unit-price", "name-invalid", lint.Error},
				{ordersStore, "9lives", "name-invalid", lint.Error},
				{ordersStore, "_x", "name-invalid", lint.Error},
			},
		},
		{
			name: "column names are unique without regard to case",
			edit: column("      - {name: Email, type: text}\n      - {name: EMAIL, type: text}\n      - {name: ID, type: int64}"),
			want: []want{
				{ordersStore, "name: EMAIL", "name-duplicate", lint.Error},
				{ordersStore, "name: ID", "name-duplicate", lint.Error},
			},
		},
		{
			name: "struct fields are unique within their struct only",
			edit: column("      - name: ship_to\n        type: struct\n        fields:\n          - {name: city, type: text}\n          - {name: City, type: text}\n      - name: bill_to\n        type: struct\n        fields:\n          - {name: city, type: text}"),
			want: []want{{ordersStore, "name: City", "name-duplicate", lint.Error}},
		},
		{
			name: "datastores are unique across teams",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, salesZone, "teams:\n", "teams:\n  - {name: stock, owner: acme/stock-model@main}\n")
				m["zones/sales/teams/stock/team.yaml"] = "team: stock\ncontainers:\n  - {name: stock_db, location: onprem/dc1, postgres: {host: s, database: s}}\ncredentials:\n  - {name: stock_reader, kind: user_password}\n"
				m["zones/sales/teams/stock/datastores/orders.yaml"] = "datastore: orders\ncapture: {kind: sql_snapshot, container: stock_db, credential: stock_reader, trigger: {external: true}}\ndatasets:\n  - {name: supplier_orders, primary_key: [id], columns: [{name: id, type: int64}]}\n"
			},
			// Teams are read in folder order: shop's store comes first, stock's is the duplicate.
			want: []want{{"zones/sales/teams/stock/datastores/orders.yaml", "datastore: orders", "name-duplicate", lint.Error}},
		},
	})
}

func TestIdentifierAndReservedHelpers(t *testing.T) {
	for _, s := range []string{"a", "orders", "order_lines", "A1_b2"} {
		assert.True(t, lint.IsIdentifier(s), s)
	}
	for _, s := range []string{"", "1a", "_a", "a-b", "a b", "café"} {
		assert.False(t, lint.IsIdentifier(s), s)
	}
	for _, s := range []string{"select", "SELECT", "Order", "user", "window"} {
		assert.True(t, lint.IsReserved(s), s)
	}
	for _, s := range []string{"selected", "orders", "users", "value"} {
		assert.False(t, lint.IsReserved(s), s)
	}
}
