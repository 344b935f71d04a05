package model

import (
	"fmt"
	"strings"
)

// Credential names a secret without holding it. It belongs to the region
// that declares it: the ecosystem (ecosystem.yaml), a zone (zone.yaml) or a
// team (team.yaml). A team uses its own credentials and those its zone or
// the ecosystem grant to it; the platforms use the ecosystem's.
type Credential struct {
	Pos           Pos
	Name          string         `yaml:"name,required" doc:"The credential's identifier, in lower case with single underscores; the deployment's secret is named after it and the region that declares it (ds__<zone>__<team>__<name>)."`
	Kind          CredentialKind `yaml:"kind,required" doc:"What kind of secret it is."`
	Documentation string         `yaml:"documentation" doc:"Notes on the credential (never the secret)."`
	GrantedTo     []Ref          `yaml:"granted_to" doc:"For an ecosystem or zone credential: the teams that may use it. In ecosystem.yaml a zone name (every team of the zone) or zone/team; in zone.yaml a team of the zone. A team's own credentials are not granted."`
}

// CredentialKind is the kind of a credential.
type CredentialKind string

func (CredentialKind) Values() []string {
	return []string{"user_password", "s3_keys", "token", "certificate", "kafka_sasl"}
}

// ScopedCredential is a credential with the region that declares it: the
// ecosystem (Zone and Team empty), a zone (Team empty) or a team.
type ScopedCredential struct {
	*Credential
	Zone, Team string
}

// Region names the declaring region as problems and messages do.
func (c ScopedCredential) Region() string {
	switch {
	case c.Zone == "" && c.Team == "":
		return "the ecosystem"
	case c.Team == "":
		return "zone " + c.Zone
	}
	return "team " + c.Zone + "/" + c.Team
}

// RuntimeSeparator separates the parts of a run-time name.
const RuntimeSeparator = "__"

// RuntimeName is the name the deployment knows the credential by: the
// Airflow connection id and the Kafka Connect secret file's base name.
// ds__<credential> for the ecosystem's, ds__<zone>__<credential> for a
// zone's, ds__<zone>__<team>__<credential> for a team's, so that two
// regions' credentials of one name never meet. It is injective on the names
// RuntimeNamePart accepts: no part contains "__" or starts or ends with '_',
// so splitting at "__" gives the parts back, and their number the kind of
// region.
func (c ScopedCredential) RuntimeName() string {
	parts := []string{"ds"}
	if c.Zone != "" || c.Team != "" {
		parts = append(parts, c.Zone)
	}
	if c.Team != "" {
		parts = append(parts, c.Team)
	}
	return strings.Join(append(parts, c.Name), RuntimeSeparator)
}

// KubernetesSecretName is the Kubernetes secret the kubernetes operator reads
// the credential from: RuntimeName with '_' as '-'. Secret names are DNS
// subdomains (RFC 1123: lower case letters, digits, '-' and '.', starting and
// ending with a letter or digit, at most 253 characters; Kubernetes
// apimachinery IsDNS1123Subdomain). RuntimeName has no '-', so the mapping
// keeps it injective; at most 2+3*(2+63) characters.
func (c ScopedCredential) KubernetesSecretName() string {
	return strings.ReplaceAll(c.RuntimeName(), "_", "-")
}

// CheckRuntimeName says why the credential's run-time name would be
// ambiguous, or nil. Every part must be RuntimeNamePart: Kubernetes secret
// names are lower case and Airflow reads connections from environment
// variables named AIRFLOW_CONN_ + the upper-cased id
// (airflow.secrets.environment_variables), so case cannot tell two
// credentials apart, and "__" separates the parts.
func (c ScopedCredential) CheckRuntimeName() error {
	if c.Credential == nil {
		return fmt.Errorf("no credential")
	}
	if (c.Zone != "" || c.Team != "") && !RuntimeNamePart(c.Zone) {
		return fmt.Errorf("zone name %q is not lower-case letters, digits and single underscores", c.Zone)
	}
	if c.Team != "" && !RuntimeNamePart(c.Team) {
		return fmt.Errorf("team name %q is not lower-case letters, digits and single underscores", c.Team)
	}
	if !RuntimeNamePart(c.Name) {
		return fmt.Errorf("name %q is not lower-case letters, digits and single underscores", c.Name)
	}
	return nil
}

// RuntimeNamePart reports whether s can be a part of a run-time name:
// ^[a-z][a-z0-9]*(_[a-z0-9]+)*$, at most MaxIdentifierLength characters.
func RuntimeNamePart(s string) bool {
	if s == "" || len(s) > MaxIdentifierLength || s[0] < 'a' || s[0] > 'z' || s[len(s)-1] == '_' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '_':
			if s[i-1] == '_' {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// EcosystemCredential finds one of the ecosystem's credentials, as the
// platforms' settings name them.
func (m *Model) EcosystemCredential(name string) (ScopedCredential, bool) {
	if m.Ecosystem == nil {
		return ScopedCredential{}, false
	}
	if c := findCredential(m.Ecosystem.Credentials, name); c != nil {
		return ScopedCredential{Credential: c}, true
	}
	return ScopedCredential{}, false
}

// TeamCredential resolves a credential name as team t may use it: its own
// credential of that name, else its zone's if granted to t, else the
// ecosystem's if granted to t. Ungranted lists the zone's and the
// ecosystem's credentials of that name that are not granted to t, for the
// message when nothing is found.
func (m *Model) TeamCredential(t *Team, name string) (c ScopedCredential, ok bool, ungranted []ScopedCredential) {
	if t == nil {
		return ScopedCredential{}, false, nil
	}
	zone := ""
	if t.Zone != nil {
		zone = t.Zone.Name
	}
	if cr := findCredential(t.Credentials, name); cr != nil {
		return ScopedCredential{Credential: cr, Zone: zone, Team: t.Name}, true, nil
	}
	if t.Zone != nil {
		if cr := findCredential(t.Zone.Credentials, name); cr != nil {
			sc := ScopedCredential{Credential: cr, Zone: zone}
			if cr.GrantsZoneTeam(t.Name) {
				return sc, true, nil
			}
			ungranted = append(ungranted, sc)
		}
	}
	if m.Ecosystem != nil {
		if cr := findCredential(m.Ecosystem.Credentials, name); cr != nil {
			sc := ScopedCredential{Credential: cr}
			if t.Zone != nil && cr.GrantsEcosystemTeam(zone, t.Name) {
				return sc, true, nil
			}
			ungranted = append(ungranted, sc)
		}
	}
	return ScopedCredential{}, false, ungranted
}

// GrantsZoneTeam reports whether a zone's credential is granted to its team.
func (c *Credential) GrantsZoneTeam(team string) bool {
	for _, g := range c.GrantedTo {
		if g.Name == team {
			return true
		}
	}
	return false
}

// GrantsEcosystemTeam reports whether an ecosystem credential is granted to
// team zone/team: by the zone's name or by zone/team.
func (c *Credential) GrantsEcosystemTeam(zone, team string) bool {
	for _, g := range c.GrantedTo {
		if g.Name == zone || g.Name == zone+"/"+team {
			return true
		}
	}
	return false
}

func findCredential(cs []Credential, name string) *Credential {
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i]
		}
	}
	return nil
}
