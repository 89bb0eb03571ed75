// Package osv is a small client for the OSV vulnerability database API
// (https://google.github.io/osv.dev/api/): batched queries for the
// advisories affecting package versions, advisory details cached in
// process, and advisories merged across their aliases.
package osv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultBaseURL is OSV's public API; EnvBaseURL names the variable that
// overrides it.
const (
	DefaultBaseURL = "https://api.osv.dev"
	EnvBaseURL     = "OSV_API_URL"
)

// maxResponse bounds a response body read into memory.
const maxResponse = 64 << 20

// Client calls the OSV API. It is safe for concurrent use.
type Client struct {
	base string
	http *http.Client

	mu    sync.Mutex
	vulns map[string]*Vuln // GET /v1/vulns/{id} results by id
}

// New returns a client for baseURL (DefaultBaseURL when empty) using hc
// (http.DefaultClient when nil).
func New(baseURL string, hc *http.Client) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), http: hc, vulns: map[string]*Vuln{}}
}

// BaseURLFromEnv returns $OSV_API_URL, or DefaultBaseURL when it is unset.
func BaseURLFromEnv() string {
	if v := os.Getenv(EnvBaseURL); v != "" {
		return v
	}
	return DefaultBaseURL
}

// HTTPError is a response from OSV with a status other than 200.
type HTTPError struct {
	Method, Path string
	StatusCode   int
	// RetryAfter is the server's Retry-After (seconds or HTTP date); 0 when
	// absent.
	RetryAfter time.Duration
	Body       string // the first 512 bytes
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("osv %s %s: status %d: %s", e.Method, e.Path, e.StatusCode, e.Body)
}

// Retryable reports whether the request may succeed later: 429 and 5xx.
func (e *HTTPError) Retryable() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// do sends a request and decodes a 200 response's JSON body into out.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("failed to encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("failed to build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("failed to call osv %s %s: %w", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return &HTTPError{Method: method, Path: path, StatusCode: resp.StatusCode,
			RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now()), Body: string(snippet)}
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponse)).Decode(out); err != nil {
		return fmt.Errorf("failed to decode osv %s %s response: %w", method, path, err)
	}
	return nil
}

// retryAfter parses a Retry-After header: delay seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
