package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/gitlab-ci/mrnote"
	"github.com/datasurface/datasurface/gitlab-ci/mrnote/gitlabtest"
)

// TestCheckRefusesFilesOutsideTheModel: only the model's layout is judged
// by region; any other file (CI configuration, CODEOWNERS, scripts, a
// symbolic link where a model file belongs) is the ecosystem owner's.
func TestCheckRefusesFilesOutsideTheModel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		prepare func(*checkRepo) // a change to the base, if any
		change  func(*checkRepo)
		source  string
		code    int
		outside []string // the paths refused, in order
	}{
		{"a team edits the pipeline and adds a script alongside its own change", nil, func(r *checkRepo) {
			addTier(r)
			r.write(".gitlab-ci.yml", "pass:\n  script: [\"true\"]\n")
			r.write("scripts/deploy.sh", "#!/bin/sh\ncurl https://evil.example.com\n")
		}, checkCRMOwner, exitProblems, []string{".gitlab-ci.yml", "scripts/deploy.sh"}},
		{"a team removes CODEOWNERS", func(r *checkRepo) { r.write(".gitlab/CODEOWNERS", "* @acme/platform\n") },
			func(r *checkRepo) { r.git("rm", "-q", ".gitlab/CODEOWNERS") }, checkCRMOwner, exitProblems, []string{".gitlab/CODEOWNERS"}},
		{"a file in a team's folder that is not a model file", nil, func(r *checkRepo) {
			r.write("zones/retail/teams/crm/README.md", "# CRM\n")
		}, checkCRMOwner, exitProblems, []string{"zones/retail/teams/crm/README.md"}},
		{"a symbolic link where a datastore belongs", nil, func(r *checkRepo) {
			require.NoError(t, os.Symlink("customer_db.yaml", filepath.Join(r.dir, "zones/retail/teams/crm/datastores/alias.yaml")))
		}, checkCRMOwner, exitProblems, []string{"zones/retail/teams/crm/datastores/alias.yaml"}},
		{"the ecosystem's owner changes the pipeline", nil, func(r *checkRepo) {
			r.write(".gitlab-ci.yml", "include: [{local: ci/datasurface.yml}]\n")
			r.write(".gitlab/CODEOWNERS", "* @acme/platform\n")
		}, checkEcoOwner, exitOK, nil},
		{"a team's own model change", nil, addTier, checkCRMOwner, exitOK, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newCheckRepo(t)
			if tc.prepare != nil {
				tc.prepare(r)
				r.commit("prepare: " + tc.name)
			}
			tc.change(r)
			r.commit(tc.name)

			code, out, errOut := r.check("--source", tc.source, "--format", "json")
			require.Equal(t, tc.code, code, out+errOut)
			res := parseCheckJSON(t, out)
			var outside []string
			for _, p := range res.Problems {
				if p.Code == "auth-outside-model" {
					assert.Equal(t, "error", p.Severity)
					assert.Contains(t, p.Message, "owned by "+checkEcoOwner)
					assert.Contains(t, p.Message, "not by this merge request's source "+tc.source)
					outside = append(outside, p.File)
				}
			}
			assert.Equal(t, tc.outside, outside)
			if tc.outside != nil {
				_, human, _ := r.check("--source", tc.source)
				assert.Contains(t, human, tc.outside[0]+":1:1: error auth-outside-model: "+tc.outside[0]+" was ")
				assert.Contains(t, human, "make this change from "+checkEcoOwner)
			}
		})
	}
}

// mrServer is a GitLab holding the model project (42) and the teams'
// projects, with a token for the check.
func mrServer(t *testing.T) *gitlabtest.Server {
	t.Helper()
	gl := gitlabtest.New()
	t.Cleanup(gl.Close)
	gl.AddProject(42, "acme/model")
	gl.AddProject(43, "acme/marketing")
	gl.AddProject(44, "acme/crm")
	gl.AddToken("glpat-check", gitlabtest.User{ID: 7, Username: "project_42_bot"})
	return gl
}

// mrEnv is a merge-request pipeline's environment for merge request 7 of
// project 42, with the token.
func mrEnv(t *testing.T, gl *gitlabtest.Server) {
	t.Helper()
	t.Setenv("CI_API_V4_URL", gl.APIURL())
	t.Setenv("CI_PROJECT_ID", "42")
	t.Setenv("CI_MERGE_REQUEST_IID", "7")
	t.Setenv(mrnote.TokenEnv, "glpat-check")
}

