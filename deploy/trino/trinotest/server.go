// Package trinotest is a fake Trino coordinator for tests: it speaks the
// client protocol (POST /v1/statement, then GET nextUri through QUEUED and
// RUNNING to FINISHED or FAILED, DELETE nextUri to cancel) and records the
// statements it receives. It does not parse SQL: a statement containing
// FailMarker fails with a SYNTAX_ERROR located at the marker.
package trinotest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
)

// DefaultFailMarker is the FailMarker of a new server.
const DefaultFailMarker = "FAIL_HERE"

// Query is one statement the server received.
type Query struct {
	ID, SQL      string
	User, Source string
	// Catalog, Schema and Session are the session headers of the POST.
	Catalog, Schema string
	Session         []string
	// Auth is the basic auth user, if any.
	Auth      string
	Cancelled bool
	polls     int
}

// Server is a fake Trino coordinator.
type Server struct {
	*httptest.Server

	mu          sync.Mutex
	queries     []*Query
	byID        map[string]*Query
	unavailable int
	// FailMarker makes a statement containing it fail.
	FailMarker string
	// Password, when set, is the basic auth password every request must
	// carry (401 otherwise).
	Password string
	// ExtraPolls is how many times a running query answers RUNNING before
	// it finishes.
	ExtraPolls int
}

