//go:build unix

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	git "github.com/go-git/go-git/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The rule these tests hold the commands to: what check passes, the main
// branch can validate, generate and publish, because every command reads
// the same bytes of the same commit by the same rules. Each case is a merge
// request made as a real git commit on top of the owned example; check runs
// as the pipeline runs it (no --head: the commit), validate and generate read
// the revision and the checkout as a folder, publish commits to a bare
// repository.

const (
	crmTeam    = "zones/retail/teams/crm/team.yaml"
	crmStores  = "zones/retail/teams/crm/datastores"
	evilTarget = "{team: crm, containers: [{name: crm_postgres, location: onprem/dc1/rack_a, postgres: {host: evil.example.com, port: 5432, database: crm}}], " +
		"credentials: [{name: crm_reader, kind: user_password}, {name: crm_snapshot, kind: user_password}]}"
)

// refusal is a load problem a case expects every reader to report.
type refusal struct{ code, file, says string }

type sameViewCase struct {
	name   string
	source string // the merge request's source
	change func(t *testing.T, r *checkRepo)
	refuse []refusal // empty: the change is valid and every command accepts it
	// folder, when set, is what validate of the checkout reports instead:
	// a checkout cannot show everything a commit holds.
	folder []refusal
}

func sameViewCases() []sameViewCase {
	return []sameViewCase{
		{"a valid change", checkCRMOwner, func(t *testing.T, r *checkRepo) { addTier(r) }, nil, nil},
		{"an executable model file", checkCRMOwner, func(t *testing.T, r *checkRepo) {
			addTier(r)
			require.NoError(t, os.Chmod(filepath.Join(r.dir, checkCustomers), 0o755))
		}, nil, nil},
		{"team.yaml a symlink whose target is YAML", checkMarketingOwner, func(t *testing.T, r *checkRepo) {
			// The link names a file holding the original bytes: a checkout
			// follows it to them, git stores the target string itself.
			orig := r.read(crmTeam)
			linked := filepath.Join(r.dir, filepath.Dir(filepath.FromSlash(crmTeam)), filepath.FromSlash(evilTarget))
			require.NoError(t, os.MkdirAll(filepath.Dir(linked), 0o755))
			require.NoError(t, os.WriteFile(linked, []byte(orig), 0o644))
			require.NoError(t, os.Remove(filepath.Join(r.dir, crmTeam)))
			require.NoError(t, os.Symlink(evilTarget, filepath.Join(r.dir, crmTeam)))
		}, []refusal{{"load-file-kind", crmTeam, "symbolic link"}, {"load-layout", "zones/retail/teams/crm/" + evilTarget, "not a model file"}}, nil},
		{"ecosystem.yaml a symlink", checkMarketingOwner, func(t *testing.T, r *checkRepo) {
			r.write("docs/ecosystem.yaml", r.read("ecosystem.yaml"))
			require.NoError(t, os.Remove(filepath.Join(r.dir, "ecosystem.yaml")))
			require.NoError(t, os.Symlink("docs/ecosystem.yaml", filepath.Join(r.dir, "ecosystem.yaml")))
		}, []refusal{{"load-file-kind", "ecosystem.yaml", "symbolic link"}}, nil},
		{"a symlinked datastore", checkCRMOwner, func(t *testing.T, r *checkRepo) {
			require.NoError(t, os.Symlink("customer_db.yaml", filepath.Join(r.dir, crmStores, "customer_copy.yaml")))
		}, []refusal{{"load-file-kind", crmStores + "/customer_copy.yaml", "symbolic link"}}, nil},
		{"a hidden zone folder", checkMarketingOwner, func(t *testing.T, r *checkRepo) {
			r.write("zones/.shadow/zone.yaml", "zone: shadow\n")
		}, []refusal{{"load-layout", "zones/.shadow", "hidden"}}, nil},
		{"a hidden folder in a team", checkCRMOwner, func(t *testing.T, r *checkRepo) {
			r.write("zones/retail/teams/crm/.datastores/extra.yaml", r.read(checkCustomers))
		}, []refusal{{"load-layout", "zones/retail/teams/crm/.datastores", "hidden"}}, nil},
		{"a hidden datastore file", checkCRMOwner, func(t *testing.T, r *checkRepo) {
			r.write(crmStores+"/.extra.yaml", "datastore: extra\n")
		}, []refusal{{"load-layout", crmStores + "/.extra.yaml", "hidden"}}, nil},
		{"a file outside the layout under zones", checkCRMOwner, func(t *testing.T, r *checkRepo) {
			r.write("zones/retail/teams/crm/README.md", "# CRM\n")
		}, []refusal{{"load-layout", "zones/retail/teams/crm/README.md", "not a model file"}}, nil},
		{"a submodule", checkCRMOwner, func(t *testing.T, r *checkRepo) {
			head := r.git("rev-parse", "HEAD")
			r.git("update-index", "--add", "--cacheinfo", "160000,"+head+","+crmStores+"/vendored")
			// As a checkout without its submodules has it: an empty folder.
			require.NoError(t, os.Mkdir(filepath.Join(r.dir, crmStores, "vendored"), 0o755))
		}, []refusal{{"load-file-kind", crmStores + "/vendored", "submodule"}},
			// A checkout shows a submodule it has not cloned as an empty folder.
			[]refusal{{"load-layout", crmStores + "/vendored", "empty folder outside the model layout"}}},
		{"a file over the size limit", checkCRMOwner, func(t *testing.T, r *checkRepo) {
			r.edit(checkCustomers, "documentation: Customers and their addresses, from the CRM's PostgreSQL.",
				"documentation: "+strings.Repeat("Customers and their addresses. ", 5<<20/31))
		}, []refusal{{"load-limit", checkCustomers, "--max-file-bytes"}}, nil},
		{"a text value over the limit", checkCRMOwner, func(t *testing.T, r *checkRepo) {
			r.edit(checkCustomers, "documentation: Customers and their addresses, from the CRM's PostgreSQL.",
				"documentation: "+strings.Repeat("Customers and their addresses. ", 100<<10/31))
		}, []refusal{{"load-limit", checkCustomers, "--max-text-bytes"}}, nil},
		{"nesting over the depth limit", checkCRMOwner, func(t *testing.T, r *checkRepo) {
			col := "{name: leaf, type: int32}"
			for i := 0; i < 40; i++ {
				col = "{name: n" + strings.Repeat("x", i) + ", type: struct, fields: [" + col + "]}"
			}
			r.edit(checkCustomers, checkPhone, checkPhone+"      - "+col+"\n")
		}, []refusal{{"load-limit", checkCustomers, "--max-depth"}}, nil},
	}
}

