package check_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/check"
	"github.com/datasurface/datasurface/model/lint"
)

func TestIsModelPath(t *testing.T) {
	for name, want := range map[string]bool{
		"ecosystem.yaml":                                    true,
		"zones/retail/zone.yaml":                            true,
		"zones/retail/teams/crm/team.yaml":                  true,
		"zones/retail/teams/crm/datastores/customers.yaml":  true,
		"zones/retail/teams/crm/workspaces/campaigns.yaml":  true,
		"ecosystem.yml":                                     false,
		".gitlab-ci.yml":                                    false,
		".gitlab/CODEOWNERS":                                false,
		"CODEOWNERS":                                        false,
		"scripts/deploy.sh":                                 false,
		"zones/retail/README.md":                            false,
		"zones/retail/zone.yml":                             false,
		"zones/retail/teams/crm/notes.yaml":                 false,
		"zones/retail/teams/crm/datastores/customers.yml":   false,
		"zones/retail/teams/crm/datastores/x/y.yaml":        false,
		"zones/retail/teams/crm/transformers/t.yaml":        false,
		"zones/.hidden/zone.yaml":                           false,
		"zones/retail/teams/.crm/team.yaml":                 false,
		"zones/retail/teams/crm/datastores/.customers.yaml": false,
		"zones//zone.yaml":                                  false,
		"sub/ecosystem.yaml":                                false,
	} {
		assert.Equal(t, want, check.IsModelPath(name), name)
	}
}

// gitRepo is a git repository on disk for the changed-paths tests.
type gitRepo struct {
	t   *testing.T
	dir string
}

func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	r := &gitRepo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *gitRepo) git(args ...string) string {
	r.t.Helper()
	out, err := exec.Command("git", append([]string{"-C", r.dir, "-c", "user.name=t", "-c", "user.email=t@e"}, args...)...).CombinedOutput()
	require.NoError(r.t, err, string(out))
	return strings.TrimSpace(string(out))
}

