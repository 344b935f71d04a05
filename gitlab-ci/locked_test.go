package gitlabci_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/datasurface/datasurface/gitlab-ci/mrnote/gitlabtest"
)

// The locked project's files, and what the model repository's pipeline
// includes from the datasurface project.
const (
	lockedPipeline = "locked/model-pipeline.yml"
	lockedPolicy   = "locked/policy.yml"
	includedAs     = "acme/datasurface/v1.0.0/gitlab-ci/model-repo.yml"
	remoteHost     = "gitlab.example.com"
	platformOwner  = "acme/platform@main"
)

// lockedSetup is a model repository whose pipeline GitLab takes from the
// locked project: gitlab-ci-local reads the locked file from outside the
// repository (--file, as GitLab reads model-pipeline.yml@acme/model-ci), and
// the template it includes from the datasurface project is where
// gitlab-ci-local keeps project includes, as GitLab would fetch it. The
// ecosystem is the platform team's; the GitLab API is a contract server
// holding the model project (42) and the teams' projects.
type lockedSetup struct {
	r    *repo
	file string // --file, relative to the repository
	gl   *gitlabtest.Server
}

func newLockedSetup(t *testing.T) *lockedSetup {
	t.Helper()
	r := modelRepo(t)
	r.edit("ecosystem.yaml", "owner: acme/model@main", "owner: "+platformOwner)
	r.commit("the platform team owns the ecosystem")
	r.git("remote", "add", "origin", "https://"+remoteHost+"/acme/model.git")

	tmpl, err := os.ReadFile("model-repo.yml")
	require.NoError(t, err)
	r.write(".gitlab-ci-local/includes/"+remoteHost+"/"+includedAs, string(tmpl))
	locked, err := os.ReadFile(lockedPipeline)
	require.NoError(t, err)
	require.Contains(t, string(locked), "- project: acme/datasurface", "the locked file includes the template from the datasurface project")
	dir := t.TempDir() // the locked project, apart from the model repository
	require.NoError(t, os.WriteFile(filepath.Join(dir, "model-pipeline.yml"), locked, 0o644))
	rel, err := filepath.Rel(r.dir, filepath.Join(dir, "model-pipeline.yml"))
	require.NoError(t, err)

	gl := gitlabtest.New()
	t.Cleanup(gl.Close)
	gl.AddProject(42, "acme/model")
	gl.AddProject(43, "acme/marketing")
	gl.AddProject(44, "acme/crm")
	gl.AddProject(45, "acme/platform")
	gl.AddToken("glpat-model-bot", gitlabtest.User{ID: 7, Username: "project_42_bot"})
	return &lockedSetup{r: r, file: rel, gl: gl}
}

var sourceProjects = map[string]int64{"acme/marketing": 43, "acme/crm": 44, "acme/platform": 45}

// propose makes the merge request: a branch from the base with change, from
// source (<project>@<branch>), as GitLab then reports it. It returns the
// variables GitLab gives its pipeline, with the token.
func (s *lockedSetup) propose(t *testing.T, source string, change func(r *repo)) map[string]string {
	t.Helper()
	base := s.r.git("rev-parse", "HEAD")
	s.r.git("checkout", "-q", "-b", "feature")
	change(s.r)
	head := s.r.commit("the merge request")
	project, branch, _ := strings.Cut(source, "@")
	s.gl.SetMergeRequest(42, gitlabtest.MergeRequest{IID: 7, SourceProjectID: sourceProjects[project], SourceBranch: branch, SHA: head, BaseSHA: base})
	vars := mrVars(base, source)
	vars["CI_MERGE_REQUEST_PROJECT_ID"] = "42"
	vars["CI_PROJECT_ID"] = "42"
	vars["CI_API_V4_URL"] = s.gl.APIURL()
	vars["DATASURFACE_GITLAB_TOKEN"] = "glpat-model-bot"
	return vars
}

// runLocked runs the pipeline GitLab runs for the merge request: the locked
// file's, whatever the repository's .gitlab-ci.yml says.
func (s *lockedSetup) runLocked(t *testing.T, vars map[string]string, jobs ...string) (string, bool) {
	t.Helper()
	return runWith(t, s.r, vars, append([]string{"--file", s.file}, jobs...)...)
}

