// Package gitlabtest is a small in-memory GitLab for tests: a contract
// server for the GitLab REST API v4 endpoints that package mrnote and the
// merge-request check use, written from GitLab's API documentation rather
// than from any client's behaviour:
//
//	GET  /api/v4/user                                            (Users API: "Get the current user")
//	GET  /api/v4/projects/:id                                    (Projects API: "Get a single project")
//	GET  /api/v4/projects/:id/merge_requests/:iid                (Merge requests API: "Get single MR")
//	GET  /api/v4/projects/:id/merge_requests/:iid/notes          (Notes API: "List all merge request notes")
//	POST /api/v4/projects/:id/merge_requests/:iid/notes          (Notes API: "Create new merge request note")
//	PUT  /api/v4/projects/:id/merge_requests/:iid/notes/:note_id (Notes API: "Modify existing merge request note")
//
// Documented behaviour it reproduces:
//   - authentication by the PRIVATE-TOKEN header; a missing or unknown token
//     is 401 {"message":"401 Unauthorized"};
//   - :id is a numeric project ID or the URL-encoded project path
//     (acme%2Fmodel); an unknown project is 404 {"message":"404 Project Not Found"};
//   - offset pagination: page (default 1), per_page (default 20, max 100),
//     response headers X-Page, X-Per-Page, X-Next-Page and X-Prev-Page (empty
//     when there is none), X-Total, X-Total-Pages and a Link header with
//     rel="prev"/"next"/"first"/"last";
//   - notes ordered by created_at (or updated_at with order_by=updated_at),
//     desc by default, sort=asc on request;
//   - body is required on create and update (400 {"error":"body is missing"}
//     otherwise), as a JSON attribute, a form field or a query parameter, and
//     limited to 1,000,000 characters (400 {"message":{"note":["is too long
//     (maximum is 1000000 characters)"]}});
//   - note objects carry id, type, body, attachment, author{id, username,
//     name, state, avatar_url, web_url}, created_at, updated_at, system,
//     noteable_id, noteable_type, project_id, noteable_iid, resolvable,
//     confidential, internal;
//   - a project object carries id, name, path, path_with_namespace,
//     name_with_namespace, namespace{path, full_path}, default_branch,
//     visibility, web_url;
//   - a merge request object carries id, iid, project_id, title, state,
//     source_branch, target_branch, source_project_id, target_project_id
//     (project_id always equals target_project_id; source_project_id is the
//     fork's ID for a merge request from a fork), sha (the diff head SHA),
//     diff_refs{base_sha, head_sha, start_sha} (null while GitLab is still
//     creating the diff: "Empty API fields for new merge requests"),
//     draft, merge_status, detailed_merge_status, merge_commit_sha,
//     squash_commit_sha, references{short, relative, full}, web_url;
//     an unknown merge request is 404 {"message":"404 Not found"}.
//
// Simplifications, on the strict side: only a note's author may edit it
// (403 otherwise; GitLab also lets maintainers), and a system note cannot be
// edited at all. Every token may read every project and merge request the
// server knows (GitLab answers 404 for what the token's user cannot see).
// Notes may be listed and written on any merge request IID, declared or
// not. Every other path is 404.
//
// A Server is safe for concurrent use.
package gitlabtest

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

// MaxNoteLength is the longest note body GitLab accepts, in characters.
const MaxNoteLength = 1_000_000

// User is a GitLab user, the owner of a token.
type User struct {
	ID       int64
	Username string
}

