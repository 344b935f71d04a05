package model_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/model"
)

func TestGraphCustomerCDC(t *testing.T) {
	m, errs, err := model.LoadDir(context.Background(), "../examples/customer-cdc")
	require.NoError(t, err)
	require.Empty(t, errs)
	g, err := model.BuildGraph(m)
	require.NoError(t, err)
	require.Len(t, g.Platforms, 1)
	pg := g.Platforms[0]
	assert.Equal(t, "lakehouse", pg.Platform.Name)

	type table struct {
		dataset        string
		live, forensic bool
	}
	got := map[string][]table{}
	for _, s := range pg.Streams {
		for _, st := range s.Tables {
			got[s.Name] = append(got[s.Name], table{st.Dataset.Name, st.Live, st.Forensic})
		}
	}
	// customer_db is multi-dataset: one stream; customers is sunk live by
	// campaigns and forensic by credit_audit, so it keeps both tables.
	assert.Equal(t, map[string][]table{
		"customer_db":              {{"customers", true, true}, {"addresses", true, false}},
		"product_catalog_products": {{"products", true, false}},
	}, got)
	cust := pg.Streams[0]
	assert.Equal(t, 3, cust.Priority) // high, from campaigns
	assert.Equal(t, model.Latency(model.LatencyMinutes), cust.Latency)
	assert.Equal(t, []string{"campaigns", "credit_audit"}, cust.Workspaces)

	views := map[string][]string{}
	for _, wv := range pg.Workspaces {
		for _, v := range wv.Views {
			name := v.Sink.String()
			if v.History {
				name += " (history)"
			}
			views[wv.Workspace.Name] = append(views[wv.Workspace.Name], name)
		}
	}
	assert.Equal(t, map[string][]string{
		"campaigns":    {"customer_db.customers", "customer_db.addresses", "product_catalog.products"},
		"credit_audit": {"customer_db.customers (history)"},
	}, views)
}

func TestGraphIngestsOnlyWhatIsNeeded(t *testing.T) {
	m, errs, err := model.LoadDir(context.Background(), "../examples/customer-cdc")
	require.NoError(t, err)
	require.Empty(t, errs)
	// Drop marketing's workspace: addresses and products are no longer sunk.
	for _, tm := range m.Zones[0].Defs {
		if tm.Name == "marketing" {
			tm.Workspaces = nil
		}
	}
	g, err := model.BuildGraph(m)
	require.NoError(t, err)
	require.Len(t, g.Platforms[0].Streams, 1)
	s := g.Platforms[0].Streams[0]
	require.Len(t, s.Tables, 1)
	assert.Equal(t, "customers", s.Tables[0].Dataset.Name)
	assert.False(t, s.Tables[0].Live)
	assert.True(t, s.Tables[0].Forensic)
}

// A transformer's output is a stream of the transformer's platform when a
// group there sinks it; its inputs are its workspace's sinks on that platform.
func TestGraphRunsTransformersWithConsumers(t *testing.T) {
	m, errs, err := model.LoadDir(context.Background(), "../examples/enterprise")
	require.NoError(t, err)
	require.Empty(t, errs)
	g, err := model.BuildGraph(m)
	require.NoError(t, err)
	runs := map[string]*model.TransformerRun{}
	for _, pg := range g.Platforms {
		for _, r := range pg.Transformers {
			runs[pg.Platform.Name+"/"+r.Name()] = r
		}
	}
	require.Len(t, runs, 2)
	mask := runs["lakehouse/customer_masking.mask_customers"]
	require.NotNil(t, mask)
	assert.Equal(t, "masked_customers", mask.Output.Name)
	require.Len(t, mask.Output.Tables, 1)
	assert.True(t, mask.Output.Tables[0].Forensic, "audience_research sinks it forensic")
	assert.False(t, mask.Output.Tables[0].Live)
	assert.Equal(t, []string{"audience_research"}, mask.Output.Workspaces)
	require.Len(t, mask.Inputs, 1)
	assert.Equal(t, "customer_db.customers", mask.Inputs[0].Sink.String())
	assert.Equal(t, "customers", mask.Inputs[0].Table())
	daily := runs["analytics_lake/sales_analytics.daily_sales"]
	require.NotNil(t, daily)
	var tables []string
	for _, in := range daily.Inputs {
		tables = append(tables, in.Datastore.Name+"."+in.Table())
	}
	// The fx group is on the lakehouse: not an input of a transformer on analytics_lake.
	assert.Equal(t, []string{"order_db.orders_history", "order_db.order_lines_history", "product_catalog.products"}, tables)

	// Without a consumer the platform does not run it.
	for _, z := range m.Zones {
		for _, tm := range z.Defs {
			for _, w := range tm.Workspaces {
				if w.Name == "audience_research" {
					w.Groups = nil
				}
			}
		}
	}
	g, err = model.BuildGraph(m)
	require.NoError(t, err)
	for _, pg := range g.Platforms {
		for _, r := range pg.Transformers {
			assert.NotEqual(t, "customer_masking.mask_customers", r.Name())
		}
		for _, s := range pg.Streams {
			assert.NotEqual(t, "masked_customers", s.Name)
		}
	}
}

