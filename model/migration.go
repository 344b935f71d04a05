package model

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/datasurface/datasurface/model/internal/decode"
	"github.com/datasurface/datasurface/model/internal/yamlnode"
)

// Migration statuses, in the order a migration moves through them.
const (
	// MigrationShadow: the group's platform runs beside the legacy one and
	// every merge is reconciled against the legacy table.
	MigrationShadow = "shadow"
	// MigrationVerified: the tables agreed; reconciling continues until the
	// consumer switches.
	MigrationVerified = "verified"
	// MigrationSwitched: the consumer reads the new platform; no reconcile
	// runs and the legacy pipeline can be retired.
	MigrationSwitched = "switched"
)

// MigrationStatus is where a group's move off a legacy platform stands.
type MigrationStatus string

func (MigrationStatus) Values() []string {
	return []string{MigrationShadow, MigrationVerified, MigrationSwitched}
}

// Reconciles reports whether the status asks for a reconcile after each merge.
func (s MigrationStatus) Reconciles() bool {
	return s == MigrationShadow || s == MigrationVerified
}

// Migration is a dataset group's move from a legacy platform to its own:
// both run side by side while the status is shadow or verified.
type Migration struct {
	Pos              Pos
	LegacyPlatform   Ref                 `yaml:"legacy_platform,required" doc:"The legacy platform the group is moving off; a platform of kind legacy."`
	Status           MigrationStatus     `yaml:"status,required" doc:"shadow (both run, every merge is reconciled against the legacy table), verified (they agreed; reconciling continues) or switched (the consumer reads the new platform; no reconcile; the legacy pipeline can be retired)."`
	LegacyContainer  Ref                 `yaml:"legacy_container" doc:"The postgres container holding the legacy tables (the team's or the ecosystem's); required while the status reconciles."`
	LegacyCredential Ref                 `yaml:"legacy_credential" doc:"A user_password credential that can read the legacy tables (the team's or one granted to it); required while the status reconciles."`
	Tables           MigrationTables     `yaml:"tables,required" doc:"Each sink of the group, datastore.dataset, mapped to the legacy table holding the same data, schema.table."`
	Tolerances       MigrationTolerances `yaml:"tolerances" doc:"Where the legacy tables differ from the new ones by design; reconcile accepts these differences (default: none, every value compared exactly)."`
}

// MigrationTolerances are reconcile's tolerances for a migration's tables.
type MigrationTolerances struct {
	Pos                Pos
	TimestampPrecision TimestampPrecision `yaml:"timestamp_precision" doc:"Truncate times and timestamps of both sides to this unit before comparing: us, ms or s (for a legacy copy that keeps milliseconds, say)."`
	FloatEpsilon       float64            `yaml:"float_epsilon" doc:"Floats are equal when at most this far apart (for a legacy copy that rounds); 0 or more."`
	TrimText           bool               `yaml:"trim_text" doc:"Ignore trailing spaces of text (for a legacy copy that pads char columns)."`
}

// Args are the tolerances as merge-runner reconcile's flags; none when the
// comparison is exact.
func (t MigrationTolerances) Args() []string {
	var out []string
	if t.TimestampPrecision != "" {
		out = append(out, "--timestamp-precision", string(t.TimestampPrecision))
	}
	if t.FloatEpsilon > 0 {
		out = append(out, "--float-epsilon", strconv.FormatFloat(t.FloatEpsilon, 'g', -1, 64))
	}
	if t.TrimText {
		out = append(out, "--trim-text")
	}
	return out
}

// TimestampPrecision is the unit reconcile truncates times to.
type TimestampPrecision string

func (TimestampPrecision) Values() []string { return []string{"us", "ms", "s"} }

// MigrationTable maps one sink to its legacy table.
type MigrationTable struct {
	Pos    Pos
	Sink   string // datastore.dataset
	Schema string
	Table  string
}

// Legacy is the legacy table as schema.table.
func (t MigrationTable) Legacy() string { return t.Schema + "." + t.Table }

// MigrationTables is the tables mapping, decoded from a YAML mapping in
// file order.
type MigrationTables []MigrationTable

// UnmarshalNode reads {datastore.dataset: schema.table, ...}.
func (ts *MigrationTables) UnmarshalNode(d *decode.Decoder, n *yamlnode.Node) error {
	if n.Kind != yamlnode.MappingNode {
		return fmt.Errorf("tables is a mapping of datastore.dataset to the legacy schema.table, found a %s", n.Kind)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yamlnode.ScalarNode {
			return fmt.Errorf("the legacy table of %s is written schema.table, found a %s", k.Value, v.Kind)
		}
		// The node's text is a view of the parser's buffer, which the next
		// file reuses: keep copies.
		sink, legacy := strings.Clone(k.Value), strings.Clone(v.Value)
		schema, table, ok := strings.Cut(legacy, ".")
		if !ok || schema == "" || table == "" || strings.Contains(table, ".") {
			return fmt.Errorf("the legacy table of %s is written schema.table, found %q", sink, legacy)
		}
		*ts = append(*ts, MigrationTable{Pos: d.PosOf(k), Sink: sink, Schema: schema, Table: table})
	}
	return nil
}

// JSONSchema of the tables mapping.
func (MigrationTables) JSONSchema() map[string]any {
	return map[string]any{
		"type":                 "object",
		"propertyNames":        map[string]any{"pattern": `^[^.]+\.[^.]+$`},
		"additionalProperties": map[string]any{"type": "string", "pattern": `^[^.]+\.[^.]+$`},
	}
}

// LegacyTable is the legacy table a sink maps to, if any.
func (m *Migration) LegacyTable(sink string) (MigrationTable, bool) {
	for _, t := range m.Tables {
		if t.Sink == sink {
			return t, true
		}
	}
	return MigrationTable{}, false
}
