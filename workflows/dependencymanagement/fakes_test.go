package dependencymanagement_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/contexten/autonomous/workflows/dependencymanagement/gomod/gomodtest"
)

// fakeProxy is a Go module proxy on loopback serving modules the test builds.
type fakeProxy struct {
	*gomodtest.Proxy
	srv *httptest.Server
}

func newFakeProxy(t *testing.T) *fakeProxy {
	p := &gomodtest.Proxy{}
	return &fakeProxy{Proxy: p, srv: p.Start(t)}
}

// fakeOSV answers /v1/querybatch and /v1/vulns/{id} from records the test adds.
type fakeOSV struct {
	mu      sync.Mutex
	records map[string]map[string]any // id -> OSV record
	affects map[string][]string       // "ecosystem|name|version" -> ids
	srv     *httptest.Server
}

func newFakeOSV(t *testing.T) *fakeOSV {
	f := &fakeOSV{records: map[string]map[string]any{}, affects: map[string][]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// add records an advisory with its aliases affecting eco/name at versions, fixed in fixed
// (OSV's spelling: no "v" for Go), with a CVSS v3 vector.
func (f *fakeOSV) add(id string, aliases []string, eco, name string, versions []string, fixed, vector string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rec := map[string]any{"id": id, "aliases": aliases, "summary": "Crafted input crashes " + name, "modified": "2024-05-01T00:00:00Z",
		"affected": []any{map[string]any{"package": map[string]any{"ecosystem": eco, "name": name},
			"ranges": []any{map[string]any{"type": "SEMVER", "events": []any{map[string]any{"introduced": "0"}, map[string]any{"fixed": fixed}}}}}}}
	if vector != "" {
		rec["severity"] = []any{map[string]any{"type": "CVSS_V3", "score": vector}}
	}
	f.records[id] = rec
	for _, v := range versions {
		k := eco + "|" + name + "|" + v
		f.affects[k] = append(f.affects[k], id)
	}
}

func (f *fakeOSV) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/querybatch":
		var req struct {
			Queries []struct {
				Package struct{ Name, Ecosystem string } `json:"package"`
				Version string                           `json:"version"`
			} `json:"queries"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		var results []any
		for _, q := range req.Queries {
			var vulns []any
			for _, id := range f.affects[q.Package.Ecosystem+"|"+q.Package.Name+"|"+q.Version] {
				vulns = append(vulns, map[string]any{"id": id, "modified": "2024-05-01T00:00:00Z"})
			}
			results = append(results, map[string]any{"vulns": vulns})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"results": results})
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/vulns/"):
		rec, ok := f.records[strings.TrimPrefix(r.URL.Path, "/v1/vulns/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(rec)
	default:
		http.NotFound(w, r)
	}
}

// fakeRegistry serves PyPI JSON (/pypi/{name}/json) and npm package documents (/{name}).
type fakeRegistry struct {
	mu   sync.Mutex
	pypi map[string][]string       // name -> versions
	npm  map[string]map[string]any // name -> package document
	fail map[string]int            // path -> status, once
	srv  *httptest.Server
}

func newFakeRegistry(t *testing.T) *fakeRegistry {
	f := &fakeRegistry{pypi: map[string][]string{}, npm: map[string]map[string]any{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// addNPM adds an npm version with its dependencies.
func (f *fakeRegistry) addNPM(name, version string, deps map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	doc, ok := f.npm[name]
	if !ok {
		doc = map[string]any{"name": name, "dist-tags": map[string]any{}, "versions": map[string]any{}}
		f.npm[name] = doc
	}
	v := map[string]any{"name": name, "version": version, "dist": map[string]any{
		"tarball":   fmt.Sprintf("https://registry.npmjs.org/%s/-/%s-%s.tgz", name, name, version),
		"integrity": "sha512-" + strings.Repeat(strings.ReplaceAll(version, ".", ""), 10) + "=="}}
	if deps != nil {
		v["dependencies"] = deps
	}
	doc["versions"].(map[string]any)[version] = v
	doc["dist-tags"].(map[string]any)["latest"] = version
}

// failOnce answers the next request for path with status.
func (f *fakeRegistry) failOnce(path string, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail == nil {
		f.fail = map[string]int{}
	}
	f.fail[path] = status
}

func (f *fakeRegistry) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if st, ok := f.fail[r.URL.Path]; ok {
		delete(f.fail, r.URL.Path)
		http.Error(w, "unavailable", st)
		return
	}
	if name, ok := strings.CutPrefix(r.URL.Path, "/pypi/"); ok {
		name = strings.TrimSuffix(name, "/json")
		vs, found := f.pypi[name]
		if !found {
			http.NotFound(w, r)
			return
		}
		rel := map[string]any{}
		for _, v := range vs {
			rel[v] = []any{map[string]any{"filename": name + "-" + v + ".tar.gz", "yanked": false, "upload_time_iso_8601": "2024-01-01T00:00:00Z"}}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"info": map[string]any{"name": name, "version": vs[len(vs)-1]}, "releases": rel})
		return
	}
	doc, ok := f.npm[strings.TrimPrefix(r.URL.Path, "/")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	_ = json.NewEncoder(w).Encode(doc)
}
