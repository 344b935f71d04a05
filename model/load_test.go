package model_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/model"
)

func TestLoadCustomerCDC(t *testing.T) {
	m, errs, err := model.LoadDir(context.Background(), "../examples/customer-cdc")
	require.NoError(t, err)
	require.Empty(t, errs)
	assert.Equal(t, "acme", m.Ecosystem.Name)
	require.Len(t, m.Zones, 1)
	z := m.Zones[0]
	assert.Equal(t, "retail", z.Name)
	require.Len(t, z.Defs, 3)
	crm := z.Defs[0]
	assert.Equal(t, "crm", crm.Name)
	require.Len(t, crm.Datastores, 2)
	ds := crm.Datastores[0]
	assert.Equal(t, "customer_db", ds.Name)
	assert.Equal(t, model.CaptureDebezium, string(ds.Capture.Kind))
	cust := ds.Datasets[0]
	assert.Equal(t, "customers", cust.Name)
	assert.Equal(t, "id", cust.PrimaryKey[0].Name)
	assert.Equal(t, model.Pos{File: "../examples/customer-cdc/zones/retail/teams/crm/datastores/customer_db.yaml", Line: 15, Col: 9}, cust.Columns[0].Pos)
	assert.Equal(t, "decimal(12,2)", cust.Columns[6].Type.String())
	geo := ds.Datasets[1].Column("geo")
	require.NotNil(t, geo)
	assert.Equal(t, model.TypeStruct, geo.Type.Base)
	assert.Len(t, geo.Fields, 2)
	prod := crm.Datastores[1].Datasets[0]
	assert.Equal(t, model.TypeList, prod.Column("tags").Type.Base)
	assert.Equal(t, model.TypeVarchar, prod.Column("tags").Element.Type.Base)
	assert.Equal(t, model.TypeText, prod.Column("attributes").Value.Type.Base)
	ws := z.Defs[2].Workspaces[0]
	assert.Equal(t, "campaigns", ws.Name)
	assert.Equal(t, "customer_db", ws.Groups[0].Sinks[0].Datastore)
	assert.Equal(t, "customers", ws.Groups[0].Sinks[0].Dataset)
}

// writeModel writes files (path -> content) into a fresh folder.
func writeModel(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

const minimalEcosystem = "ecosystem: e\nowner: g/p@main\nzones:\n  - {name: z, owner: g/p@main}\n"

func TestStrictDecodingErrors(t *testing.T) {
	cases := []struct {
		name, file, content, code string
		line, col                 int32
	}{
		{"unknown key", "zones/z/zone.yaml", "zone: z\ndocumentaton: typo\n", "load-unknown-key", 2, 1},
		{"duplicate key", "zones/z/zone.yaml", "zone: z\ndocumentation: a\ndocumentation: b\n", "load-duplicate-key", 3, 1},
		{"wrong type", "zones/z/zone.yaml", "zone: z\nteams: {name: t}\n", "load-type", 2, 8},
		{"missing key", "zones/z/zone.yaml", "documentation: x\n", "load-missing-key", 1, 1},
		{"bad enum", "zones/z/teams/t/team.yaml", "team: t\ncredentials:\n  - {name: c, kind: password}\n", "load-value", 3, 21},
		{"bad type", "zones/z/teams/t/datastores/s.yaml", "datastore: s\ndatasets:\n  - name: d\n    columns:\n      - {name: c, type: varchr(10)}\n", "load-value", 5, 25},
		{"syntax", "zones/z/zone.yaml", "zone: z\n  teams: [\n", "load-syntax", 0, 0},
		{"layout", "zones/z/stray.yaml", "x: 1\n", "load-layout", 1, 1},
		{"bad platform write mode", "ecosystem.yaml", minimalEcosystem + "platforms:\n  - name: p\n    kind: airflow-iceberg\n    airflow_iceberg:\n      images: {merge_runner: r}\n      landing: {container: c, bucket: b}\n      iceberg:\n        catalog: {kind: rest, name: c}\n        warehouse: {container: c, bucket: w}\n        write_mode: copy-on-write\n", "load-value", 14, 21},
		{"bad group write mode", "zones/z/teams/t/workspaces/w.yaml", "workspace: w\ngroups:\n  - name: g\n    platform: p\n    requirements: {history: live_only, write_mode: merge_on_write}\n", "load-value", 5, 52},
		{"bad sink", "zones/z/teams/t/workspaces/w.yaml", "workspace: w\ngroups:\n  - name: g\n    platform: p\n    requirements: {history: live_only}\n    sinks: [nodot]\n", "load-value", 6, 13},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"ecosystem.yaml": minimalEcosystem, "zones/z/zone.yaml": "zone: z\nteams:\n  - {name: t, owner: g/p@main}\n", "zones/z/teams/t/team.yaml": "team: t\n"}
			files[c.file] = c.content
			dir := writeModel(t, files)
			_, errs, err := model.LoadDir(context.Background(), dir)
			require.NoError(t, err)
			require.NotEmpty(t, errs)
			e := errs[0]
			assert.Equal(t, c.code, e.Code, e.Error())
			assert.Equal(t, filepath.ToSlash(filepath.Join(dir, c.file)), e.Pos.File)
			if c.line > 0 {
				assert.Equal(t, c.line, e.Pos.Line, e.Error())
				assert.Equal(t, c.col, e.Pos.Col, e.Error())
			}
		})
	}
}

