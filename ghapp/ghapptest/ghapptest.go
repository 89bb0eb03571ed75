// Package ghapptest is the fake GitHub REST API the tests share: one router (Go's ServeMux
// patterns on the API path, "/api/v3" stripped as GitHub Enterprise Server clients send it),
// every request recorded, and fault injection (fixed answers such as 422, 5xx or 429 with
// Retry-After; delays that make a create succeed after the client timed out). The state a test
// needs (pull requests, comments, runs) stays in the test's own handlers. It listens on
// 127.0.0.1 only.
package ghapptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/gregjones/httpcache"
)

// Request is one call the fake received.
type Request struct {
	Method string
	Path   string // without "/api/v3"
	Sent   string // the path as sent, "/api/v3" included
	Query  string
	Body   string
}

// String is "METHOD /path".
func (r Request) String() string { return r.Method + " " + r.Path }

// Fault changes the answer to requests of Method and Path (any method or path when empty). With a Status it answers that status,
// Headers and Body instead of the route; with only a Delay the route serves the request after the
// delay (the request takes effect even when the client gave up). Times bounds how many requests
// it affects (zero: all); Match, when set, limits it to requests it accepts.
type Fault struct {
	Method, Path string
	Status       int
	Headers      map[string]string
	Body         string
	Delay        time.Duration
	Times        int
	Match        func(Request) bool
}

// Server is the fake GitHub.
type Server struct {
	t   testing.TB
	srv *httptest.Server
	mux *http.ServeMux

	mu       sync.Mutex
	requests []Request
	faults   []*Fault
}

// New starts a fake GitHub on 127.0.0.1, closed when the test ends. Unrouted requests get 404.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, mux: http.NewServeMux()}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the server's base URL.
func (s *Server) URL() string { return s.srv.URL }

// Handle routes pattern ("GET /repos/{owner}/{repo}/pulls/{number}", as http.ServeMux reads it)
// to h; body is the request body, already read and recorded.
func (s *Server) Handle(pattern string, h func(w http.ResponseWriter, r *http.Request, body []byte)) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		h(w, r, bodyOf(r))
	})
}

// HandleFunc routes pattern to a plain handler; the request's Body still holds the body.
func (s *Server) HandleFunc(pattern string, h http.HandlerFunc) { s.mux.HandleFunc(pattern, h) }

// Fail adds a fault; the newest matching fault wins.
func (s *Server) Fail(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// Requests returns the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Calls returns the recorded "METHOD /path" strings that contain substr ("" for all).
func (s *Server) Calls(substr string) []string {
	var out []string
	for _, r := range s.Requests() {
		if c := r.String(); strings.Contains(c, substr) {
			out = append(out, c)
		}
	}
	return out
}

// ClientOptions shape Client.
type ClientOptions struct {
	// Timeout is the HTTP client's timeout; zero means none.
	Timeout time.Duration
	// Cached caches answers as the server's clients do (httpcache, honouring max-age).
	Cached bool
}

// Client returns a go-github client pointed at the fake.
func (s *Server) Client(opts ClientOptions) *github.Client {
	hc := &http.Client{Timeout: opts.Timeout}
	if opts.Cached {
		hc.Transport = httpcache.NewMemoryCacheTransport()
	}
	c, err := github.NewClient(hc).WithEnterpriseURLs(s.srv.URL+"/", s.srv.URL+"/")
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// JSON writes v as a JSON answer with status.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// NotFound answers GitHub's 404.
func NotFound(w http.ResponseWriter) {
	JSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
}

type bodyKey struct{}

func contextWithBody(r *http.Request, body []byte) context.Context {
	return context.WithValue(r.Context(), bodyKey{}, body)
}

func bodyOf(r *http.Request) []byte {
	b, _ := r.Context().Value(bodyKey{}).([]byte)
	return b
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	path := strings.TrimPrefix(r.URL.Path, "/api/v3")
	req := Request{Method: r.Method, Path: path, Sent: r.URL.Path, Query: r.URL.RawQuery, Body: string(raw)}
	if f := s.take(req, true); f != nil {
		time.Sleep(f.Delay)
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()
	if f := s.take(req, false); f != nil {
		for k, v := range f.Headers {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, f.Body)
		return
	}
	r2 := r.Clone(contextWithBody(r, raw))
	r2.URL.Path, r2.URL.RawPath = path, ""
	r2.Body = io.NopCloser(bytes.NewReader(raw))
	if _, pattern := s.mux.Handler(r2); pattern == "" {
		NotFound(w)
		return
	}
	s.mux.ServeHTTP(w, r2)
}

// take finds the newest fault for req of the given sort (delays or answers) and counts it.
func (s *Server) take(req Request, delay bool) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.faults) - 1; i >= 0; i-- {
		f := s.faults[i]
		if (f.Method != "" && f.Method != req.Method) || (f.Path != "" && f.Path != req.Path) || (f.Status == 0) != delay || (f.Match != nil && !f.Match(req)) {
			continue
		}
		if f.Times > 0 {
			if f.Times--; f.Times == 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
		}
		copied := *f
		return &copied
	}
	return nil
}

// Cacheable sets the caching headers GitHub sends on a GET (ETag, "private, max-age=N") and
// answers 304 Not Modified when the request's If-None-Match names etag; it reports whether it
// answered, so the route writes its body only when it returns false.
func Cacheable(w http.ResponseWriter, r *http.Request, etag string, maxAge time.Duration) bool {
	etag = `"` + etag + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "private, max-age="+strconv.Itoa(int(maxAge/time.Second)))
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return true
	}
	return false
}
