package model_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/model"
)

const (
	ecoOwner       = "acme/model@main"
	retailOwner    = "acme/retail@main"
	crmOwner       = "acme/crm@main"
	marketingOwner = "acme/marketing@main"
	financeOwner   = "acme/finance@main"
)

// files is a model as path -> content.
type files map[string]string

// ownedExample is examples/customer-cdc with an owner per region.
func ownedExample(t *testing.T) files {
	t.Helper()
	out := files{}
	root := "../examples/customer-cdc"
	require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	}))
	out.edit(t, "ecosystem.yaml", "- {name: retail, owner: acme/model@main}", "- {name: retail, owner: "+retailOwner+"}")
	for team, owner := range map[string]string{"crm": crmOwner, "marketing": marketingOwner, "finance": financeOwner} {
		out.edit(t, "zones/retail/zone.yaml", "{name: "+team+", owner: acme/model@main}", "{name: "+team+", owner: "+owner+"}")
	}
	return out
}

func (f files) clone() files {
	out := files{}
	for k, v := range f {
		out[k] = v
	}
	return out
}

func (f files) edit(t *testing.T, path, old, new string) {
	t.Helper()
	require.Contains(t, f[path], old, path)
	f[path] = strings.Replace(f[path], old, new, 1)
}

func (f files) write(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range f {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644))
	}
	return dir
}

func (f files) load(t *testing.T) *model.Model {
	t.Helper()
	m, errs, err := model.LoadDir(context.Background(), f.write(t))
	require.NoError(t, err)
	require.Empty(t, errs)
	return m
}

// denied lists "region: owner" for the changes source may not make.
func denied(t *testing.T, base, head files, source string) []string {
	t.Helper()
	var out []string
	for _, c := range model.Authorize(model.Changes(base.load(t), head.load(t)), source) {
		out = append(out, c.Region.String()+" (owner "+c.Owner+"): "+strings.Join(c.Changes, "; "))
	}
	return out
}

func TestAuthorization(t *testing.T) {
	base := ownedExample(t)
	const newZone = "zones/wholesale/zone.yaml"
	const newZoneOwner = "acme/wholesale@main"

	// The ecosystem owner declares a zone; the zone's owner then defines it.
	declared := base.clone()
	declared.edit(t, "ecosystem.yaml", "- {name: retail, owner: "+retailOwner+"}", "- {name: retail, owner: "+retailOwner+"}\n  - {name: wholesale, owner: "+newZoneOwner+"}")
	assert.Empty(t, denied(t, base, declared, ecoOwner))
	assert.Equal(t, []string{"ecosystem (owner acme/model@main): zone wholesale declared (owner acme/wholesale@main)"}, denied(t, base, declared, newZoneOwner))
	defined := declared.clone()
	defined[newZone] = "zone: wholesale\ndocumentation: Wholesale.\n"
	assert.Empty(t, denied(t, declared, defined, newZoneOwner))
	assert.Equal(t, []string{"zone wholesale (owner acme/wholesale@main): zone wholesale defined"}, denied(t, declared, defined, ecoOwner))
	// Both in one MR take both owners.
	assert.Len(t, denied(t, base, defined, ecoOwner), 1)

	// A zone owner adds a team declaration to an existing zone.
	teamDecl := base.clone()
	teamDecl.edit(t, "zones/retail/zone.yaml", "teams:\n", "teams:\n  - {name: pricing, owner: acme/pricing@main}\n")
	assert.Empty(t, denied(t, base, teamDecl, retailOwner))
	assert.NotEmpty(t, denied(t, base, teamDecl, crmOwner))

	// A team edits its own datastore; another team may not; nor may the zone owner.
	own := base.clone()
	own.edit(t, "zones/retail/teams/crm/datastores/customer_db.yaml", "One row per customer.", "One row per customer, ever.")
	assert.Empty(t, denied(t, base, own, crmOwner))
	assert.Equal(t, []string{"team retail/crm (owner acme/crm@main): datastore customer_db changed"}, denied(t, base, own, marketingOwner))
	assert.Equal(t, []string{"team retail/crm (owner acme/crm@main): datastore customer_db changed"}, denied(t, base, own, retailOwner))

	// An owner hands a region to a new owner: the zone owner's change; then the new owner edits it.
	handed := base.clone()
	handed.edit(t, "zones/retail/zone.yaml", "{name: crm, owner: "+crmOwner+"}", "{name: crm, owner: acme/crm-v2@main}")
	assert.Empty(t, denied(t, base, handed, retailOwner))
	assert.Equal(t, []string{"zone retail (owner acme/retail@main): team crm handed from acme/crm@main to acme/crm-v2@main"}, denied(t, base, handed, crmOwner))
	edited := handed.clone()
	edited.edit(t, "zones/retail/teams/crm/team.yaml", "team: crm", "team: crm\n# new owner's change")
	edited.edit(t, "zones/retail/teams/crm/datastores/customer_db.yaml", "One row per customer.", "One row per client.")
	assert.Empty(t, denied(t, handed, edited, "acme/crm-v2@main"))
	assert.NotEmpty(t, denied(t, handed, edited, crmOwner))

	// Two-step deletion: the team owner removes the definition, then the zone owner the declaration.
	removedDef := base.clone()
	delete(removedDef, "zones/retail/teams/finance/team.yaml")
	delete(removedDef, "zones/retail/teams/finance/workspaces/credit_audit.yaml")
	assert.Empty(t, denied(t, base, removedDef, financeOwner))
	assert.Equal(t, []string{"team retail/finance (owner acme/finance@main): team finance definition removed"}, denied(t, base, removedDef, retailOwner))
	removedDecl := removedDef.clone()
	removedDecl.edit(t, "zones/retail/zone.yaml", "  - {name: finance, owner: "+financeOwner+"}\n", "")
	assert.Empty(t, denied(t, removedDef, removedDecl, retailOwner))
	assert.Len(t, denied(t, base, removedDecl, retailOwner), 1, "both steps at once need the team owner too")

	// An unknown source may change nothing; an unchanged model needs no owner.
	assert.Len(t, denied(t, base, own, "someone/else@main"), 1)
	assert.Empty(t, denied(t, base, base.clone(), "someone/else@main"))
	// Layout and formatting are not changes.
	reformatted := base.clone()
	reformatted.edit(t, "zones/retail/teams/crm/datastores/customer_db.yaml", "primary_key: [id]", "primary_key:\n      - id")
	assert.Empty(t, denied(t, base, reformatted, "someone/else@main"))
}

