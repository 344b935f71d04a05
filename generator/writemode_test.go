package generator_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/generator"
	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/model"
)

// TestPlanWriteModeChange: choosing a write mode is a deployment change, not
// a schema change. The plan shows the job specs whose tables change mode
// (and nothing else), the compatibility check finds no dataset evolution to
// refuse, the region changed is the one whose file says it, and the scoped
// plan a merge-request check renders equals the full one.
func TestPlanWriteModeChange(t *testing.T) {
	t.Parallel()
	const (
		campaigns = "zones/retail/teams/marketing/workspaces/campaigns.yaml"
		audit     = "zones/retail/teams/finance/workspaces/credit_audit.yaml"
	)
	for _, tc := range []struct {
		name   string
		edit   func(r *modelRepo)
		region string
		// The job specs that change and the tables in them that become
		// copy_on_write.
		want map[string][]string
	}{
		{"a live group asks copy_on_write", func(r *modelRepo) {
			r.edit(campaigns, "requirements: {history: live_only, latency: minutes}", "requirements: {history: live_only, latency: minutes, write_mode: copy_on_write}")
		}, "team retail/marketing", map[string][]string{
			lake + "jobs/customer_db.json":              {"customers", "addresses"},
			lake + "jobs/product_catalog_products.json": {"products"},
		}},
		{"a forensic group asks copy_on_write for the history table", func(r *modelRepo) {
			r.edit(audit, "requirements: {history: forensic, latency: hours}", "requirements: {history: forensic, latency: hours, write_mode: copy_on_write}")
		}, "team retail/finance", map[string][]string{
			lake + "jobs/customer_db.json": {"customers_history"},
		}},
		{"the platform says copy_on_write", func(r *modelRepo) {
			r.edit("ecosystem.yaml", "        warehouse: {container: minio, bucket: warehouse, prefix: iceberg, credential: minio_keys}\n",
				"        warehouse: {container: minio, bucket: warehouse, prefix: iceberg, credential: minio_keys}\n        write_mode: copy_on_write\n")
		}, "ecosystem", map[string][]string{
			lake + "jobs/customer_db.json":              {"customers", "customers_history", "addresses"},
			lake + "jobs/product_catalog_products.json": {"products"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newModelRepo(t, "customer-cdc")
			tc.edit(r)
			r.commit(tc.name)
			base, head := r.load("HEAD~1"), r.load("HEAD")

			assert.Empty(t, model.Compatibility(base, head), "a write mode is not a schema change")
			regions := model.Changes(base, head)
			require.Len(t, regions, 1)
			assert.Equal(t, tc.region, regions[0].Region.String())

			res, err := generator.Plan(base, head, generator.Options{Version: "test"})
			require.NoError(t, err)
			assert.Empty(t, res.Evolutions)
			assert.Zero(t, res.Summary.Refused)
			want := map[string]string{}
			for p := range tc.want {
				want[p] = generator.ArtifactChanged
			}
			assert.Equal(t, want, changes(res), "only the job specs change")
			for _, a := range res.Artifacts {
				assert.Equal(t, len(tc.want[a.Path]), a.LinesAdded, "%s: one write_mode line per table:\n%s", a.Path, a.Diff)
				assert.Equal(t, a.LinesAdded, strings.Count(a.Diff, "\n+      \"write_mode\": \"copy_on_write\""), a.Diff)
				assert.Equal(t, a.LinesRemoved, strings.Count(a.Diff, "\n-      \"write_mode\": \"merge_on_read\""), a.Diff)
			}
			assert.Contains(t, res.Markdown(), "jobs/customer_db.json")

			// The rendered tables' modes.
			tree, err := generator.Generate(context.Background(), head, generator.Options{Version: "test"})
			require.NoError(t, err)
			for p, tables := range tc.want {
				spec, err := jobspec.Parse(tree.Files[p])
				require.NoError(t, err, p)
				var cow []string
				for _, tb := range spec.Tables {
					if tb.WriteMode == model.WriteCopyOnWrite {
						cow = append(cow, tb.Name)
					} else {
						assert.Equal(t, model.WriteMergeOnRead, tb.WriteMode, "%s: %s", p, tb.Name)
					}
				}
				assert.ElementsMatch(t, tables, cow, p)
			}

			// What a merge-request check renders: only the change's scope.
			pb, ph, berrs, herrs, err := model.LoadPair(context.Background(),
				&model.GitSource{Repo: r.dir, Rev: "HEAD~1"}, &model.GitSource{Repo: r.dir, Rev: "HEAD"})
			require.NoError(t, err)
			require.Empty(t, berrs)
			require.Empty(t, herrs)
			scoped, err := generator.Plan(pb, ph, generator.Options{Version: "test", Scope: generator.ChangeScope(pb, ph)})
			require.NoError(t, err)
			assert.Equal(t, changes(res), changes(scoped))
		})
	}
}
