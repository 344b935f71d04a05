package lint_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/model"
	"github.com/datasurface/datasurface/model/lint"
)

const enterpriseDir = "../../examples/enterprise"

func loadEnterprise(t *testing.T) *model.Model {
	t.Helper()
	m, errs, err := model.LoadDir(context.Background(), enterpriseDir)
	require.NoError(t, err)
	require.Empty(t, errs)
	return m
}

// TestEnterpriseWarningsAreDeliberate: the enterprise example has no errors
// and no infos, and its only warning is the acknowledged deprecation, which a
// YAML comment just above the sink explains.
func TestEnterpriseWarningsAreDeliberate(t *testing.T) {
	ps := lint.Lint(loadEnterprise(t))
	require.Len(t, ps, 1, "%v", ps)
	p := ps[0]
	assert.Equal(t, "sink-deprecated", p.Code)
	assert.Equal(t, lint.Warning, p.Severity)
	assert.Equal(t, enterpriseDir+"/zones/retail/teams/marketing/workspaces/campaigns.yaml", p.Pos.File)

	data, err := os.ReadFile(p.Pos.File)
	require.NoError(t, err)
	lines := strings.Split(string(data), "\n")
	require.Greater(t, int(p.Pos.Line), 1)
	assert.Contains(t, lines[p.Pos.Line-1], "deprecations_allowed: true")
	assert.Contains(t, lines[p.Pos.Line-2], "#", "the deliberate warning is explained by the comment above it")
	assert.Contains(t, string(data), "Deliberate warning (sink-deprecated)")
}

