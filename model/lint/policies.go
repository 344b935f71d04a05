package lint

import (
	"slices"
	"strings"

	"github.com/datasurface/datasurface/model"
)

// policies enforces zone policies on the producing side: the vendors and
// locations of a zone's containers, and the containers its datasets are
// captured from. The consuming side (what a sink may take, and where the
// platform that serves it may put the data) is checked per sink in consumers.
func (l *linter) policies() {
	for _, z := range l.m.Zones {
		for _, t := range z.Defs {
			for i := range t.Containers {
				c := &t.Containers[i]
				l.containerPolicies(z, nil, c, c.Pos, teamPath(t)+"/container:"+c.Name, "zone "+z.Name+"'s")
			}
			for _, ds := range t.Datastores {
				if ds.Capture == nil || !ds.Capture.Container.IsSet() {
					continue
				}
				for i := range ds.Datasets {
					d := &ds.Datasets[i]
					for _, p := range applicable(z.Policies.Storage, d.Policies) {
						if !p.Permits(ds.Capture.Container.Name, equal) {
							l.errorf("policy-storage", ds.Capture.Container.Pos, datasetPath(ds, d), "dataset %q may not be stored in container %s: storage policy %s of zone %s; move the data or change the policy", d.Name, ds.Capture.Container.Name, p.Name, z.Name)
						}
					}
				}
			}
		}
	}
}

