package check

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/datasurface/datasurface/model/lint"
)

// CodeSourceUnverified warns that the merge request's source is the
// environment's word, not GitLab's.
const CodeSourceUnverified = "auth-source-unverified"

// GitLab says which merge request to ask GitLab's REST API about.
type GitLab struct {
	// URL is the API v4 root (CI_API_V4_URL).
	URL string
	// Token is sent as PRIVATE-TOKEN; it needs read_api (or api).
	Token string
	// Project is the merge request's project, its target: a numeric ID or
	// a full path.
	Project string
	// MR is the merge request's IID.
	MR int
}

// MergeRequest is what GitLab says about a merge request.
type MergeRequest struct {
	IID int
	// SourceProject is the path_with_namespace of the source project (a
	// fork's, for a merge request from a fork).
	SourceProject string
	SourceBranch  string
	// BaseSHA is diff_refs.base_sha, the commit the merge request's diff
	// starts from; HeadSHA is sha, its diff head.
	BaseSHA, HeadSHA string
	// Endpoint is the request it came from, for messages.
	Endpoint string
}

// Source is the merge request's source as regions name their owners,
// <project path>@<branch>.
func (m *MergeRequest) Source() string { return m.SourceProject + "@" + m.SourceBranch }

// FetchMergeRequest reads a merge request from GitLab's REST API:
// GET /projects/:id/merge_requests/:iid for source_project_id,
// source_branch, sha and diff_refs.base_sha ("Get single MR"), then
// GET /projects/:source_project_id for its path_with_namespace ("Get a
// single project").
func FetchMergeRequest(ctx context.Context, g GitLab) (*MergeRequest, error) {
	var missing []string
	if g.URL == "" {
		missing = append(missing, "the API URL (CI_API_V4_URL)")
	}
	if g.Project == "" {
		missing = append(missing, "the project (CI_MERGE_REQUEST_PROJECT_ID or CI_PROJECT_ID)")
	}
	if g.MR <= 0 {
		missing = append(missing, "the merge request's IID (CI_MERGE_REQUEST_IID)")
	}
	if g.Token == "" {
		missing = append(missing, "a token")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("cannot ask GitLab about the merge request without %s", strings.Join(missing, ", "))
	}
	client, err := gitlab.NewClient(g.Token, gitlab.WithBaseURL(g.URL))
	if err != nil {
		return nil, fmt.Errorf("GitLab client for %s: %w", g.URL, err)
	}
	endpoint := fmt.Sprintf("GET %s/projects/%s/merge_requests/%d", strings.TrimRight(client.BaseURL().String(), "/"), g.Project, g.MR)
	mr, _, err := client.MergeRequests.GetMergeRequest(g.Project, int64(g.MR), nil, gitlab.WithContext(ctx))
	if err != nil {
		return nil, explainAPI(endpoint, err)
	}
	if mr.DiffRefs.BaseSha == "" {
		return nil, fmt.Errorf("%s: the merge request has no diff_refs yet (GitLab fills them in while it creates the diff); run the job again in a minute", endpoint)
	}
	if mr.SHA == "" || mr.SourceBranch == "" || mr.SourceProjectID == 0 {
		return nil, fmt.Errorf("%s: the answer lacks sha, source_branch or source_project_id; is %s GitLab's API v4?", endpoint, g.URL)
	}
	projEndpoint := fmt.Sprintf("GET %s/projects/%d", strings.TrimRight(client.BaseURL().String(), "/"), mr.SourceProjectID)
	p, _, err := client.Projects.GetProject(mr.SourceProjectID, nil, gitlab.WithContext(ctx))
	if err != nil {
		return nil, explainAPI(projEndpoint+" (the merge request's source project; for a merge request from a private fork the token's user must be able to see the fork)", err)
	}
	if p.PathWithNamespace == "" {
		return nil, fmt.Errorf("%s: the answer has no path_with_namespace", projEndpoint)
	}
	return &MergeRequest{IID: g.MR, SourceProject: p.PathWithNamespace, SourceBranch: mr.SourceBranch,
		BaseSHA: strings.ToLower(mr.DiffRefs.BaseSha), HeadSHA: strings.ToLower(mr.SHA), Endpoint: endpoint}, nil
}

