package lint_test

import (
	"testing"

	"github.com/datasurface/datasurface/model/lint"
)

func TestCaptureCron(t *testing.T) {
	trigger := `trigger: {cron: "0 * * * *"}`
	cases := []struct {
		cron  string
		valid bool
	}{
		{"*/5 * * * *", true},
		{"0 2 * * MON-FRI", true},
		{"@daily", true},
		{"@hourly", true},
		{"0,30 8-18 1-31/2 jan-dec sun", true},
		{"0 0 * * 7", true}, // Sunday, both 0 and 7
		{"61 * * * *", false},
		{"* * *", false},
		{"@sometimes", false},
		{"* 24 * * *", false},
		{"* * 0 * *", false},
		{"* * * 13 *", false},
		{"*/0 * * * *", false},
		{"5-1 * * * *", false},
		{"* * * * MON-XYZ", false},
		{"1,,2 * * * *", false},
		{"* * * * * *", false}, // six fields: seconds are not cron here
	}
	var table []familyCase
	for _, c := range cases {
		fc := familyCase{
			name: c.cron,
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ordersStore, trigger, `trigger: {cron: "`+c.cron+`"}`)
			},
		}
		if !c.valid {
			fc.want = []want{{ordersStore, "trigger:", "capture-cron", lint.Error}}
		}
		table = append(table, fc)
	}
	runFamily(t, table)
}

