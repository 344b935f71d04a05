//go:build unix

package model_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/model"
)

func TestIsModelPath(t *testing.T) {
	for _, p := range []string{
		"ecosystem.yaml",
		"zones/z/zone.yaml",
		"zones/z/teams/t/team.yaml",
		"zones/z/teams/t/datastores/d.yaml",
		"zones/z/teams/t/workspaces/w.yaml",
	} {
		assert.True(t, model.IsModelPath(p), p)
	}
	for _, p := range []string{
		"", "README.md", ".gitlab-ci.yml", "CODEOWNERS", "docs/ecosystem.yaml", "zones", "zones/z",
		"ecosystem.yml", "./ecosystem.yaml", "/ecosystem.yaml", "zones/z/zone.yml",
		"zones//zone.yaml", "zones/.z/zone.yaml", "zones/z/README.md", "zones/z/teams/t/notes.yaml",
		"zones/z/teams/.t/team.yaml", "zones/z/teams/t/datastores/.d.yaml", "zones/z/teams/t/datastores/.yaml",
		"zones/z/teams/t/datastores/d.yml", "zones/z/teams/t/datastores/sub/d.yaml", "zones/z/teams/t/other/d.yaml",
		"zones/z/teams/t/datastores/../d.yaml",
	} {
		assert.False(t, model.IsModelPath(p), p)
	}
}

// gitRepo runs git in dir.
func gitIn(t *testing.T, dir string) func(args ...string) string {
	return func(args ...string) string {
		t.Helper()
		out, err := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@e"}, args...)...).CombinedOutput()
		require.NoError(t, err, string(out))
		return strings.TrimSpace(string(out))
	}
}

// refusalsOf is the load errors as "code path", the folder prefix removed.
func refusalsOf(errs []*model.LoadError, prefix string) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Code+" "+strings.TrimPrefix(e.Pos.File, prefix))
	}
	sort.Strings(out)
	return out
}

