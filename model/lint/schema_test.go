package lint_test

import (
	"testing"

	"github.com/datasurface/datasurface/model/lint"
)

func TestSchema(t *testing.T) {
	const total = `      - {name: total, type: "decimal(10,2)", classifications: [internal]}`
	// addColumns appends columns to the orders dataset.
	addColumns := func(cols string) func(t *testing.T, m modelFiles) {
		return func(t *testing.T, m modelFiles) { m.replace(t, ordersStore, total, total+"\n"+cols) }
	}
	runFamily(t, []familyCase{
		{name: "clean"},
		{
			name: "nested types with their parts",
			edit: addColumns(`      - name: address
        type: struct
        fields:
          - {name: city, type: varchar(100), nullable: false}
          - {name: geo, type: struct, fields: [{name: lat, type: float64}, {name: lon, type: float64}]}
      - {name: tags, type: list, element: {type: varchar(20), nullable: false}}
      - {name: attributes, type: map, key: {type: text}, value: {type: list, element: {type: int32}}}
      - {name: price, type: "decimal(38,38)"}`),
		},
		{
			name: "nested types without their parts, or with another's",
			edit: addColumns(`      - {name: address, type: struct}
      - {name: tags, type: list, key: {type: text}}
      - {name: attributes, type: map, key: {type: text, nullable: true}, value: {type: "decimal(39,0)"}}
      - {name: note, type: text, fields: [{name: x, type: text}]}`),
			want: []want{
				{ordersStore, "name: address", "schema-type", lint.Error},
				// A list needs element; key is only for maps.
				{ordersStore, "name: tags", "schema-type", lint.Error},
				{ordersStore, "name: tags", "schema-type", lint.Error},
				// Map keys are never null; the value's precision is out of range.
				{ordersStore, "name: attributes", "schema-type", lint.Error},
				{ordersStore, "name: attributes", "schema-type", lint.Error},
				{ordersStore, "name: note", "schema-type", lint.Error},
			},
		},
		{
			name: "a map key must be a scalar",
			edit: addColumns(`      - {name: lookup, type: map, key: {type: list, element: {type: int32}}, value: {type: text}}`),
			want: []want{{ordersStore, "name: lookup", "schema-type", lint.Error}},
		},
		{
			name: "type parameters in range",
			edit: addColumns(`      - {name: a, type: "decimal(0,0)"}
      - {name: b, type: "decimal(10,11)"}
      - {name: c, type: varchar(0)}`),
			want: []want{
				{ordersStore, "name: a,", "schema-type", lint.Error},
				{ordersStore, "name: b,", "schema-type", lint.Error},
				{ordersStore, "name: c,", "schema-type", lint.Error},
			},
		},
		{
			name: "a primary key column cannot be nullable",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ordersStore, "      - {name: id, type: int64}\n      - {name: total", "      - {name: id, type: int64, nullable: true}\n      - {name: total")
			},
			want: []want{{ordersStore, "nullable: true", "schema-key-nullable", lint.Error}},
		},
		{
			name: "primary key columns exist, once, and compare exactly",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ordersStore, "    primary_key: [id]\n    columns:\n      - {name: id, type: int64}\n      - {name: total",
					"    primary_key: [id, id, ref, score]\n    columns:\n      - {name: id, type: int64}\n      - {name: score, type: float64}\n      - {name: total")
			},
			want: []want{
				{ordersStore, "primary_key: [id, id, ref, score]", "schema-key-duplicate", lint.Error},
				{ordersStore, "primary_key: [id, id, ref, score]", "schema-key-missing", lint.Error},
				{ordersStore, "primary_key: [id, id, ref, score]", "schema-key-type", lint.Error},
			},
		},
		{
			name: "keyed capture needs a primary key",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ordersStore, "kind: sql_snapshot", "kind: debezium_cdc")
				m.replace(t, ordersStore, "  - name: customers\n    primary_key: [id]\n", "  - name: customers\n")
			},
			want: []want{{ordersStore, "name: customers", "schema-key-required", lint.Error}},
		},
		{
			name: "partition columns exist, once, and can partition",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ordersStore, "  - name: orders\n", "  - name: orders\n    partition_by: [total, total, day, id]\n")
				m.replace(t, ordersStore, total, `      - {name: total, type: float64, classifications: [internal]}`)
			},
			want: []want{
				{ordersStore, "partition_by:", "schema-partition-type", lint.Error},
				{ordersStore, "partition_by:", "schema-partition-duplicate", lint.Error},
				{ordersStore, "partition_by:", "schema-partition-missing", lint.Error},
			},
		},
		{
			name: "classified as a whole or by column, not both",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ordersStore, "  - name: customers\n", "  - name: customers\n    classifications: [cpi]\n")
			},
			want: []want{{ordersStore, "name: email", "schema-classification-both", lint.Error}},
		},
		{
			name: "classified as a whole, and a field inside a list too",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ordersStore, "  - name: customers\n    primary_key: [id]\n    columns:\n      - {name: id, type: int64}\n      - {name: email, type: varchar(200), classifications: [cpi]}\n",
					"  - name: customers\n    classifications: [cpi]\n    primary_key: [id]\n    columns:\n      - {name: id, type: int64}\n      - name: emails\n        type: list\n        element: {type: struct, fields: [{name: address, type: text, classifications: [cpi]}]}\n")
			},
			want: []want{{ordersStore, "name: address", "schema-classification-both", lint.Error}},
		},
		{
			name: "datasets need columns, stores need datasets",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ordersStore, "  - name: customers\n    primary_key: [id]\n    columns:\n      - {name: id, type: int64}\n      - {name: email, type: varchar(200), classifications: [cpi]}\n",
					"  - name: customers\n")
				m.replace(t, reportsWS, ", orders.customers", "")
				m["zones/sales/teams/shop/datastores/returns.yaml"] = "datastore: returns\ncapture: {kind: sql_snapshot, container: shop_db, credential: shop_reader, trigger: {external: true}}\n"
			},
			want: []want{
				{ordersStore, "name: customers", "schema-no-columns", lint.Error},
				{"zones/sales/teams/shop/datastores/returns.yaml", "datastore: returns", "schema-no-datasets", lint.Warning},
			},
		},
	})
}