// TestGraphWriteMode holds the write-mode rule: a table is copy_on_write when
// its platform says so or any group reading it on that platform asks for it;
// a group asking merge_on_read downgrades nothing, and a group's request
// reaches only the table it reads (live or history) on its own platform.
func TestGraphWriteMode(t *testing.T) {
	group := func(m *model.Model, workspace, name string) *model.DatasetGroup {
		for _, z := range m.Zones {
			for _, tm := range z.Defs {
				for _, w := range tm.Workspaces {
					for i := range w.Groups {
						if w.Name == workspace && w.Groups[i].Name == name {
							return &w.Groups[i]
						}
					}
				}
			}
		}
		t.Fatalf("no group %s/%s", workspace, name)
		return nil
	}
	platform := func(m *model.Model, name string) *model.Platform {
		for i := range m.Ecosystem.Platforms {
			if m.Ecosystem.Platforms[i].Name == name {
				return &m.Ecosystem.Platforms[i]
			}
		}
		t.Fatalf("no platform %s", name)
		return nil
	}
	ask := func(workspace, name string, mode model.WriteMode) func(*model.Model) {
		return func(m *model.Model) { group(m, workspace, name).Requirements.WriteMode = mode }
	}
	// A second live group reading customers, in credit_audit, asking mode.
	secondLive := func(mode model.WriteMode) func(*model.Model) {
		return func(m *model.Model) {
			g := *group(m, "credit_audit", "customer_history")
			g.Name = "customers_now"
			g.Requirements = model.Requirements{History: model.HistoryLiveOnly, WriteMode: mode}
			for _, z := range m.Zones {
				for _, tm := range z.Defs {
					for _, w := range tm.Workspaces {
						if w.Name == "credit_audit" {
							w.Groups = append(w.Groups, g)
						}
					}
				}
			}
		}
	}
	cow := model.WriteMode(model.WriteCopyOnWrite)
	mor := model.WriteMode(model.WriteMergeOnRead)
	for _, tc := range []struct {
		name    string
		example string
		edits   []func(*model.Model)
		// The copy_on_write tables, as platform/datastore.table; every other
		// table must be merge_on_read.
		want []string
	}{
		{name: "platform default", example: "customer-cdc"},
		{name: "platform copy_on_write: live and history tables", example: "customer-cdc",
			edits: []func(*model.Model){func(m *model.Model) { platform(m, "lakehouse").AirflowIceberg.Iceberg.WriteMode = cow }},
			want:  []string{"lakehouse/customer_db.customers", "lakehouse/customer_db.customers_history", "lakehouse/customer_db.addresses", "lakehouse/product_catalog.products"}},
		{name: "a group asks copy_on_write for what it reads", example: "customer-cdc",
			edits: []func(*model.Model){ask("campaigns", "live_customers", cow)},
			want:  []string{"lakehouse/customer_db.customers", "lakehouse/customer_db.addresses", "lakehouse/product_catalog.products"}},
		{name: "a group asking merge_on_read changes nothing", example: "customer-cdc",
			edits: []func(*model.Model){ask("campaigns", "live_customers", mor)}},
		{name: "two groups disagree: copy_on_write wins", example: "customer-cdc",
			edits: []func(*model.Model){ask("campaigns", "live_customers", cow), secondLive(mor)},
			want:  []string{"lakehouse/customer_db.customers", "lakehouse/customer_db.addresses", "lakehouse/product_catalog.products"}},
		{name: "two groups disagree the other way round", example: "customer-cdc",
			edits: []func(*model.Model){ask("campaigns", "live_customers", mor), secondLive(cow)},
			want:  []string{"lakehouse/customer_db.customers"}},
		{name: "merge_on_read does not downgrade a copy_on_write platform", example: "customer-cdc",
			edits: []func(*model.Model){
				func(m *model.Model) { platform(m, "lakehouse").AirflowIceberg.Iceberg.WriteMode = cow },
				ask("campaigns", "live_customers", mor), ask("credit_audit", "customer_history", mor),
			},
			want: []string{"lakehouse/customer_db.customers", "lakehouse/customer_db.customers_history", "lakehouse/customer_db.addresses", "lakehouse/product_catalog.products"}},
		{name: "history table: a forensic group asks copy_on_write", example: "customer-cdc",
			edits: []func(*model.Model){ask("credit_audit", "customer_history", cow)},
			want:  []string{"lakehouse/customer_db.customers_history"}},
		{name: "another platform's group asks only for its platform's tables", example: "enterprise",
			edits: []func(*model.Model){ask("sales_analytics", "order_history", cow)},
			// credit_risk reads order_db.orders_history on lakehouse: untouched.
			// The ledger tables are the example's own: credit_risk's
			// exposures group asks copy_on_write.
			want: []string{"analytics_lake/order_db.orders_history", "analytics_lake/order_db.order_lines_history",
				"lakehouse/ledger_db.accounts", "lakehouse/ledger_db.card_settlements"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, errs, err := model.LoadDir(context.Background(), "../examples/"+tc.example)
			require.NoError(t, err)
			require.Empty(t, errs)
			for _, e := range tc.edits {
				e(m)
			}
			g, err := model.BuildGraph(m)
			require.NoError(t, err)
			var got []string
			tables := 0
			for _, pg := range g.Platforms {
				for _, s := range pg.Streams {
					for _, st := range s.Tables {
						for _, tb := range []struct {
							kept bool
							name string
							mode model.WriteMode
						}{
							{st.Live, model.LiveTable(st.Dataset.Name), st.LiveWriteMode},
							{st.Forensic, model.HistoryTable(st.Dataset.Name), st.HistoryWriteMode},
						} {
							if !tb.kept {
								continue
							}
							tables++
							id := pg.Platform.Name + "/" + s.Datastore.Name + "." + tb.name
							switch tb.mode {
							case cow:
								got = append(got, id)
							case mor:
							default:
								t.Errorf("%s: write mode %q", id, tb.mode)
							}
						}
					}
				}
			}
			require.NotZero(t, tables)
			assert.ElementsMatch(t, tc.want, got)
		})
	}
}
