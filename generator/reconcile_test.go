package generator_test

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/model"
)

// wantReconcile is a reconcile task a stream's DAG must have, read from the
// model: a sink of a group on the platform, migrating off a legacy platform
// with a status that reconciles (shadow or verified).
type wantReconcile struct {
	table, legacy, uri, credential string
	tolerances                     []string // the flags the migration's tolerances ask for
}

func wantReconciles(t *testing.T, m *model.Model, p *model.Platform, s *model.Stream) []wantReconcile {
	t.Helper()
	live := map[string]bool{}
	for _, st := range s.Tables {
		live[st.Dataset.Name] = st.Live
	}
	var out []wantReconcile
	for _, z := range m.Zones {
		for _, tm := range z.Defs {
			for _, w := range tm.Workspaces {
				for _, g := range w.Groups {
					mg := g.Migration
					if g.Platform.Name != p.Name || mg == nil || mg.Status == model.MigrationSwitched {
						continue
					}
					for _, sk := range g.Sinks {
						if sk.Datastore != s.Datastore.Name || !live[sk.Dataset] {
							continue
						}
						lt, ok := mg.LegacyTable(sk.String())
						require.True(t, ok, "%s has no legacy table", sk)
						var pg *model.PostgresContainer
						for _, c := range append(append([]model.Container(nil), tm.Containers...), m.Ecosystem.Containers...) {
							if c.Name == mg.LegacyContainer.Name && pg == nil {
								pg = c.Postgres
							}
						}
						require.NotNil(t, pg, "legacy container %s", mg.LegacyContainer.Name)
						cred, ok, _ := m.TeamCredential(tm, mg.LegacyCredential.Name)
						require.True(t, ok, "legacy credential %s", mg.LegacyCredential.Name)
						out = append(out, wantReconcile{
							table: sk.Dataset, legacy: lt.Schema + "." + lt.Table,
							uri:        "postgresql://" + net.JoinHostPort(pg.Host.Value, strconv.Itoa(pg.EffectivePort())) + "/" + pg.Database.Value,
							credential: cred.RuntimeName(),
							tolerances: toleranceFlags(mg.Tolerances),
						})
					}
				}
			}
		}
	}
	return out
}

// toleranceFlags are merge-runner reconcile's flags (merge-runner/reconcile.go)
// for a migration's tolerances, the defaults left out.
func toleranceFlags(t model.MigrationTolerances) []string {
	var out []string
	if t.TimestampPrecision != "" {
		out = append(out, "--timestamp-precision", string(t.TimestampPrecision))
	}
	if t.FloatEpsilon != 0 {
		out = append(out, "--float-epsilon", strconv.FormatFloat(t.FloatEpsilon, 'g', -1, 64))
	}
	if t.TrimText {
		out = append(out, "--trim-text")
	}
	return out
}

// splitReconcile takes a stream DAG's reconcile tasks and the edges to them
// out of its description, leaving the capture and merge tasks.
func splitReconcile(d dagDesc) (dagDesc, []taskDesc, [][2]string) {
	var core, recs []taskDesc
	for _, task := range d.Tasks {
		if strings.HasPrefix(task.TaskID, "reconcile") {
			recs = append(recs, task)
		} else {
			core = append(core, task)
		}
	}
	var edges, recEdges [][2]string
	for _, e := range d.Edges {
		if strings.HasPrefix(e[1], "reconcile") || strings.HasPrefix(e[0], "reconcile") {
			recEdges = append(recEdges, e)
		} else {
			edges = append(edges, e)
		}
	}
	d.Tasks, d.Edges = core, edges
	return d, recs, recEdges
}

// assertReconciles checks a stream DAG's reconcile tasks against the model:
// one per migrating sink, each running merge-runner reconcile with exactly
// the flags --job, --table (the live table) and --legacy-table, after the
// merge, with the legacy database's URI and the legacy credential by
// reference; none for a switched migration.
func assertReconciles(t *testing.T, m *model.Model, p *model.Platform, s *model.Stream, operator string, doc *string, recs []taskDesc, edges [][2]string, covered map[string]bool) {
	t.Helper()
	want := wantReconciles(t, m, p, s)
	require.Len(t, recs, len(want), "reconcile tasks of %s", s.Name)
	var wantEdges [][2]string
	for i, w := range want {
		task := recs[i]
		id := "reconcile"
		if len(s.Tables) > 1 {
			id += "_" + w.table
		}
		assert.Equal(t, id, task.TaskID)
		assert.Equal(t, append([]string{"merge-runner", "reconcile", "--job", "env:DATASURFACE_JOB_SPEC", "--table", w.table, "--legacy-table", w.legacy}, w.tolerances...), task.Command)
		if len(w.tolerances) > 0 {
			covered["reconcile-tolerances"] = true
		}
		if assert.NotNil(t, task.JobSpec) {
			assert.Equal(t, "jobs/"+s.Name+".json", *task.JobSpec, "reconcile reads the stream's job spec")
		}
		assert.Equal(t, w.uri, task.Env["DATASURFACE_LEGACY_URI"])
		assert.Contains(t, task.EnvKeys, "DATASURFACE_CATALOG_URI", "reconcile reads the Iceberg table through the catalog")
		assert.Empty(t, task.Outlets, "reconcile changes no table")
		if assert.NotNil(t, task.FinalExit, "a difference fails the task without retries") {
			assert.Equal(t, jobspec.ReconcileDiffersExitCode, *task.FinalExit)
		}
		var legacy []string
		for _, sec := range task.Secrets {
			assert.False(t, strings.HasPrefix(sec.Env, "DATASURFACE_SOURCE_"), "reconcile does not log in to the source")
			if strings.HasPrefix(sec.Env, "DATASURFACE_LEGACY_") {
				legacy = append(legacy, sec.Env)
				if operator == "docker" {
					assert.Equal(t, w.credential, sec.Connection)
				} else {
					assert.Equal(t, strings.ReplaceAll(w.credential, "_", "-"), sec.Secret)
				}
			}
		}
		assert.Equal(t, []string{"DATASURFACE_LEGACY_PASSWORD", "DATASURFACE_LEGACY_USER"}, legacy, "reconcile logs in to the legacy database with the migration's credential")
		if assert.NotNil(t, doc) {
			assert.Contains(t, *doc, "against "+w.legacy+": task "+id, "the DAG's documentation names the migration")
		}
		wantEdges = append(wantEdges, [2]string{"merge", id})
		covered["merge->reconcile"] = true
	}
	assert.Equal(t, wantEdges, edges, "every reconcile runs after the merge")
}

// switchedMigrations reports whether m has a switched migration whose
// group's sinks are ingested on a platform, so that no reconcile task for
// it is checked, not merely absent for want of one.
func switchedMigrations(m *model.Model) bool {
	for _, z := range m.Zones {
		for _, tm := range z.Defs {
			for _, w := range tm.Workspaces {
				for _, g := range w.Groups {
					if g.Migration != nil && g.Migration.Status == model.MigrationSwitched {
						return true
					}
				}
			}
		}
	}
	return false
}