// Note is a merge request note as the server holds it.
type Note struct {
	ID        int64
	Body      string
	Author    User
	System    bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// MergeRequest is a merge request as the server holds it, in its target
// project.
type MergeRequest struct {
	IID             int
	Title           string
	State           string // opened (the default), closed, locked or merged
	SourceProjectID int64  // the target project's ID when zero
	SourceBranch    string
	TargetBranch    string // main when empty
	// SHA is the diff head SHA; BaseSHA and StartSHA are diff_refs. With an
	// empty BaseSHA, diff_refs is null, as GitLab sends it while the
	// merge request's diff is still being created.
	SHA, BaseSHA, StartSHA string
}

// Request is one request the server received.
type Request struct {
	Method string
	Path   string // the escaped path, as sent
	Query  url.Values
}

// Server is a running fake GitLab. Create it with New and Close it when done.
type Server struct {
	srv *httptest.Server

	mu              sync.Mutex
	tokens          map[string]User
	projects        map[string]int64 // full path -> project ID
	mergeRequests   map[string]MergeRequest
	notes           map[string][]*Note
	nextID          int64
	clock           time.Time
	requests        []Request
	stripPagination bool
}

// New starts a server with no projects, tokens or notes.
func New() *Server {
	s := &Server{
		tokens:        map[string]User{},
		projects:      map[string]int64{},
		mergeRequests: map[string]MergeRequest{},
		notes:         map[string][]*Note{},
		nextID:        1000,
		clock:         time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// URL is the instance's root URL, e.g. http://127.0.0.1:1234.
func (s *Server) URL() string { return s.srv.URL }

// APIURL is the API v4 root, what CI_API_V4_URL holds.
func (s *Server) APIURL() string { return s.srv.URL + "/api/v4" }

// AddProject makes a project known by its numeric ID and full path.
func (s *Server) AddProject(id int64, path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.projects[path] = id
}

// SetMergeRequest adds merge request mr to project (its target), or
// replaces the one with the same IID, as a push to it would.
func (s *Server) SetMergeRequest(project int64, mr MergeRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mergeRequests[noteKey(project, mr.IID)] = mr
}

// AddToken makes token authenticate as u.
func (s *Server) AddToken(token string, u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = u
}

// StripPagination makes the server drop every pagination header, as a
// misbehaving proxy might; by default it sends GitLab's documented headers.
func (s *Server) StripPagination(strip bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stripPagination = strip
}

// Seed adds a note to merge request iid of project directly, as if written
// earlier, and returns it. Each note is one second younger than the last.
func (s *Server) Seed(project int64, iid int, author User, body string, system bool) Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.addNoteLocked(noteKey(project, iid), author, body, system)
}

// Notes returns the notes of merge request iid of project, oldest first.
func (s *Server) Notes(project int64, iid int) []Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Note
	for _, n := range s.notes[noteKey(project, iid)] {
		out = append(out, *n)
	}
	return out
}

// Requests returns every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count is how many requests used method.
func (s *Server) Count(method string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == method {
			n++
		}
	}
	return n
}

func noteKey(project int64, iid int) string { return fmt.Sprintf("%d/%d", project, iid) }

func (s *Server) addNoteLocked(key string, author User, body string, system bool) *Note {
	s.nextID++
	s.clock = s.clock.Add(time.Second)
	n := &Note{ID: s.nextID, Body: body, Author: author, System: system, CreatedAt: s.clock, UpdatedAt: s.clock}
	s.notes[key] = append(s.notes[key], n)
	return n
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query()})

	user, ok := s.tokens[r.Header.Get("PRIVATE-TOKEN")]
	if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "401 Unauthorized"})
		return
	}

	// Split the escaped path so that an encoded project path (acme%2Fmodel)
	// stays one segment, then unescape each segment.
	raw := strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/")
	seg := make([]string, len(raw))
	for i, p := range raw {
		u, err := url.PathUnescape(p)
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
			"state": "active", "bot": true, "web_url": s.srv.URL + "/" + user.Username,
		})

	case len(seg) == 2 && seg[0] == "projects" && r.Method == http.MethodGet:
		pid, ok := s.resolveProject(seg[1])
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Project Not Found"})
			return
		}
		writeJSON(w, http.StatusOK, s.projectJSON(pid))

	case len(seg) == 4 && seg[0] == "projects" && seg[2] == "merge_requests" && r.Method == http.MethodGet:
		pid, ok := s.resolveProject(seg[1])
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Project Not Found"})
			return
		}
		iid, err := strconv.Atoi(seg[3])
		mr, found := s.mergeRequests[noteKey(pid, iid)]
		if err != nil || !found {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Not found"})
			return
		}
		writeJSON(w, http.StatusOK, s.mergeRequestJSON(pid, mr))

	case (len(seg) == 5 || len(seg) == 6) && seg[0] == "projects" && seg[2] == "merge_requests" && seg[4] == "notes":
		pid, ok := s.resolveProject(seg[1])
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Project Not Found"})
			return
		}
		iid, err := strconv.Atoi(seg[3])
		if err != nil || iid <= 0 {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Not found"})
			return
		}
		key := noteKey(pid, iid)
		if len(seg) == 5 {
			switch r.Method {
			case http.MethodGet:
				s.listNotes(w, r, pid, iid, key)
			case http.MethodPost:
				s.createNote(w, r, pid, iid, key, user)
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
		s.updateNote(w, r, pid, iid, key, noteID, user)

	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "404 Not Found"})
	}
}

func (s *Server) resolveProject(idOrPath string) (int64, bool) {
	if n, err := strconv.ParseInt(idOrPath, 10, 64); err == nil {
		for _, id := range s.projects {
			if id == n {
				return n, true
			}
		}
		return 0, false
	}
	id, ok := s.projects[idOrPath]
	return id, ok
}

func (s *Server) projectPath(id int64) string {
	for p, n := range s.projects {
		if n == id {
			return p
		}
	}
	return ""
}

