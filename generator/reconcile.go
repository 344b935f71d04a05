package generator

import (
	"fmt"
	"sort"
	"strings"

	"github.com/datasurface/datasurface/model"
)

// reconcileTarget is one sink of a group migrating off a legacy platform
// whose stream this DAG runs: after each merge, its live table is compared
// with the legacy table.
type reconcileTarget struct {
	Workspace *model.Workspace
	Group     *model.DatasetGroup
	Dataset   string
	Legacy    model.MigrationTable
}

// reconcileTargets are the sinks of groups on p, in migration with a status
// that reconciles (shadow, verified), read from the stream's datastore; in
// model order. A switched migration has none: the consumer reads the new
// platform and the legacy pipeline may be retired.
func (r *renderer) reconcileTargets(p *model.Platform, s *model.Stream) []reconcileTarget {
	// A store's datasets may be ingested by separate streams (one per
	// table for debezium_cdc): reconcile only the tables this one merges.
	tables := map[string]bool{}
	for _, st := range s.Tables {
		if st.Live {
			tables[st.Dataset.Name] = true
		}
	}
	var out []reconcileTarget
	for _, z := range r.m.Zones {
		for _, t := range z.Defs {
			for _, w := range t.Workspaces {
				for gi := range w.Groups {
					g := &w.Groups[gi]
					if g.Platform.Name != p.Name || g.Migration == nil || !g.Migration.Status.Reconciles() {
						continue
					}
					for _, sk := range g.Sinks {
						if sk.Datastore != s.Datastore.Name || !tables[sk.Dataset] {
							continue
						}
						if lt, ok := g.Migration.LegacyTable(sk.String()); ok {
							out = append(out, reconcileTarget{Workspace: w, Group: g, Dataset: sk.Dataset, Legacy: lt})
						}
					}
				}
			}
		}
	}
	return out
}

// reconcileTasks are the reconcile tasks of a stream's DAG, one per
// migrating sink: merge-runner reconcile reads the stream's live table
// through the platform's catalog and warehouse, and the legacy table through
// DATASURFACE_LEGACY_URI with the legacy credential (by reference, like
// every secret). The task id is reconcile for a stream of one table (a
// debezium_cdc stream), reconcile_<dataset> for a stream of several, with
// the workspace and group appended when two groups reconcile the same
// dataset.
func (r *renderer) reconcileTasks(p *model.Platform, s *model.Stream, env runtimeEnv, merge Task) ([]Task, error) {
	targets := r.reconcileTargets(p, s)
	count := map[string]int{}
	for _, tg := range targets {
		count[tg.Dataset]++
	}
	var out []Task
	for i, tg := range targets {
		where := fmt.Sprintf("workspace %s, group %s, migration of %s.%s", tg.Workspace.Name, tg.Group.Name, s.Datastore.Name, tg.Dataset)
		e, err := r.legacyEnv(env, tg, where)
		if err != nil {
			return nil, err
		}
		id := "reconcile"
		if len(s.Tables) > 1 {
			id += "_" + tg.Dataset
		}
		if count[tg.Dataset] > 1 {
			id += "__" + tg.Workspace.Name + "_" + tg.Group.Name
		}
		out = append(out, Task{
			Var:    fmt.Sprintf("reconcile_%d", i+1),
			TaskID: id,
			Command: append([]string{"merge-runner", "reconcile", "--job", "env:DATASURFACE_JOB_SPEC",
				"--table", model.LiveTable(tg.Dataset), "--legacy-table", tg.Legacy.Legacy()}, tg.Group.Migration.Tolerances.Args()...),
			JobFile:        merge.JobFile,
			Env:            e.vars,
			Secrets:        e.secrets,
			PriorityWeight: merge.PriorityWeight,
			TimeoutMinutes: merge.TimeoutMinutes,
			FinalExit:      "RECONCILE_DIFFERS_EXIT",
		})
	}
	return out, nil
}

// migrationDoc is the DAG documentation's part on migrations: which sinks
// are compared with which legacy table, by which task, and why a failed
// reconcile is not retried. targets and tasks are in the same order.
func migrationDoc(targets []reconcileTarget, tasks []Task) string {
	var b strings.Builder
	b.WriteString("\nMigrating off a legacy platform (each merge is followed by a reconcile against the legacy table; a reconcile that finds differences fails without retries, the report is in its log):\n\n")
	for i, tg := range targets {
		mg := tg.Group.Migration
		fmt.Fprintf(&b, "- **%s**: workspace %s, group %s, off %s (status %s), against %s: task %s\n",
			tg.Dataset, tg.Workspace.Name, tg.Group.Name, mg.LegacyPlatform.Name, mg.Status, tg.Legacy.Legacy(), tasks[i].TaskID)
	}
	return b.String()
}

// legacyEnv is the platform's environment (catalog and warehouse, not the
// stream's source) with the legacy database: its URI and credential.
func (r *renderer) legacyEnv(env runtimeEnv, tg reconcileTarget, where string) (runtimeEnv, error) {
	e := env.with(r, nil)
	mg := tg.Group.Migration
	team := tg.Workspace.Team
	c := r.container(team, mg.LegacyContainer.Name)
	if c == nil || c.Postgres == nil {
		return e, fmt.Errorf("%s: legacy_container %q is not a postgres container of team %s or the ecosystem; name the database holding %s (lint reports it)", where, mg.LegacyContainer.Name, team.Name, tg.Legacy.Legacy())
	}
	e.postgres("DATASURFACE_LEGACY_URI", c)
	cred, err := r.teamCredential(team, mg.LegacyCredential.Name)
	if err != nil {
		return e, fmt.Errorf("%s: legacy_credential: %w", where, err)
	}
	e.secret("DATASURFACE_LEGACY", cred)
	if e.err != nil {
		return e, fmt.Errorf("%s: %w", where, e.err)
	}
	sort.Slice(e.vars, func(i, j int) bool { return e.vars[i].Name < e.vars[j].Name })
	sort.Slice(e.secrets, func(i, j int) bool { return e.secrets[i].Env < e.secrets[j].Env })
	return e, nil
}
