// Package registry reads the versions a dependency could be updated to from
// each ecosystem's registry — the Go module proxy, the npm registry, PyPI's
// JSON API and GitHub tags for actions — and picks the version an update
// strategy allows, skipping pre-releases and yanked, deprecated or retracted
// versions.
package registry

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxBody bounds a response body read into memory (npm documents and
// module zips can be large; the go command limits zips to 500 MB, we to 128).
const maxBody = 128 << 20

// DefaultTTL is how long a successful response stays cached.
const DefaultTTL = 15 * time.Minute

// HTTPError is a registry response with a status other than 200.
type HTTPError struct {
	URL        string
	StatusCode int
	// RetryAfter is the server's Retry-After (seconds or HTTP date); 0 when
	// absent.
	RetryAfter time.Duration
	Body       string // the first 512 bytes
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("registry GET %s: status %d: %s", e.URL, e.StatusCode, e.Body)
}

// NotFound reports a 404 or 410 (the Go proxy answers 410 for modules it
// refuses to serve).
func (e *HTTPError) NotFound() bool {
	return e.StatusCode == http.StatusNotFound || e.StatusCode == http.StatusGone
}

// Retryable reports whether the request may succeed later: 429 and 5xx.
func (e *HTTPError) Retryable() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// fetcher GETs URLs with an in-process cache of successful bodies.
type fetcher struct {
	http *http.Client
	ttl  time.Duration
	now  func() time.Time

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	body    []byte
	expires time.Time
}

func newFetcher(hc *http.Client, ttl time.Duration) *fetcher {
	if hc == nil {
		hc = http.DefaultClient
	}
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &fetcher{http: hc, ttl: ttl, now: time.Now, cache: map[string]cached{}}
}

// get returns the body of a 200 response to GET url, from the cache while
// fresh. Other statuses are *HTTPError and are not cached.
func (f *fetcher) get(ctx context.Context, url, accept string) ([]byte, error) {
	key := accept + " " + url
	f.mu.Lock()
	c, ok := f.cache[key]
	f.mu.Unlock()
	if ok && f.now().Before(c.expires) {
		return c.body, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("failed to build request: %w", err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := f.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("failed to call registry GET %s: %w", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, &HTTPError{URL: url, StatusCode: resp.StatusCode,
			RetryAfter: retryAfter(resp.Header.Get("Retry-After"), f.now()), Body: string(snippet)}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("failed to read registry GET %s: %w", url, err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("failed to read registry GET %s: body larger than %d bytes", url, maxBody)
	}
	f.mu.Lock()
	f.cache[key] = cached{body: body, expires: f.now().Add(f.ttl)}
	f.mu.Unlock()
	return body, nil
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

// baseOrDefault trims a configured base URL, or returns def when empty.
func baseOrDefault(base, def string) string {
	if base == "" {
		base = def
	}
	return strings.TrimRight(base, "/")
}
