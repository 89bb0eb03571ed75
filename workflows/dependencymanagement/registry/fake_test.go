package registry

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// fakeRegistry serves fixed responses by request URI (escaped path and
// query, as sent) and records every request.
type fakeRegistry struct {
	mu       sync.Mutex
	routes   map[string]fakeResponse
	requests []string
	accepts  []string
}

type fakeResponse struct {
	status int
	body   string
	header map[string]string
}

func newFake(t *testing.T, routes map[string]fakeResponse) (*fakeRegistry, *httptest.Server) {
	t.Helper()
	f := &fakeRegistry{routes: routes}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.RequestURI)
		f.accepts = append(f.accepts, r.Header.Get("Accept"))
		resp, ok := f.routes[r.RequestURI]
		f.mu.Unlock()
		if r.Method != http.MethodGet {
			http.Error(w, "method", http.StatusMethodNotAllowed)
			return
		}
		if !ok {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		for k, v := range resp.header {
			w.Header().Set(k, v)
		}
		if resp.status == 0 {
			resp.status = http.StatusOK
		}
		w.WriteHeader(resp.status)
		_, _ = w.Write([]byte(resp.body))
	}))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeRegistry) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

func ok(body string) fakeResponse { return fakeResponse{body: body} }