// New starts an http server; it is closed when the test ends.
func New(t interface{ Cleanup(func()) }) *Server {
	s := &Server{byID: map[string]*Query{}, FailMarker: DefaultFailMarker}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// NewTLS starts an https server (use its Client()); it is closed when the
// test ends.
func NewTLS(t interface{ Cleanup(func()) }) *Server {
	s := &Server{byID: map[string]*Query{}, FailMarker: DefaultFailMarker}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Queries returns copies of the statements received, in order.
func (s *Server) Queries() []Query {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Query, len(s.queries))
	for i, q := range s.queries {
		out[i] = *q
	}
	return out
}

// Statements returns the SQL of the statements received, in order.
func (s *Server) Statements() []string {
	var out []string
	for _, q := range s.Queries() {
		out = append(out, q.SQL)
	}
	return out
}

// Unavailable makes the next n requests answer 503, as a gateway in front
// of Trino may.
func (s *Server) Unavailable(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unavailable = n
}

type queryError struct {
	Message       string         `json:"message"`
	ErrorCode     int            `json:"errorCode"`
	ErrorName     string         `json:"errorName"`
	ErrorType     string         `json:"errorType"`
	ErrorLocation map[string]int `json:"errorLocation,omitempty"`
}

func (s *Server) results(r *http.Request, q *Query, state, next string) map[string]any {
	base := "http://" + r.Host
	if r.TLS != nil {
		base = "https://" + r.Host
	}
	m := map[string]any{
		"id":      q.ID,
		"infoUri": base + "/ui/query.html?" + q.ID,
		"stats":   map[string]any{"state": state, "queued": state == "QUEUED", "scheduled": state != "QUEUED", "nodes": 1},
	}
	if next != "" {
		m["nextUri"] = base + next
	}
	return m
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unavailable > 0 {
		s.unavailable--
		http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		return
	}
	authUser, pw, hasAuth := r.BasicAuth()
	if s.Password != "" && (!hasAuth || pw != s.Password) {
		w.Header().Set("WWW-Authenticate", `Basic realm="Trino"`)
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	if r.URL.Path == "/v1/statement" {
		if r.Method != http.MethodPost {
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		user := r.Header.Get("X-Trino-User")
		if user == "" {
			http.Error(w, "User must be set", http.StatusBadRequest)
			return
		}
		b, _ := io.ReadAll(r.Body)
		if strings.TrimSpace(string(b)) == "" {
			http.Error(w, "SQL statement is empty", http.StatusBadRequest)
			return
		}
		q := &Query{
			ID:  fmt.Sprintf("20260101_000000_%05d_fake0", len(s.queries)),
			SQL: string(b), User: user, Source: r.Header.Get("X-Trino-Source"),
			Catalog: r.Header.Get("X-Trino-Catalog"), Schema: r.Header.Get("X-Trino-Schema"),
			Session: r.Header.Values("X-Trino-Session"),
		}
		if hasAuth {
			q.Auth = authUser
		}
		s.queries = append(s.queries, q)
		s.byID[q.ID] = q
		writeJSON(w, s.results(r, q, "QUEUED", "/v1/statement/queued/"+q.ID+"/y1/1"))
		return
	}
	// /v1/statement/{queued|executing}/{id}/{slug}/{token}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/v1/statement/"), "/")
	if len(parts) != 4 || (parts[0] != "queued" && parts[0] != "executing") {
		http.NotFound(w, r)
		return
	}
	q, ok := s.byID[parts[1]]
	token, err := strconv.Atoi(parts[3])
	if !ok || err != nil {
		http.Error(w, "Query not found", http.StatusNotFound)
		return
	}
	switch r.Method {
	case http.MethodDelete:
		q.Cancelled = true
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodGet:
	default:
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	if q.Cancelled {
		http.Error(w, "Query not found", http.StatusGone)
		return
	}
	if parts[0] == "queued" {
		writeJSON(w, s.results(r, q, "RUNNING", fmt.Sprintf("/v1/statement/executing/%s/y%d/%d", q.ID, token+1, 0)))
		return
	}
	if s.FailMarker != "" {
		if at := strings.Index(q.SQL, s.FailMarker); at >= 0 {
			line := 1 + strings.Count(q.SQL[:at], "\n")
			col := at - strings.LastIndex(q.SQL[:at], "\n")
			m := s.results(r, q, "FAILED", "")
			m["error"] = queryError{
				Message:   fmt.Sprintf("line %d:%d: mismatched input '%s'. Expecting: <query>", line, col, s.FailMarker),
				ErrorCode: 1, ErrorName: "SYNTAX_ERROR", ErrorType: "USER_ERROR",
				ErrorLocation: map[string]int{"lineNumber": line, "columnNumber": col},
			}
			writeJSON(w, m)
			return
		}
	}
	if q.polls < s.ExtraPolls {
		q.polls++
		writeJSON(w, s.results(r, q, "RUNNING", fmt.Sprintf("/v1/statement/executing/%s/y%d/%d", q.ID, token+1, token+1)))
		return
	}
	m := s.results(r, q, "FINISHED", "")
	words := strings.Fields(strings.ToUpper(q.SQL))
	switch {
	case len(words) >= 1 && (words[0] == "SELECT" || words[0] == "SHOW"):
		m["columns"] = []any{map[string]any{"name": "_col0", "type": "integer"}}
		m["data"] = [][]any{{1}}
	case len(words) >= 2 && words[0] == "USE":
		catalog, schema, ok := strings.Cut(strings.Fields(q.SQL)[1], ".")
		if ok {
			w.Header().Set("X-Trino-Set-Catalog", catalog)
			w.Header().Set("X-Trino-Set-Schema", schema)
		} else {
			w.Header().Set("X-Trino-Set-Schema", catalog)
		}
		m["updateType"] = "USE"
	case len(words) >= 5 && words[0] == "SET" && words[1] == "SESSION" && words[3] == "=":
		v := strings.Trim(strings.Fields(q.SQL)[4], "'")
		w.Header().Set("X-Trino-Set-Session", strings.Fields(q.SQL)[2]+"="+v)
		m["updateType"] = "SET SESSION"
	case len(words) >= 4 && words[0] == "CREATE" && words[1] == "OR" && words[2] == "REPLACE":
		m["updateType"] = "CREATE " + words[3]
	case len(words) >= 2:
		m["updateType"] = words[0] + " " + words[1]
	}
	writeJSON(w, m)
}
