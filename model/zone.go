package model

// Zone is a governance zone, read from zones/<zone>/zone.yaml.
type Zone struct {
	Pos           Pos
	Name          string       `yaml:"zone,required" doc:"The zone's identifier, as declared in ecosystem.yaml."`
	Documentation string       `yaml:"documentation" doc:"What the zone governs (markdown)."`
	Policies      Policies     `yaml:"policies" doc:"The zone's policies."`
	Credentials   []Credential `yaml:"credentials" doc:"Credentials the zone provides, by name only; a team of the zone uses one only when its granted_to names the team."`
	Teams         []TeamDecl   `yaml:"teams" doc:"Teams in the zone and the repositories that own them."`

	// Dir is the zone's folder, zones/<zone>.
	Dir string
	// Defs are the teams defined by zones/<zone>/teams/<team>/team.yaml.
	Defs []*Team
}

// Policies are a zone's policies by kind. A policy applies to everything in
// the zone unless it is optional, then only to what references it.
type Policies struct {
	Classification []Policy `yaml:"classification" doc:"Which classifications may be consumed by the zone's workspaces, and which of the zone's may leave it."`
	Vendor         []Policy `yaml:"vendor" doc:"Which vendors may hold the zone's data (its containers and the platforms that process it)."`
	Location       []Policy `yaml:"location" doc:"Which locations may hold the zone's data (location paths; a location allows its sublocations)."`
	Storage        []Policy `yaml:"storage" doc:"Which containers the zone's datasets may be stored in."`
	Platform       []Policy `yaml:"platform" doc:"Which platforms may process the zone's data and serve its workspaces."`
}

// Policy allows or denies a set of names. Exactly one of allowed and denied is given.
type Policy struct {
	Pos           Pos
	Name          string `yaml:"name,required" doc:"The policy's identifier, unique in the zone."`
	Documentation string `yaml:"documentation" doc:"Why the policy exists."`
	Optional      bool   `yaml:"optional" doc:"Apply only to datasets and workspaces that list it in their policies."`
	Allowed       []Ref  `yaml:"allowed" doc:"The names allowed; anything else is refused."`
	Denied        []Ref  `yaml:"denied" doc:"The names refused; anything else is allowed."`
}

// Permits reports whether the policy lets name through. match compares a
// policy entry with the name (equality, or a location prefix).
func (p *Policy) Permits(name string, match func(entry, name string) bool) bool {
	if len(p.Allowed) > 0 {
		for _, a := range p.Allowed {
			if match(a.Name, name) {
				return true
			}
		}
		return false
	}
	for _, d := range p.Denied {
		if match(d.Name, name) {
			return false
		}
	}
	return true
}

// Team is a team's definition, read from zones/<zone>/teams/<team>/team.yaml.
type Team struct {
	Pos           Pos
	Name          string       `yaml:"team,required" doc:"The team's identifier, as declared in its zone."`
	Documentation string       `yaml:"documentation" doc:"Who the team is and how to reach it (markdown)."`
	Containers    []Container  `yaml:"containers" doc:"The team's data containers."`
	Credentials   []Credential `yaml:"credentials" doc:"The team's own credentials, by name only; only the team uses them."`

	// Dir is the team's folder.
	Dir string
	// Zone is the zone whose folder holds the team.
	Zone *Zone
	// Datastores are read from the team's datastores/*.yaml.
	Datastores []*Datastore
	// Workspaces are read from the team's workspaces/*.yaml.
	Workspaces []*Workspace
}