// TestRevisionAndCheckoutSameRules: one commit with every kind of entry,
// read as a revision and as a folder (its checkout): the same model files,
// the same refusals, and nothing outside zones/ read.
func TestRevisionAndCheckoutSameRules(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := writeModel(t, map[string]string{
		"ecosystem.yaml":                         minimalEcosystem,
		"zones/z/zone.yaml":                      "zone: z\n",
		"zones/z/teams/t/team.yaml":              "team: t\n",
		"zones/z/teams/t/workspaces/w.yaml":      "workspace: w\n",
		"zones/z/teams/t/datastores/.hidden.yml": "x\n",
		"zones/z/.notes/a.yaml":                  "x\n",
		"zones/z/teams/t/docs/b.md":              "x\n",
		"zones/z/teams/t/README.md":              "x\n",
		"zones/.x/zone.yaml":                     "zone: x\n",
		// Outside zones/: not part of the model, whatever it is.
		"README.md":                 "# the model\n",
		".gitlab-ci.yml":            "include: []\n",
		"CODEOWNERS":                "* @acme\n",
		"docs/ecosystem.yaml":       "not: [a model\n",
		".gitlab/CODEOWNERS":        "* @acme\n",
		"notes.yaml":                "not: [a model\n",
		"zones.yaml":                "not: [a model\n",
		"zones/z/teams/t/team.yml":  "x\n",
		"zones/z/teams/t/t2/x.yaml": "x\n",
	})
	require.NoError(t, os.Symlink("workspaces/w.yaml", filepath.Join(dir, "zones/z/teams/t/datastores/link.yaml")))
	require.NoError(t, os.Symlink("README.md", filepath.Join(dir, "docs/readme-link")))
	require.NoError(t, os.Symlink("/dev/zero", filepath.Join(dir, "zero")))
	require.NoError(t, os.Chmod(filepath.Join(dir, "zones/z/teams/t/team.yaml"), 0o755))
	git := gitIn(t, dir)
	git("init", "-q", "-b", "main")
	git("add", "-A")
	git("update-index", "--add", "--cacheinfo", "160000,"+strings.Repeat("a", 40)+",zones/z/teams/t/sub")
	git("update-index", "--add", "--cacheinfo", "160000,"+strings.Repeat("b", 40)+",vendor/lib")
	git("commit", "-qm", "everything")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "zones/z/teams/t/sub"), 0o755)) // what a checkout shows

	wantFiles := []string{"ecosystem.yaml", "zones/z/teams/t/team.yaml", "zones/z/teams/t/workspaces/w.yaml", "zones/z/zone.yaml"}
	want := []string{
		"load-file-kind zones/z/teams/t/datastores/link.yaml",
		"load-layout zones/.x",
		"load-layout zones/z/.notes",
		"load-layout zones/z/teams/t/README.md",
		"load-layout zones/z/teams/t/datastores/.hidden.yml",
		"load-layout zones/z/teams/t/docs/b.md",
		"load-layout zones/z/teams/t/t2/x.yaml",
		"load-layout zones/z/teams/t/team.yml",
	}

	gs := &model.GitSource{Repo: dir, Rev: "HEAD"}
	files, err := gs.Files(context.Background())
	require.NoError(t, err)
	assert.Equal(t, wantFiles, files)
	_, errs, err := model.Load(context.Background(), &model.GitSource{Repo: dir, Rev: "HEAD"})
	require.NoError(t, err)
	assert.Equal(t, sorted(append(append([]string(nil), want...), "load-file-kind zones/z/teams/t/sub")), refusalsOf(errs, ""))
	for _, e := range errs {
		assert.NotEmpty(t, e.Msg)
		assert.Equal(t, model.Pos{File: e.Pos.File, Line: 1, Col: 1}, e.Pos)
	}

	files, err = model.DirSource(dir).Files(context.Background())
	require.NoError(t, err)
	assert.Equal(t, wantFiles, files)
	_, errs, err = model.LoadDir(context.Background(), dir)
	require.NoError(t, err)
	// A checkout shows the submodule as an empty folder.
	assert.Equal(t, sorted(append(append([]string(nil), want...), "load-layout zones/z/teams/t/sub")), refusalsOf(errs, dir+"/"))
}

func sorted(ss []string) []string {
	sort.Strings(ss)
	return ss
}

// TestRefusedEntryMessages: each refusal says what the entry is and what to
// do, at the entry's path.
func TestRefusedEntryMessages(t *testing.T) {
	dir := writeModel(t, map[string]string{"ecosystem.yaml": minimalEcosystem, "zones/z/zone.yaml": "zone: z\n", "zones/z/teams/t/team.yaml": "team: t\n"})
	stores := filepath.Join(dir, "zones/z/teams/t/datastores")
	require.NoError(t, os.MkdirAll(stores, 0o755))
	require.NoError(t, os.Symlink("/dev/zero", filepath.Join(stores, "zero.yaml")))
	require.NoError(t, syscall.Mkfifo(filepath.Join(stores, "pipe.yaml"), 0o644))
	require.NoError(t, os.Symlink("../zone.yaml", filepath.Join(dir, "zones/z/teams/t/workspaces")))
	done := make(chan struct{})
	var errs []*model.LoadError
	go func() {
		defer close(done)
		var err error
		_, errs, err = model.LoadDir(context.Background(), dir)
		assert.NoError(t, err)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("loading a folder with a named pipe does not return: the pipe was opened")
	}
	got := map[string]string{}
	for _, e := range errs {
		got[strings.TrimPrefix(e.Pos.File, dir+"/")] = e.Code + ": " + e.Msg
	}
	assert.Contains(t, got["zones/z/teams/t/datastores/zero.yaml"], "load-file-kind: a symbolic link; ")
	assert.Contains(t, got["zones/z/teams/t/datastores/zero.yaml"], "replace the link with a copy of what it points to")
	assert.Contains(t, got["zones/z/teams/t/datastores/pipe.yaml"], "load-file-kind: a named pipe; ")
	assert.Contains(t, got["zones/z/teams/t/workspaces"], "load-file-kind: a symbolic link; ")
	assert.Len(t, got, 3, "%v", got)

	// ecosystem.yaml and zones themselves.
	dir = writeModel(t, map[string]string{"real.yaml": minimalEcosystem, "z/z/zone.yaml": "zone: z\n"})
	require.NoError(t, os.Symlink("real.yaml", filepath.Join(dir, "ecosystem.yaml")))
	require.NoError(t, os.Symlink("z", filepath.Join(dir, "zones")))
	_, errs, err := model.LoadDir(context.Background(), dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"load-file-kind ecosystem.yaml", "load-file-kind zones"}, refusalsOf(errs, dir+"/"), "and no 'no ecosystem.yaml' besides")
	assert.Contains(t, errs[0].Msg, "ecosystem.yaml must be a regular file")
}

