package check_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/check"
	"github.com/datasurface/datasurface/gitlab-ci/mrnote/gitlabtest"
	"github.com/datasurface/datasurface/model/lint"
)

var (
	baseSHA = strings.Repeat("b", 40)
	headSHA = strings.Repeat("a", 40)
)

func gitLab(t *testing.T) (*gitlabtest.Server, check.GitLab) {
	t.Helper()
	gl := gitlabtest.New()
	t.Cleanup(gl.Close)
	gl.AddProject(42, "acme/model")
	gl.AddProject(43, "acme/teams/marketing")
	gl.AddToken("glpat-read", gitlabtest.User{ID: 7, Username: "bot"})
	gl.SetMergeRequest(42, gitlabtest.MergeRequest{IID: 7, SourceProjectID: 43, SourceBranch: "feature/x", SHA: headSHA, BaseSHA: baseSHA})
	return gl, check.GitLab{URL: gl.APIURL(), Token: "glpat-read", Project: "42", MR: 7}
}

func TestFetchMergeRequest(t *testing.T) {
	gl, g := gitLab(t)
	ctx := context.Background()

	mr, err := check.FetchMergeRequest(ctx, g)
	require.NoError(t, err)
	assert.Equal(t, "acme/teams/marketing@feature/x", mr.Source())
	assert.Equal(t, baseSHA, mr.BaseSHA)
	assert.Equal(t, headSHA, mr.HeadSHA)
	assert.Contains(t, mr.Endpoint, "/api/v4/projects/42/merge_requests/7")
	// The merge request, then its source project: nothing else.
	var paths []string
	for _, r := range gl.Requests() {
		assert.Equal(t, "GET", r.Method)
		paths = append(paths, r.Path)
	}
	assert.Equal(t, []string{"/api/v4/projects/42/merge_requests/7", "/api/v4/projects/43"}, paths)

	// By the project's path too.
	g2 := g
	g2.Project = "acme/model"
	mr, err = check.FetchMergeRequest(ctx, g2)
	require.NoError(t, err)
	assert.Equal(t, "acme/teams/marketing@feature/x", mr.Source())

	for _, tc := range []struct {
		name string
		edit func(*check.GitLab)
		want string
	}{
		{"unknown merge request", func(g *check.GitLab) { g.MR = 8 }, "not found (404)"},
		{"unknown project", func(g *check.GitLab) { g.Project = "99" }, "not found (404)"},
		{"rejected token", func(g *check.GitLab) { g.Token = "glpat-revoked" }, "GitLab rejected the token (401 Unauthorized)"},
		{"nothing to ask", func(g *check.GitLab) { *g = check.GitLab{} }, "without the API URL (CI_API_V4_URL), the project (CI_MERGE_REQUEST_PROJECT_ID or CI_PROJECT_ID), the merge request's IID (CI_MERGE_REQUEST_IID), a token"},
	} {
		g2 := g
		tc.edit(&g2)
		_, err := check.FetchMergeRequest(ctx, g2)
		assert.ErrorContains(t, err, tc.want, tc.name)
	}

	// Before GitLab has made the diff, diff_refs is null: try again later.
	gl.SetMergeRequest(42, gitlabtest.MergeRequest{IID: 7, SourceProjectID: 43, SourceBranch: "feature/x", SHA: headSHA})
	_, err = check.FetchMergeRequest(ctx, g)
	assert.ErrorContains(t, err, "no diff_refs yet")

	// A source project the token cannot see (a private fork).
	gl.SetMergeRequest(42, gitlabtest.MergeRequest{IID: 7, SourceProjectID: 77, SourceBranch: "feature/x", SHA: headSHA, BaseSHA: baseSHA})
	_, err = check.FetchMergeRequest(ctx, g)
	assert.ErrorContains(t, err, "/projects/77 (the merge request's source project")
	assert.ErrorContains(t, err, "404")
}

func TestRefute(t *testing.T) {
	mr := &check.MergeRequest{IID: 7, SourceProject: "acme/marketing", SourceBranch: "feature", BaseSHA: baseSHA, HeadSHA: headSHA}
	assert.Empty(t, mr.Refute(check.Claims{}), "no claims")
	assert.Empty(t, mr.Refute(check.Claims{Source: "acme/marketing@feature", Project: "acme/marketing", Branch: "feature",
		Bases: map[string]string{"--base main": baseSHA, "CI_MERGE_REQUEST_DIFF_BASE_SHA": strings.ToUpper(baseSHA)},
		Head:  headSHA, HeadWhere: "HEAD"}), "agreeing claims")

	got := mr.Refute(check.Claims{Source: "acme/crm@main", Project: "acme/crm", Branch: "main",
		Bases: map[string]string{"--base main": headSHA, "CI_MERGE_REQUEST_DIFF_BASE_SHA": headSHA},
		Head:  baseSHA, HeadWhere: "--head HEAD~1"})
	assert.Equal(t, []string{
		"--source is acme/crm@main, but GitLab says the merge request's source is acme/marketing@feature",
		"CI_MERGE_REQUEST_SOURCE_PROJECT_PATH is acme/crm, but GitLab says the merge request's source project is acme/marketing",
		"CI_MERGE_REQUEST_SOURCE_BRANCH_NAME is main, but GitLab says its source branch is feature",
		"--base main is commit " + headSHA + ", but GitLab says the merge request's diff base is " + baseSHA,
		"CI_MERGE_REQUEST_DIFF_BASE_SHA is " + headSHA + ", but GitLab says the merge request's diff base is " + baseSHA,
	}, got[:5])
	require.Len(t, got, 6)
	assert.True(t, strings.HasPrefix(got[5], "the commit checked, "+baseSHA+" (--head HEAD~1), is not the merge request's head "+headSHA), got[5])
}

func TestUnverifiedSource(t *testing.T) {
	p := check.UnverifiedSource("acme/crm@main", "DATASURFACE_GITLAB_TOKEN")
	assert.Equal(t, check.CodeSourceUnverified, p.Code)
	assert.Equal(t, lint.Warning, p.Severity)
	assert.Contains(t, p.Message, "acme/crm@main comes from CI_MERGE_REQUEST_SOURCE_PROJECT_PATH and CI_MERGE_REQUEST_SOURCE_BRANCH_NAME, unverified")
	assert.Contains(t, p.Message, "set DATASURFACE_GITLAB_TOKEN")
}
