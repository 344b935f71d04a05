package trino

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultUser is the Trino user statements run as when none is given.
const DefaultUser = "datasurface"

// DefaultBackoff is the wait before each retry of a request answered 502,
// 503 or 504 (a gateway or load balancer in front of Trino; the protocol
// says to try again after 50-100 ms) or 429 (a rate limit; its Retry-After
// is honoured up to 30 s).
var DefaultBackoff = []time.Duration{
	100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond,
	1600 * time.Millisecond, 3200 * time.Millisecond,
}

// Client speaks Trino's client protocol: POST /v1/statement, then GET each
// nextUri until there is none.
type Client struct {
	base *url.URL
	// HTTP is the client requests go through.
	HTTP *http.Client
	// User is sent as X-Trino-User.
	User string
	// password is sent as basic auth with User (https only).
	password string
	// Source is sent as X-Trino-Source.
	Source string
	// Backoff lists the waits before each retry of a request answered 429,
	// 502, 503 or 504; its length is the number of retries.
	Backoff []time.Duration
}

// NewClient returns a client of the Trino coordinator at rawURL (e.g.
// https://trino:8443). user defaults to DefaultUser. A password is sent as
// basic auth, and only over https: Trino refuses passwords over http, and
// they would travel in clear text.
func NewClient(rawURL, user, password string) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("--url %q: %w", rawURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--url %q: want http://HOST:PORT or https://HOST:PORT", rawURL)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("--url %q: no user, query or fragment, please", rawURL)
	}
	if password != "" && u.Scheme != "https" {
		return nil, fmt.Errorf("--url %q: a password is sent only over https; use an https URL or unset the password", rawURL)
	}
	if user == "" {
		user = DefaultUser
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return &Client{
		base:     u,
		HTTP:     &http.Client{Timeout: 2 * time.Minute},
		User:     user,
		password: password,
		Source:   "datasurface",
		Backoff:  DefaultBackoff,
	}, nil
}

// Session is the client-side session state: Trino answers USE and SET
// SESSION with headers that the client sends with the following
// statements.
type Session struct {
	Catalog, Schema string
	Properties      map[string]string
}

// QueryError is the error object of a failed query's results.
type QueryError struct {
	Message       string `json:"message"`
	SQLState      string `json:"sqlState,omitempty"`
	ErrorCode     int    `json:"errorCode"`
	ErrorName     string `json:"errorName"`
	ErrorType     string `json:"errorType"`
	ErrorLocation *struct {
		LineNumber   int `json:"lineNumber"`
		ColumnNumber int `json:"columnNumber"`
	} `json:"errorLocation,omitempty"`
}

// QueryFailed is a query Trino ran and reports as failed.
type QueryFailed struct {
	QueryID, InfoURI string
	Err              QueryError
}

func (e *QueryFailed) Error() string {
	var b strings.Builder
	b.WriteString("Trino: ")
	if e.Err.ErrorName != "" {
		fmt.Fprintf(&b, "%s (%s): ", e.Err.ErrorName, e.Err.ErrorType)
	}
	b.WriteString(e.Err.Message)
	if e.QueryID != "" {
		fmt.Fprintf(&b, " [query %s]", e.QueryID)
	}
	return b.String()
}

// HTTPError is a request answered with a status the protocol does not
// expect (anything but 200, after the retries).
type HTTPError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *HTTPError) Error() string {
	msg := e.Body
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Status, msg)
}

// Result is a finished query.
type Result struct {
	QueryID, InfoURI string
	State            string
	// UpdateType names what the statement did (e.g. "CREATE VIEW").
	UpdateType string
}

type queryResults struct {
	ID         string          `json:"id"`
	InfoURI    string          `json:"infoUri"`
	NextURI    string          `json:"nextUri"`
	Data       json.RawMessage `json:"data"`
	Error      *QueryError     `json:"error"`
	UpdateType string          `json:"updateType"`
	Stats      struct {
		State string `json:"state"`
	} `json:"stats"`
}

