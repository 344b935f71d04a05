package lint

import (
	"strings"

	"github.com/datasurface/datasurface/model"
)

// MaxNameLength is the longest name allowed: PostgreSQL's identifier limit,
// since names become table, slot and schema names.
const MaxNameLength = 63

// names checks every named element: identifier syntax, length, SQL reserved
// words, and uniqueness in its scope (datastores and workspaces across the
// ecosystem), then the names the generator derives from them (collisions).
//
// Names that reach a rendered name or a file name compare case-insensitively:
// Trino folds identifiers to lower case, even quoted ones, and on a
// case-insensitive file system (a macOS or Windows checkout of the model or
// the deploy repository) Campaigns.yaml and campaigns.yaml are one file.
func (l *linter) names() {
	// The derived names are checked alongside, by a linter of their own:
	// both walk every dataset, and names is already the longest family.
	derived := &linter{m: l.m, ix: l.ix}
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		derived.collisions()
	}()
	defer func() {
		if p := <-done; p != nil {
			panic(p)
		}
		l.problems = append(l.problems, derived.problems...)
	}()
	e := l.m.Ecosystem
	if e == nil {
		return
	}
	eco := "ecosystem:" + e.Name
	l.name(e.Name, e.Pos, eco)
	classes := newScope(l, "classification")
	for _, c := range e.Classifications {
		classes.add(c.Name, c.Pos, eco+"/classification:"+c.Name)
	}
	vendors := newScope(l, "vendor")
	for _, v := range e.Vendors {
		p := eco + "/vendor:" + v.Name
		vendors.add(v.Name, v.Pos, p)
		l.locationNames(v.Locations, p)
	}
	l.containerNames(e.Containers, e.Credentials, eco)
	platforms := newFoldScope(l, "platform") // platforms/<name>/, DAG ids
	for _, p := range e.Platforms {
		platforms.add(p.Name, p.Pos, eco+"/platform:"+p.Name)
	}
	zones := newFoldScope(l, "zone") // zones/<name>/
	for _, z := range e.Zones {
		zones.add(z.Name, z.Pos, eco+"/zone:"+z.Name)
	}

	stores := newFoldScope(l, "datastore")     // Iceberg namespaces, connect/<name>.*.json
	workspaces := newFoldScope(l, "workspace") // Trino schemas, trino/<name>.sql
	for _, z := range l.m.Zones {
		zp := zonePath(z)
		l.name(z.Name, z.Pos, zp)
		teams := newFoldScope(l, "team") // teams/<name>/
		for _, t := range z.Teams {
			teams.add(t.Name, t.Pos, zp+"/team:"+t.Name)
		}
		policies := newScope(l, "policy")
		for _, kind := range policyKinds(&z.Policies) {
			for _, p := range kind.list {
				policies.add(p.Name, p.Pos, zp+"/policy:"+p.Name)
			}
		}
		for _, t := range z.Defs {
			tp := teamPath(t)
			l.name(t.Name, t.Pos, tp)
			l.containerNames(t.Containers, t.Credentials, tp)
			for _, ds := range t.Datastores {
				stores.add(ds.Name, ds.Pos, storePath(ds))
				l.datasetNames(ds)
			}
			for _, w := range t.Workspaces {
				wp := workspacePath(w)
				workspaces.add(w.Name, w.Pos, wp)
				groups := newScope(l, "dataset group")
				for _, g := range w.Groups {
					groups.add(g.Name, g.Pos, groupPath(w, &g))
				}
				transformers := newScope(l, "transformer")
				for i := range w.Transformers {
					tr := &w.Transformers[i]
					transformers.add(tr.Name, tr.Pos, wp+"/transformer:"+tr.Name)
					if tr.Output != nil {
						stores.add(tr.Output.Name, tr.Output.Pos, storePath(tr.Output))
						l.datasetNames(tr.Output)
					}
				}
			}
		}
	}
}

func (l *linter) locationNames(locs []model.Location, parent string) {
	s := newScope(l, "location")
	for _, loc := range locs {
		p := parent + "/location:" + loc.Name
		s.add(loc.Name, loc.Pos, p)
		l.locationNames(loc.Locations, p)
	}
}

func (l *linter) containerNames(cs []model.Container, creds []model.Credential, parent string) {
	s := newScope(l, "container")
	for _, c := range cs {
		s.add(c.Name, c.Pos, parent+"/container:"+c.Name)
	}
	s = newScope(l, "credential")
	for _, c := range creds {
		s.add(c.Name, c.Pos, parent+"/credential:"+c.Name)
	}
}

func (l *linter) datasetNames(ds *model.Datastore) {
	s := newFoldScope(l, "dataset") // Iceberg tables, Trino views
	for i := range ds.Datasets {
		d := &ds.Datasets[i]
		p := datasetPath(ds, d)
		s.add(d.Name, d.Pos, p)
		l.columnNames(d.Columns, p)
	}
}

func (l *linter) columnNames(cols []model.Column, parent string) {
	// Column names compare case-insensitively: SQL engines fold them.
	s := newScope(l, "column")
	s.fold = true
	s.seen = l.takeSeen()
	for i := range cols {
		c := &cols[i]
		s.addLazy(c.Name, c.Pos, func() string { return parent + "/column:" + c.Name })
		if len(c.Fields) > 0 || c.Element != nil || c.Key != nil || c.Value != nil {
			l.nestedNames(&c.TypeSpec, parent+"/column:"+c.Name)
		}
	}
	l.putSeen(s.seen)
}

