package model

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Region kinds: the parts of a model that one owner controls.
const (
	RegionEcosystem = "ecosystem"
	RegionZone      = "zone"
	RegionTeam      = "team"
)

// Region is a part of the model with one owner: the ecosystem (what
// ecosystem.yaml says, including which zones exist and who owns them), a
// zone (its zone.yaml: policies and which teams exist and who owns them) or
// a team (its team.yaml, datastores and workspaces).
type Region struct {
	Kind string
	Zone string
	Team string
}

func (r Region) String() string {
	switch r.Kind {
	case RegionZone:
		return "zone " + r.Zone
	case RegionTeam:
		return "team " + r.Zone + "/" + r.Team
	}
	return "ecosystem"
}

// RegionChange is one region a model change touches, who may make it and
// what changed in it.
type RegionChange struct {
	Region Region
	// Owner is the repository reference that owns the region: as the base
	// declares it, or as the head does for a region the base does not know.
	// Empty when nothing declares the region.
	Owner string
	// Changes say what changed, e.g. "datastore customer_db changed".
	Changes []string
	// Pos is where the change is (in the head, or in the base for a removal).
	Pos Pos
}

// Changes lists the regions that differ between base and head. Declaring a
// child (a zone in ecosystem.yaml, a team in zone.yaml) is a change of the
// parent's region; defining it (zone.yaml, a team's files) is a change of
// the child's own region; removing either is a change of the same region
// again, so deleting a child takes two steps by two owners when they differ.
// Equality is structural (Equal): positions and file layout do not count.
func Changes(base, head *Model) []RegionChange {
	var out []RegionChange
	be, he := base.Ecosystem, head.Ecosystem
	if c := ecosystemChanges(be, he); len(c) > 0 {
		owner := ""
		pos := Pos{}
		switch {
		case be != nil:
			owner, pos = be.Owner.Name, be.Pos
		case he != nil:
			owner = he.Owner.Name
		}
		if he != nil {
			pos = he.Pos
		}
		out = append(out, RegionChange{Region: Region{Kind: RegionEcosystem}, Owner: owner, Changes: c, Pos: pos})
	}
	bz, hz := zonesByName(base), zonesByName(head)
	for _, name := range unionKeys(bz, hz) {
		b, h := bz[name], hz[name]
		owner := zoneOwner(be, name)
		if owner == "" {
			owner = zoneOwner(he, name)
		}
		if c := zoneChanges(b, h); len(c) > 0 {
			out = append(out, RegionChange{Region: Region{Kind: RegionZone, Zone: name}, Owner: owner, Changes: c, Pos: zonePos(b, h)})
		}
		bt, ht := teamsByName(b), teamsByName(h)
		for _, tn := range unionKeys(bt, ht) {
			tb, th := bt[tn], ht[tn]
			if tb == th {
				continue // shared, so unchanged
			}
			c, pos := teamChanges(tb, th)
			if len(c) == 0 {
				continue
			}
			towner := teamOwner(b, tn)
			if towner == "" {
				towner = teamOwner(h, tn)
			}
			out = append(out, RegionChange{Region: Region{Kind: RegionTeam, Zone: name, Team: tn}, Owner: towner, Changes: c, Pos: pos})
		}
	}
	return out
}

// Authorize returns the region changes that source (a `<project>@<branch>`
// reference, the merge request's source) may not make: those of regions it
// does not own.
func Authorize(changes []RegionChange, source string) []RegionChange {
	var out []RegionChange
	for _, c := range changes {
		if c.Owner == "" || c.Owner != strings.TrimSpace(source) {
			out = append(out, c)
		}
	}
	return out
}

// zonePos is where a zone's change is: its head definition, else its base one.
func zonePos(b, h *Zone) Pos {
	if h != nil {
		return h.Pos
	}
	if b != nil {
		return b.Pos
	}
	return Pos{}
}

func zonesByName(m *Model) map[string]*Zone {
	out := map[string]*Zone{}
	for _, z := range m.Zones {
		out[z.Name] = z
	}
	return out
}

