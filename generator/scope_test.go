package generator_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/generator"
	"github.com/datasurface/datasurface/model"
)

// TestScopedPlanEqualsFullPlan makes changes of every kind to the
// enterprise example and checks that a plan rendering only ChangeScope
// finds exactly the artifact changes of a plan rendering everything, with
// the base read by LoadPair (sharing the head's unchanged zones).
func TestScopedPlanEqualsFullPlan(t *testing.T) {
	const (
		orders   = "zones/retail/teams/orders/datastores/order_db.yaml"
		risk     = "zones/finance/teams/risk/workspaces/credit_risk.yaml"
		crmTeam  = "zones/retail/teams/crm/team.yaml"
		retail   = "zones/retail/zone.yaml"
		eco      = "ecosystem.yaml"
		analysis = "zones/retail/teams/analytics/workspaces/sales_analytics.yaml"
	)
	for _, tc := range []struct {
		name string
		edit func(r *modelRepo)
		all  bool // ChangeScope must say: everything
	}{
		{"datastore documentation", func(r *modelRepo) { r.edit(orders, "documentation: ", "documentation: Changed. ") }, false},
		{"added column", func(r *modelRepo) {
			r.edit(orders, "columns:\n", "columns:\n      - {name: note_x, type: text, classifications: [internal]}\n")
		}, false},
		{"workspace priority", func(r *modelRepo) { r.edit(risk, "priority: critical", "priority: low") }, false},
		{"sink removed", func(r *modelRepo) { r.edit(risk, "      - order_db.orders\n", "") }, false},
		{"group write mode", func(r *modelRepo) {
			r.edit(risk, "requirements: {history: forensic, latency: minutes}", "requirements: {history: forensic, latency: minutes, write_mode: copy_on_write}")
		}, false},
		{"workspace documentation", func(r *modelRepo) { r.edit(analysis, "documentation: ", "documentation: Changed. ") }, false},
		{"team.yaml", func(r *modelRepo) { r.edit(crmTeam, "documentation: ", "documentation: Changed. ") }, false},
		{"zone.yaml", func(r *modelRepo) { r.edit(retail, "documentation: ", "documentation: Changed. ") }, false},
		{"ecosystem.yaml", func(r *modelRepo) {
			r.edit(eco, "  Meridian's data ecosystem:", "  Changed. Meridian's data ecosystem:")
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newModelRepo(t, "enterprise")
			tc.edit(r)
			r.commit(tc.name)
			base, head, berrs, herrs, err := model.LoadPair(context.Background(),
				&model.GitSource{Repo: r.dir, Rev: "HEAD~1"}, &model.GitSource{Repo: r.dir, Rev: "HEAD"})
			require.NoError(t, err)
			require.Empty(t, berrs)
			require.Empty(t, herrs)
			scope := generator.ChangeScope(base, head)
			assert.Equal(t, tc.all, scope == nil)
			full, err := generator.Plan(r.load("HEAD~1"), r.load("HEAD"), generator.Options{Version: "test"})
			require.NoError(t, err)
			scoped, err := generator.Plan(base, head, generator.Options{Version: "test", Scope: scope})
			require.NoError(t, err)
			assert.Equal(t, changes(full), changes(scoped))
			assert.Equal(t, full.Evolutions, scoped.Evolutions)
			if scope != nil && len(full.Artifacts) > 0 {
				assert.Less(t, scoped.Summary.Unchanged, full.Summary.Unchanged, "the scoped plan renders less")
			}
		})
	}
}