func (l *linter) nestedNames(t *model.TypeSpec, parent string) {
	if len(t.Fields) > 0 {
		l.columnNames(t.Fields, parent)
	}
	for _, e := range []*model.Element{t.Element, t.Key, t.Value} {
		if e != nil {
			l.nestedNames(&e.TypeSpec, parent)
		}
	}
}

// scope checks names and their uniqueness among siblings.
type scope struct {
	l    *linter
	what string
	fold bool
	seen map[string]model.Pos
	// keepNames keeps in names, by folded key, the name first seen, so that
	// a duplicate can say it differs only in case (columns, by far the most
	// numerous, do without); the name is looked up only for a duplicate.
	keepNames bool
	names     map[string]string
}

func newScope(l *linter, what string) *scope { return &scope{l: l, what: what} }

// newFoldScope is a scope whose names compare case-insensitively.
func newFoldScope(l *linter, what string) *scope {
	return &scope{l: l, what: what, fold: true, keepNames: true}
}

func (s *scope) add(name string, pos model.Pos, path string) {
	s.addLazy(name, pos, func() string { return path })
}

// addLazy is add with the path built only when a problem is reported.
func (s *scope) addLazy(name string, pos model.Pos, path func() string) {
	s.l.lazily(path, func(p string) { s.l.name(name, pos, p) })
	key := name
	if s.fold {
		key = strings.ToLower(name)
	}
	if s.seen == nil {
		s.seen = make(map[string]model.Pos, 8)
	}
	if first, dup := s.seen[key]; dup {
		firstName, known := s.names[key]
		if !known && s.keepNames {
			firstName, known = key, true
		}
		switch {
		case known && firstName != name:
			s.l.errorf("name-duplicate", pos, path(), "%s %q differs only in case from %s %q at %s; Trino and case-insensitive file systems fold them into one, so rename one", s.what, name, s.what, firstName, first)
		case s.fold && !known:
			s.l.errorf("name-duplicate", pos, path(), "%s %q is already defined at %s (names compare case-insensitively, as Trino folds them); rename one", s.what, name, first)
		default:
			s.l.errorf("name-duplicate", pos, path(), "%s %q is already defined at %s; names must be unique, rename one", s.what, name, first)
		}
		return
	}
	s.seen[key] = pos
	if s.keepNames && key != name { // a name already lower case is its own key
		if s.names == nil {
			s.names = make(map[string]string, 8)
		}
		s.names[key] = name
	}
}

// name checks one identifier.
func (l *linter) name(name string, pos model.Pos, path string) {
	switch {
	case !IsIdentifier(name):
		l.errorf("name-invalid", pos, path, "%q is not a valid name: start with a letter, then letters, digits or _", name)
	case len(name) > MaxNameLength:
		l.errorf("name-too-long", pos, path, "name %q has %d characters; shorten it to at most %d", name, len(name), MaxNameLength)
	case IsReserved(name):
		l.errorf("name-reserved", pos, path, "%q is an SQL reserved word and would need quoting everywhere; choose another name", name)
	case IsSystemSchema(name):
		l.errorf("name-reserved", pos, path, "%q is the schema every Trino catalog serves itself (no views or tables can be made in it), and workspace and datastore names become schemas; choose another name", name)
	}
}

// IsSystemSchema reports whether s is information_schema, which every
// Trino catalog serves itself (io.trino.connector.informationschema): a
// workspace's views or a store's tables there cannot be made. Refused for
// every name, as names move between roles (a dataset's becomes a table's).
func IsSystemSchema(s string) bool {
	return strings.EqualFold(s, "information_schema")
}

// IsIdentifier reports whether s matches ^[A-Za-z][A-Za-z0-9_]*$.
func IsIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_'):
		default:
			return false
		}
	}
	return true
}

// IsReserved reports whether s is a reserved word of Trino, PostgreSQL or SQL:2016.
func IsReserved(s string) bool {
	if len(s) > maxReservedLen {
		return false
	}
	return reserved[strings.ToLower(s)]
}

var maxReservedLen = func() int {
	n := 0
	for w := range reserved {
		n = max(n, len(w))
	}
	return n
}()

// reserved holds the words Trino and PostgreSQL reserve (they cannot be used
// as unquoted identifiers), plus the common SQL:2016 reserved words.
var reserved = func() map[string]bool {
	words := `all alter analyse analyze and any array as asc asymmetric authorization between binary both by
call case cast check collate column commit constraint create cross cube current current_catalog
current_date current_path current_role current_schema current_time current_timestamp current_user
deallocate default deferrable delete desc describe distinct do drop else end escape except execute
exists extract false fetch for foreign freeze from full function grant group grouping having ilike in
initially inner insert intersect into is isnull join json_array json_exists json_object json_query
json_table json_value lateral leading left like limit listagg localtime localtimestamp natural normalize
not notnull null offset on only or order outer overlaps placing prepare primary recursive references
returning right rollup select session_user similar skip some symmetric system_user table tablesample
then to trailing trim true uescape union unique unnest user using values variadic verbose when where
window with`
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}()