func teamsByName(z *Zone) map[string]*Team {
	out := map[string]*Team{}
	if z != nil {
		for _, t := range z.Defs {
			out[t.Name] = t
		}
	}
	return out
}

func zoneOwner(e *Ecosystem, zone string) string {
	if e == nil {
		return ""
	}
	for _, d := range e.Zones {
		if d.Name == zone {
			return d.Owner.Name
		}
	}
	return ""
}

func teamOwner(z *Zone, team string) string {
	if z == nil {
		return ""
	}
	for _, d := range z.Teams {
		if d.Name == team {
			return d.Owner.Name
		}
	}
	return ""
}

func unionKeys[V any](a, b map[string]V) []string {
	seen := make(map[string]bool, len(a)+len(b))
	out := make([]string, 0, len(a)+len(b))
	for _, m := range []map[string]V{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// ecosystemChanges describes how ecosystem.yaml changed.
func ecosystemChanges(b, h *Ecosystem) []string {
	switch {
	case b == nil && h == nil:
		return nil
	case b == nil:
		return []string{"ecosystem " + h.Name + " defined"}
	case h == nil:
		return []string{"ecosystem " + b.Name + " removed"}
	case b == h || Equal(*b, *h):
		return nil
	}
	var out []string
	field := func(name string, same bool) {
		if !same {
			out = append(out, name+" changed")
		}
	}
	field("name", b.Name == h.Name)
	field("owner", b.Owner.Name == h.Owner.Name)
	field("documentation", b.Documentation == h.Documentation)
	field("classifications", Equal(b.Classifications, h.Classifications))
	field("vendors", Equal(b.Vendors, h.Vendors))
	for _, c := range [][]string{
		first(namedChanges("container", b.Containers, h.Containers, func(c Container) string { return c.Name }, nil)),
		first(namedChanges("credential", b.Credentials, h.Credentials, func(c Credential) string { return c.Name }, nil)),
		first(namedChanges("platform", b.Platforms, h.Platforms, func(p Platform) string { return p.Name }, nil)),
	} {
		out = append(out, c...)
	}
	out = append(out, declChanges("zone", b.Zones, h.Zones, func(d ZoneDecl) (string, string) { return d.Name, d.Owner.Name })...)
	if len(out) == 0 {
		out = append(out, "ecosystem.yaml changed") // e.g. an order change
	}
	return out
}

// zoneChanges describes how a zone's definition (zone.yaml) changed.
func zoneChanges(b, h *Zone) []string {
	switch {
	case b == nil && h == nil, b == h:
		return nil
	case b == nil:
		return []string{"zone " + h.Name + " defined"}
	case h == nil:
		return []string{"zone " + b.Name + " definition removed"}
	case Equal(*b, *h):
		return nil
	}
	var out []string
	if b.Documentation != h.Documentation {
		out = append(out, "documentation changed")
	}
	if !Equal(b.Policies, h.Policies) {
		out = append(out, "policies changed")
	}
	out = append(out, declChanges("team", b.Teams, h.Teams, func(d TeamDecl) (string, string) { return d.Name, d.Owner.Name })...)
	if len(out) == 0 {
		out = append(out, "zone.yaml changed")
	}
	return out
}

// teamChanges describes how a team's definition (team.yaml, datastores,
// workspaces) changed, and points at the first change: team.yaml, else the
// first changed datastore or workspace (in name order; in the head, or in
// the base for a removal).
func teamChanges(b, h *Team) ([]string, Pos) {
	switch {
	case b == nil && h == nil:
		return nil, Pos{}
	case b == nil:
		return []string{"team " + h.Name + " defined"}, h.Pos
	case h == nil:
		return []string{"team " + b.Name + " definition removed"}, b.Pos
	}
	var out []string
	var pos Pos
	if !Equal(*b, *h) {
		out, pos = append(out, "team.yaml changed"), h.Pos
	}
	stores, storePos := namedChanges("datastore", b.Datastores, h.Datastores, func(d *Datastore) string { return d.Name }, func(d *Datastore) Pos { return d.Pos })
	spaces, spacePos := namedChanges("workspace", b.Workspaces, h.Workspaces, func(w *Workspace) string { return w.Name }, func(w *Workspace) Pos { return w.Pos })
	for _, p := range []Pos{storePos, spacePos, h.Pos} {
		if pos.IsZero() {
			pos = p
		}
	}
	return append(append(append(out, stores...), spaces...), migrationChanges(b, h)...), pos
}

// migrationChanges names each group's migration step, which a reviewer of
// the change should see spelled out: begun, moved on (shadow → verified →
// switched) or ended.
func migrationChanges(b, h *Team) []string {
	type key struct{ ws, group string }
	statuses := func(t *Team) map[key]*Migration {
		out := map[key]*Migration{}
		for _, w := range t.Workspaces {
			for gi := range w.Groups {
				if g := &w.Groups[gi]; g.Migration != nil {
					out[key{w.Name, g.Name}] = g.Migration
				}
			}
		}
		return out
	}
	bm, hm := statuses(b), statuses(h)
	var keys []key
	for k := range bm {
		keys = append(keys, k)
	}
	for k := range hm {
		if bm[k] == nil {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(x, y key) int { return cmp.Or(cmp.Compare(x.ws, y.ws), cmp.Compare(x.group, y.group)) })
	var out []string
	for _, k := range keys {
		bmg, hmg := bm[k], hm[k]
		where := fmt.Sprintf("workspace %s, group %s: migration off ", k.ws, k.group)
		switch {
		case bmg == nil:
			out = append(out, fmt.Sprintf("%s%s begins (%s)", where, hmg.LegacyPlatform.Name, hmg.Status))
		case hmg == nil:
			out = append(out, fmt.Sprintf("%s%s ends (was %s)", where, bmg.LegacyPlatform.Name, bmg.Status))
		case bmg.Status != hmg.Status:
			out = append(out, fmt.Sprintf("%s%s %s → %s", where, hmg.LegacyPlatform.Name, bmg.Status, hmg.Status))
		}
	}
	return out
}

// namedChanges compares two lists of named elements by name; with pos, it
// also returns where the first change is (in the head, or the base for a
// removal).
func namedChanges[T any](kind string, b, h []T, name func(T) string, pos func(T) Pos) ([]string, Pos) {
	bm := make(map[string]T, len(b))
	for _, x := range b {
		bm[name(x)] = x
	}
	hm := make(map[string]T, len(h))
	for _, x := range h {
		hm[name(x)] = x
	}
	var out []string
	var first Pos
	at := func(x T) {
		if pos != nil && first.IsZero() {
			first = pos(x)
		}
	}
	for _, n := range unionKeys(bm, hm) {
		bx, inB := bm[n]
		hx, inH := hm[n]
		switch {
		case !inB:
			out = append(out, fmt.Sprintf("%s %s added", kind, n))
			at(hx)
		case !inH:
			out = append(out, fmt.Sprintf("%s %s removed", kind, n))
			at(bx)
		case !Equal(bx, hx):
			out = append(out, fmt.Sprintf("%s %s changed", kind, n))
			at(hx)
		}
	}
	return out, first
}

// declChanges compares child declarations (name and owner).
func declChanges[T any](kind string, b, h []T, decl func(T) (string, string)) []string {
	bm, hm := map[string]string{}, map[string]string{}
	for _, x := range b {
		n, o := decl(x)
		bm[n] = o
	}
	for _, x := range h {
		n, o := decl(x)
		hm[n] = o
	}
	var out []string
	for _, n := range unionKeys(bm, hm) {
		bo, inB := bm[n]
		ho, inH := hm[n]
		switch {
		case !inB:
			out = append(out, fmt.Sprintf("%s %s declared (owner %s)", kind, n, ho))
		case !inH:
			out = append(out, fmt.Sprintf("%s %s declaration removed", kind, n))
		case bo != ho:
			out = append(out, fmt.Sprintf("%s %s handed from %s to %s", kind, n, bo, ho))
		}
	}
	return out
}

func first[A, B any](a A, _ B) A { return a }