// TestWorkTreeReadsTheRevision: a GitSource reading its files from the
// working tree sees exactly the revision, whatever the working tree holds in
// their place: an edit, a link to /dev/zero, a named pipe, a folder, nothing.
func TestWorkTreeReadsTheRevision(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := writeModel(t, map[string]string{
		"ecosystem.yaml":                    minimalEcosystem,
		"zones/z/zone.yaml":                 "zone: z\ndocumentation: committed\n",
		"zones/z/teams/t/team.yaml":         "team: t\ndocumentation: committed\n",
		"zones/z/teams/t/workspaces/w.yaml": "workspace: w\ndocumentation: committed\n",
		"zones/y/zone.yaml":                 "zone: y\ndocumentation: committed\n",
	})
	git := gitIn(t, dir)
	git("init", "-q", "-b", "main")
	git("add", "-A")
	git("commit", "-qm", "one")
	want, errs, err := model.LoadGit(context.Background(), dir, "HEAD", "")
	require.NoError(t, err)
	require.Empty(t, errs)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "zones/z/zone.yaml"), []byte("zone: z\ndocumentation: edited\n"), 0o644))
	require.NoError(t, os.Remove(filepath.Join(dir, "zones/z/teams/t/team.yaml")))
	require.NoError(t, os.Symlink("/dev/zero", filepath.Join(dir, "zones/z/teams/t/team.yaml")))
	require.NoError(t, os.Remove(filepath.Join(dir, "zones/z/teams/t/workspaces/w.yaml")))
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "zones/z/teams/t/workspaces/w.yaml"), 0o644))
	require.NoError(t, os.Remove(filepath.Join(dir, "zones/y/zone.yaml")))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "zones/y/zone.yaml"), 0o755))
	require.NoError(t, os.Remove(filepath.Join(dir, "ecosystem.yaml")))

	for _, repo := range []string{dir, filepath.Join(dir, "zones")} { // --repo may be below the root
		got, errs, err := model.Load(context.Background(), &model.GitSource{Repo: repo, Rev: "HEAD", WorkTree: true})
		require.NoError(t, err)
		require.Empty(t, errs)
		assert.Empty(t, model.Changes(want, got), "the working tree leaked into the revision")
		assert.Empty(t, model.Changes(got, want))
		for _, z := range got.Zones {
			assert.Equal(t, "committed", z.Documentation)
		}
	}
}