// TestLoadPairMatchesTwoLoads checks that the base LoadPair assembles from
// shared and re-read zones equals a base loaded on its own, and that the
// head's unchanged zones are shared.
func TestLoadPairMatchesTwoLoads(t *testing.T) {
	base := ownedExample(t)
	base["zones/wholesale/zone.yaml"] = "zone: wholesale\n"
	base.edit(t, "ecosystem.yaml", "- {name: retail, owner: "+retailOwner+"}", "- {name: retail, owner: "+retailOwner+"}\n  - {name: wholesale, owner: acme/w@main}")
	edits := map[string]func(files){
		"datastore edit": func(f files) {
			f.edit(t, customerDB, "One row per customer.", "One row per client.")
		},
		"zone removed": func(f files) { delete(f, "zones/wholesale/zone.yaml") },
		"zone added":   func(f files) { f["zones/outlet/zone.yaml"] = "zone: outlet\n" },
		"ecosystem edit": func(f files) {
			f.edit(t, "ecosystem.yaml", "- {name: retail, owner: "+retailOwner+"}", "- {name: retail, owner: acme/other@main}")
		},
		"nothing": func(files) {},
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			head := base.clone()
			edit(head)
			bdir, hdir := base.write(t), head.write(t)
			pb, ph, berrs, herrs, err := model.LoadPair(context.Background(), model.DirSource(bdir), model.DirSource(hdir))
			require.NoError(t, err)
			require.Empty(t, berrs)
			require.Empty(t, herrs)
			alone, errs, err := model.LoadDir(context.Background(), bdir)
			require.NoError(t, err)
			require.Empty(t, errs)
			assert.Empty(t, model.Changes(alone, pb), "the pair's base differs from the base")
			assert.Empty(t, model.Changes(pb, alone))
			assert.Equal(t, len(alone.Zones), len(pb.Zones))
			assert.Equal(t, model.Changes(alone, ph), model.Changes(pb, ph), "the same changes either way")
			if name != "ecosystem edit" {
				assert.Same(t, ph.Ecosystem, pb.Ecosystem, "an unchanged ecosystem is shared")
			}
		})
	}
}

// TestBlobHashIsGits checks that a folder's file hashes equal the blob
// hashes git stores, so a working tree compares with a revision unread.
func TestBlobHashIsGits(t *testing.T) {
	dir := ownedExample(t).write(t)
	r, err := git.PlainInit(dir, false)
	require.NoError(t, err)
	wt, err := r.Worktree()
	require.NoError(t, err)
	require.NoError(t, wt.AddGlob("."))
	_, err = wt.Commit("m", &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@e"}})
	require.NoError(t, err)
	gs := &model.GitSource{Repo: dir, Rev: "HEAD"}
	names, err := gs.Files(context.Background())
	require.NoError(t, err)
	require.NotEmpty(t, names)
	for _, n := range names {
		want, ok := gs.FileHash(n)
		require.True(t, ok)
		got, ok := model.DirSource(dir).FileHash(n)
		require.True(t, ok)
		assert.Equal(t, want, got, n)
	}
}
