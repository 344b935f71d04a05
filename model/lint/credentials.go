package lint

import (
	"strings"

	"github.com/datasurface/datasurface/model"
)

// credentials checks who may use which credential: a credential belongs to
// the region that declares it; an ecosystem or zone credential reaches a
// team only through granted_to, whose entries must name teams that exist; a
// team's credentials are its own and not granted. Every credential's
// run-time name (model.ScopedCredential.RuntimeName) must be unambiguous.
// That references resolve as these scopes allow is checked where they are
// made (credentialRef).
func (l *linter) credentials() {
	e := l.m.Ecosystem
	if e == nil {
		return
	}
	eco := "ecosystem:" + e.Name
	for i := range e.Credentials {
		c := &e.Credentials[i]
		p := eco + "/credential:" + c.Name
		l.runtimeName(model.ScopedCredential{Credential: c}, p)
		for _, g := range c.GrantedTo {
			l.ecosystemGrant(c, g, p)
		}
	}
	for _, z := range l.m.Zones {
		zp := zonePath(z)
		// The names family does not know zone credentials: their names
		// are checked here, as the ecosystem's and the teams' are there.
		names := newScope(l, "credential")
		for i := range z.Credentials {
			c := &z.Credentials[i]
			p := zp + "/credential:" + c.Name
			names.add(c.Name, c.Pos, p)
			l.runtimeName(model.ScopedCredential{Credential: c, Zone: z.Name}, p)
			for _, g := range c.GrantedTo {
				if !declaresTeam(z, g.Name) {
					l.errorf("credential-grant", refPos(g, c.Pos), p, "zone %s grants credential %q to %q, which is not one of its teams; name a team declared in zone.yaml's teams (the ecosystem grants to other zones' teams)", z.Name, c.Name, g.Name)
				}
			}
		}
		for _, t := range z.Defs {
			for i := range t.Credentials {
				c := &t.Credentials[i]
				p := teamPath(t) + "/credential:" + c.Name
				l.runtimeName(model.ScopedCredential{Credential: c, Zone: z.Name, Team: t.Name}, p)
				if len(c.GrantedTo) > 0 {
					l.errorf("credential-grant", refPos(c.GrantedTo[0], c.Pos), p, "credential %q is team %s's own and cannot be granted; remove granted_to, and to share a secret declare it in zone.yaml or ecosystem.yaml with granted_to there", c.Name, t.Name)
				}
			}
		}
	}
}

// ecosystemGrant checks an ecosystem credential's grant: a declared zone, or
// zone/team with a team that zone declares.
func (l *linter) ecosystemGrant(c *model.Credential, g model.Ref, path string) {
	zone, team, hasTeam := strings.Cut(g.Name, "/")
	pos := refPos(g, c.Pos)
	if l.ix.zoneDecls[zone] == nil {
		l.errorf("credential-grant", pos, path, "credential %q is granted to %q, but there is no zone %q; write a zone declared in ecosystem.yaml's zones, or zone/team", c.Name, g.Name, zone)
		return
	}
	if !hasTeam {
		return
	}
	z := l.ix.zones[zone]
	switch {
	case team == "" || strings.Contains(team, "/"):
		l.errorf("credential-grant", pos, path, "credential %q is granted to %q; write a zone, or zone/team", c.Name, g.Name)
	case z != nil && !declaresTeam(z, team):
		l.errorf("credential-grant", pos, path, "credential %q is granted to %q, but zone %s declares no team %q; check the spelling in zones/%s/zone.yaml's teams", c.Name, g.Name, zone, team, zone)
	}
}

func declaresTeam(z *model.Zone, team string) bool {
	for _, t := range z.Teams {
		if t.Name == team {
			return true
		}
	}
	return false
}

// runtimeName checks that a credential's run-time name is unambiguous.
func (l *linter) runtimeName(c model.ScopedCredential, path string) {
	if !IsIdentifier(c.Name) || c.Zone != "" && !IsIdentifier(c.Zone) || c.Team != "" && !IsIdentifier(c.Team) {
		return // not a name at all: the names family reports it
	}
	err := c.CheckRuntimeName()
	if err == nil {
		return
	}
	fix := "rename the credential"
	if model.RuntimeNamePart(c.Name) {
		fix = "rename the " + strings.Fields(err.Error())[0] + ", or declare the credential where the names allow and grant it (granted_to)"
	}
	l.errorf("credential-runtime-name", c.Pos, path, "credential %q of %s is deployed as %s (Airflow connection, Kafka Connect secret file, and with '-' for '_' Kubernetes secret), but its %v: Kubernetes secret names are lower case and Airflow's AIRFLOW_CONN_ variables upper case, so case cannot tell credentials apart, and \"__\" separates the parts; %s", c.Name, c.Region(), c.RuntimeName(), err, fix)
}

// teamCredentialRef resolves a credential a team's capture or transformer
// names: the team's own, or one its zone or the ecosystem grants it. It
// reports what is not found or not granted and returns nil then.
func (l *linter) teamCredentialRef(t *model.Team, r model.Ref, pos model.Pos, path string) *model.ScopedCredential {
	c, ok, ungranted := l.m.TeamCredential(t, r.Name)
	if ok {
		return &c
	}
	zone := ""
	if t.Zone != nil {
		zone = t.Zone.Name
	}
	if len(ungranted) == 0 {
		l.errorf("ref-credential", refPos(r, pos), path, "credential %q is not declared; add it to team %s's credentials in team.yaml (name and kind only), or use one that its zone or the ecosystem grants it", r.Name, t.Name)
		return nil
	}
	u := ungranted[0]
	file, grantee := "ecosystem.yaml", zone+"/"+t.Name
	if u.Zone != "" {
		file, grantee = "zones/"+u.Zone+"/zone.yaml", t.Name
	}
	l.errorf("credential-not-granted", refPos(r, pos), path, "credential %q belongs to %s and is not granted to team %s/%s; declare the team's own credential in team.yaml, or have the owner of %s add %s to the credential's granted_to", r.Name, u.Region(), zone, t.Name, file, grantee)
	return nil
}
