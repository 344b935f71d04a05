package connect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultBackoff is the wait before each retry of a request Kafka Connect
// refuses with 409 Conflict (a worker rebalance is in progress): six
// retries, about 30 seconds in all.
var DefaultBackoff = []time.Duration{
	500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 15 * time.Second,
}

// Client speaks Kafka Connect's REST API.
type Client struct {
	base string // the URL without a trailing slash
	// HTTP is the client requests go through.
	HTTP *http.Client
	// User and Password, when User is set, are sent as basic auth.
	User, Password string
	// Backoff lists the waits before each retry of a request refused with
	// 409 Conflict; its length is the number of retries.
	Backoff []time.Duration
}

// NewClient returns a client of the Kafka Connect REST API at rawURL
// (http or https, e.g. http://connect:8083).
func NewClient(rawURL string) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("--url %q: %w", rawURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--url %q: want http://HOST:PORT or https://HOST:PORT", rawURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("--url %q: no query or fragment, please", rawURL)
	}
	return &Client{
		base:    strings.TrimRight(u.String(), "/"),
		HTTP:    &http.Client{Timeout: 2 * time.Minute},
		Backoff: DefaultBackoff,
	}, nil
}

// APIError is a request Kafka Connect answered with an error status. Its
// body is {"error_code": ..., "message": ...}.
type APIError struct {
	Method, Path string
	Status       int // the HTTP status
	Message      string
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Status, msg)
}

// connectorPath is the path of a connector's resource (sub empty) or of one
// of its sub-resources.
func connectorPath(name, sub string) string {
	p := "/connectors/" + url.PathEscape(name)
	if sub != "" {
		p += "/" + sub
	}
	return p
}

// do sends one request, retrying while Kafka Connect answers 409, and
// decodes a successful answer into out (when out is not nil). It returns
// the final HTTP status.
func (c *Client) do(ctx context.Context, method, path string, body, out any) (int, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return 0, err
		}
	}
	for attempt := 0; ; attempt++ {
		var rd io.Reader
		if payload != nil {
			rd = bytes.NewReader(payload)
		}
		req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Accept", "application/json")
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("User-Agent", "datasurface")
		if c.User != "" {
			req.SetBasicAuth(c.User, c.Password)
		}
		resp, err := c.HTTP.Do(req)
		if err != nil {
			return 0, fmt.Errorf("%s %s: %w", method, path, err)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		resp.Body.Close()
		if err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
		}
		if resp.StatusCode == http.StatusConflict && attempt < len(c.Backoff) {
			t := time.NewTimer(c.Backoff[attempt])
			select {
			case <-ctx.Done():
				t.Stop()
				return resp.StatusCode, ctx.Err()
			case <-t.C:
			}
			continue
		}
		if resp.StatusCode >= 300 {
			e := &APIError{Method: method, Path: path, Status: resp.StatusCode}
			var eb struct {
				ErrorCode int    `json:"error_code"`
				Message   string `json:"message"`
			}
			if json.Unmarshal(b, &eb) == nil && eb.Message != "" {
				e.Message = eb.Message
			} else {
				e.Message = shorten(strings.TrimSpace(string(b)), 300)
			}
			if resp.StatusCode == http.StatusConflict {
				e.Message += fmt.Sprintf(" (still refused after %d retries)", len(c.Backoff))
			}
			return resp.StatusCode, e
		}
		if out != nil && resp.StatusCode != http.StatusNoContent {
			if err := json.Unmarshal(b, out); err != nil {
				return resp.StatusCode, fmt.Errorf("%s %s: unexpected answer: %w", method, path, err)
			}
		}
		return resp.StatusCode, nil
	}
}

// List returns every connector's config, by name: GET
// /connectors?expand=info, or GET /connectors and then each connector's
// config from a Kafka Connect older than 2.3 (it ignores expand).
func (c *Client) List(ctx context.Context) (map[string]map[string]string, error) {
	var raw json.RawMessage
	if _, err := c.do(ctx, http.MethodGet, "/connectors?expand=info", nil, &raw); err != nil {
		return nil, err
	}
	out := map[string]map[string]string{}
	var names []string
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
		if err := json.Unmarshal(raw, &names); err != nil {
			return nil, fmt.Errorf("GET /connectors: unexpected answer: %w", err)
		}
	} else {
		var expanded map[string]struct {
			Info *struct {
				Config map[string]string `json:"config"`
			} `json:"info"`
		}
		if err := json.Unmarshal(raw, &expanded); err != nil {
			return nil, fmt.Errorf("GET /connectors?expand=info: unexpected answer: %w", err)
		}
		for name, e := range expanded {
			if e.Info == nil || e.Info.Config == nil {
				names = append(names, name)
				continue
			}
			out[name] = e.Info.Config
		}
	}
	for _, name := range names {
		cfg, err := c.Config(ctx, name)
		if err != nil {
			var ae *APIError
			if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
				continue // deleted since it was listed
			}
			return nil, err
		}
		out[name] = cfg
	}
	return out, nil
}

// Config returns one connector's config (GET /connectors/{name}/config).
func (c *Client) Config(ctx context.Context, name string) (map[string]string, error) {
	var cfg map[string]string
	_, err := c.do(ctx, http.MethodGet, connectorPath(name, "config"), nil, &cfg)
	return cfg, err
}

// Put creates or reconfigures a connector (PUT /connectors/{name}/config)
// and reports whether it was created (201) rather than updated (200).
func (c *Client) Put(ctx context.Context, name string, config map[string]string) (created bool, err error) {
	status, err := c.do(ctx, http.MethodPut, connectorPath(name, "config"), config, nil)
	return status == http.StatusCreated, err
}

// Delete deletes a connector (DELETE /connectors/{name}).
func (c *Client) Delete(ctx context.Context, name string) error {
	_, err := c.do(ctx, http.MethodDelete, connectorPath(name, ""), nil, nil)
	return err
}

func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
