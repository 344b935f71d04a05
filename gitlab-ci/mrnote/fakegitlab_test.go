package mrnote

// A small contract server for the three GitLab REST API v4 endpoints Upsert
// uses, written from GitLab's API documentation rather than from the
// client's behaviour:
//
//	GET  /api/v4/user                                          (Users API: "Get the current user")
//	GET  /api/v4/projects/:id/merge_requests/:iid/notes        (Notes API: "List all merge request notes")
//	POST /api/v4/projects/:id/merge_requests/:iid/notes        (Notes API: "Create new merge request note")
//	PUT  /api/v4/projects/:id/merge_requests/:iid/notes/:note_id (Notes API: "Modify existing merge request note")
//
// Documented behaviour it reproduces:
//   - authentication by the PRIVATE-TOKEN header; a missing or unknown token
//     is 401 {"message":"401 Unauthorized"};
//   - :id is a numeric project ID or the URL-encoded project path
//     (acme%2Fmodel);
//   - offset pagination: page (default 1), per_page (default 20, max 100),
//     response headers X-Page, X-Per-Page, X-Next-Page and X-Prev-Page (empty
//     when there is none), X-Total, X-Total-Pages and a Link header with
//     rel="prev"/"next"/"first"/"last";
//   - notes sorted by created_at, desc by default, sort=asc on request;
//   - body is required on create and update (400 otherwise) and limited to
//     1,000,000 characters (400 {"message":{"note":["is too long (maximum is
//     1000000 characters)"]}});
//   - note objects carry id, type, body, attachment, author{id, username,
//     name, state, avatar_url, web_url}, created_at, updated_at, system,
//     noteable_id, noteable_type, project_id, noteable_iid, resolvable,
//     confidential, internal;
//   - only a note's author edits it here (403 otherwise), a simplification
//     that errs on the strict side.

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

type fakeUser struct {
	ID       int64
	Username string
}