// applicable lists the policies that apply: every mandatory one, and the
// optional ones referenced.
func applicable(ps []model.Policy, refs []model.Ref) []*model.Policy {
	var out []*model.Policy
	for i := range ps {
		p := &ps[i]
		if !p.Optional {
			out = append(out, p)
			continue
		}
		for _, r := range refs {
			if r.Name == p.Name {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// containerPolicies checks a container's vendor and location against a zone's
// vendor and location policies (refs selects optional ones).
func (l *linter) containerPolicies(z *model.Zone, refs []model.Ref, c *model.Container, pos model.Pos, path, whose string) {
	vendors := applicable(z.Policies.Vendor, refs)
	locations := applicable(z.Policies.Location, refs)
	if len(vendors)+len(locations) == 0 {
		return
	}
	loc := c.Location.Name
	if loc == "" {
		l.errorf("policy-location", pos, path, "container %q has no location, so %s vendor and location policies cannot be checked; give it a location", c.Name, whose)
		return
	}
	vendor, _, _ := strings.Cut(loc, "/")
	for _, p := range vendors {
		if !p.Permits(vendor, equal) {
			l.errorf("policy-vendor", pos, path, "container %q is at vendor %s, which %s vendor policy %s does not allow", c.Name, vendor, whose, p.Name)
		}
	}
	for _, p := range locations {
		if !p.Permits(loc, locationMatches) {
			l.errorf("policy-location", pos, path, "container %q is at %s, which %s location policy %s does not allow", c.Name, loc, whose, p.Name)
		}
	}
}

// platformContainers are the containers a platform keeps data in.
func (l *linter) platformContainers(p *model.Platform) []*model.Container {
	if cs, ok := l.platformCs[p]; ok {
		return cs
	}
	cs := l.computePlatformContainers(p)
	if l.platformCs == nil {
		l.platformCs = map[*model.Platform][]*model.Container{}
	}
	l.platformCs[p] = cs
	return cs
}

func (l *linter) computePlatformContainers(p *model.Platform) []*model.Container {
	ai := p.AirflowIceberg
	if ai == nil {
		return nil
	}
	var out []*model.Container
	seen := map[string]bool{}
	for _, r := range []model.Ref{ai.Landing.Container, ai.Iceberg.Warehouse.Container, ai.Iceberg.Catalog.Container, ai.KafkaConnect.Container} {
		if c := l.ix.containers[r.Name]; c != nil && !seen[r.Name] {
			seen[r.Name] = true
			out = append(out, c)
		}
	}
	return out
}

// sinkPolicies checks one sink against the policies of the consuming
// workspace's zone and of the producing dataset's zone.
func (l *linter) sinkPolicies(w *model.Workspace, g *model.DatasetGroup, s model.Sink, ds *model.Datastore, d *model.Dataset, p *model.Platform) {
	gp := groupPath(w, g)
	consumer := w.Team.Zone
	producer := ds.Team.Zone
	classes := uniqueNames(classificationsOf(d))
	if consumer != nil {
		for _, pol := range applicable(consumer.Policies.Classification, w.Policies) {
			for _, c := range classes {
				if !pol.Permits(c, equal) {
					l.errorf("policy-classification", s.Pos, gp, "workspace %s may not consume %s data from %s: classification policy %s of zone %s; remove the sink or change the policy", w.Name, c, s, pol.Name, consumer.Name)
				}
			}
		}
	}
	if producer == nil {
		return
	}
	if producer != consumer {
		for _, pol := range applicable(producer.Policies.Classification, d.Policies) {
			for _, c := range classes {
				if !pol.Permits(c, equal) {
					l.errorf("policy-classification", s.Pos, gp, "%s data of %s may not leave zone %s: classification policy %s; remove the sink or ask zone %s's owner", c, s, producer.Name, pol.Name, producer.Name)
				}
			}
		}
	}
	if p == nil {
		return
	}
	for _, pol := range applicable(producer.Policies.Platform, d.Policies) {
		if !pol.Permits(p.Name, equal) {
			l.errorf("policy-platform", s.Pos, gp, "data of %s may not be processed by platform %s: platform policy %s of zone %s; choose an allowed platform for the group", s, p.Name, pol.Name, producer.Name)
		}
	}
	if cs := l.platformContainers(p); len(cs) > 0 {
		whose := "zone " + producer.Name + "'s (the producer's)"
		for _, c := range cs {
			l.containerPolicies(producer, d.Policies, c, s.Pos, gp, whose)
		}
	}
	if ai := p.AirflowIceberg; ai != nil {
		for _, pol := range applicable(producer.Policies.Storage, d.Policies) {
			for _, r := range []model.Ref{ai.Landing.Container, ai.Iceberg.Warehouse.Container} {
				if r.IsSet() && !pol.Permits(r.Name, equal) {
					l.errorf("policy-storage", s.Pos, gp, "platform %s would store %s in container %s, which storage policy %s of zone %s does not allow", p.Name, s, r.Name, pol.Name, producer.Name)
				}
			}
		}
	}
}

// groupPolicies checks a group's platform against the consuming zone's policies.
func (l *linter) groupPolicies(w *model.Workspace, platform model.Ref, p *model.Platform, path string) {
	z := w.Team.Zone
	if z == nil || p == nil {
		return
	}
	for _, pol := range applicable(z.Policies.Platform, w.Policies) {
		if !pol.Permits(p.Name, equal) {
			l.errorf("policy-platform", platform.Pos, path, "workspace %s may not use platform %s: platform policy %s of zone %s; choose an allowed platform", w.Name, p.Name, pol.Name, z.Name)
		}
	}
	for _, c := range l.platformContainers(p) {
		l.containerPolicies(z, w.Policies, c, platform.Pos, path, "zone "+z.Name+"'s (the consumer's)")
	}
}

func uniqueNames(rs []model.Ref) []string {
	var out []string
	var seen map[string]bool // only for long lists: a dataset has few classifications
	for _, r := range rs {
		switch {
		case seen != nil:
			if seen[r.Name] {
				continue
			}
			seen[r.Name] = true
		case slices.Contains(out, r.Name):
			continue
		case len(out) == 16:
			seen = make(map[string]bool, 64)
			for _, n := range out {
				seen[n] = true
			}
			seen[r.Name] = true
		}
		out = append(out, r.Name)
	}
	return out
}
