package codegen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// DefaultURL is Codegen's API, used when CODEGEN_API_URL is empty.
const DefaultURL = "https://api.codegen.com"

// maxResponse bounds an answer read; runs and repository pages are small.
const maxResponse = 8 << 20

// Client calls the Codegen API for one organization with one token. It is
// safe for concurrent use; its String and GoString never show the token.
type Client struct {
	baseURL string
	base    *url.URL
	org     string
	token   string
	http    *http.Client
	now     func() time.Time
	create  *Limiter

	repoTTL, missTTL time.Duration
	repoMu           sync.Mutex // guards repos
	repos            map[string]repoEntry
	refreshMu        sync.Mutex // one repository listing at a time
}

// Option configures a Client.
type Option func(*Client)

// WithURL sends to baseURL (CODEGEN_API_URL) instead of [DefaultURL]; an
// empty baseURL keeps the default.
func WithURL(baseURL string) Option {
	return func(c *Client) {
		if v := strings.TrimSpace(baseURL); v != "" {
			c.baseURL = v
		}
	}
}

// WithHTTPClient sends through hc instead of a client with a 30s timeout.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithCreateLimiter paces run creations (CreateRun and ResumeRun) with l
// instead of the default 10 a minute; nil turns pacing off.
func WithCreateLimiter(l *Limiter) Option { return func(c *Client) { c.create = l } }

// WithRepoCache sets how long RepoID keeps a found repository (default an
// hour) and a repository not found (default five minutes).
func WithRepoCache(found, notFound time.Duration) Option {
	return func(c *Client) { c.repoTTL, c.missTTL = found, notFound }
}

// withClock replaces time.Now (tests).
func withClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// New returns a client for organization orgID (CODEGEN_ORG_ID) with token
// (CODEGEN_TOKEN).
func New(orgID, token string, opts ...Option) (*Client, error) {
	orgID, token = strings.TrimSpace(orgID), strings.TrimSpace(token)
	if orgID == "" || token == "" {
		return nil, fmt.Errorf("failed to create Codegen client: %w: organization id and token are required", ErrInvalidInput)
	}
	if strings.ContainsFunc(token, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, fmt.Errorf("failed to create Codegen client: %w: token has spaces or control characters", ErrInvalidInput)
	}
	if strings.ContainsAny(orgID, "/?#%") {
		return nil, fmt.Errorf("failed to create Codegen client: %w: bad organization id", ErrInvalidInput)
	}
	c := &Client{
		baseURL: DefaultURL, org: orgID, token: token,
		http:    &http.Client{Timeout: 30 * time.Second},
		now:     time.Now,
		create:  NewLimiter(10, time.Minute),
		repoTTL: time.Hour, missTTL: 5 * time.Minute,
		repos: map[string]repoEntry{},
	}
	for _, opt := range opts {
		opt(c)
	}
	base, err := url.Parse(c.baseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || base.User != nil {
		return nil, fmt.Errorf("failed to create Codegen client: %w: API URL must be an absolute http(s) URL", ErrInvalidInput)
	}
	base.RawQuery, base.Fragment = "", ""
	c.base = base
	return c, nil
}

// String hides the token.
func (c *Client) String() string {
	return "codegen.Client{url: " + c.base.Redacted() + ", org: " + c.org + ", token: [redacted]}"
}

// GoString hides the token from %#v.
func (c *Client) GoString() string { return c.String() }

// orgPath is the (unescaped) path of an organization-scoped endpoint; New
// refused an organization id with '/', '?', '#' or '%'.
func (c *Client) orgPath(rest string) string {
	return "/v1/organizations/" + c.org + rest
}

// do sends one call: body (when not nil) as JSON, the answer decoded into
// out (when not nil).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawPath = ""
	u.RawQuery = query.Encode()
	var reader io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("failed to encode Codegen request: %w", err)
		}
		reader = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), reader)
	if err != nil {
		return fmt.Errorf("failed to build Codegen request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("failed to call Codegen %s %s: %w", method, path, ctx.Err())
		}
		return &TransportError{Method: method, Path: path, Err: unwrapURL(err)}
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return &TransportError{Method: method, Path: path, Err: unwrapURL(err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newAPIError(method, path, resp.StatusCode, resp.Header, raw, c.token, c.now())
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("failed to decode Codegen answer to %s %s: %w", method, path, err)
	}
	return nil
}

// unwrapURL drops *url.Error's URL (which has no token, but the error is
// shorter and the path is named by the caller).
func unwrapURL(err error) error {
	if uerr, ok := err.(*url.Error); ok {
		return uerr.Err
	}
	return err
}
