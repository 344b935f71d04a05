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

// A sink on a transformer's output cannot be served by the platform yet: the
// graph says so rather than dropping it silently.
func TestGraphReportsUnservedTransformerOutputs(t *testing.T) {
	m, errs, err := model.LoadDir(context.Background(), "../examples/enterprise")
	require.NoError(t, err)
	require.Empty(t, errs)
	g, err := model.BuildGraph(m)
	require.NoError(t, err)
	var unserved []string
	for _, pg := range g.Platforms {
		unserved = append(unserved, pg.Unserved...)
	}
	require.Len(t, unserved, 1)
	assert.Contains(t, unserved[0], "sink sales_summary.daily_store_sales is the output of transformer daily_sales")
	assert.Contains(t, unserved[0], "workspace campaign_lab")
}