type fakeNote struct {
	ID        int64
	Body      string
	Author    fakeUser
	System    bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

type fakeRequest struct {
	Method string
	Path   string // escaped path, as sent
	Query  url.Values
}

type fakeGitLab struct {
	srv *httptest.Server

	mu       sync.Mutex
	tokens   map[string]fakeUser
	projects map[string]int64       // full path -> project ID
	notes    map[string][]*fakeNote // "projectID/iid" -> notes (any order)
	nextID   int64
	clock    time.Time
	requests []fakeRequest

	// stripPagination drops every pagination header, as a misbehaving proxy
	// might; the default is GitLab's documented behaviour.
	stripPagination bool
}

func newFakeGitLab() *fakeGitLab {
	f := &fakeGitLab{
		tokens:   map[string]fakeUser{},
		projects: map[string]int64{},
		notes:    map[string][]*fakeNote{},
		nextID:   1000,
		clock:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

func (f *fakeGitLab) Close() { f.srv.Close() }

// APIURL is what CI_API_V4_URL would hold.
func (f *fakeGitLab) APIURL() string { return f.srv.URL + "/api/v4" }

func (f *fakeGitLab) addProject(id int64, path string) { f.projects[path] = id }

func (f *fakeGitLab) addToken(token string, u fakeUser) { f.tokens[token] = u }

// seed adds a note directly, as if written earlier.
func (f *fakeGitLab) seed(project int64, iid int, author fakeUser, body string, system bool) *fakeNote {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addNoteLocked(fmt.Sprintf("%d/%d", project, iid), author, body, system)
}

func (f *fakeGitLab) addNoteLocked(key string, author fakeUser, body string, system bool) *fakeNote {
	f.nextID++
	f.clock = f.clock.Add(time.Second)
	n := &fakeNote{ID: f.nextID, Body: body, Author: author, System: system, CreatedAt: f.clock, UpdatedAt: f.clock}
	f.notes[key] = append(f.notes[key], n)
	return n
}

func (f *fakeGitLab) notesOf(project int64, iid int) []fakeNote {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeNote
	for _, n := range f.notes[fmt.Sprintf("%d/%d", project, iid)] {
		out = append(out, *n)
	}
	return out
}

func (f *fakeGitLab) requestLog() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.requests...)
}

func (f *fakeGitLab) count(method string) int {
	n := 0
	for _, r := range f.requestLog() {
		if r.Method == method {
			n++
		}
	}
	return n
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeGitLab) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, fakeRequest{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query()})

	user, ok := f.tokens[r.Header.Get("PRIVATE-TOKEN")]
	if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "401 Unauthorized"})
		return
	}

	// Split the escaped path so that an encoded project path (acme%2Fmodel)
	// stays one segment, then unescape each segment.
	raw := strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/")
	seg := make([]string, len(raw))
	for i, s := range raw {
		u, err := url.PathUnescape(s)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad path"})
			return
		}
		seg[i] = u
	}
	if len(seg) < 2 || seg[0] != "api" || seg[1] != "v4" {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "404 Not Found"})
		return
	}
	seg = seg[2:]

	switch {
	case len(seg) == 1 && seg[0] == "user" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{
			"id": user.ID, "username": user.Username, "name": user.Username,
			"state": "active", "bot": true, "web_url": f.srv.URL + "/" + user.Username,
		})

	case (len(seg) == 5 || len(seg) == 6) && seg[0] == "projects" && seg[2] == "merge_requests" && seg[4] == "notes":
		pid, ok := f.resolveProject(seg[1])
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Project Not Found"})
			return
		}
		iid, err := strconv.Atoi(seg[3])
		if err != nil || iid <= 0 {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Not found"})
			return
		}
		key := fmt.Sprintf("%d/%d", pid, iid)
		if len(seg) == 5 {
			switch r.Method {
			case http.MethodGet:
				f.listNotes(w, r, pid, iid, key)
			case http.MethodPost:
				f.createNote(w, r, pid, iid, key, user)
			default:
				writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "405 Method Not Allowed"})
			}
			return
		}
		if r.Method != http.MethodPut {
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "405 Method Not Allowed"})
			return
		}
		noteID, err := strconv.ParseInt(seg[5], 10, 64)
		if err != nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Note Not Found"})
			return
		}
		f.updateNote(w, r, pid, iid, key, noteID, user)

	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "404 Not Found"})
	}
}

func (f *fakeGitLab) resolveProject(idOrPath string) (int64, bool) {
	if n, err := strconv.ParseInt(idOrPath, 10, 64); err == nil {
		for _, id := range f.projects {
			if id == n {
				return n, true
			}
		}
		return 0, false
	}
	id, ok := f.projects[idOrPath]
	return id, ok
}

func (f *fakeGitLab) noteJSON(n *fakeNote, pid int64, iid int) map[string]any {
	return map[string]any{
		"id": n.ID, "type": nil, "body": n.Body, "attachment": nil,
		"author": map[string]any{
			"id": n.Author.ID, "username": n.Author.Username, "name": n.Author.Username,
			"state": "active", "avatar_url": nil, "web_url": f.srv.URL + "/" + n.Author.Username,
		},
		"created_at": n.CreatedAt.Format(time.RFC3339Nano), "updated_at": n.UpdatedAt.Format(time.RFC3339Nano),
		"system": n.System, "noteable_id": 90000 + iid, "noteable_type": "MergeRequest",
		"project_id": pid, "noteable_iid": iid, "resolvable": false,
		"confidential": false, "internal": false,
	}
}