func (r *gitRepo) write(name, content string) {
	r.t.Helper()
	p := filepath.Join(r.dir, filepath.FromSlash(name))
	require.NoError(r.t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(r.t, os.WriteFile(p, []byte(content), 0o644))
}

func (r *gitRepo) commit() string {
	r.t.Helper()
	r.git("add", "-A")
	r.git("commit", "-qm", "c", "--allow-empty")
	return r.git("rev-parse", "HEAD")
}

type change struct {
	path, what string
}

func changesOf(cs []check.PathChange) []change {
	var out []change
	for _, c := range cs {
		out = append(out, change{c.Path, c.Change()})
	}
	return out
}

// TestChangedPathsBetweenRevisions compares two commits' trees: adds,
// removals, edits, mode changes, a file that becomes a folder, symbolic
// links and a submodule, and leaves equal folders unvisited.
func TestChangedPathsBetweenRevisions(t *testing.T) {
	r := newGitRepo(t)
	r.write("ecosystem.yaml", "ecosystem: e\n")
	r.write("zones/z/zone.yaml", "zone: z\n")
	r.write("zones/z/teams/t/team.yaml", "team: t\n")
	r.write("docs/a.md", "a\n")
	r.write("tool", "x\n")
	r.write("same/deep/er/file.txt", "unchanged\n")
	r.write("run.sh", "#!/bin/sh\n")
	base := r.commit()

	r.write("zones/z/zone.yaml", "zone: z\ndocumentation: d\n")
	r.write(".gitlab-ci.yml", "x: {script: [true]}\n")
	require.NoError(t, os.Remove(filepath.Join(r.dir, "docs/a.md")))
	require.NoError(t, os.Remove(filepath.Join(r.dir, "tool")))
	r.write("tool/inside.txt", "now a folder\n")
	require.NoError(t, os.Chmod(filepath.Join(r.dir, "run.sh"), 0o755))
	require.NoError(t, os.Symlink("../../../../ecosystem.yaml", filepath.Join(r.dir, "zones/z/teams/t/link.yaml")))
	// A submodule: a gitlink entry in the index.
	r.git("add", "-A")
	r.git("update-index", "--add", "--cacheinfo", "160000,"+base+",vendor/lib")
	r.git("commit", "-qm", "c")
	head := r.git("rev-parse", "HEAD")

	changes, dir, err := check.ChangedPaths(context.Background(), check.Side{Repo: r.dir, Rev: base}, check.Side{Repo: r.dir, Rev: head}, ".")
	require.NoError(t, err)
	assert.Equal(t, "", dir)
	assert.Equal(t, []change{
		{".gitlab-ci.yml", "added"},
		{"docs/a.md", "removed"},
		{"run.sh", "changed"},
		{"tool", "removed"},
		{"tool/inside.txt", "added"},
		{"vendor/lib", "added"},
		{"zones/z/teams/t/link.yaml", "added"},
		{"zones/z/zone.yaml", "changed"},
	}, changesOf(changes))
	modes := map[string]check.PathChange{}
	for _, c := range changes {
		modes[c.Path] = c
	}
	assert.Equal(t, filemode.Executable, modes["run.sh"].Head)
	assert.Equal(t, filemode.Symlink, modes["zones/z/teams/t/link.yaml"].Head)
	assert.Equal(t, filemode.Submodule, modes["vendor/lib"].Head)

	// Outside the model: all but the zone's edit. A model file's name holds
	// only as a regular file.
	var outside []string
	for _, c := range check.OutsideModel(changes, "") {
		outside = append(outside, c.Path)
	}
	assert.Equal(t, []string{".gitlab-ci.yml", "docs/a.md", "run.sh", "tool", "tool/inside.txt", "vendor/lib", "zones/z/teams/t/link.yaml"}, outside)

	// No change, no paths.
	none, _, err := check.ChangedPaths(context.Background(), check.Side{Repo: r.dir, Rev: head}, check.Side{Repo: r.dir, Rev: "HEAD"}, "")
	require.NoError(t, err)
	assert.Empty(t, none)

	// A bad revision says which.
	_, _, err = check.ChangedPaths(context.Background(), check.Side{Repo: r.dir, Rev: "nope"}, check.Side{Repo: r.dir, Rev: head}, "")
	assert.ErrorContains(t, err, `"nope"`)
}

// TestChangedPathsModelInAFolder: with the model in a subfolder, every file
// outside it is outside the model, including a file named like a model file.
func TestChangedPathsModelInAFolder(t *testing.T) {
	r := newGitRepo(t)
	r.write("model/ecosystem.yaml", "ecosystem: e\n")
	base := r.commit()
	r.write("model/zones/z/zone.yaml", "zone: z\n")
	r.write("ecosystem.yaml", "not the model's\n")
	r.write("model/ci.yml", "x\n")
	head := r.commit()

	for _, dir := range []string{"model", "./model/", "model/"} {
		changes, d, err := check.ChangedPaths(context.Background(), check.Side{Repo: r.dir, Rev: base}, check.Side{Repo: r.dir, Rev: head}, dir)
		require.NoError(t, err)
		assert.Equal(t, "model", d)
		var outside []string
		for _, c := range check.OutsideModel(changes, d) {
			outside = append(outside, c.Path)
		}
		assert.Equal(t, []string{"ecosystem.yaml", "model/ci.yml"}, outside, dir)
	}
}

// TestChangedPathsFolders compares folders, and a revision with a folder,
// over the model's folder: model files by place, other files by content.
func TestChangedPathsFolders(t *testing.T) {
	r := newGitRepo(t)
	r.write("m/ecosystem.yaml", "ecosystem: e\n")
	r.write("m/notes.txt", "same\n")
	r.write("m/run.sh", "#!/bin/sh\n")
	base := r.commit()
	head := t.TempDir()
	for name, content := range map[string]string{
		"ecosystem.yaml": "ecosystem: e\ndocumentation: edited, judged by the model comparison\n",
		"notes.txt":      "same\n",
		"run.sh":         "#!/bin/sh\nexit 1\n",
		"zones/z/x.txt":  "new\n",
	} {
		p := filepath.Join(head, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(head, ".git"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(head, ".git", "HEAD"), []byte("x"), 0o644))

	changes, dir, err := check.ChangedPaths(context.Background(), check.Side{Repo: r.dir, Rev: base}, check.Side{Dir: head}, "m")
	require.NoError(t, err)
	assert.Equal(t, "", dir, "paths are the model folder's")
	assert.Equal(t, []change{{"run.sh", "changed"}, {"zones/z/x.txt", "added"}}, changesOf(changes))

	// Two folders.
	base2 := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(base2, "notes.txt"), []byte("same\n"), 0o644))
	require.NoError(t, os.Symlink("notes.txt", filepath.Join(base2, "ecosystem.yaml")))
	changes, _, err = check.ChangedPaths(context.Background(), check.Side{Dir: base2}, check.Side{Dir: head}, "")
	require.NoError(t, err)
	assert.Equal(t, []change{{"ecosystem.yaml", "changed"}, {"run.sh", "added"}, {"zones/z/x.txt", "added"}}, changesOf(changes))
	assert.Equal(t, filemode.Symlink, changes[0].Base)
	assert.Len(t, check.OutsideModel(changes, ""), 3, "a symbolic link's place is not the model's")
}

