// Package gitlabci_test runs the GitLab CI templates for real with
// gitlab-ci-local (pinned in tools/gitlabci), in its shell executor, on model
// and deploy repositories made on disk: the merge-request jobs with the
// merge-request variables GitLab sets, and publish into a bare repository.
package gitlabci_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/deploy/connect/connecttest"
	"github.com/datasurface/datasurface/deploy/trino/trinotest"
)

const gclRel = "../tools/gitlabci/node_modules/.bin/gitlab-ci-local"

// gcl is the gitlab-ci-local binary, or the test skips (locally) or fails
// (in CI, where .ci/run installs it).
func gcl(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(gclRel)
	require.NoError(t, err)
	if _, err := os.Stat(p); err != nil {
		msg := "gitlab-ci-local is not installed: npm ci --prefix tools/gitlabci (.ci/run does)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if _, err := exec.LookPath("rsync"); err != nil {
		t.Fatal("gitlab-ci-local needs rsync: apt-get install rsync")
	}
	return p
}

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// datasurfaceOnPath builds the CLI into a folder to put on the jobs' PATH,
// standing in for the image the templates name.
func datasurfaceOnPath(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "datasurface-bin-")
		if binErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, "datasurface"), "../cmd/datasurface").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, binErr)
	return binDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// repo is a git repository on disk.
type repo struct {
	t   *testing.T
	dir string
}

func (r *repo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=Dev", "-c", "user.email=dev@example.com"}, args...)...)
	cmd.Dir = r.dir
	out, err := cmd.CombinedOutput()
	require.NoError(r.t, err, "git %v: %s", args, out)
	return strings.TrimSpace(string(out))
}

func (r *repo) write(name, content string) {
	r.t.Helper()
	p := filepath.Join(r.dir, filepath.FromSlash(name))
	require.NoError(r.t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(r.t, os.WriteFile(p, []byte(content), 0o644))
}

func (r *repo) edit(name, old, new string) {
	r.t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, filepath.FromSlash(name)))
	require.NoError(r.t, err)
	require.Contains(r.t, string(b), old, name)
	r.write(name, strings.Replace(string(b), old, new, 1))
}

func (r *repo) commit(msg string) string {
	r.git("add", "-A")
	r.git("commit", "-qm", msg)
	return r.git("rev-parse", "HEAD")
}

// modelRepo is examples/customer-cdc with an owner per region, including
// the model-repo template the way a model repository does.
func modelRepo(t *testing.T) *repo {
	t.Helper()
	r := &repo{t: t, dir: t.TempDir()}
	src := "../examples/customer-cdc"
	require.NoError(t, filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(src, p)
		r.write(filepath.ToSlash(rel), string(b))
		return err
	}))
	r.edit("ecosystem.yaml", "- {name: retail, owner: acme/model@main}", "- {name: retail, owner: acme/retail@main}")
	for _, team := range []string{"crm", "marketing", "finance"} {
		r.edit("zones/retail/zone.yaml", "{name: "+team+", owner: acme/model@main}", "{name: "+team+", owner: acme/"+team+"@main}")
	}
	tmpl, err := os.ReadFile("model-repo.yml")
	require.NoError(t, err)
	r.write("ci/datasurface.yml", string(tmpl))
	r.write(".gitlab-ci.yml", "include:\n  - local: ci/datasurface.yml\n")
	r.write(".gitignore", ".gitlab-ci-local/\n")
	r.git("init", "-q", "-b", "main")
	r.commit("the model")
	return r
}