// TestLimitsRefuse: each limit is a load error at the file, or at the value
// or collection's line and column, and names its flag.
func TestLimitsRefuse(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	lim := model.Limits{FileBytes: 1000, ModelBytes: 4000, TextBytes: 100, Depth: 8}
	base := map[string]string{"ecosystem.yaml": minimalEcosystem, "zones/z/zone.yaml": "zone: z\n", "zones/z/teams/t/team.yaml": "team: t\n"}
	cases := []struct {
		name, file, content string
		at                  string
		flag                string
	}{
		{"file", "zones/z/teams/t/workspaces/w.yaml", "workspace: w\ndocumentation: " + strings.Repeat("a ", 600) + "\n", "zones/z/teams/t/workspaces/w.yaml:1:1", model.FlagMaxFileBytes},
		{"text", "zones/z/teams/t/workspaces/w.yaml", "workspace: w\ndocumentation: >\n  " + strings.Repeat("a ", 30) + "\n  " + strings.Repeat("b ", 30) + "\n", "zones/z/teams/t/workspaces/w.yaml:2:16", model.FlagMaxTextBytes},
		{"a key", "zones/z/teams/t/workspaces/w.yaml", "workspace: w\n" + strings.Repeat("k", 101) + ": 1\n", "zones/z/teams/t/workspaces/w.yaml:2:1", model.FlagMaxTextBytes},
		{"depth", "zones/z/teams/t/workspaces/w.yaml", "workspace: w\ngroups:\n  - name: g\n    sinks: [[[[[[[x]]]]]]]\n", "zones/z/teams/t/workspaces/w.yaml:4:17", model.FlagMaxDepth},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{tc.file: tc.content}
			for k, v := range base {
				files[k] = v
			}
			dir := writeModel(t, files)
			git := gitIn(t, dir)
			git("init", "-q", "-b", "main")
			git("add", "-A")
			git("commit", "-qm", "one")
			for _, src := range []model.Source{model.DirSource(dir), &model.GitSource{Repo: dir, Rev: "HEAD"}} {
				_, errs, err := model.LoadWith(context.Background(), src, lim)
				require.NoError(t, err)
				require.Len(t, errs, 1, "%v", errs)
				e := errs[0]
				assert.Equal(t, "load-limit", e.Code)
				assert.Equal(t, tc.at, strings.TrimPrefix(e.Pos.String(), dir+"/"))
				assert.Contains(t, e.Msg, "--"+tc.flag)
			}
			// Within the defaults, the same model loads.
			_, errs, err := model.LoadDir(context.Background(), dir)
			require.NoError(t, err)
			for _, e := range errs {
				assert.NotEqual(t, "load-limit", e.Code, e.Error())
			}
		})
	}

	// The whole model: one error, whatever was read before it.
	files := map[string]string{}
	for k, v := range base {
		files[k] = v
	}
	for i := 0; i < 10; i++ {
		files[fmt.Sprintf("zones/z/teams/t/workspaces/w%d.yaml", i)] = fmt.Sprintf("workspace: w%d\ndocumentation: %s\n", i, strings.Repeat("a", 90))
	}
	dir := writeModel(t, files)
	for i := 0; i < 3; i++ {
		_, errs, err := model.LoadWith(context.Background(), model.DirSource(dir), model.Limits{ModelBytes: 1000})
		require.NoError(t, err)
		require.Len(t, errs, 1)
		assert.Equal(t, "load-limit", errs[0].Code)
		assert.Equal(t, dir, errs[0].Pos.File)
		assert.Contains(t, errs[0].Msg, "--"+model.FlagMaxModelBytes)
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"1": 1, "4MiB": 4 << 20, "4mib": 4 << 20, "64K": 64 << 10, "64 KiB": 64 << 10, "1GB": 1 << 30, "12B": 12} {
		got, err := model.ParseBytes(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "0", "-1", "4 MB x", "1.5MiB", "MiB", "9999999999GiB"} {
		_, err := model.ParseBytes(in)
		assert.Error(t, err, in)
	}
	for n, want := range map[int64]string{4 << 20: "4MiB", 64 << 10: "64KiB", 1 << 30: "1GiB", 1000: "1000B", 1536: "1536B"} {
		assert.Equal(t, want, model.FormatBytes(n))
		back, err := model.ParseBytes(want)
		require.NoError(t, err)
		assert.Equal(t, n, back)
	}
}
