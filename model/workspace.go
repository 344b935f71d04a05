package model

import (
	"fmt"
	"strings"

	"github.com/datasurface/datasurface/model/internal/decode"
	"github.com/datasurface/datasurface/model/internal/yamlnode"
)

// Workspace is a consumer's declaration of the data it needs, read from
// zones/<zone>/teams/<team>/workspaces/<workspace>.yaml.
type Workspace struct {
	Pos           Pos
	Name          string         `yaml:"workspace,required" doc:"The workspace's identifier, unique in the ecosystem; its Trino schema."`
	Documentation string         `yaml:"documentation" doc:"What the workspace is for (markdown)."`
	Production    bool           `yaml:"production" doc:"Whether the workspace serves production use."`
	Priority      Priority       `yaml:"priority" doc:"critical, high, medium (default) or low; orders its pipelines."`
	Policies      []Ref          `yaml:"policies" doc:"Optional policies of the zone that apply to this workspace."`
	Groups        []DatasetGroup `yaml:"groups" doc:"Dataset groups: sinks with shared requirements and platform."`
	Transformers  []Transformer  `yaml:"transformers" doc:"The workspace's own code producing an output datastore."`

	// Team is the team that defines the workspace.
	Team *Team
}

// Priority orders pipelines.
type Priority string

func (Priority) Values() []string { return []string{"critical", "high", "medium", "low"} }

// Weight is the priority as a number, higher first; medium when unset.
func (p Priority) Weight() int {
	switch p {
	case "critical":
		return 4
	case "high":
		return 3
	case "low":
		return 1
	}
	return 2
}

// DatasetGroup is a set of sinks with the same requirements, served by one platform.
type DatasetGroup struct {
	Pos           Pos
	Name          string       `yaml:"name,required" doc:"The group's identifier, unique in the workspace."`
	Documentation string       `yaml:"documentation" doc:"What the group is for."`
	Platform      Ref          `yaml:"platform,required" doc:"The platform that serves the group; moving a consumer between platforms is changing this line."`
	Requirements  Requirements `yaml:"requirements,required" doc:"What the consumer needs."`
	Sinks         []Sink       `yaml:"sinks" doc:"The datasets, as datastore.dataset or {dataset: datastore.dataset, deprecations_allowed: true}."`
	Migration     *Migration   `yaml:"migration" doc:"The group's move off a legacy platform: the legacy platform, the legacy table of each sink and the status (shadow, verified, switched)."`
}

// Requirements are what a consumer needs from a platform.
type Requirements struct {
	History HistoryMode `yaml:"history,required" doc:"live_only (the current rows) or forensic (every version with validity)."`
	Latency Latency     `yaml:"latency" doc:"seconds, minutes (default), hours or days."`
	// WriteMode lets readers choose: a table with many readers is cheaper
	// overall rewritten on write than merged on every read.
	WriteMode WriteMode `yaml:"write_mode" doc:"copy_on_write asks that the tables the group reads on its platform be rewritten on every change (slower writes, every read a plain scan: for tables with many readers); merge_on_read (default) leaves it to the platform. A table is copy_on_write when its platform or any group reading it asks for it. airflow-iceberg platforms only."`
}

// History modes.
const (
	HistoryLiveOnly = "live_only"
	HistoryForensic = "forensic"
)

// HistoryMode is whether history is kept.
type HistoryMode string

func (HistoryMode) Values() []string { return []string{HistoryLiveOnly, HistoryForensic} }

// Latency is how fresh data must be.
type Latency string

// Latencies, fastest first.
const (
	LatencySeconds = "seconds"
	LatencyMinutes = "minutes"
	LatencyHours   = "hours"
	LatencyDays    = "days"
)

func (Latency) Values() []string {
	return []string{LatencySeconds, LatencyMinutes, LatencyHours, LatencyDays}
}

// Rank orders latencies: seconds 0 ... days 3; unset means minutes.
func (l Latency) Rank() int {
	switch l {
	case LatencySeconds:
		return 0
	case LatencyHours:
		return 2
	case LatencyDays:
		return 3
	}
	return 1
}

// Sink is one dataset a group consumes.
type Sink struct {
	Pos                 Pos
	Datastore           string
	Dataset             string
	DeprecationsAllowed bool
}

func (s Sink) String() string { return s.Datastore + "." + s.Dataset }

type sinkMapping struct {
	Dataset             string `yaml:"dataset,required" doc:"datastore.dataset"`
	DeprecationsAllowed bool   `yaml:"deprecations_allowed" doc:"Acknowledge that the dataset is deprecated; its use then warns instead of failing."`
}

// UnmarshalNode reads "store.dataset" or {dataset: store.dataset, deprecations_allowed: b}.
func (s *Sink) UnmarshalNode(d *decode.Decoder, n *yamlnode.Node) error {
	s.Pos = d.PosOf(n)
	ref := n.Value
	switch n.Kind {
	case yamlnode.MappingNode:
		var m sinkMapping
		before := len(d.Errors)
		d.Decode(n, &m)
		if len(d.Errors) > before {
			return nil
		}
		ref, s.DeprecationsAllowed = m.Dataset, m.DeprecationsAllowed
	case yamlnode.ScalarNode:
	default:
		return fmt.Errorf("expected datastore.dataset or a mapping, found a %s", n.Kind)
	}
	store, ds, ok := strings.Cut(ref, ".")
	if !ok || store == "" || ds == "" || strings.Contains(ds, ".") {
		return fmt.Errorf("a sink is written datastore.dataset, found %q", ref)
	}
	s.Datastore, s.Dataset = store, ds
	return nil
}

// Transformer is a workspace's own code, run as a container, producing an
// output datastore that others can sink.
type Transformer struct {
	Pos           Pos
	Name          string     `yaml:"name,required" doc:"The transformer's identifier, unique in the workspace."`
	Documentation string     `yaml:"documentation" doc:"What it computes."`
	Platform      Ref        `yaml:"platform,required" doc:"The platform that runs it."`
	Image         string     `yaml:"image,required" doc:"The container image, registry/name:tag or @digest."`
	Command       []string   `yaml:"command" doc:"The command and its arguments."`
	Trigger       Trigger    `yaml:"trigger" doc:"When it runs."`
	Credentials   []Ref      `yaml:"credentials" doc:"The team's credentials it needs, made available by reference."`
	Output        *Datastore `yaml:"output,required" doc:"The datastore it produces (no capture: the platform stores it)."`
}