// run runs jobs with gitlab-ci-local in the repository and returns its
// output and whether every job passed.
func run(t *testing.T, r *repo, vars map[string]string, jobs ...string) (string, bool) {
	t.Helper()
	args := []string{"--force-shell-executor", "--ignore-predefined-vars", "CI_PIPELINE_SOURCE,CI_COMMIT_BRANCH,CI_DEFAULT_BRANCH,CI_COMMIT_SHA"}
	for k, v := range vars {
		args = append(args, "--variable", k+"="+v)
	}
	cmd := exec.Command(gcl(t), append(args, jobs...)...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "PATH="+datasurfaceOnPath(t)+string(os.PathListSeparator)+os.Getenv("PATH"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err == nil
}

// mrVars are the variables of a merge-request pipeline.
func mrVars(base, source string) map[string]string {
	project, branch, _ := strings.Cut(source, "@")
	return map[string]string{
		"CI_PIPELINE_SOURCE":                   "merge_request_event",
		"CI_MERGE_REQUEST_DIFF_BASE_SHA":       base,
		"CI_MERGE_REQUEST_SOURCE_PROJECT_PATH": project,
		"CI_MERGE_REQUEST_SOURCE_BRANCH_NAME":  branch,
		"CI_MERGE_REQUEST_IID":                 "7",
	}
}

const customerDB = "zones/retail/teams/crm/datastores/customer_db.yaml"

func TestModelRepoMergeRequestJobs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		source string
		change func(r *repo)
		pass   bool
		want   string
	}{
		{"authorized compatible", "acme/crm@main", func(r *repo) {
			r.edit(customerDB, "      - {name: phone, type: varchar(100), classifications: [cpi]}\n",
				"      - {name: phone, type: varchar(100), classifications: [cpi]}\n      - {name: nickname, type: varchar(50), classifications: [cpi]}\n")
		}, true, "add-nullable"},
		{"unauthorized compatible", "acme/marketing@main", func(r *repo) {
			r.edit(customerDB, "      - {name: phone, type: varchar(100), classifications: [cpi]}\n",
				"      - {name: phone, type: varchar(100), classifications: [cpi]}\n      - {name: nickname, type: varchar(50), classifications: [cpi]}\n")
		}, false, "auth-not-owner"},
		{"authorized incompatible", "acme/crm@main", func(r *repo) {
			r.edit(customerDB, "{name: email, type: varchar(100)", "{name: email, type: varchar(50)")
		}, false, "compat-narrow"},
		{"unauthorized incompatible", "acme/finance@main", func(r *repo) {
			r.edit(customerDB, "{name: email, type: varchar(100)", "{name: email, type: varchar(50)")
		}, false, "auth-not-owner"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := modelRepo(t)
			base := r.git("rev-parse", "HEAD")
			r.git("checkout", "-q", "-b", "feature")
			tc.change(r)
			r.commit(tc.name)
			out, ok := run(t, r, mrVars(base, tc.source), "datasurface-validate", "datasurface-check")
			assert.Equal(t, tc.pass, ok, out)
			assert.Contains(t, out, "PASS  datasurface-validate", "the head lints clean either way")
			if tc.pass {
				assert.Contains(t, out, "PASS  datasurface-check")
			} else {
				assert.Contains(t, out, "FAIL  datasurface-check")
			}
			// The reports the merge-request widgets read, and the note's markdown.
			for _, f := range []string{"gl-code-quality-check.json", "datasurface-check-junit.xml", "datasurface-check.md", "datasurface-check.json", "gl-code-quality-validate.json", "datasurface-validate-junit.xml"} {
				assert.FileExists(t, filepath.Join(r.dir, f))
			}
			b, err := os.ReadFile(filepath.Join(r.dir, "datasurface-check.json"))
			require.NoError(t, err)
			assert.Contains(t, string(b), tc.want)
			cq, err := os.ReadFile(filepath.Join(r.dir, "gl-code-quality-check.json"))
			require.NoError(t, err)
			if !tc.pass {
				assert.Contains(t, string(cq), tc.want)
			}
		})
	}
}