// runWith is run with more gitlab-ci-local arguments, letting the
// merge-request variables stand in for the predefined ones GitLab sets.
func runWith(t *testing.T, r *repo, vars map[string]string, args ...string) (string, bool) {
	t.Helper()
	all := []string{"--force-shell-executor", "--ignore-predefined-vars", "CI_PIPELINE_SOURCE,CI_COMMIT_BRANCH,CI_DEFAULT_BRANCH,CI_COMMIT_SHA,CI_PROJECT_ID,CI_API_V4_URL"}
	for k, v := range vars {
		all = append(all, "--variable", k+"="+v)
	}
	cmd := exec.Command(gcl(t), append(all, args...)...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "PATH="+datasurfaceOnPath(t)+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

// checkCodes are the problem codes of the check job's JSON report.
func checkCodes(t *testing.T, r *repo) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, "datasurface-check.json"))
	require.NoError(t, err)
	var rep struct {
		Problems []struct{ Code, File string } `json:"problems"`
	}
	require.NoError(t, json.Unmarshal(b, &rep), string(b))
	out := map[string][]string{}
	for _, p := range rep.Problems {
		out[p.Code] = append(out[p.Code], p.File)
	}
	return out
}

const nickname = "      - {name: phone, type: varchar(100), classifications: [cpi]}\n      - {name: nickname, type: varchar(50), classifications: [cpi]}\n"

// addNickname is a compatible change to crm's datastore.
func addNickname(r *repo) {
	r.edit(customerDB, "      - {name: phone, type: varchar(100), classifications: [cpi]}\n", nickname)
}

// dropTheCheck replaces the repository's pipeline with one that passes.
func dropTheCheck(r *repo) {
	r.write(".gitlab-ci.yml", "pass:\n  rules: [{if: $CI_PIPELINE_SOURCE == \"merge_request_event\"}]\n  script: [\"true\"]\n")
	r.git("rm", "-q", "ci/datasurface.yml")
}

// TestLockedPipelineMRCannotDropTheCheck: a merge request that rewrites the
// repository's .gitlab-ci.yml still gets the locked pipeline, and its check
// refuses the edit to a file outside the model.
func TestLockedPipelineMRCannotDropTheCheck(t *testing.T) {
	t.Run("crm, with its own datastore change", func(t *testing.T) {
		s := newLockedSetup(t)
		vars := s.propose(t, "acme/crm@main", func(r *repo) {
			addNickname(r) // crm's to make
			dropTheCheck(r)
		})
		out, ok := s.runLocked(t, vars)
		require.False(t, ok, out)
		assert.Contains(t, out, "PASS  datasurface-validate")
		assert.Contains(t, out, "FAIL  datasurface-check")
		assert.NotContains(t, out, "PASS  pass", "the merge request's own job is not in the pipeline")
		codes := checkCodes(t, s.r)
		assert.Equal(t, []string{".gitlab-ci.yml", "ci/datasurface.yml"}, codes["auth-outside-model"])
		assert.NotContains(t, codes, "auth-not-owner", "the datastore change is crm's")
	})
	t.Run("marketing, with crm's datastore", func(t *testing.T) {
		s := newLockedSetup(t)
		vars := s.propose(t, "acme/marketing@feature", func(r *repo) {
			addNickname(r)
			dropTheCheck(r)
		})
		out, ok := s.runLocked(t, vars)
		require.False(t, ok, out)
		assert.Contains(t, out, "FAIL  datasurface-check")
		assert.NotContains(t, out, "PASS  pass")
		assert.Equal(t, []string{customerDB}, checkCodes(t, s.r)["auth-not-owner"])
	})
	t.Run("the ecosystem's owner may change the repository's pipeline file", func(t *testing.T) {
		s := newLockedSetup(t)
		vars := s.propose(t, platformOwner, func(r *repo) {
			r.write(".gitlab-ci.yml", "# the model's pipeline is model-pipeline.yml@acme/model-ci\n")
			r.git("rm", "-q", "ci/datasurface.yml")
		})
		out, ok := s.runLocked(t, vars)
		require.True(t, ok, out)
		assert.Contains(t, out, "PASS  datasurface-check")
	})
}

// claimCRM is a merge request's pipeline file claiming crm's main branch as
// its source (YAML variables outrank GitLab's predefined ones).
func claimCRM(r *repo) {
	r.edit(".gitlab-ci.yml", "include:\n", "variables:\n  CI_MERGE_REQUEST_SOURCE_PROJECT_PATH: acme/crm\n  CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: main\ninclude:\n")
}

