package gitlabtest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/gitlab-ci/mrnote/gitlabtest"
)

var (
	bot   = gitlabtest.User{ID: 7, Username: "bot"}
	alice = gitlabtest.User{ID: 11, Username: "alice"}
)

func newServer(t *testing.T) *gitlabtest.Server {
	t.Helper()
	s := gitlabtest.New()
	t.Cleanup(s.Close)
	s.AddProject(42, "acme/model")
	s.AddToken("bot-token", bot)
	s.AddToken("alice-token", alice)
	return s
}

// call sends one request and returns the status, headers and decoded JSON.
func call(t *testing.T, s *gitlabtest.Server, method, path, token, contentType, body string) (int, http.Header, any) {
	t.Helper()
	req, err := http.NewRequest(method, s.APIURL()+path, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("PRIVATE-TOKEN", token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var v any
	require.NoError(t, json.Unmarshal(data, &v), string(data))
	return resp.StatusCode, resp.Header, v
}

const notes = "/projects/42/merge_requests/5/notes"

func TestAuthentication(t *testing.T) {
	s := newServer(t)
	for _, token := range []string{"", "glpat-unknown"} {
		code, _, v := call(t, s, "GET", "/user", token, "", "")
		assert.Equal(t, http.StatusUnauthorized, code)
		assert.Equal(t, map[string]any{"message": "401 Unauthorized"}, v)
	}
	code, _, v := call(t, s, "GET", "/user", "bot-token", "", "")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, float64(7), v.(map[string]any)["id"])
	assert.Equal(t, "bot", v.(map[string]any)["username"])
}

func TestProjectByIDOrEncodedPath(t *testing.T) {
	s := newServer(t)
	s.Seed(42, 5, alice, "hello", false)
	for _, p := range []string{"42", url.PathEscape("acme/model")} {
		code, _, v := call(t, s, "GET", "/projects/"+p+"/merge_requests/5/notes", "bot-token", "", "")
		require.Equal(t, http.StatusOK, code, p)
		assert.Len(t, v, 1, p)
	}
	for _, p := range []string{"43", url.PathEscape("acme/other"), "acme/model"} {
		code, _, _ := call(t, s, "GET", "/projects/"+p+"/merge_requests/5/notes", "bot-token", "", "")
		assert.Equal(t, http.StatusNotFound, code, p)
	}
}

func TestListPaginationAndOrder(t *testing.T) {
	s := newServer(t)
	for i := range 45 {
		s.Seed(42, 5, alice, fmt.Sprintf("note %d", i), false)
	}

	// Defaults: 20 a page, newest first.
	code, h, v := call(t, s, "GET", notes, "bot-token", "", "")
	require.Equal(t, http.StatusOK, code)
	page := v.([]any)
	require.Len(t, page, 20)
	assert.Equal(t, "note 44", page[0].(map[string]any)["body"])
	assert.Equal(t, "1", h.Get("X-Page"))
	assert.Equal(t, "20", h.Get("X-Per-Page"))
	assert.Equal(t, "2", h.Get("X-Next-Page"))
	assert.Equal(t, "", h.Get("X-Prev-Page"))
	assert.Equal(t, "45", h.Get("X-Total"))
	assert.Equal(t, "3", h.Get("X-Total-Pages"))
	assert.Contains(t, h.Get("Link"), `rel="next"`)
	assert.NotContains(t, h.Get("Link"), `rel="prev"`)

	// The last page, oldest first, per_page capped at 100.
	code, h, v = call(t, s, "GET", notes+"?sort=asc&order_by=created_at&per_page=40&page=2", "bot-token", "", "")
	require.Equal(t, http.StatusOK, code)
	page = v.([]any)
	require.Len(t, page, 5)
	assert.Equal(t, "note 40", page[0].(map[string]any)["body"])
	assert.Equal(t, "", h.Get("X-Next-Page"))
	assert.Equal(t, "1", h.Get("X-Prev-Page"))
	_, h, _ = call(t, s, "GET", notes+"?per_page=500", "bot-token", "", "")
	assert.Equal(t, "100", h.Get("X-Per-Page"))

	// A note object carries the documented attributes.
	n := page[0].(map[string]any)
	for _, k := range []string{"id", "type", "body", "attachment", "author", "created_at", "updated_at", "system",
		"noteable_id", "noteable_type", "project_id", "noteable_iid", "resolvable", "confidential", "internal"} {
		assert.Contains(t, n, k)
	}
	assert.Equal(t, "MergeRequest", n["noteable_type"])
	assert.Equal(t, float64(5), n["noteable_iid"])

	// Without pagination headers when asked to misbehave.
	s.StripPagination(true)
	_, h, _ = call(t, s, "GET", notes, "bot-token", "", "")
	assert.Empty(t, h.Values("X-Next-Page"))
	assert.Empty(t, h.Get("Link"))
}

func TestCreateAndUpdate(t *testing.T) {
	s := newServer(t)

	// body as JSON, as a form field or in the query string.
	code, _, v := call(t, s, "POST", notes, "bot-token", "application/json", `{"body":"first"}`)
	require.Equal(t, http.StatusCreated, code)
	id := int64(v.(map[string]any)["id"].(float64))
	code, _, _ = call(t, s, "POST", notes, "bot-token", "application/x-www-form-urlencoded", "body=second")
	require.Equal(t, http.StatusCreated, code)
	code, _, _ = call(t, s, "POST", notes+"?body=third", "bot-token", "", "")
	require.Equal(t, http.StatusCreated, code)

	got := s.Notes(42, 5)
	require.Len(t, got, 3)
	assert.Equal(t, []string{"first", "second", "third"}, []string{got[0].Body, got[1].Body, got[2].Body})
	assert.Equal(t, bot, got[0].Author)

	// body is required, and at most 1,000,000 characters (not bytes).
	for _, body := range []string{`{}`, `{"body":""}`, `{"body":"   "}`} {
		code, _, v = call(t, s, "POST", notes, "bot-token", "application/json", body)
		assert.Equal(t, http.StatusBadRequest, code, body)
		assert.Equal(t, map[string]any{"error": "body is missing"}, v)
	}
	fits, _ := json.Marshal(map[string]string{"body": strings.Repeat("é", gitlabtest.MaxNoteLength)})
	code, _, _ = call(t, s, "POST", notes, "bot-token", "application/json", string(fits))
	assert.Equal(t, http.StatusCreated, code, "a million characters fit, whatever their bytes")
	long, _ := json.Marshal(map[string]string{"body": strings.Repeat("x", gitlabtest.MaxNoteLength+1)})
	code, _, v = call(t, s, "POST", notes, "bot-token", "application/json", string(long))
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Equal(t, map[string]any{"message": map[string]any{"note": []any{"is too long (maximum is 1000000 characters)"}}}, v)

	// Update: the author may, others may not; system notes are nobody's.
	put := fmt.Sprintf("%s/%d", notes, id)
	code, _, v = call(t, s, "PUT", put, "bot-token", "application/json", `{"body":"first, edited"}`)
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "first, edited", v.(map[string]any)["body"])
	assert.True(t, s.Notes(42, 5)[0].UpdatedAt.After(s.Notes(42, 5)[0].CreatedAt))
	code, _, _ = call(t, s, "PUT", put, "alice-token", "application/json", `{"body":"hijacked"}`)
	assert.Equal(t, http.StatusForbidden, code)
	code, _, _ = call(t, s, "PUT", put, "bot-token", "application/json", `{}`)
	assert.Equal(t, http.StatusBadRequest, code)
	sys := s.Seed(42, 5, bot, "added 1 commit", true)
	code, _, _ = call(t, s, "PUT", fmt.Sprintf("%s/%d", notes, sys.ID), "bot-token", "application/json", `{"body":"x"}`)
	assert.Equal(t, http.StatusForbidden, code)
	code, _, _ = call(t, s, "PUT", notes+"/999999", "bot-token", "application/json", `{"body":"x"}`)
	assert.Equal(t, http.StatusNotFound, code)
	assert.Equal(t, "first, edited", s.Notes(42, 5)[0].Body)

	// Other merge requests are separate; the log has every request.
	assert.Empty(t, s.Notes(42, 6))
	assert.Equal(t, 8, s.Count("POST"))
	assert.Equal(t, 5, s.Count("PUT"))
	reqs := s.Requests()
	assert.Equal(t, "/api/v4"+notes, reqs[0].Path)
}