// TestSameViewOfTheModel runs every case through check, validate (revision
// and folder), generate and publish and requires that they agree.
func TestSameViewOfTheModel(t *testing.T) {
	unsetEnv(t)
	for _, tc := range sameViewCases() {
		t.Run(tc.name, func(t *testing.T) {
			r := newCheckRepo(t)
			tc.change(t, r)
			r.git("add", "-A")
			r.git("commit", "-qm", tc.name)
			sameView(t, r, tc.source, tc.refuse, tc.folder)
		})
	}
}

// unsetEnv removes what check and publish read from the environment (a CI
// job running the tests has some of it); unset rather than empty, which git
// refuses for its identity variables.
func unsetEnv(t *testing.T) {
	for _, k := range append(append([]string(nil), checkCIVars...), "DATASURFACE_DEPLOY_REPO", "DATASURFACE_DEPLOY_TOKEN", "DATASURFACE_DEPLOY_USER",
		"GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL",
		"CI_COMMIT_TITLE", "CI_COMMIT_MESSAGE", "CI_PROJECT_PATH", "CI_MERGE_REQUEST_PROJECT_PATH", "CI_JOB_TOKEN") {
		t.Setenv(k, "")
		require.NoError(t, os.Unsetenv(k))
	}
}

// problemKey is a problem as the views are compared: where and what.
type problemKey struct{ Code, File, Message string }