// TestCheckSourceFromGitLab: with a token, the source, the base and the head
// are GitLab's; a variable or a flag that says otherwise stops the check.
func TestCheckSourceFromGitLab(t *testing.T) {
	clearCheckEnv(t)
	gl := mrServer(t)
	r := newCheckRepo(t)
	base := r.git("rev-parse", "HEAD")
	addTier(r) // crm's datastore
	head := r.commit("a change to crm's datastore")
	// The merge request comes from marketing's project.
	gl.SetMergeRequest(42, gitlabtest.MergeRequest{IID: 7, SourceProjectID: 43, SourceBranch: "feature", SHA: head, BaseSHA: base})
	mrEnv(t, gl)

	// The pipeline's variables claim crm's main branch (a pipeline's YAML can set them).
	t.Setenv("CI_MERGE_REQUEST_SOURCE_PROJECT_PATH", "acme/crm")
	t.Setenv("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "main")
	t.Setenv("CI_MERGE_REQUEST_DIFF_BASE_SHA", base)
	code, out, errOut := runCLI(t, "check", "--repo", r.dir, "--format", "json")
	require.Equal(t, exitProblems, code, out+errOut)
	assert.Empty(t, out, "no verdict on a merge request check cannot identify")
	assert.Contains(t, errOut, "CI_MERGE_REQUEST_SOURCE_PROJECT_PATH is acme/crm, but GitLab says the merge request's source project is acme/marketing")
	assert.Contains(t, errOut, "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME is main, but GitLab says its source branch is feature")
	assert.Contains(t, errOut, "/projects/42/merge_requests/7")

	// So does --source.
	clearCheckEnv(t)
	mrEnv(t, gl)
	code, out, errOut = runCLI(t, "check", "--repo", r.dir, "--base", base, "--source", checkCRMOwner, "--format", "json")
	require.Equal(t, exitProblems, code, out+errOut)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "--source is acme/crm@main, but GitLab says the merge request's source is acme/marketing@feature")

	// And a base other than the merge request's.
	code, _, errOut = runCLI(t, "check", "--repo", r.dir, "--base", "HEAD", "--format", "json")
	require.Equal(t, exitProblems, code, errOut)
	assert.Contains(t, errOut, "--base HEAD is commit "+head+", but GitLab says the merge request's diff base is "+base)
	t.Setenv("CI_MERGE_REQUEST_DIFF_BASE_SHA", head)
	code, _, errOut = runCLI(t, "check", "--repo", r.dir, "--format", "json")
	require.Equal(t, exitProblems, code, errOut)
	assert.Contains(t, errOut, "CI_MERGE_REQUEST_DIFF_BASE_SHA is "+head+", but GitLab says the merge request's diff base is "+base)
	t.Setenv("CI_MERGE_REQUEST_DIFF_BASE_SHA", "")

	// And a head other than the merge request's: another merge request's
	// number does not lend its source to this commit.
	code, _, errOut = runCLI(t, "check", "--repo", r.dir, "--head", "HEAD~1", "--format", "json")
	require.Equal(t, exitProblems, code, errOut)
	assert.Contains(t, errOut, "the commit checked, "+base+" (--head HEAD~1), is not the merge request's head "+head)

	// Nothing claimed: GitLab's word is taken, and marketing may not change crm's datastore.
	code, out, errOut = runCLI(t, "check", "--repo", r.dir, "--format", "json")
	require.Equal(t, exitProblems, code, errOut)
	res := parseCheckJSON(t, out)
	assert.Equal(t, "acme/marketing@feature", res.Source)
	assert.Equal(t, []string{"error auth-not-owner"}, res.codes())

	// From crm's project, with claims that agree, it passes.
	gl.SetMergeRequest(42, gitlabtest.MergeRequest{IID: 7, SourceProjectID: 44, SourceBranch: "main", SHA: head, BaseSHA: base})
	t.Setenv("CI_MERGE_REQUEST_SOURCE_PROJECT_PATH", "acme/crm")
	t.Setenv("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "main")
	t.Setenv("CI_MERGE_REQUEST_DIFF_BASE_SHA", base)
	code, out, errOut = runCLI(t, "check", "--repo", r.dir, "--source", checkCRMOwner, "--base", "HEAD~1", "--head", "HEAD", "--format", "json", "--require-verified-source")
	require.Equal(t, exitOK, code, out+errOut)
	res = parseCheckJSON(t, out)
	assert.Equal(t, checkCRMOwner, res.Source)
	assert.Empty(t, res.Problems, "a verified source carries no warning")

	// GitLab cannot be asked: exit 2, saying why.
	gl.SetMergeRequest(42, gitlabtest.MergeRequest{IID: 7, SourceProjectID: 44, SourceBranch: "main", SHA: head})
	code, _, errOut = runCLI(t, "check", "--repo", r.dir, "--format", "json")
	assert.Equal(t, exitUnread, code)
	assert.Contains(t, errOut, "no diff_refs yet")
	t.Setenv("CI_MERGE_REQUEST_IID", "8")
	code, _, errOut = runCLI(t, "check", "--repo", r.dir, "--format", "json")
	assert.Equal(t, exitUnread, code)
	assert.Contains(t, errOut, "404")
	t.Setenv("CI_MERGE_REQUEST_IID", "7")
	t.Setenv(mrnote.TokenEnv, "glpat-revoked")
	code, _, errOut = runCLI(t, "check", "--repo", r.dir, "--format", "json")
	assert.Equal(t, exitUnread, code)
	assert.Contains(t, errOut, "401")
	t.Setenv("CI_MERGE_REQUEST_IID", "")
	t.Setenv(mrnote.TokenEnv, "glpat-check")
	code, _, errOut = runCLI(t, "check", "--repo", r.dir, "--format", "json")
	assert.Equal(t, exitUnread, code)
	assert.Contains(t, errOut, "CI_MERGE_REQUEST_IID")
}

// TestCheckUnverifiedSource: without a token the source is the environment's
// word, and the report says so; --require-verified-source refuses it.
func TestCheckUnverifiedSource(t *testing.T) {
	clearCheckEnv(t)
	r := newCheckRepo(t)
	base := r.git("rev-parse", "HEAD")
	addTier(r)
	r.commit("crm adds loyalty_tier")
	t.Setenv("CI_MERGE_REQUEST_SOURCE_PROJECT_PATH", "acme/crm")
	t.Setenv("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "main")
	t.Setenv("CI_MERGE_REQUEST_DIFF_BASE_SHA", base)

	code, out, errOut := runCLI(t, "check", "--repo", r.dir, "--format", "json")
	require.Equal(t, exitOK, code, out+errOut)
	res := parseCheckJSON(t, out)
	require.Equal(t, []string{"warning auth-source-unverified"}, res.codes())
	assert.Contains(t, res.Problems[0].Message, "acme/crm@main comes from CI_MERGE_REQUEST_SOURCE_PROJECT_PATH and CI_MERGE_REQUEST_SOURCE_BRANCH_NAME, unverified")
	assert.Contains(t, res.Problems[0].Message, mrnote.TokenEnv)
	_, md, _ := runCLI(t, "check", "--repo", r.dir, "--format", "markdown")
	assert.Contains(t, md, "`auth-source-unverified`")

	// A source given on the command line is the caller's to vouch for.
	code, out, _ = runCLI(t, "check", "--repo", r.dir, "--source", checkCRMOwner, "--format", "json")
	require.Equal(t, exitOK, code)
	assert.Empty(t, parseCheckJSON(t, out).Problems)

	// Where only GitLab's word will do.
	code, out, errOut = runCLI(t, "check", "--repo", r.dir, "--format", "json", "--require-verified-source")
	assert.Equal(t, exitProblems, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "--require-verified-source")
	assert.Contains(t, errOut, mrnote.TokenEnv+" is not set")
	assert.True(t, strings.Contains(errOut, "CI_API_V4_URL"), errOut)
}

// seedCheckMR makes merge request iid of project 42 the one r's
// HEAD~1..HEAD proposes from crm's main branch, as GitLab reports it after
// the push.
func seedCheckMR(gl *gitlabtest.Server, r *checkRepo, iid int) {
	gl.AddProject(44, "acme/crm")
	gl.SetMergeRequest(42, gitlabtest.MergeRequest{IID: iid, SourceProjectID: 44, SourceBranch: "main",
		SHA: r.git("rev-parse", "HEAD"), BaseSHA: r.git("rev-parse", "HEAD~1")})
}
