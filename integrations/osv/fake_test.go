package osv_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeOSV is an OSV API on loopback that records every request.
type fakeOSV struct {
	t *testing.T
	// pages maps "ecosystem/name@version" to pages of vuln ids; page n > 0
	// is asked for with page_token "p<n>".
	pages map[string][][]string
	// fail, when set, answers a request instead of the fake.
	fail func(w http.ResponseWriter, r *http.Request) bool

	// modified overrides the modified time querybatch reports for an id.
	modified map[string]string

	mu       sync.Mutex
	batches  [][]batchQuery
	gets     []string
	srv      *httptest.Server
	resultsN func(n int) int // number of results to send for n queries
}

type batchQuery struct {
	Package struct {
		Name      string `json:"name"`
		Ecosystem string `json:"ecosystem"`
	} `json:"package"`
	Version   string `json:"version"`
	PageToken string `json:"page_token"`
}

func newFakeOSV(t *testing.T) *fakeOSV {
	f := &fakeOSV{t: t, pages: map[string][][]string{}, modified: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOSV) serve(w http.ResponseWriter, r *http.Request) {
	if f.fail != nil && f.fail(w, r) {
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/querybatch":
		var req struct {
			Queries []batchQuery `json:"queries"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.batches = append(f.batches, req.Queries)
		f.mu.Unlock()
		type result struct {
			Vulns         []map[string]string `json:"vulns,omitempty"`
			NextPageToken string              `json:"next_page_token,omitempty"`
		}
		n := len(req.Queries)
		if f.resultsN != nil {
			n = f.resultsN(n)
		}
		results := make([]result, n)
		for i := range min(n, len(req.Queries)) {
			q := req.Queries[i]
			pages := f.pages[q.Package.Ecosystem+"/"+q.Package.Name+"@"+q.Version]
			page := 0
			if q.PageToken != "" {
				_, _ = fmt.Sscanf(q.PageToken, "p%d", &page)
			}
			if page < len(pages) {
				for _, id := range pages[page] {
					results[i].Vulns = append(results[i].Vulns, map[string]string{"id": id, "modified": f.modifiedOf(id)})
				}
				if page+1 < len(pages) {
					results[i].NextPageToken = fmt.Sprintf("p%d", page+1)
				}
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"results": results})
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/vulns/"):
		id := strings.TrimPrefix(r.URL.Path, "/v1/vulns/")
		f.mu.Lock()
		f.gets = append(f.gets, id)
		f.mu.Unlock()
		b, err := os.ReadFile(filepath.Join("testdata", filepath.Base(id)+".json"))
		if err != nil {
			http.Error(w, `{"code":5,"message":"Bug not found."}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	default:
		http.NotFound(w, r)
	}
}

// modifiedOf is the record's modified time as querybatch reports it: the
// override, else the testdata record's, else a fixed time.
func (f *fakeOSV) modifiedOf(id string) string {
	f.mu.Lock()
	m, ok := f.modified[id]
	f.mu.Unlock()
	if ok {
		return m
	}
	var rec struct {
		Modified string `json:"modified"`
	}
	if b, err := os.ReadFile(filepath.Join("testdata", filepath.Base(id)+".json")); err == nil && json.Unmarshal(b, &rec) == nil {
		return rec.Modified
	}
	return "2024-01-01T00:00:00Z"
}