func sameView(t *testing.T, r *checkRepo, source string, refuse, folder []refusal) {
	t.Helper()
	ccode, cout, cerr := runCLI(t, "check", "--repo", r.dir, "--base", "HEAD~1", "--source", source, "--format", "json")
	require.Contains(t, []int{exitOK, exitProblems}, ccode, shorten(cerr))
	res := parseCheckJSON(t, cout)
	var checkLoad []problemKey
	for _, p := range res.Problems {
		if strings.HasPrefix(p.Code, "load-") {
			checkLoad = append(checkLoad, problemKey{p.Code, p.File, p.Message})
		}
	}
	sortKeys(checkLoad)

	vcode, vout, verr := runCLI(t, "validate", "--repo", r.dir, "--rev", "HEAD", "--format", "json")
	revLoad := loadProblems(t, vout, "")
	fcode, fout, ferr := runCLI(t, "validate", r.dir, "--format", "json")
	folderLoad := loadProblems(t, fout, r.dir+"/")

	genHead := filepath.Join(t.TempDir(), "head")
	gcode, _, gerr := runCLI(t, "generate", "--repo", r.dir, "--rev", "HEAD", "--out", genHead)
	deploy := t.TempDir()
	_, err := git.PlainInit(deploy, true)
	require.NoError(t, err)
	pcode, _, perr := runCLI(t, "publish", "--repo", r.dir, "--rev", "HEAD", "--deploy-repo", deploy)

	// Whatever check passes, the main branch validates, generates and publishes.
	if ccode == exitOK {
		assert.Equal(t, exitOK, vcode, "check passed, validate --rev refused:\n%s%s", shorten(vout), shorten(verr))
		assert.Equal(t, exitOK, fcode, "check passed, validate of the checkout refused:\n%s%s", shorten(fout), shorten(ferr))
		assert.Equal(t, exitOK, gcode, "check passed, generate refused:\n%s", shorten(gerr))
		assert.Equal(t, exitOK, pcode, "check passed, publish refused:\n%s", shorten(perr))
		// And what it deploys is what check's plan said.
		genBase := filepath.Join(t.TempDir(), "base")
		code, _, errOut := runCLI(t, "generate", "--repo", r.dir, "--rev", "HEAD~1", "--out", genBase)
		require.Equal(t, exitOK, code, errOut)
		require.NotNil(t, res.Plan, shorten(cout))
		var planned []string
		for _, a := range res.Plan.Artifacts {
			planned = append(planned, a.Change+" "+a.Path)
		}
		assert.Equal(t, treeDiff(t, genBase, genHead), planned, "check's plan is not what generate renders")
	}

	if len(refuse) == 0 {
		assert.Equal(t, exitOK, ccode, "check refused a valid change:\n%s%s", shorten(cout), shorten(cerr))
		assert.Empty(t, checkLoad)
		return
	}
	assert.Equal(t, exitProblems, ccode, "check passed a change that cannot be read:\n%s", shorten(cout))
	for _, want := range refuse {
		found := false
		for _, p := range checkLoad {
			found = found || p.Code == want.code && p.File == want.file && strings.Contains(p.Message, want.says)
		}
		assert.True(t, found, "check does not report %s at %s (%q); it reports %v", want.code, want.file, want.says, checkLoad)
	}
	// The same refusals, word for word, from every reader.
	assert.Equal(t, exitUnread, vcode, "validate --rev: %s%s", shorten(vout), shorten(verr))
	assert.Equal(t, exitUnread, fcode, "validate of the checkout: %s%s", shorten(fout), shorten(ferr))
	assert.Equal(t, checkLoad, revLoad, "check and validate --rev see different models")
	if folder == nil {
		assert.Equal(t, checkLoad, folderLoad, "check and validate of the checkout see different models")
	} else {
		var want []problemKey
		for _, f := range folder {
			for _, p := range folderLoad {
				if p.Code == f.code && p.File == f.file && strings.Contains(p.Message, f.says) {
					want = append(want, p)
				}
			}
		}
		assert.Equal(t, want, folderLoad, "validate of the checkout: want only %v", folder)
		assert.Len(t, want, len(folder), "validate of the checkout: want %v, got %v", folder, folderLoad)
	}
	assert.Equal(t, exitUnread, gcode, "generate: %s", shorten(gerr))
	assert.Contains(t, shorten(gerr), refuse[0].file)
	assert.Equal(t, exitUnread, pcode, "publish: %s", shorten(perr))
	assert.Contains(t, shorten(perr), refuse[0].file)
	entries, err := os.ReadDir(genHead)
	if err == nil {
		assert.Empty(t, entries, "generate wrote a refused model")
	}
}

// shorten cuts each line to 300 bytes, so that a refused value does not fill
// a failing test's output.
func shorten(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if len(l) > 300 {
			lines[i] = l[:300] + "..."
		}
	}
	return strings.Join(lines, "\n")
}

// loadProblems reads validate's JSON report: its load problems with the
// folder prefix removed from the file names.
func loadProblems(t *testing.T, out, prefix string) []problemKey {
	t.Helper()
	var rep struct {
		Problems []struct{ Code, File, Message string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep), shorten(out))
	var ps []problemKey
	for _, p := range rep.Problems {
		if strings.HasPrefix(p.Code, "load-") {
			ps = append(ps, problemKey{p.Code, strings.TrimPrefix(p.File, prefix), p.Message})
		}
	}
	sortKeys(ps)
	return ps
}

func sortKeys(ps []problemKey) {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].File != ps[j].File {
			return ps[i].File < ps[j].File
		}
		return ps[i].Code+ps[i].Message < ps[j].Code+ps[j].Message
	})
}

// treeDiff lists "added|changed|removed PATH" from one generated folder to
// another, over the files their manifests list, MANIFEST.json excluded, in
// path order.
func treeDiff(t *testing.T, from, to string) []string {
	t.Helper()
	a, b := readGenerated(t, from), readGenerated(t, to)
	var paths []string
	for p := range a {
		paths = append(paths, p)
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	var out []string
	for _, p := range paths {
		x, inA := a[p]
		y, inB := b[p]
		switch {
		case !inA:
			out = append(out, "added "+p)
		case !inB:
			out = append(out, "removed "+p)
		case x != y:
			out = append(out, "changed "+p)
		}
	}
	return out
}

func readGenerated(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "MANIFEST.json" {
			return nil
		}
		b, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	}))
	return files
}