func (f *fakeGitLab) listNotes(w http.ResponseWriter, r *http.Request, pid int64, iid int, key string) {
	q := r.URL.Query()
	page, perPage := 1, 20
	if v := q.Get("page"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			page = n
		}
	}
	if v := q.Get("per_page"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			perPage = min(n, 100)
		}
	}
	all := append([]*fakeNote(nil), f.notes[key]...)
	asc := q.Get("sort") == "asc"
	byUpdated := q.Get("order_by") == "updated_at"
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i].CreatedAt, all[j].CreatedAt
		if byUpdated {
			a, b = all[i].UpdatedAt, all[j].UpdatedAt
		}
		if a.Equal(b) {
			if asc {
				return all[i].ID < all[j].ID
			}
			return all[i].ID > all[j].ID
		}
		if asc {
			return a.Before(b)
		}
		return a.After(b)
	})

	total := len(all)
	totalPages := max(1, (total+perPage-1)/perPage)
	lo := min((page-1)*perPage, total)
	hi := min(lo+perPage, total)
	out := make([]map[string]any, 0, hi-lo)
	for _, n := range all[lo:hi] {
		out = append(out, f.noteJSON(n, pid, iid))
	}

	if !f.stripPagination {
		h := w.Header()
		next, prev := "", ""
		if page < totalPages {
			next = strconv.Itoa(page + 1)
		}
		if page > 1 {
			prev = strconv.Itoa(page - 1)
		}
		h.Set("X-Page", strconv.Itoa(page))
		h.Set("X-Per-Page", strconv.Itoa(perPage))
		h.Set("X-Next-Page", next)
		h.Set("X-Prev-Page", prev)
		h.Set("X-Total", strconv.Itoa(total))
		h.Set("X-Total-Pages", strconv.Itoa(totalPages))
		link := func(p int, rel string) string {
			lq := url.Values{}
			for k, v := range q {
				lq[k] = v
			}
			lq.Set("page", strconv.Itoa(p))
			lq.Set("per_page", strconv.Itoa(perPage))
			return fmt.Sprintf(`<%s%s?%s>; rel="%s"`, f.srv.URL, r.URL.EscapedPath(), lq.Encode(), rel)
		}
		var links []string
		if prev != "" {
			links = append(links, link(page-1, "prev"))
		}
		if next != "" {
			links = append(links, link(page+1, "next"))
		}
		links = append(links, link(1, "first"), link(totalPages, "last"))
		h.Set("Link", strings.Join(links, ", "))
	}
	writeJSON(w, http.StatusOK, out)
}

// readBody reads the body attribute from a JSON or form-encoded request.
func readBody(r *http.Request) (string, bool) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		data, err := io.ReadAll(r.Body)
		if err != nil {
			return "", false
		}
		var in struct {
			Body *string `json:"body"`
		}
		if json.Unmarshal(data, &in) != nil || in.Body == nil {
			return "", false
		}
		return *in.Body, true
	}
	if err := r.ParseForm(); err != nil {
		return "", false
	}
	if _, ok := r.Form["body"]; !ok {
		return "", false
	}
	return r.Form.Get("body"), true
}

func checkBody(w http.ResponseWriter, body string, present bool) bool {
	if !present || strings.TrimSpace(body) == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body is missing"})
		return false
	}
	if utf8.RuneCountInString(body) > 1_000_000 {
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"message": map[string][]string{"note": {"is too long (maximum is 1000000 characters)"}},
		})
		return false
	}
	return true
}

func (f *fakeGitLab) createNote(w http.ResponseWriter, r *http.Request, pid int64, iid int, key string, user fakeUser) {
	body, present := readBody(r)
	if !checkBody(w, body, present) {
		return
	}
	n := f.addNoteLocked(key, user, body, false)
	writeJSON(w, http.StatusCreated, f.noteJSON(n, pid, iid))
}

func (f *fakeGitLab) updateNote(w http.ResponseWriter, r *http.Request, pid int64, iid int, key string, noteID int64, user fakeUser) {
	var n *fakeNote
	for _, c := range f.notes[key] {
		if c.ID == noteID {
			n = c
		}
	}
	if n == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Note Not Found"})
		return
	}
	if n.System || n.Author.ID != user.ID {
		writeJSON(w, http.StatusForbidden, map[string]string{"message": "403 Forbidden"})
		return
	}
	body, present := readBody(r)
	if !checkBody(w, body, present) {
		return
	}
	f.clock = f.clock.Add(time.Second)
	n.Body, n.UpdatedAt = body, f.clock
	writeJSON(w, http.StatusOK, f.noteJSON(n, pid, iid))
}
