package lint

import (
	"github.com/datasurface/datasurface/model"
)

// consumers checks every workspace: its groups' platforms and sinks against
// policies, deprecations and production status.
func (l *linter) consumers() {
	l.eachWorkspace(func(w *model.Workspace) {
		for gi := range w.Groups {
			g := &w.Groups[gi]
			gp := groupPath(w, g)
			p := l.ix.platforms[g.Platform.Name]
			l.groupPolicies(w, g.Platform, p, gp)
			if w.Production && p != nil && !p.Production {
				l.warnf("platform-non-production", refPos(g.Platform, g.Pos), gp, "production workspace %s is served by platform %s, which is not production", w.Name, p.Name)
			}
			if len(g.Sinks) == 0 {
				l.warnf("group-empty", g.Pos, gp, "dataset group %q has no sinks; add sinks or remove the group", g.Name)
			}
			seen := map[string]bool{}
			for _, s := range g.Sinks {
				if seen[s.String()] {
					l.warnf("sink-duplicate", s.Pos, gp, "sink %s is listed twice in group %s; remove one", s, g.Name)
					continue
				}
				seen[s.String()] = true
				ds, d := l.ix.dataset(s.Datastore, s.Dataset)
				if d == nil {
					continue // reported by references
				}
				l.deprecation(w, g, s, ds, d)
				if w.Production && !ds.Production {
					l.warnf("sink-non-production", s.Pos, gp, "production workspace %s sinks %s from datastore %s, which is not production; mark the store production or the workspace not", w.Name, s, ds.Name)
				}
				l.sinkPolicies(w, g, s, ds, d, p)
			}
		}
		for i := range w.Transformers {
			tr := &w.Transformers[i]
			tp := workspacePath(w) + "/transformer:" + tr.Name
			p := l.ix.platforms[tr.Platform.Name]
			l.groupPolicies(w, tr.Platform, p, tp)
			// Without a trigger a transformer runs when a table it reads
			// changes (the assets of its inputs).
			if tr.Trigger.Cron != "" || tr.Trigger.External {
				l.trigger(&tr.Trigger, tr.Pos, tp)
			}
		}
	})
}

// deprecation warns about a sink on a deprecated dataset. It is never an
// error here: a producer deprecates a dataset its consumers still sink (that
// is how they learn to move), in a merge request that cannot edit their
// workspaces, and the default branch must stay valid meanwhile. Starting a
// new sink on a deprecated dataset without acknowledging it is refused by
// the merge-request check, which knows which sinks are new (check.Run).
func (l *linter) deprecation(w *model.Workspace, g *model.DatasetGroup, s model.Sink, ds *model.Datastore, d *model.Dataset) {
	gp := groupPath(w, g)
	dep := DeprecationOf(ds, d)
	switch {
	case dep != nil && s.DeprecationsAllowed:
		l.warnf("sink-deprecated", s.Pos, gp, "%s is deprecated (%s); plan the move%s", s, dep.Reason, replacementHint(dep))
	case dep != nil:
		l.warnf("sink-deprecated", s.Pos, gp, "%s is deprecated (%s); move away%s, or acknowledge with {dataset: %s, deprecations_allowed: true}", s, dep.Reason, replacementHint(dep), s)
	case s.DeprecationsAllowed:
		l.infof("sink-deprecation-ack", s.Pos, gp, "%s is not deprecated; deprecations_allowed is not needed", s)
	}
}

// DeprecationOf is the deprecation that applies to a dataset: its own, else
// its datastore's; nil when it is not deprecated.
func DeprecationOf(ds *model.Datastore, d *model.Dataset) *model.Deprecation {
	if d != nil && d.Deprecated != nil {
		return d.Deprecated
	}
	if ds != nil {
		return ds.Deprecated
	}
	return nil
}

// ReplacementHint is " to <replacement>" when the deprecation names one.
func ReplacementHint(dep *model.Deprecation) string { return replacementHint(dep) }

func replacementHint(dep *model.Deprecation) string {
	if dep.Replacement == "" {
		return ""
	}
	return " to " + dep.Replacement
}
