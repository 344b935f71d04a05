package lint

import (
	"strings"

	"github.com/datasurface/datasurface/model"
)

// index holds the lookups every rule family needs, built once.
type index struct {
	classifications map[string]bool
	locations       map[string]bool // vendor, vendor/loc, vendor/loc/sub ...
	containers      map[string]*model.Container
	credentials     map[string]*model.Credential
	platforms       map[string]*model.Platform
	zoneDecls       map[string]*model.ZoneDecl
	zones           map[string]*model.Zone
	datastores      map[string]*model.Datastore // first definition of each name
	workspaces      map[string]*model.Workspace
	teamContainers  map[*model.Team]map[string]*model.Container
	teamCreds       map[*model.Team]map[string]*model.Credential
}

func newIndex(m *model.Model) *index {
	ix := &index{
		classifications: map[string]bool{}, locations: map[string]bool{},
		containers: map[string]*model.Container{}, credentials: map[string]*model.Credential{},
		platforms: map[string]*model.Platform{}, zoneDecls: map[string]*model.ZoneDecl{},
		zones: map[string]*model.Zone{}, datastores: map[string]*model.Datastore{},
		workspaces:     map[string]*model.Workspace{},
		teamContainers: map[*model.Team]map[string]*model.Container{},
		teamCreds:      map[*model.Team]map[string]*model.Credential{},
	}
	e := m.Ecosystem
	if e == nil {
		return ix
	}
	for _, c := range e.Classifications {
		ix.classifications[c.Name] = true
	}
	for _, v := range e.Vendors {
		ix.locations[v.Name] = true
		addLocations(ix.locations, v.Name, v.Locations)
	}
	for i := range e.Containers {
		setFirst(ix.containers, e.Containers[i].Name, &e.Containers[i])
	}
	for i := range e.Credentials {
		setFirst(ix.credentials, e.Credentials[i].Name, &e.Credentials[i])
	}
	for i := range e.Platforms {
		setFirst(ix.platforms, e.Platforms[i].Name, &e.Platforms[i])
	}
	for i := range e.Zones {
		setFirst(ix.zoneDecls, e.Zones[i].Name, &e.Zones[i])
	}
	for _, z := range m.Zones {
		setFirst(ix.zones, z.Name, z)
		for _, t := range z.Defs {
			cs := map[string]*model.Container{}
			for i := range t.Containers {
				setFirst(cs, t.Containers[i].Name, &t.Containers[i])
			}
			ix.teamContainers[t] = cs
			cr := map[string]*model.Credential{}
			for i := range t.Credentials {
				setFirst(cr, t.Credentials[i].Name, &t.Credentials[i])
			}
			ix.teamCreds[t] = cr
			for _, ds := range t.Datastores {
				setFirst(ix.datastores, ds.Name, ds)
			}
			for _, w := range t.Workspaces {
				setFirst(ix.workspaces, w.Name, w)
				for i := range w.Transformers {
					if out := w.Transformers[i].Output; out != nil {
						setFirst(ix.datastores, out.Name, out)
					}
				}
			}
		}
	}
	return ix
}

func setFirst[T any](m map[string]T, k string, v T) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}

func addLocations(set map[string]bool, prefix string, locs []model.Location) {
	for _, l := range locs {
		p := prefix + "/" + l.Name
		set[p] = true
		addLocations(set, p, l.Locations)
	}
}

// dataset finds store.dataset.
func (ix *index) dataset(store, name string) (*model.Datastore, *model.Dataset) {
	ds := ix.datastores[store]
	if ds == nil {
		return nil, nil
	}
	for i := range ds.Datasets {
		if ds.Datasets[i].Name == name {
			return ds, &ds.Datasets[i]
		}
	}
	return ds, nil
}

// container resolves a container name as a team sees it: its own first, then
// the ecosystem's.
func (ix *index) container(t *model.Team, name string) *model.Container {
	if t != nil {
		if c := ix.teamContainers[t][name]; c != nil {
			return c
		}
	}
	return ix.containers[name]
}

func (ix *index) credential(t *model.Team, name string) *model.Credential {
	if t != nil {
		if c := ix.teamCreds[t][name]; c != nil {
			return c
		}
	}
	return ix.credentials[name]
}

// Paths name objects in problems.
func storePath(ds *model.Datastore) string {
	if ds.Transformer != nil {
		return "datastore:" + ds.Name + " (output of transformer:" + ds.Transformer.Name + ")"
	}
	return "datastore:" + ds.Name
}

func datasetPath(ds *model.Datastore, d *model.Dataset) string {
	return storePath(ds) + "/dataset:" + d.Name
}

func workspacePath(w *model.Workspace) string { return "workspace:" + w.Name }

func groupPath(w *model.Workspace, g *model.DatasetGroup) string {
	return workspacePath(w) + "/group:" + g.Name
}

func zonePath(z *model.Zone) string { return "zone:" + z.Name }

func teamPath(t *model.Team) string {
	if t.Zone == nil {
		return "team:" + t.Name
	}
	return zonePath(t.Zone) + "/team:" + t.Name
}

// locationMatches reports whether a policy entry (a location path) covers a
// location: the path itself or any location under it.
func locationMatches(entry, loc string) bool {
	return loc == entry || strings.HasPrefix(loc, entry+"/")
}

func equal(a, b string) bool { return a == b }

// datastores visits every datastore, transformer outputs included.
func (l *linter) eachDatastore(fn func(*model.Datastore)) {
	for _, z := range l.m.Zones {
		for _, t := range z.Defs {
			for _, ds := range t.Datastores {
				fn(ds)
			}
			for _, w := range t.Workspaces {
				for i := range w.Transformers {
					if out := w.Transformers[i].Output; out != nil {
						fn(out)
					}
				}
			}
		}
	}
}

func (l *linter) eachWorkspace(fn func(*model.Workspace)) {
	for _, z := range l.m.Zones {
		for _, t := range z.Defs {
			for _, w := range t.Workspaces {
				fn(w)
			}
		}
	}
}

func (l *linter) eachTeam(fn func(*model.Team)) {
	for _, z := range l.m.Zones {
		for _, t := range z.Defs {
			fn(t)
		}
	}
}

// classificationsOf is every classification a dataset carries, on the dataset or its columns.
func classificationsOf(d *model.Dataset) []model.Ref {
	out := append([]model.Ref(nil), d.Classifications...)
	for i := range d.Columns {
		out = appendColumnClassifications(out, &d.Columns[i])
	}
	return out
}

func appendColumnClassifications(out []model.Ref, c *model.Column) []model.Ref {
	return appendNestedClassifications(append(out, c.Classifications...), &c.TypeSpec)
}

// appendNestedClassifications adds the classifications of a type's struct
// fields wherever they are nested: in a struct, a list's element, a map's key
// or value.
func appendNestedClassifications(out []model.Ref, t *model.TypeSpec) []model.Ref {
	for i := range t.Fields {
		out = appendColumnClassifications(out, &t.Fields[i])
	}
	for _, e := range []*model.Element{t.Element, t.Key, t.Value} {
		if e != nil {
			out = appendNestedClassifications(out, &e.TypeSpec)
		}
	}
	return out
}