// Exec runs one statement to its end: it posts it, then follows nextUri
// until there is none, discarding any rows. Session headers in the answers
// update sess. A query Trino reports as failed is a *QueryFailed. If ctx
// ends while the query runs, the query is cancelled.
func (c *Client) Exec(ctx context.Context, sess *Session, sql string) (*Result, error) {
	if sess == nil {
		sess = &Session{}
	}
	res, err := c.send(ctx, sess, http.MethodPost, c.base.JoinPath("v1", "statement").String(), sql)
	for err == nil {
		if res.Error != nil {
			return nil, &QueryFailed{QueryID: res.ID, InfoURI: res.InfoURI, Err: *res.Error}
		}
		if res.NextURI == "" {
			return &Result{QueryID: res.ID, InfoURI: res.InfoURI, State: res.Stats.State, UpdateType: res.UpdateType}, nil
		}
		next := res.NextURI
		res, err = c.send(ctx, sess, http.MethodGet, next, "")
		if err != nil && ctx.Err() != nil {
			c.cancel(next)
		}
	}
	return nil, err
}

// cancel asks Trino to stop a query (DELETE nextUri), best effort.
func (c *Client) cancel(next string) {
	ctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, next, nil)
	if err != nil {
		return
	}
	c.auth(req)
	if resp, err := c.HTTP.Do(req); err == nil {
		resp.Body.Close()
	}
}

// auth sets the user and, for the coordinator given to NewClient only (a
// nextUri may name another host), the password.
func (c *Client) auth(req *http.Request) {
	req.Header.Set("X-Trino-User", c.User)
	req.Header.Set("User-Agent", "datasurface")
	if c.password != "" && req.URL.Scheme == "https" && req.URL.Host == c.base.Host {
		req.SetBasicAuth(c.User, c.password)
	}
}

func (c *Client) send(ctx context.Context, sess *Session, method, rawURL, body string) (*queryResults, error) {
	u, err := c.base.Parse(rawURL) // a relative nextUri resolves against the coordinator
	if err != nil {
		return nil, fmt.Errorf("nextUri %q: %w", rawURL, err)
	}
	for attempt := 0; ; attempt++ {
		var rd io.Reader
		if method == http.MethodPost {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
		if err != nil {
			return nil, err
		}
		c.auth(req)
		req.Header.Set("Accept", "application/json")
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "text/plain; charset=utf-8")
			req.Header.Set("X-Trino-Source", c.Source)
			if sess.Catalog != "" {
				req.Header.Set("X-Trino-Catalog", sess.Catalog)
			}
			if sess.Schema != "" {
				req.Header.Set("X-Trino-Schema", sess.Schema)
			}
			for k, v := range sess.Properties {
				req.Header.Add("X-Trino-Session", k+"="+url.QueryEscape(v))
			}
		}
		resp, err := c.HTTP.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, u.Path, err)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("%s %s: reading the answer: %w", method, u.Path, err)
		}
		switch resp.StatusCode {
		case http.StatusOK:
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			if attempt < len(c.Backoff) {
				if err := sleep(ctx, retryAfter(resp, c.Backoff[attempt])); err != nil {
					return nil, err
				}
				continue
			}
			fallthrough
		default:
			return nil, &HTTPError{Method: method, Path: u.Path, Status: resp.StatusCode, Body: Shorten(string(b), 300)}
		}
		var res queryResults
		if err := json.Unmarshal(b, &res); err != nil {
			return nil, fmt.Errorf("%s %s: not Trino query results: %w", method, u.Path, err)
		}
		if res.ID == "" {
			return nil, fmt.Errorf("%s %s: not Trino query results: no query id", method, u.Path)
		}
		sess.update(resp.Header)
		return &res, nil
	}
}

// update applies the session headers of an answer.
func (s *Session) update(h http.Header) {
	if v := h.Get("X-Trino-Set-Catalog"); v != "" {
		s.Catalog = v
	}
	if v := h.Get("X-Trino-Set-Schema"); v != "" {
		s.Schema = v
	}
	for _, kv := range h.Values("X-Trino-Set-Session") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		if s.Properties == nil {
			s.Properties = map[string]string{}
		}
		s.Properties[strings.TrimSpace(k)] = v
	}
	for _, k := range h.Values("X-Trino-Clear-Session") {
		delete(s.Properties, strings.TrimSpace(k))
	}
}

func retryAfter(resp *http.Response, d time.Duration) time.Duration {
	if resp.StatusCode != http.StatusTooManyRequests {
		return d
	}
	if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s >= 0 {
		return min(time.Duration(s)*time.Second, 30*time.Second)
	}
	return d
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