func TestOutsideModelProblems(t *testing.T) {
	cs := []check.PathChange{
		{Path: ".gitlab-ci.yml", Base: filemode.Regular, Head: filemode.Regular},
		{Path: "zones/z/teams/t/datastores/a.yaml", Head: filemode.Symlink},
		{Path: "CODEOWNERS", Base: filemode.Regular},
	}
	id := func(p string) string { return p }

	assert.Empty(t, check.OutsideModelProblems(cs, id, "acme/platform@main", "acme/platform@main"), "the ecosystem's owner may")
	assert.Empty(t, check.OutsideModelProblems(nil, id, "acme/platform@main", "acme/crm@main"))

	ps := check.OutsideModelProblems(cs, func(p string) string { return "repo/" + p }, "acme/platform@main", "acme/crm@main")
	require.Len(t, ps, 3)
	for _, p := range ps {
		assert.Equal(t, check.CodeOutsideModel, p.Code)
		assert.Equal(t, lint.Error, p.Severity)
		assert.Equal(t, 1, int(p.Pos.Line))
		assert.Contains(t, p.Message, "owned by acme/platform@main, not by this merge request's source acme/crm@main")
		assert.Contains(t, p.Message, "make this change from acme/platform@main, or take it out of this merge request")
	}
	assert.Equal(t, "repo/.gitlab-ci.yml", ps[0].Pos.File)
	assert.True(t, strings.HasPrefix(ps[0].Message, "repo/.gitlab-ci.yml was changed, but it is not a model file"), ps[0].Message)
	assert.True(t, strings.HasPrefix(ps[1].Message, "repo/zones/z/teams/t/datastores/a.yaml was added (now a symbolic link)"), ps[1].Message)
	assert.True(t, strings.HasPrefix(ps[2].Message, "repo/CODEOWNERS was removed"), ps[2].Message)

	// Nobody owns the ecosystem; the source is unknown.
	ps = check.OutsideModelProblems(cs[:1], id, "", "")
	require.Len(t, ps, 1)
	assert.Contains(t, ps[0].Message, "owned by nobody")
	assert.Contains(t, ps[0].Message, "source, which is unknown")

	// Many files: capped, the rest counted.
	var many []check.PathChange
	for i := range 250 {
		many = append(many, check.PathChange{Path: strings.Repeat("x", i+1), Head: filemode.Regular})
	}
	ps = check.OutsideModelProblems(many, id, "acme/platform@main", "acme/crm@main")
	require.Len(t, ps, 101)
	assert.True(t, strings.HasPrefix(ps[100].Message, "150 more files outside the model's layout changed"), ps[100].Message)

	res := &check.Result{Problems: []lint.Problem{{Code: "z", Severity: lint.Warning, Pos: ps[0].Pos}}}
	res.AddProblems(check.OutsideModelProblems(cs[:1], id, "acme/platform@main", "acme/crm@main")...)
	require.Len(t, res.Problems, 2)
	assert.False(t, res.Passed())
	assert.Equal(t, ".gitlab-ci.yml", res.Problems[0].Pos.File, "kept in Run's order")
}
