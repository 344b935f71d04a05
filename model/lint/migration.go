package lint

import (
	"math"

	"github.com/datasurface/datasurface/model"
)

// migrations checks each dataset group's move off a legacy platform: the
// legacy platform is one, the group itself is on a platform that writes
// Iceberg tables, every sink maps to exactly one legacy table, and while
// the status reconciles, the legacy database and a login to it are named.
// The zone's platform policy is checked on the group's platform by the
// policies family, as for any group.
func (l *linter) migrations() {
	l.eachWorkspace(func(w *model.Workspace) {
		for gi := range w.Groups {
			g := &w.Groups[gi]
			if g.Migration != nil {
				l.migration(w, g)
			}
		}
	})
}

func (l *linter) migration(w *model.Workspace, g *model.DatasetGroup) {
	mg := g.Migration
	gp := groupPath(w, g) + "/migration"
	if lp := l.ix.platforms[mg.LegacyPlatform.Name]; lp == nil {
		l.errorf("ref-platform", refPos(mg.LegacyPlatform, mg.Pos), gp, "legacy_platform %q is not declared in ecosystem.yaml; name the legacy platform the group is moving off", mg.LegacyPlatform.Name)
	} else if lp.Kind != model.PlatformLegacy {
		l.errorf("migration-platform", refPos(mg.LegacyPlatform, mg.Pos), gp, "legacy_platform %s is %s, not legacy; a migration moves a group off a platform of kind legacy (to move between generated platforms, change the group's platform)", lp.Name, lp.Kind)
	}
	if p := l.ix.platforms[g.Platform.Name]; p != nil && p.Kind != model.PlatformAirflowIceberg {
		l.errorf("migration-platform", refPos(g.Platform, g.Pos), gp, "the group is migrating off %s but its platform %s is %s; point platform at the airflow-iceberg platform it is moving to", mg.LegacyPlatform.Name, p.Name, p.Kind)
	}
	if g.Requirements.History != model.HistoryLiveOnly && mg.Status.Reconciles() {
		l.errorf("migration-history", refPos(g.Platform, g.Pos), gp, "the group keeps %s history, but reconcile compares the legacy table with the live table of a live_only group; migrate a live_only group (add the forensic group after the switch)", g.Requirements.History)
	}

	sinks := map[string]bool{}
	for _, s := range g.Sinks {
		sinks[s.String()] = true
	}
	seen := map[string]bool{}
	for _, t := range mg.Tables {
		switch {
		case seen[t.Sink]:
			l.errorf("migration-tables", t.Pos, gp, "%s is mapped twice; give each sink one legacy table", t.Sink)
		case !sinks[t.Sink]:
			l.errorf("migration-tables", t.Pos, gp, "%s is not a sink of group %s; map only the group's sinks, written datastore.dataset as in sinks", t.Sink, g.Name)
		}
		seen[t.Sink] = true
		for _, n := range []string{t.Schema, t.Table} {
			if !IsIdentifier(n) || len(n) > MaxNameLength {
				l.errorf("name-invalid", t.Pos, gp, "legacy table %q of %s: %q is not a valid name (a letter, then letters, digits or _, at most %d characters)", t.Legacy(), t.Sink, n, MaxNameLength)
			}
		}
	}
	for _, s := range g.Sinks {
		if !seen[s.String()] {
			l.errorf("migration-tables", s.Pos, gp, "sink %s has no legacy table; add %s: <schema>.<table> to the migration's tables", s, s)
		}
	}

	if e := mg.Tolerances.FloatEpsilon; e < 0 || math.IsNaN(e) || math.IsInf(e, 0) {
		l.errorf("migration-tolerances", mg.Tolerances.Pos, gp, "tolerances: float_epsilon %v: use 0 (exact) or a positive number, the largest difference between two floats that still counts as equal", e)
	}
	if !mg.Status.Reconciles() {
		return
	}
	t := w.Team
	if !mg.LegacyContainer.IsSet() {
		l.errorf("migration-legacy-db", mg.Pos, gp, "status %s reconciles every merge against the legacy tables, but legacy_container is not set; name the postgres container holding them (or set status: switched)", mg.Status)
	} else {
		l.containerOfKind(t, mg.LegacyContainer, model.ContainerPostgres, mg.Pos, gp)
	}
	if !mg.LegacyCredential.IsSet() {
		l.errorf("migration-legacy-db", mg.Pos, gp, "status %s reconciles every merge against the legacy tables, but legacy_credential is not set; name a user_password credential that can read them", mg.Status)
	} else if t != nil {
		l.credentialRef(t, mg.LegacyCredential, []string{"user_password"}, mg.Pos, gp)
	}
}