func TestGetProjectAndMergeRequest(t *testing.T) {
	s := newServer(t)
	s.AddProject(43, "acme/teams/crm")
	base, head := strings.Repeat("b", 40), strings.Repeat("h", 40)
	s.SetMergeRequest(42, gitlabtest.MergeRequest{IID: 7, Title: "crm's change", SourceProjectID: 43, SourceBranch: "main", SHA: head, BaseSHA: base})

	// A project by ID or encoded path, with the documented attributes.
	for _, p := range []string{"43", url.PathEscape("acme/teams/crm")} {
		code, _, v := call(t, s, "GET", "/projects/"+p, "bot-token", "", "")
		require.Equal(t, http.StatusOK, code, p)
		pr := v.(map[string]any)
		assert.Equal(t, float64(43), pr["id"])
		assert.Equal(t, "acme/teams/crm", pr["path_with_namespace"])
		assert.Equal(t, "crm", pr["path"])
		assert.Equal(t, map[string]any{"path": "teams", "full_path": "acme/teams"}, pr["namespace"])
	}
	code, _, v := call(t, s, "GET", "/projects/44", "bot-token", "", "")
	assert.Equal(t, http.StatusNotFound, code)
	assert.Equal(t, map[string]any{"message": "404 Project Not Found"}, v)

	// A merge request from a fork: project_id is the target, source_project_id the fork.
	code, _, v = call(t, s, "GET", "/projects/"+url.PathEscape("acme/model")+"/merge_requests/7", "bot-token", "", "")
	require.Equal(t, http.StatusOK, code)
	mr := v.(map[string]any)
	for _, k := range []string{"id", "iid", "project_id", "title", "state", "source_branch", "target_branch", "source_project_id",
		"target_project_id", "sha", "diff_refs", "draft", "merge_status", "detailed_merge_status", "references", "web_url"} {
		assert.Contains(t, mr, k)
	}
	assert.Equal(t, float64(7), mr["iid"])
	assert.Equal(t, float64(42), mr["project_id"])
	assert.Equal(t, float64(42), mr["target_project_id"])
	assert.Equal(t, float64(43), mr["source_project_id"])
	assert.Equal(t, "main", mr["source_branch"])
	assert.Equal(t, "opened", mr["state"])
	assert.Equal(t, head, mr["sha"])
	assert.Equal(t, map[string]any{"base_sha": base, "head_sha": head, "start_sha": base}, mr["diff_refs"])

	// A push replaces it; before its diff exists, diff_refs is null.
	s.SetMergeRequest(42, gitlabtest.MergeRequest{IID: 7, SourceBranch: "main", SHA: head})
	_, _, v = call(t, s, "GET", "/projects/42/merge_requests/7", "bot-token", "", "")
	assert.Nil(t, v.(map[string]any)["diff_refs"])
	assert.Equal(t, float64(42), v.(map[string]any)["source_project_id"], "from the same project")

	// Unknown merge requests and projects, and no token.
	for _, p := range []string{"/projects/42/merge_requests/8", "/projects/42/merge_requests/x"} {
		code, _, v = call(t, s, "GET", p, "bot-token", "", "")
		assert.Equal(t, http.StatusNotFound, code, p)
		assert.Equal(t, map[string]any{"message": "404 Not found"}, v, p)
	}
	code, _, _ = call(t, s, "GET", "/projects/99/merge_requests/7", "bot-token", "", "")
	assert.Equal(t, http.StatusNotFound, code)
	code, _, _ = call(t, s, "GET", "/projects/42/merge_requests/7", "", "", "")
	assert.Equal(t, http.StatusUnauthorized, code)
}
