package model_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/model"
)

const campaignsWS = "zones/retail/teams/marketing/workspaces/campaigns.yaml"

// withMigration gives campaigns' live_customers a migration in status.
func withMigration(t *testing.T, f files, status string) files {
	t.Helper()
	out := f.clone()
	out.edit(t, campaignsWS, "      - product_catalog.products\n", "      - product_catalog.products\n"+
		"    migration:\n      legacy_platform: old_dw\n      status: "+status+"\n      legacy_container: dw_db\n      legacy_credential: dw_reader\n"+
		"      tables:\n        customer_db.customers: crm.customers\n        customer_db.addresses: crm.addresses\n        product_catalog.products: \"catalog.products\"\n")
	return out
}

func TestMigrationDecodes(t *testing.T) {
	m := withMigration(t, ownedExample(t), model.MigrationShadow).load(t)
	var g *model.DatasetGroup
	for _, z := range m.Zones {
		for _, tm := range z.Defs {
			for _, w := range tm.Workspaces {
				if w.Name == "campaigns" {
					g = &w.Groups[0]
				}
			}
		}
	}
	require.NotNil(t, g)
	require.NotNil(t, g.Migration)
	mg := g.Migration
	assert.Equal(t, "old_dw", mg.LegacyPlatform.Name)
	assert.Equal(t, model.MigrationStatus("shadow"), mg.Status)
	assert.True(t, mg.Status.Reconciles())
	assert.Equal(t, "dw_db", mg.LegacyContainer.Name)
	assert.Equal(t, "dw_reader", mg.LegacyCredential.Name)
	var got []string
	for _, tb := range mg.Tables {
		got = append(got, tb.Sink+"="+tb.Legacy())
	}
	// In file order.
	assert.Equal(t, []string{"customer_db.customers=crm.customers", "customer_db.addresses=crm.addresses", "product_catalog.products=catalog.products"}, got)
	tb, ok := mg.LegacyTable("customer_db.addresses")
	assert.True(t, ok)
	assert.Equal(t, "addresses", tb.Table)
	assert.False(t, model.MigrationStatus(model.MigrationSwitched).Reconciles())
}

func TestMigrationTablesRefused(t *testing.T) {
	for name, tables := range map[string]string{
		"not schema.table": "{customer_db.customers: customers}",
		"three parts":      "{customer_db.customers: db.crm.customers}",
		"a list":           "[crm.customers]",
	} {
		t.Run(name, func(t *testing.T) {
			f := ownedExample(t)
			f.edit(t, campaignsWS, "      - product_catalog.products\n", "      - product_catalog.products\n    migration: {legacy_platform: old_dw, status: shadow, tables: "+tables+"}\n")
			_, errs, err := model.LoadDir(t.Context(), f.write(t))
			require.NoError(t, err)
			require.NotEmpty(t, errs, "tables %s was accepted", tables)
			assert.Contains(t, errs[0].Error(), "schema.table")
		})
	}
}

// A status change is a change of the workspace, which is the owning team's
// file: the team may make it, its zone's owner may not.
func TestMigrationStatusChangeIsTheTeams(t *testing.T) {
	base := withMigration(t, ownedExample(t), model.MigrationShadow)
	head := withMigration(t, ownedExample(t), model.MigrationVerified)
	assert.Empty(t, denied(t, base, head, marketingOwner))
	got := denied(t, base, head, retailOwner)
	require.Len(t, got, 1)
	assert.Contains(t, got[0], "team retail/marketing (owner acme/marketing@main): workspace campaigns changed")
	// The check names the step, so a reviewer sees what the change claims.
	assert.Regexp(t, `; workspace campaigns, group \w+: migration off old_dw shadow → verified$`, got[0])

	none := ownedExample(t)
	assert.Regexp(t, `group \w+: migration off old_dw begins \(shadow\)`, strings.Join(denied(t, none, base, retailOwner), "\n"))
	assert.Regexp(t, `group \w+: migration off old_dw ends \(was shadow\)`, strings.Join(denied(t, base, none, retailOwner), "\n"))
}
