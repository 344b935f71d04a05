package lint

import (
	"regexp"
	"strings"

	"github.com/datasurface/datasurface/model"
)

// references checks that every reference resolves: owners are well-formed,
// locations, containers, credentials, platforms, classifications, policies
// and sinks name something that exists, and of the right kind; credentials
// are used only where their region allows (credentials.go); and model text
// that the generator renders is valid for what reads it (connectvalues.go).
func (l *linter) references() {
	e := l.m.Ecosystem
	if e == nil {
		return
	}
	eco := "ecosystem:" + e.Name
	l.owner(e.Owner, e.Pos, eco)
	for _, z := range e.Zones {
		l.owner(z.Owner, z.Pos, eco+"/zone:"+z.Name)
	}
	for i := range e.Containers {
		l.containerRefs(nil, &e.Containers[i], eco+"/container:"+e.Containers[i].Name)
	}
	for i := range e.Platforms {
		l.platformRefs(&e.Platforms[i])
	}
	for _, z := range l.m.Zones {
		zp := zonePath(z)
		for _, t := range z.Teams {
			l.owner(t.Owner, t.Pos, zp+"/team:"+t.Name)
		}
		l.policyEntryRefs(z)
		for _, t := range z.Defs {
			for i := range t.Containers {
				l.containerRefs(t, &t.Containers[i], teamPath(t)+"/container:"+t.Containers[i].Name)
			}
		}
	}
	l.eachDatastore(func(ds *model.Datastore) {
		if ds.Capture != nil {
			l.captureRefs(ds)
		}
		if ds.Deprecated != nil {
			l.replacementRef(ds.Deprecated, storePath(ds))
		}
		for i := range ds.Datasets {
			d := &ds.Datasets[i]
			dp := datasetPath(ds, d)
			l.classificationRefs(d.Classifications, dp)
			l.columnClassificationRefs(d.Columns, dp)
			l.policyRefs(ds.Team, d.Policies, dp)
			if d.Deprecated != nil {
				l.replacementRef(d.Deprecated, dp)
			}
		}
	})
	l.eachWorkspace(func(w *model.Workspace) {
		wp := workspacePath(w)
		l.policyRefs(w.Team, w.Policies, wp)
		for gi := range w.Groups {
			g := &w.Groups[gi]
			l.platformRef(g.Platform, g.Pos, groupPath(w, g))
			for _, s := range g.Sinks {
				ds, d := l.ix.dataset(s.Datastore, s.Dataset)
				switch {
				case ds == nil:
					l.errorf("ref-sink", s.Pos, groupPath(w, g), "sink %s names datastore %q, which does not exist; check the spelling or remove the sink", s, s.Datastore)
				case d == nil:
					l.errorf("ref-sink", s.Pos, groupPath(w, g), "sink %s names dataset %q, which datastore %s does not have; check the spelling or remove the sink", s, s.Dataset, s.Datastore)
				}
			}
		}
		for i := range w.Transformers {
			tr := &w.Transformers[i]
			tp := wp + "/transformer:" + tr.Name
			l.platformRef(tr.Platform, tr.Pos, tp)
			for _, c := range tr.Credentials {
				l.teamCredentialRef(w.Team, c, tr.Pos, tp)
			}
		}
	})
	l.credentials()
	l.connectorValues()
}

