// Package gitlabtest is a small in-memory GitLab for tests: a contract
// server for the GitLab REST API v4 endpoints that package mrnote uses,
// written from GitLab's API documentation rather than from any client's
// behaviour:
//
//	GET  /api/v4/user                                            (Users API: "Get the current user")
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
//     confidential, internal.
//
// Simplifications, on the strict side: only a note's author may edit it
// (403 otherwise; GitLab also lets maintainers), and a system note cannot be
// edited at all. Every other path is 404.
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
	notes           map[string][]*Note
	nextID          int64
	clock           time.Time
	requests        []Request
	stripPagination bool
}

// New starts a server with no projects, tokens or notes.
func New() *Server {
	s := &Server{
		tokens:   map[string]User{},
		projects: map[string]int64{},
		notes:    map[string][]*Note{},
		nextID:   1000,
		clock:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
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