// TestEnterpriseExampleIsRich keeps the enterprise example exercising every
// part of the model, so that it stays the reference for every rule family.
func TestEnterpriseExampleIsRich(t *testing.T) {
	m := loadEnterprise(t)
	e := m.Ecosystem

	// Ownership: the ecosystem, each zone and several teams have distinct owners.
	owners := map[string]bool{e.Owner.Name: true}
	for _, z := range e.Zones {
		owners[z.Owner.Name] = true
	}
	require.Len(t, m.Zones, 2)
	zoneNames := map[string]*model.Zone{}
	for _, z := range m.Zones {
		zoneNames[z.Name] = z
		assert.GreaterOrEqual(t, len(z.Defs), 3, "zone %s has several teams", z.Name)
		for _, td := range z.Teams {
			owners[td.Owner.Name] = true
		}
	}
	assert.Contains(t, zoneNames, "retail")
	assert.Contains(t, zoneNames, "finance")
	assert.GreaterOrEqual(t, len(owners), 8, "distinct owners: %v", owners)
	for o := range owners {
		assert.True(t, lint.ValidOwner(o), o)
	}

	// Vendors: two, one with a location tree at least three deep.
	assert.Len(t, e.Vendors, 2)
	depth := 0
	var walk func(ls []model.Location, d int)
	walk = func(ls []model.Location, d int) {
		for _, l := range ls {
			depth = max(depth, d)
			walk(l.Locations, d+1)
		}
	}
	for _, v := range e.Vendors {
		walk(v.Locations, 1)
	}
	assert.GreaterOrEqual(t, depth, 3)

	// Policies of every kind, an optional one referenced, a denied list.
	kinds := map[string]bool{}
	optional, denied := map[string]bool{}, false
	for _, z := range m.Zones {
		p := z.Policies
		for kind, list := range map[string][]model.Policy{"classification": p.Classification, "vendor": p.Vendor, "location": p.Location, "storage": p.Storage, "platform": p.Platform} {
			for _, pol := range list {
				kinds[kind] = true
				if pol.Optional {
					optional[pol.Name] = true
				}
				if len(pol.Denied) > 0 {
					denied = true
				}
			}
		}
	}
	assert.Len(t, kinds, 5, "policy kinds: %v", kinds)
	assert.True(t, denied, "a denied-list policy")
	referenced := map[string]bool{}

	// Teams: containers of several kinds, credentials of several kinds.
	containerKinds, credKinds := map[string]bool{}, map[string]bool{}
	captureKinds, consistencies := map[string]bool{}, map[string]bool{}
	var cron, external, watermark, partitioned, datasetClass, columnClass, deprecatedWithReplacement bool
	nested := map[model.Base]bool{}
	var visitColumns func(cs []model.Column)
	visitColumns = func(cs []model.Column) {
		for _, c := range cs {
			if len(c.Classifications) > 0 {
				columnClass = true
			}
			if c.Type.Base.Nested() {
				nested[c.Type.Base] = true
			}
			visitColumns(c.Fields)
			if c.Element != nil && c.Element.Type.Base.Nested() {
				nested[c.Element.Type.Base] = true
				visitColumns(c.Element.Fields)
			}
		}
	}
	histories := map[string]map[model.HistoryMode]bool{"retail": {}, "finance": {}}
	groupPlatforms := map[string]bool{}
	migratingOff := map[string]bool{} // legacy platforms a group in shadow or verified runs beside
	var crossZone, ackedDeprecation, outputSunkElsewhere bool
	outputs := map[string]*model.Workspace{}
	for _, z := range m.Zones {
		for _, tm := range z.Defs {
			for _, c := range tm.Containers {
				containerKinds[c.Kind()] = true
			}
			for _, c := range tm.Credentials {
				credKinds[string(c.Kind)] = true
			}
			for _, ds := range tm.Datastores {
				c := ds.Capture
				require.NotNil(t, c, ds.Name)
				captureKinds[string(c.Kind)] = true
				consistencies[string(c.Consistency)] = true
				cron = cron || c.Trigger.Cron != ""
				external = external || c.Trigger.External
				watermark = watermark || c.WatermarkColumn != ""
				for _, d := range ds.Datasets {
					partitioned = partitioned || len(d.PartitionBy) > 0
					datasetClass = datasetClass || len(d.Classifications) > 0
					if d.Deprecated != nil && d.Deprecated.Replacement != "" {
						deprecatedWithReplacement = true
					}
					for _, r := range d.Policies {
						referenced[r.Name] = true
					}
					visitColumns(d.Columns)
				}
			}
			for _, w := range tm.Workspaces {
				for _, r := range w.Policies {
					referenced[r.Name] = true
				}
				for _, tr := range w.Transformers {
					require.NotNil(t, tr.Output)
					outputs[tr.Output.Name] = w
				}
			}
		}
	}
	for _, z := range m.Zones {
		for _, tm := range z.Defs {
			for _, w := range tm.Workspaces {
				for _, g := range w.Groups {
					histories[z.Name][g.Requirements.History] = true
					groupPlatforms[g.Platform.Name] = true
					if mg := g.Migration; mg != nil && mg.Status.Reconciles() {
						migratingOff[mg.LegacyPlatform.Name] = true
					}
					for _, s := range g.Sinks {
						ackedDeprecation = ackedDeprecation || s.DeprecationsAllowed
						if src := outputs[s.Datastore]; src != nil && src != w {
							outputSunkElsewhere = true
						}
						for _, oz := range m.Zones {
							if oz == z {
								continue
							}
							for _, ot := range oz.Defs {
								for _, ds := range ot.Datastores {
									crossZone = crossZone || ds.Name == s.Datastore
								}
							}
						}
					}
				}
			}
		}
	}
	assert.GreaterOrEqual(t, len(containerKinds), 3, "team container kinds: %v", containerKinds)
	assert.GreaterOrEqual(t, len(credKinds), 3, "team credential kinds: %v", credKinds)
	assert.Len(t, captureKinds, 3, "capture kinds: %v", captureKinds)
	assert.True(t, consistencies[model.MultiDataset], "a multi_dataset store")
	assert.True(t, cron && external && watermark && partitioned)
	assert.True(t, datasetClass && columnClass, "classifications at dataset and column level")
	assert.Len(t, nested, 3, "struct, list and map: %v", nested)
	assert.True(t, deprecatedWithReplacement && ackedDeprecation)
	for name := range optional {
		assert.True(t, referenced[name], "optional policy %s is referenced", name)
	}
	assert.GreaterOrEqual(t, len(optional), 2)
	for zone, h := range histories {
		assert.True(t, h[model.HistoryLiveOnly] && h[model.HistoryForensic], "zone %s has live_only and forensic groups", zone)
	}
	assert.True(t, crossZone, "a cross-zone sink")
	assert.True(t, outputSunkElsewhere, "a transformer's output sunk by another workspace")

	// Platforms: Airflow 3 + docker, Airflow 2 + kubernetes with a namespace,
	// and a legacy platform that still serves a group, beside the platform
	// the group is moving to.
	var af3docker, af2k8s, legacyServing bool
	for _, p := range e.Platforms {
		if ai := p.AirflowIceberg; ai != nil {
			af3docker = af3docker || ai.Airflow.Version == 3 && ai.Airflow.Operator == "docker"
			af2k8s = af2k8s || ai.Airflow.Version == 2 && ai.Airflow.Operator == "kubernetes" && ai.Airflow.Namespace != ""
		}
		if p.Kind == model.PlatformLegacy && (groupPlatforms[p.Name] || migratingOff[p.Name]) {
			legacyServing = true
		}
	}
	assert.True(t, af3docker && af2k8s && legacyServing)
}