func TestCapture(t *testing.T) {
	const capture = "capture:\n  kind: sql_snapshot\n  container: shop_db\n  credential: shop_reader\n  trigger: {cron: \"0 * * * *\"}\n"
	setCapture := func(c string) func(t *testing.T, m modelFiles) {
		return func(t *testing.T, m modelFiles) { m.replace(t, ordersStore, capture, c) }
	}
	runFamily(t, []familyCase{
		{name: "clean"},
		{
			name: "external trigger",
			edit: setCapture("capture:\n  kind: sql_snapshot\n  container: shop_db\n  credential: shop_reader\n  trigger: {external: true}\n"),
		},
		{
			name: "a trigger is cron or external, not both",
			edit: setCapture("capture:\n  kind: sql_snapshot\n  container: shop_db\n  credential: shop_reader\n  trigger: {cron: \"@daily\", external: true}\n"),
			want: []want{{ordersStore, "trigger:", "capture-trigger", lint.Error}},
		},
		{
			name: "no trigger is reported at the capture",
			edit: setCapture("capture:\n  kind: sql_snapshot\n  container: shop_db\n  credential: shop_reader\n"),
			want: []want{{ordersStore, "kind: sql_snapshot", "capture-trigger", lint.Error}},
		},
		{
			name: "no capture",
			edit: setCapture(""),
			want: []want{{ordersStore, "datastore: orders", "capture-missing", lint.Error}},
		},
		{
			name: "no credential",
			edit: setCapture("capture:\n  kind: sql_snapshot\n  container: shop_db\n  trigger: {external: true}\n"),
			want: []want{{ordersStore, "kind: sql_snapshot", "ref-credential", lint.Error}},
		},
		{
			name: "watermark on a column every dataset has, of an ordered type",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ordersStore, capture, "capture:\n  kind: sql_watermark\n  watermark_column: changed_at\n  container: shop_db\n  credential: shop_reader\n  trigger: {cron: \"*/15 * * * *\"}\n")
				m.replace(t, ordersStore, "      - {name: email, type: varchar(200), classifications: [cpi]}\n",
					"      - {name: email, type: varchar(200), classifications: [cpi]}\n      - {name: changed_at, type: timestamptz}\n")
				m.replace(t, ordersStore, "      - {name: total, type: \"decimal(10,2)\", classifications: [internal]}\n",
					"      - {name: total, type: \"decimal(10,2)\", classifications: [internal]}\n      - {name: changed_at, type: int64}\n")
			},
		},
		{
			name: "watermark column missing or unordered",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ordersStore, capture, "capture:\n  kind: sql_watermark\n  watermark_column: changed_at\n  container: shop_db\n  credential: shop_reader\n  trigger: {cron: \"*/15 * * * *\"}\n")
				m.replace(t, ordersStore, "      - {name: email, type: varchar(200), classifications: [cpi]}\n",
					"      - {name: email, type: varchar(200), classifications: [cpi]}\n      - {name: changed_at, type: boolean}\n")
			},
			want: []want{
				{ordersStore, "name: orders", "capture-watermark", lint.Error},
				{ordersStore, "name: changed_at", "capture-watermark", lint.Error},
			},
		},
		{
			name: "sql_watermark without watermark_column",
			edit: setCapture("capture:\n  kind: sql_watermark\n  container: shop_db\n  credential: shop_reader\n  trigger: {cron: \"*/15 * * * *\"}\n"),
			want: []want{{ordersStore, "kind: sql_watermark", "capture-watermark", lint.Error}},
		},
		{
			name: "watermark_column on a snapshot is a warning",
			edit: setCapture("capture:\n  kind: sql_snapshot\n  watermark_column: id\n  container: shop_db\n  credential: shop_reader\n  trigger: {external: true}\n"),
			want: []want{{ordersStore, "kind: sql_snapshot", "capture-watermark", lint.Warning}},
		},
		{
			name: "multi_dataset with snapshot and cdc, not with watermark",
			edit: func(t *testing.T, m modelFiles) {
				m.replace(t, ordersStore, capture, "capture:\n  kind: sql_watermark\n  consistency: multi_dataset\n  watermark_column: id\n  container: shop_db\n  credential: shop_reader\n  trigger: {cron: \"*/15 * * * *\"}\n")
				m["zones/sales/teams/shop/datastores/stock.yaml"] = "datastore: stock\ncapture: {kind: sql_snapshot, consistency: multi_dataset, container: shop_db, credential: shop_reader, trigger: {cron: \"@hourly\"}}\ndatasets:\n  - {name: stock, primary_key: [sku], columns: [{name: sku, type: text}]}\n"
				m["zones/sales/teams/shop/datastores/events.yaml"] = "datastore: events\ncapture: {kind: debezium_cdc, consistency: multi_dataset, container: shop_db, credential: shop_reader, trigger: {cron: \"@hourly\"}}\ndatasets:\n  - {name: events, primary_key: [id], columns: [{name: id, type: int64}]}\n"
			},
			want: []want{{ordersStore, "kind: sql_watermark", "capture-consistency", lint.Error}},
		},
		{
			name: "a transformer's output is not captured",
			edit: func(t *testing.T, m modelFiles) {
				m[reportsWS] += `transformers:
  - name: totals
    platform: lakehouse
    image: "registry.example.com/totals:1.0"
    command: [totals]
    trigger: {cron: "0 3 * * *"}
    output:
      datastore: order_totals
      capture: {kind: sql_snapshot, container: shop_db, credential: shop_reader, trigger: {external: true}}
      datasets:
        - {name: daily, primary_key: [day], columns: [{name: day, type: date}]}
`
				consumeOutputs(t, m, "order_totals.daily")
			},
			want: []want{{reportsWS, "capture:", "capture-on-output", lint.Error}},
		},
		{
			// Without a trigger a transformer runs when a table it reads
			// changes (its DAG is scheduled on their assets); a trigger it
			// has is checked like a capture's.
			name: "a transformer's trigger is checked like a capture's, and it may have none",
			edit: func(t *testing.T, m modelFiles) {
				m[reportsWS] += `transformers:
  - name: totals
    platform: lakehouse
    image: "registry.example.com/totals:1.0"
    command: [totals]
    trigger: {cron: "0 3 * *"}
    output:
      datastore: order_totals
      datasets:
        - {name: daily, columns: [{name: day, type: date}]}
  - name: cron_and_external
    platform: lakehouse
    image: "registry.example.com/totals:1.0"
    command: [totals]
    trigger: {cron: "@daily", external: true}
    output:
      datastore: order_sums
      datasets:
        - {name: daily, columns: [{name: day, type: date}]}
  - name: untriggered
    platform: lakehouse
    image: "registry.example.com/totals:1.0"
    command: [totals]
    output:
      datastore: order_counts
      datasets:
        - {name: daily, columns: [{name: day, type: date}]}
`
				consumeOutputs(t, m, "order_totals.daily", "order_sums.daily", "order_counts.daily")
			},
			want: []want{
				{reportsWS, `trigger: {cron: "0 3 * *"}`, "capture-cron", lint.Error},
				{reportsWS, `trigger: {cron: "@daily", external: true}`, "capture-trigger", lint.Error},
			},
		},
	})
}