func explainAPI(doing string, err error) error {
	var er *gitlab.ErrorResponse
	if errors.As(err, &er) {
		switch {
		case er.HasStatusCode(http.StatusUnauthorized):
			return fmt.Errorf("%s: GitLab rejected the token (401 Unauthorized): check that it is set, not expired or revoked, and has the read_api or api scope: %w", doing, err)
		case er.HasStatusCode(http.StatusForbidden):
			return fmt.Errorf("%s: the token may not read this (403 Forbidden): it needs read_api or api and a role on the project: %w", doing, err)
		case er.HasStatusCode(http.StatusNotFound):
			return notFound(doing, err)
		}
	}
	if errors.Is(err, gitlab.ErrNotFound) {
		return notFound(doing, err)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

func notFound(doing string, err error) error {
	return fmt.Errorf("%s: not found (404): check the project and the merge request's IID, and that the token's user can see them: %w", doing, err)
}

// Claims are what a pipeline's variables and check's flags say about the
// merge request. An empty field says nothing; each names where it came
// from, for messages.
type Claims struct {
	// Source is --source, <project path>@<branch>.
	Source string
	// Project and Branch are CI_MERGE_REQUEST_SOURCE_PROJECT_PATH and
	// CI_MERGE_REQUEST_SOURCE_BRANCH_NAME.
	Project, Branch string
	// Bases are the commits the base was given as, keyed by where (e.g.
	// "--base main", "CI_MERGE_REQUEST_DIFF_BASE_SHA").
	Bases map[string]string
	// Head is the commit being checked, and Where what named it.
	Head, HeadWhere string
}

// Refute lists every claim that GitLab's word contradicts, one sentence
// each; none means the claims agree.
func (m *MergeRequest) Refute(c Claims) []string {
	var out []string
	if c.Source != "" && strings.TrimSpace(c.Source) != m.Source() {
		out = append(out, fmt.Sprintf("--source is %s, but GitLab says the merge request's source is %s", c.Source, m.Source()))
	}
	if c.Project != "" && c.Project != m.SourceProject {
		out = append(out, fmt.Sprintf("CI_MERGE_REQUEST_SOURCE_PROJECT_PATH is %s, but GitLab says the merge request's source project is %s", c.Project, m.SourceProject))
	}
	if c.Branch != "" && c.Branch != m.SourceBranch {
		out = append(out, fmt.Sprintf("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME is %s, but GitLab says its source branch is %s", c.Branch, m.SourceBranch))
	}
	for _, where := range sortedKeys(c.Bases) {
		if sha := strings.ToLower(c.Bases[where]); sha != m.BaseSHA {
			if strings.HasPrefix(where, "--base") {
				out = append(out, fmt.Sprintf("%s is commit %s, but GitLab says the merge request's diff base is %s", where, sha, m.BaseSHA))
			} else {
				out = append(out, fmt.Sprintf("%s is %s, but GitLab says the merge request's diff base is %s", where, sha, m.BaseSHA))
			}
		}
	}
	if c.Head != "" && strings.ToLower(c.Head) != m.HeadSHA {
		out = append(out, fmt.Sprintf("the commit checked, %s (%s), is not the merge request's head %s: check judges only the merge request's own head commit "+
			"(if the merge request was pushed to since this pipeline started, the newer pipeline judges it; a merged-results pipeline's merge commit has the merge request's head as its second parent)", c.Head, c.HeadWhere, m.HeadSHA))
	}
	return out
}

// UnverifiedSource is the warning for a source taken from the pipeline's
// variables without GitLab's confirmation.
func UnverifiedSource(source, tokenEnv string) lint.Problem {
	return lint.Problem{Code: CodeSourceUnverified, Severity: lint.Warning, Path: "merge request",
		Message: fmt.Sprintf("the merge request's source %s comes from CI_MERGE_REQUEST_SOURCE_PROJECT_PATH and CI_MERGE_REQUEST_SOURCE_BRANCH_NAME, unverified: "+
			"a pipeline's configuration can set those variables to anything; set %s (a token with read_api) so that check reads the source from GitLab's API, "+
			"and run the check from a pipeline the merge request cannot edit (README: Merge requests)", source, tokenEnv)}
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
