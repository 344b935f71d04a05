package model

// Ecosystem is the root of the model, read from ecosystem.yaml.
type Ecosystem struct {
	Pos             Pos
	Name            string           `yaml:"ecosystem,required" doc:"The ecosystem's name."`
	Owner           Owner            `yaml:"owner,required" doc:"The repository that owns this file: <GitLab project path>@<branch>."`
	Documentation   string           `yaml:"documentation" doc:"What this ecosystem is (markdown)."`
	Classifications []Classification `yaml:"classifications" doc:"The data classifications datasets and columns may carry."`
	Vendors         []Vendor         `yaml:"vendors" doc:"Infrastructure vendors and their location trees."`
	Containers      []Container      `yaml:"containers" doc:"Infrastructure shared by the platforms: object storage, catalogs, Kafka Connect."`
	Credentials     []Credential     `yaml:"credentials" doc:"Credentials the platforms use, by name only; secrets live in the platforms' secret stores. A team uses one only when its granted_to names the team or its zone."`
	Platforms       []Platform       `yaml:"platforms" doc:"Data platforms that serve dataset groups."`
	Zones           []ZoneDecl       `yaml:"zones" doc:"Governance zones and the repositories that own them."`
}

// Classification is one data classification, e.g. public or cpi.
type Classification struct {
	Pos           Pos
	Name          string `yaml:"name,required" doc:"The classification's identifier."`
	Documentation string `yaml:"documentation" doc:"What data carries this classification."`
}

// Vendor is an infrastructure vendor with its location tree.
type Vendor struct {
	Pos           Pos
	Name          string     `yaml:"name,required" doc:"The vendor's identifier, e.g. aws or onprem."`
	Documentation string     `yaml:"documentation" doc:"Notes on the vendor."`
	Locations     []Location `yaml:"locations" doc:"The vendor's locations (regions, data centres), nested."`
}

// Location is a node of a vendor's location tree; containers name it by its
// path, vendor/location/sublocation.
type Location struct {
	Pos           Pos
	Name          string     `yaml:"name,required" doc:"The location's identifier."`
	Documentation string     `yaml:"documentation" doc:"Notes on the location."`
	Locations     []Location `yaml:"locations" doc:"Locations inside this one."`
}

// ZoneDecl declares a governance zone and who owns its definition.
type ZoneDecl struct {
	Pos   Pos
	Name  string `yaml:"name,required" doc:"The zone's identifier; its folder is zones/<name>."`
	Owner Owner  `yaml:"owner,required" doc:"The repository that defines the zone: <GitLab project path>@<branch>."`
}

// TeamDecl declares a team in a zone and who owns its definition.
type TeamDecl struct {
	Pos   Pos
	Name  string `yaml:"name,required" doc:"The team's identifier; its folder is zones/<zone>/teams/<name>."`
	Owner Owner  `yaml:"owner,required" doc:"The repository that defines the team: <GitLab project path>@<branch>."`
}