func TestLoadGitRevision(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := writeModel(t, map[string]string{"ecosystem.yaml": minimalEcosystem, "zones/z/zone.yaml": "zone: z\n"})
	gitCmd := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@e"}, args...)...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
	}
	gitCmd("init", "-q", "-b", "main")
	gitCmd("add", ".")
	gitCmd("commit", "-q", "-m", "one")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "zones/z/zone.yaml"), []byte("zone: z\ndocumentation: two\n"), 0o644))
	gitCmd("commit", "-q", "-am", "two")
	// The working tree changes after the commit; the revision must not see it.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "zones/z/zone.yaml"), []byte("zone: [broken\n"), 0o644))

	old, errs, err := model.LoadGit(context.Background(), dir, "HEAD~1", "")
	require.NoError(t, err)
	require.Empty(t, errs)
	assert.Equal(t, "", old.Zones[0].Documentation)
	assert.Len(t, old.Commit, 40)
	cur, errs, err := model.LoadGit(context.Background(), dir, "main", "")
	require.NoError(t, err)
	require.Empty(t, errs)
	assert.Equal(t, "two", cur.Zones[0].Documentation)
	assert.Equal(t, "zones/z/zone.yaml", cur.Zones[0].Pos.File)

	_, _, err = model.LoadGit(context.Background(), dir, "nosuchbranch", "")
	assert.ErrorContains(t, err, "nosuchbranch")
}

func TestLoadReportsOrphansAndMissingEcosystemOnce(t *testing.T) {
	// A workspace whose team.yaml is missing (its zone exists) is reported, not dropped.
	dir := writeModel(t, map[string]string{
		"ecosystem.yaml":                    minimalEcosystem,
		"zones/z/zone.yaml":                 "zone: z\n",
		"zones/z/teams/t/workspaces/w.yaml": "workspace: w\n",
	})
	_, errs, err := model.LoadDir(context.Background(), dir)
	require.NoError(t, err)
	require.Len(t, errs, 1)
	assert.Equal(t, "load-layout", errs[0].Code)
	assert.Contains(t, errs[0].Msg, "zones/z/teams/t/team.yaml is missing")

	// A broken ecosystem.yaml is a syntax error, not also "no ecosystem.yaml".
	dir = writeModel(t, map[string]string{"ecosystem.yaml": "ecosystem: [\n"})
	_, errs, err = model.LoadDir(context.Background(), dir)
	require.NoError(t, err)
	require.Len(t, errs, 1)
	assert.Equal(t, "load-syntax", errs[0].Code)
}