func (s *Server) projectJSON(id int64) map[string]any {
	full := s.projectPath(id)
	ns, name := "", full
	if i := strings.LastIndexByte(full, '/'); i >= 0 {
		ns, name = full[:i], full[i+1:]
	}
	return map[string]any{
		"id": id, "name": name, "path": name, "path_with_namespace": full,
		"name_with_namespace": strings.ReplaceAll(full, "/", " / "),
		"namespace":           map[string]any{"path": ns[strings.LastIndexByte(ns, '/')+1:], "full_path": ns},
		"default_branch":      "main", "visibility": "private", "web_url": s.srv.URL + "/" + full,
	}
}

func (s *Server) mergeRequestJSON(pid int64, mr MergeRequest) map[string]any {
	state := mr.State
	if state == "" {
		state = "opened"
	}
	source := mr.SourceProjectID
	if source == 0 {
		source = pid
	}
	target := mr.TargetBranch
	if target == "" {
		target = "main"
	}
	var diffRefs any
	if mr.BaseSHA != "" {
		start := mr.StartSHA
		if start == "" {
			start = mr.BaseSHA
		}
		diffRefs = map[string]any{"base_sha": mr.BaseSHA, "head_sha": mr.SHA, "start_sha": start}
	}
	full := s.projectPath(pid)
	return map[string]any{
		"id": 90000 + mr.IID, "iid": mr.IID, "project_id": pid, "title": mr.Title, "state": state,
		"created_at": s.clock.Format(time.RFC3339Nano), "updated_at": s.clock.Format(time.RFC3339Nano),
		"source_branch": mr.SourceBranch, "target_branch": target,
		"source_project_id": source, "target_project_id": pid,
		"draft": false, "work_in_progress": false,
		"merge_status": "can_be_merged", "detailed_merge_status": "mergeable",
		"sha": mr.SHA, "merge_commit_sha": nil, "squash_commit_sha": nil, "diff_refs": diffRefs,
		"references": map[string]any{"short": fmt.Sprintf("!%d", mr.IID), "relative": fmt.Sprintf("!%d", mr.IID), "full": fmt.Sprintf("%s!%d", full, mr.IID)},
		"web_url":    fmt.Sprintf("%s/%s/-/merge_requests/%d", s.srv.URL, full, mr.IID),
	}
}

func (s *Server) noteJSON(n *Note, pid int64, iid int) map[string]any {
	return map[string]any{
		"id": n.ID, "type": nil, "body": n.Body, "attachment": nil,
		"author": map[string]any{
			"id": n.Author.ID, "username": n.Author.Username, "name": n.Author.Username,
			"state": "active", "avatar_url": nil, "web_url": s.srv.URL + "/" + n.Author.Username,
		},
		"created_at": n.CreatedAt.Format(time.RFC3339Nano), "updated_at": n.UpdatedAt.Format(time.RFC3339Nano),
		"system": n.System, "noteable_id": 90000 + iid, "noteable_type": "MergeRequest",
		"project_id": pid, "noteable_iid": iid, "resolvable": false,
		"confidential": false, "internal": false,
	}
}

func (s *Server) listNotes(w http.ResponseWriter, r *http.Request, pid int64, iid int, key string) {
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
	all := append([]*Note(nil), s.notes[key]...)
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
		out = append(out, s.noteJSON(n, pid, iid))
	}

	if !s.stripPagination {
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
			return fmt.Sprintf(`<%s%s?%s>; rel="%s"`, s.srv.URL, r.URL.EscapedPath(), lq.Encode(), rel)
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

// readBody reads the body attribute from a JSON request, or from a
// form-encoded body or the query string.
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
		if json.Unmarshal(data, &in) != nil {
			return "", false
		}
		if in.Body != nil {
			return *in.Body, true
		}
		if _, ok := r.URL.Query()["body"]; ok {
			return r.URL.Query().Get("body"), true
		}
		return "", false
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
	if utf8.RuneCountInString(body) > MaxNoteLength {
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"message": map[string][]string{"note": {fmt.Sprintf("is too long (maximum is %d characters)", MaxNoteLength)}},
		})
		return false
	}
	return true
}

func (s *Server) createNote(w http.ResponseWriter, r *http.Request, pid int64, iid int, key string, user User) {
	body, present := readBody(r)
	if !checkBody(w, body, present) {
		return
	}
	n := s.addNoteLocked(key, user, body, false)
	writeJSON(w, http.StatusCreated, s.noteJSON(n, pid, iid))
}

func (s *Server) updateNote(w http.ResponseWriter, r *http.Request, pid int64, iid int, key string, noteID int64, user User) {
	var n *Note
	for _, c := range s.notes[key] {
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
	s.clock = s.clock.Add(time.Second)
	n.Body, n.UpdatedAt = body, s.clock
	writeJSON(w, http.StatusOK, s.noteJSON(n, pid, iid))
}
