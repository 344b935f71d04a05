// Package connecttest is an in-memory Kafka Connect REST server for tests:
// the connector endpoints deploy/connect uses, with Kafka Connect's status
// codes and error bodies ({"error_code": ..., "message": ...}).
package connecttest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// Server is a fake Kafka Connect worker.
type Server struct {
	*httptest.Server

	mu         sync.Mutex
	connectors map[string]map[string]string
	requests   []string
	conflicts  int
	// User and Password, when User is set, are the basic auth every request
	// must carry (401 otherwise).
	User, Password string
	// NoExpand makes GET /connectors ignore ?expand, as Kafka Connect before
	// 2.3 does.
	NoExpand bool
}

// New starts a server with no connectors; it is closed when the test ends.
func New(t interface{ Cleanup(func()) }) *Server {
	s := &Server{connectors: map[string]map[string]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Set stores a connector's config as is (as if someone else created it).
func (s *Server) Set(name string, config map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.connectors[name] = maps.Clone(config)
}

// Connectors returns a copy of every connector's config.
func (s *Server) Connectors() map[string]map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]map[string]string{}
	for n, c := range s.connectors {
		out[n] = maps.Clone(c)
	}
	return out
}

// Requests returns the requests received, "METHOD /path", in order.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// Mutations returns the requests received that change something.
func (s *Server) Mutations() []string {
	var out []string
	for _, r := range s.Requests() {
		if !strings.HasPrefix(r, "GET ") {
			out = append(out, r)
		}
	}
	return out
}

// Rebalance makes the next n requests that change a connector answer 409,
// as a worker does while its group rebalances.
func (s *Server) Rebalance(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conflicts = n
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error_code": status, "message": msg})
}

// info is Kafka Connect's ConnectorInfo.
func info(name string, cfg map[string]string) map[string]any {
	typ := "unknown"
	switch class := cfg["connector.class"]; {
	case strings.Contains(class, "Sink"):
		typ = "sink"
	case class != "":
		typ = "source"
	}
	return map[string]any{"name": name, "config": cfg, "tasks": []any{map[string]any{"connector": name, "task": 0}}, "type": typ}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := r.URL.EscapedPath()
	s.requests = append(s.requests, r.Method+" "+r.URL.RequestURI())
	if s.User != "" {
		if u, p, ok := r.BasicAuth(); !ok || u != s.User || p != s.Password {
			writeError(w, http.StatusUnauthorized, "Credentials are required to access this resource.")
			return
		}
	}
	if path == "/connectors" || path == "/connectors/" {
		if r.Method != http.MethodGet {
			writeError(w, http.StatusMethodNotAllowed, "HTTP 405 Method Not Allowed")
			return
		}
		names := make([]string, 0, len(s.connectors))
		for n := range s.connectors {
			names = append(names, n)
		}
		sort.Strings(names)
		expand := r.URL.Query()["expand"]
		if len(expand) == 0 || s.NoExpand {
			writeJSON(w, http.StatusOK, names)
			return
		}
		out := map[string]map[string]any{}
		for _, n := range names {
			e := map[string]any{}
			for _, x := range expand {
				switch x {
				case "info":
					e["info"] = info(n, s.connectors[n])
				case "status":
					e["status"] = map[string]any{"name": n, "connector": map[string]any{"state": "RUNNING"}}
				}
			}
			out[n] = e
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	rest, ok := strings.CutPrefix(path, "/connectors/")
	if !ok {
		writeError(w, http.StatusNotFound, "HTTP 404 Not Found")
		return
	}
	escName, sub, _ := strings.Cut(rest, "/")
	name, err := url.PathUnescape(escName)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if r.Method != http.MethodGet && s.conflicts > 0 {
		s.conflicts--
		writeError(w, http.StatusConflict, "Cannot complete request because of a conflicting operation (e.g. worker rebalance)")
		return
	}
	cfg, exists := s.connectors[name]
	notFound := func() { writeError(w, http.StatusNotFound, fmt.Sprintf("Connector %s not found", name)) }
	switch {
	case sub == "" && r.Method == http.MethodGet:
		if !exists {
			notFound()
			return
		}
		writeJSON(w, http.StatusOK, info(name, cfg))
	case sub == "" && r.Method == http.MethodDelete:
		if !exists {
			notFound()
			return
		}
		delete(s.connectors, name)
		w.WriteHeader(http.StatusNoContent)
	case sub == "config" && r.Method == http.MethodGet:
		if !exists {
			notFound()
			return
		}
		writeJSON(w, http.StatusOK, cfg)
	case sub == "config" && r.Method == http.MethodPut:
		var body map[string]string
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeError(w, http.StatusInternalServerError, "Cannot deserialize value: "+err.Error())
			return
		}
		if n, ok := body["name"]; ok && n != name {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("Connector name configuration (%s) doesn't match connector name in the URL (%s)", n, name))
			return
		}
		if body["connector.class"] == "" {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("Connector config %v contains no connector type", body))
			return
		}
		body["name"] = name
		s.connectors[name] = body
		status := http.StatusOK
		if !exists {
			status = http.StatusCreated
			w.Header().Set("Location", "/connectors/"+escName)
		}
		writeJSON(w, status, info(name, body))
	default:
		writeError(w, http.StatusNotFound, "HTTP 404 Not Found")
	}
}
