package generator

import "github.com/datasurface/datasurface/model"

// ChangeScope is what a change from base to head can affect: the
// datastores it changes, adds or removes and those a changed workspace sinks
// (on either side: their streams list the workspace), and the workspaces it
// changes, adds or removes and those that sink a changed datastore (their
// views show its columns). A team whose
// team.yaml changed, or a zone whose zone.yaml changed, counts as changing
// everything in it. It returns nil (everything) when ecosystem.yaml changed,
// since platforms and shared containers shape every artifact.
//
// Rendering both sides with this scope gives the same plan as rendering
// everything: whatever lies outside it renders to the same bytes.
func ChangeScope(base, head *model.Model) *Scope {
	if !sameEcosystem(base.Ecosystem, head.Ecosystem) {
		return nil
	}
	s := &Scope{Datastores: map[string]bool{}, Workspaces: map[string]bool{}}
	zones := func(m *model.Model) map[string]*model.Zone {
		out := map[string]*model.Zone{}
		for _, z := range m.Zones {
			out[z.Name] = z
		}
		return out
	}
	bz, hz := zones(base), zones(head)
	names := map[string]bool{}
	for n := range bz {
		names[n] = true
	}
	for n := range hz {
		names[n] = true
	}
	for n := range names {
		b, h := bz[n], hz[n]
		if b == h {
			continue // shared by a model pair: unchanged
		}
		whole := b == nil || h == nil || !model.Equal(*b, *h)
		s.teams(b, h, whole)
	}
	changedStores, changedSpaces := copySet(s.Datastores), copySet(s.Workspaces)
	for _, m := range []*model.Model{base, head} {
		for _, z := range m.Zones {
			for _, t := range z.Defs {
				for _, w := range t.Workspaces {
					for _, g := range w.Groups {
						for _, sk := range g.Sinks {
							if changedStores[sk.Datastore] {
								s.Workspaces[w.Name] = true
							}
							if changedSpaces[w.Name] {
								s.Datastores[sk.Datastore] = true
							}
						}
					}
				}
			}
		}
	}
	return s
}

func copySet(m map[string]bool) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

func sameEcosystem(b, h *model.Ecosystem) bool {
	return b == h || b != nil && h != nil && model.Equal(*b, *h)
}

// teams adds the changed datastores and workspaces of a zone's two
// versions; whole adds everything in them.
func (s *Scope) teams(b, h *model.Zone, whole bool) {
	byName := func(z *model.Zone) map[string]*model.Team {
		out := map[string]*model.Team{}
		if z != nil {
			for _, t := range z.Defs {
				out[t.Name] = t
			}
		}
		return out
	}
	bt, ht := byName(b), byName(h)
	names := map[string]bool{}
	for n := range bt {
		names[n] = true
	}
	for n := range ht {
		names[n] = true
	}
	for n := range names {
		tb, th := bt[n], ht[n]
		if tb == th && !whole {
			continue
		}
		all := whole || tb == nil || th == nil || !model.Equal(*tb, *th)
		changedNames(s.Datastores, tb, th, all, func(t *model.Team) []*model.Datastore { return t.Datastores }, func(d *model.Datastore) string { return d.Name })
		changedNames(s.Workspaces, tb, th, all, func(t *model.Team) []*model.Workspace { return t.Workspaces }, func(w *model.Workspace) string { return w.Name })
	}
}

// changedNames adds to into the names of the elements (datastores or
// workspaces) of a team's two versions that were added, removed or changed;
// all adds every one.
func changedNames[T any](into map[string]bool, b, h *model.Team, all bool, list func(*model.Team) []*T, name func(*T) string) {
	pairs := map[string][2]*T{}
	for i, t := range []*model.Team{b, h} {
		if t == nil {
			continue
		}
		for _, x := range list(t) {
			p := pairs[name(x)]
			p[i] = x
			pairs[name(x)] = p
		}
	}
	for n, p := range pairs {
		if all || p[0] == nil || p[1] == nil || !model.Equal(*p[0], *p[1]) {
			into[n] = true
		}
	}
}