// ownerRE is a GitLab project path (group[/subgroup...]/project) @ a branch.
var (
	ownerPathRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)+$`)
)

// ValidOwner reports whether s is `<GitLab project path>@<branch>`.
func ValidOwner(s string) bool {
	p, branch, ok := strings.Cut(s, "@")
	if !ok || !ownerPathRE.MatchString(p) || strings.HasSuffix(p, ".git") || strings.Contains(p, "..") {
		return false
	}
	return validBranch(branch)
}

// validBranch applies git's ref name rules (git check-ref-format).
func validBranch(b string) bool {
	if b == "" || b == "@" || strings.HasPrefix(b, "/") || strings.HasSuffix(b, "/") || strings.HasSuffix(b, ".") ||
		strings.HasPrefix(b, "-") || strings.Contains(b, "..") || strings.Contains(b, "//") || strings.Contains(b, "@{") {
		return false
	}
	for _, part := range strings.Split(b, "/") {
		if strings.HasPrefix(part, ".") || strings.HasSuffix(part, ".lock") {
			return false
		}
	}
	for _, r := range b {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			return false
		}
	}
	return true
}

func (l *linter) owner(o model.Owner, pos model.Pos, path string) {
	if !ValidOwner(o.Name) {
		l.errorf("ref-owner", refPos(o, pos), path, "owner %q is not a repository reference; write <GitLab project path>@<branch>, e.g. acme/model-retail@main", o.Name)
	}
}

func (l *linter) location(r model.Ref, pos model.Pos, path string) {
	if r.IsSet() && !l.ix.locations[r.Name] {
		l.errorf("ref-location", refPos(r, pos), path, "location %q is not in any vendor's location tree; write vendor/location[/sublocation] as declared in ecosystem.yaml", r.Name)
	}
}

func (l *linter) containerRefs(t *model.Team, c *model.Container, path string) {
	l.location(c.Location, c.Pos, path)
	switch kinds := c.Kinds(); len(kinds) {
	case 0:
		l.errorf("container-kind", c.Pos, path, "container %q says nothing of what it is; give exactly one of postgres, object_storage, kafka, kafka_connect, platform_managed", c.Name)
	case 1:
	default:
		l.errorf("container-kind", c.Pos, path, "container %q has %s; give exactly one kind", c.Name, strings.Join(kinds, " and "))
	}
	if kc := c.KafkaConnect; kc != nil && kc.Kafka.IsSet() {
		l.containerOfKind(t, kc.Kafka, model.ContainerKafka, c.Pos, path)
	}
	if pm := c.PlatformManaged; pm != nil {
		l.platformRef(pm.Platform, c.Pos, path)
	}
}

// containerOfKind resolves a container reference and checks its kind.
func (l *linter) containerOfKind(t *model.Team, r model.Ref, kind string, pos model.Pos, path string) *model.Container {
	c := l.ix.container(t, r.Name)
	if c == nil {
		where := "ecosystem.yaml's containers"
		if t != nil {
			where = "team " + t.Name + "'s or the ecosystem's containers"
		}
		l.errorf("ref-container", refPos(r, pos), path, "container %q is not among %s; declare it or fix the name", r.Name, where)
		return nil
	}
	if k := c.Kind(); k != "" && k != kind {
		l.errorf("ref-container-kind", refPos(r, pos), path, "container %q is %s, but a container of kind %s is needed here", r.Name, k, kind)
		return nil
	}
	return c
}

// credentialRef resolves a credential reference of a team (a capture) or,
// with t nil, of a platform setting, and checks its kind. A team reaches
// only its own credentials and those granted to it (teamCredentialRef); a
// platform only the ecosystem's.
func (l *linter) credentialRef(t *model.Team, r model.Ref, kinds []string, pos model.Pos, path string) {
	if !r.IsSet() {
		return
	}
	var c *model.ScopedCredential
	if t != nil {
		if c = l.teamCredentialRef(t, r, pos, path); c == nil {
			return
		}
	} else {
		ec, ok := l.m.EcosystemCredential(r.Name)
		if !ok {
			l.errorf("ref-credential", refPos(r, pos), path, "credential %q is not declared in ecosystem.yaml's credentials, which are the ones platform settings use; add it there (name and kind only)", r.Name)
			return
		}
		c = &ec
	}
	for _, k := range kinds {
		if string(c.Kind) == k {
			return
		}
	}
	l.errorf("ref-credential", refPos(r, pos), path, "credential %q is %s, but %s is needed here", r.Name, c.Kind, strings.Join(kinds, " or "))
}

func (l *linter) platformRef(r model.Ref, pos model.Pos, path string) {
	if l.ix.platforms[r.Name] == nil {
		l.errorf("ref-platform", refPos(r, pos), path, "platform %q is not declared in ecosystem.yaml; use one of its platforms", r.Name)
	}
}

func (l *linter) classificationRefs(rs []model.Ref, path string) {
	for _, r := range rs {
		if !l.ix.classifications[r.Name] {
			l.errorf("ref-classification", r.Pos, path, "classification %q is not declared in ecosystem.yaml's classifications", r.Name)
		}
	}
}

func (l *linter) columnClassificationRefs(cols []model.Column, parent string) {
	for i := range cols {
		c := &cols[i]
		if len(c.Classifications) > 0 {
			l.lazily(func() string { return parent + "/column:" + c.Name }, func(p string) { l.classificationRefs(c.Classifications, p) })
		}
		l.lazily(func() string { return parent + "/column:" + c.Name }, func(p string) { l.nestedClassificationRefs(&c.TypeSpec, p) })
	}
}

// nestedClassificationRefs checks the classifications of a type's struct
// fields, in a struct, a list's element or a map's key or value.
func (l *linter) nestedClassificationRefs(t *model.TypeSpec, path string) {
	l.columnClassificationRefs(t.Fields, path)
	for _, e := range []*model.Element{t.Element, t.Key, t.Value} {
		if e != nil {
			l.nestedClassificationRefs(&e.TypeSpec, path)
		}
	}
}

// policyRefs checks references to a zone's optional policies.
func (l *linter) policyRefs(t *model.Team, rs []model.Ref, path string) {
	if len(rs) == 0 || t == nil || t.Zone == nil {
		return
	}
	for _, r := range rs {
		p := findPolicy(&t.Zone.Policies, r.Name)
		switch {
		case p == nil:
			l.errorf("ref-policy", r.Pos, path, "policy %q is not a policy of zone %s; policies are referenced within their zone", r.Name, t.Zone.Name)
		case !p.Optional:
			l.infof("ref-policy-mandatory", r.Pos, path, "policy %q applies to everything in zone %s already; the reference can go", r.Name, t.Zone.Name)
		}
	}
}

func (l *linter) replacementRef(dep *model.Deprecation, path string) {
	if dep.Replacement == "" {
		return
	}
	store, ds, _ := strings.Cut(dep.Replacement, ".")
	if _, d := l.ix.dataset(store, ds); d == nil {
		l.errorf("ref-replacement", dep.Pos, path, "replacement %q is not an existing datastore.dataset", dep.Replacement)
	}
}

// policyEntryRefs checks that what policies allow or deny exists.
func (l *linter) policyEntryRefs(z *model.Zone) {
	zp := zonePath(z)
	vendors := map[string]bool{}
	for _, v := range l.m.Ecosystem.Vendors {
		vendors[v.Name] = true
	}
	for _, k := range policyKinds(&z.Policies) {
		for i := range k.list {
			p := &k.list[i]
			pp := zp + "/policy:" + p.Name
			if (len(p.Allowed) > 0) == (len(p.Denied) > 0) {
				l.errorf("policy-shape", p.Pos, pp, "policy %q must list either allowed or denied names, not both and not neither", p.Name)
			}
			for _, r := range append(append([]model.Ref(nil), p.Allowed...), p.Denied...) {
				var ok bool
				switch k.kind {
				case "classification":
					ok = l.ix.classifications[r.Name]
				case "vendor":
					ok = vendors[r.Name]
				case "location":
					ok = l.ix.locations[r.Name]
				case "storage":
					ok = l.anyContainer(r.Name)
				case "platform":
					ok = l.ix.platforms[r.Name] != nil
				}
				if !ok {
					l.errorf("ref-policy-entry", r.Pos, pp, "%s policy %q names %q, which is not a declared %s", k.kind, p.Name, r.Name, k.noun)
				}
			}
		}
	}
}

func (l *linter) anyContainer(name string) bool {
	if l.ix.containers[name] != nil {
		return true
	}
	for _, cs := range l.ix.teamContainers {
		if cs[name] != nil {
			return true
		}
	}
	return false
}

type policyKind struct {
	kind, noun string
	list       []model.Policy
}

func policyKinds(p *model.Policies) []policyKind {
	return []policyKind{
		{"classification", "classification", p.Classification},
		{"vendor", "vendor", p.Vendor},
		{"location", "location path", p.Location},
		{"storage", "container", p.Storage},
		{"platform", "platform", p.Platform},
	}
}

func findPolicy(p *model.Policies, name string) *model.Policy {
	for _, k := range policyKinds(p) {
		for i := range k.list {
			if k.list[i].Name == name {
				return &k.list[i]
			}
		}
	}
	return nil
}