// TestLockedPipelineIgnoresTheMRsVariables: marketing's merge request sets
// the source variables in its .gitlab-ci.yml to crm's. The locked pipeline
// never reads that file; and where a pipeline does, the check asks GitLab.
func TestLockedPipelineIgnoresTheMRsVariables(t *testing.T) {
	t.Run("the locked pipeline", func(t *testing.T) {
		s := newLockedSetup(t)
		vars := s.propose(t, "acme/marketing@feature", func(r *repo) {
			addNickname(r)
			claimCRM(r)
		})
		out, ok := s.runLocked(t, vars, "datasurface-check")
		require.False(t, ok, out)
		codes := checkCodes(t, s.r)
		assert.Equal(t, []string{customerDB}, codes["auth-not-owner"], "judged as marketing's")
		assert.Equal(t, []string{".gitlab-ci.yml"}, codes["auth-outside-model"])
	})
	t.Run("a pipeline the merge request edits, with the token", func(t *testing.T) {
		s := newLockedSetup(t)
		vars := s.propose(t, "acme/marketing@feature", func(r *repo) {
			addNickname(r)
			claimCRM(r)
		})
		// gitlab-ci-local ranks --variable above YAML; GitLab ranks
		// predefined variables below it: leave to the YAML what it sets.
		delete(vars, "CI_MERGE_REQUEST_SOURCE_PROJECT_PATH")
		delete(vars, "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME")
		out, ok := runWith(t, s.r, vars, "datasurface-check")
		require.False(t, ok, out)
		assert.Contains(t, out, "CI_MERGE_REQUEST_SOURCE_PROJECT_PATH is acme/crm, but GitLab says the merge request's source project is acme/marketing")
		assert.NoFileExists(t, filepath.Join(s.r.dir, "datasurface-check.json"), "no verdict")
	})
}

// TestLockedPipelineNeedsTheToken: without the token, the locked pipeline's
// check gives no verdict rather than trust the variables.
func TestLockedPipelineNeedsTheToken(t *testing.T) {
	s := newLockedSetup(t)
	vars := s.propose(t, "acme/crm@main", addNickname)
	delete(vars, "DATASURFACE_GITLAB_TOKEN")
	out, ok := s.runLocked(t, vars, "datasurface-check")
	require.False(t, ok, out)
	assert.Contains(t, out, "--require-verified-source: DATASURFACE_GITLAB_TOKEN is not set")

	vars["DATASURFACE_GITLAB_TOKEN"] = "glpat-model-bot"
	out, ok = s.runLocked(t, vars, "datasurface-check")
	require.True(t, ok, out)
	assert.Empty(t, checkCodes(t, s.r))
	n := s.gl.Notes(42, 7)
	require.Len(t, n, 1, "the note")
	assert.Contains(t, n[0].Body, "Merge request source: `acme/crm@main`")
}

// TestLockedFilesValidate: the locked pipeline passes GitLab's CI schema
// with its include resolved, and the policy has the fields GitLab's
// pipeline execution policy schema requires, pointing at that file.
func TestLockedFilesValidate(t *testing.T) {
	s := newLockedSetup(t)
	for source, jobs := range map[string][]string{
		"merge_request_event": {"datasurface-validate", "datasurface-check"},
		"push":                {"datasurface-validate", "datasurface-publish"}, // on the default branch
	} {
		cmd := exec.Command(gcl(t), "--file", s.file, "--list", "--json-schema-validation",
			"--ignore-predefined-vars", "CI_PIPELINE_SOURCE", "--variable", "CI_PIPELINE_SOURCE="+source,
			"--variable", "DATASURFACE_DEPLOY_REPO=file:///nowhere")
		cmd.Dir = s.r.dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.Contains(t, string(out), "json schema validated")
		for _, job := range jobs {
			assert.Contains(t, string(out), job+" ", source)
		}
	}

	b, err := os.ReadFile(lockedPolicy)
	require.NoError(t, err)
	var doc struct {
		Policies []struct {
			Name, Description      string
			Enabled                *bool
			PipelineConfigStrategy string `yaml:"pipeline_config_strategy"`
			Content                struct {
				Include []struct{ Project, File, Ref string }
			}
			PolicyScope struct {
				Projects struct {
					Including []struct{ ID int64 }
				}
			} `yaml:"policy_scope"`
			SkipCI *struct{ Allowed bool } `yaml:"skip_ci"`
		} `yaml:"pipeline_execution_policy"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&doc))
	require.Len(t, doc.Policies, 1)
	p := doc.Policies[0]
	assert.NotEmpty(t, p.Name)
	require.NotNil(t, p.Enabled)
	assert.True(t, *p.Enabled)
	assert.Equal(t, "override_project_ci", p.PipelineConfigStrategy, "the project's own configuration must not run")
	require.Len(t, p.Content.Include, 1)
	assert.Equal(t, filepath.Base(lockedPipeline), p.Content.Include[0].File)
	assert.NotEmpty(t, p.Content.Include[0].Project)
	assert.NotEmpty(t, p.PolicyScope.Projects.Including)
	assert.True(t, p.SkipCI == nil || !p.SkipCI.Allowed, "[skip ci] must not skip the check")
}
