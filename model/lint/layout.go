package lint

import (
	"path"
	"strings"
)

// layout checks that what is defined was declared by its parent and lives
// where the repository layout says: a zone folder for every defined zone, a
// team folder for every defined team, and datastore and workspace files named
// after what they define.
func (l *linter) layout() {
	if l.m.Ecosystem == nil {
		return
	}
	defined := map[string]bool{}
	for _, z := range l.m.Zones {
		zp := zonePath(z)
		defined[z.Name] = true
		if folder := path.Base(z.Dir); folder != z.Name {
			l.errorf("layout-name-mismatch", z.Pos, zp, "zone %q is defined in folder zones/%s; rename the folder or the zone so they match", z.Name, folder)
		}
		if l.ix.zoneDecls[z.Name] == nil {
			l.errorf("layout-undeclared-zone", z.Pos, zp, "zone %q is not declared in ecosystem.yaml; the ecosystem's owner must declare it (name and owner) first", z.Name)
		}
		declared := map[string]bool{}
		for _, t := range z.Teams {
			declared[t.Name] = true
		}
		teams := map[string]bool{}
		for _, t := range z.Defs {
			tp := teamPath(t)
			teams[t.Name] = true
			if folder := path.Base(t.Dir); folder != t.Name {
				l.errorf("layout-name-mismatch", t.Pos, tp, "team %q is defined in folder teams/%s; rename the folder or the team so they match", t.Name, folder)
			}
			if !declared[t.Name] {
				l.errorf("layout-undeclared-team", t.Pos, tp, "team %q is not declared in zone %s's zone.yaml; the zone's owner must declare it (name and owner) first", t.Name, z.Name)
			}
			for _, ds := range t.Datastores {
				if base := strings.TrimSuffix(path.Base(ds.Pos.File), ".yaml"); base != ds.Name {
					l.warnf("layout-file-name", ds.Pos, storePath(ds), "datastore %q is in %s.yaml; name the file %s.yaml so it can be found", ds.Name, base, ds.Name)
				}
			}
			for _, w := range t.Workspaces {
				if base := strings.TrimSuffix(path.Base(w.Pos.File), ".yaml"); base != w.Name {
					l.warnf("layout-file-name", w.Pos, workspacePath(w), "workspace %q is in %s.yaml; name the file %s.yaml so it can be found", w.Name, base, w.Name)
				}
			}
		}
		for _, t := range z.Teams {
			if !teams[t.Name] {
				l.infof("layout-undefined-team", t.Pos, zp+"/team:"+t.Name, "team %q is declared but not defined yet; its owner %s adds zones/%s/teams/%s/team.yaml", t.Name, t.Owner.Name, z.Name, t.Name)
			}
		}
	}
	for _, z := range l.m.Ecosystem.Zones {
		if !defined[z.Name] {
			l.infof("layout-undefined-zone", z.Pos, "ecosystem:"+l.m.Ecosystem.Name+"/zone:"+z.Name, "zone %q is declared but not defined yet; its owner %s adds zones/%s/zone.yaml", z.Name, z.Owner.Name, z.Name)
		}
	}
}