func TestModelRepoPublishJob(t *testing.T) {
	r := modelRepo(t)
	deploy := filepath.Join(t.TempDir(), "deploy.git")
	require.NoError(t, exec.Command("git", "init", "-q", "--bare", deploy).Run())
	vars := map[string]string{"CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main", "DATASURFACE_DEPLOY_REPO": "file://" + deploy}

	out, ok := run(t, r, vars, "datasurface-publish")
	require.True(t, ok, out)
	d := &repo{t: t, dir: deploy}
	assert.Contains(t, d.git("log", "--format=%s", "main"), "datasurface: publish model "+r.git("rev-parse", "--short=12", "HEAD"))
	files := d.git("ls-tree", "-r", "--name-only", "main")
	assert.Contains(t, files, "MANIFEST.json")
	assert.Contains(t, files, "platforms/lakehouse/dags/lakehouse__customer_db.py")

	// Nothing changed: no new commit.
	before := d.git("rev-parse", "main")
	out, ok = run(t, r, vars, "datasurface-publish")
	require.True(t, ok, out)
	assert.Contains(t, out, "nothing to publish")
	assert.Equal(t, before, d.git("rev-parse", "main"))

	// Without a deploy repository the job does not run.
	out, _ = run(t, r, map[string]string{"CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main"}, "--list")
	assert.NotContains(t, out, "datasurface-publish  ")
}

// TestPipelinesValidate checks the project's own pipeline and both templates
// against GitLab's CI schema.
func TestPipelinesValidate(t *testing.T) {
	bin := gcl(t)
	for _, tc := range []struct{ name, dir, file string }{
		{"project", "..", ".gitlab-ci.yml"},
		{"model-repo template", ".", "model-repo.yml"},
		{"deploy-repo template", ".", "deploy-repo.yml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			src, err := os.ReadFile(filepath.Join(tc.dir, tc.file))
			require.NoError(t, err)
			r := &repo{t: t, dir: dir}
			r.write(".gitlab-ci.yml", string(src))
			if tc.name == "project" {
				// The project's pipeline refers to these.
				r.write("tools/dagbag.py", "")
			}
			r.git("init", "-q", "-b", "main")
			r.commit("ci")
			cmd := exec.Command(bin, "--list", "--json-schema-validation")
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			assert.Contains(t, string(out), "json schema validated")
		})
	}
}

// TestDeployRepoJobs publishes the example into a deploy repository that
// includes the deploy-repo template, then runs its jobs against a Kafka
// Connect and a Trino that speak the documented protocols: a branch
// pipeline only plans, the default branch applies.
func TestDeployRepoJobs(t *testing.T) {
	connect, trino := connecttest.New(t), trinotest.New(t)
	d := &repo{t: t, dir: t.TempDir()}
	tmpl, err := os.ReadFile("deploy-repo.yml")
	require.NoError(t, err)
	d.write("ci/datasurface.yml", string(tmpl))
	d.write(".gitlab-ci.yml", "include:\n  - local: ci/datasurface.yml\n")
	require.NoError(t, filepath.WalkDir("../golden/customer-cdc", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel("../golden/customer-cdc", p)
		d.write(filepath.ToSlash(rel), string(b))
		return err
	}))
	d.git("init", "-q", "-b", "main")
	d.commit("published")
	urls := map[string]string{"DATASURFACE_CONNECT_URL": connect.URL, "DATASURFACE_TRINO_URL": trino.URL}

	branch := map[string]string{"CI_COMMIT_BRANCH": "feature", "CI_DEFAULT_BRANCH": "main"}
	for k, v := range urls {
		branch[k] = v
	}
	out, ok := run(t, d, branch, "datasurface-connect-plan", "datasurface-trino-plan")
	require.True(t, ok, out)
	assert.Contains(t, out, "customer_db")
	assert.Empty(t, connect.Mutations(), "a plan changes nothing")
	assert.Empty(t, trino.Statements())

	main := map[string]string{"CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main"}
	for k, v := range urls {
		main[k] = v
	}
	out, ok = run(t, d, main, "datasurface-connect-apply", "datasurface-trino-apply")
	require.True(t, ok, out)
	assert.Len(t, connect.Connectors(), 2, "the source and the sink")
	assert.NotEmpty(t, trino.Statements())
}
