// Package gomodtest is a Go module proxy for tests: it serves modules the test builds (with
// golang.org/x/mod/zip, so their go.sum hashes are real) over the GOPROXY protocol on loopback.
package gomodtest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/zip"
)

// Proxy serves the modules added to it and records the requests it gets; the zero value is
// ready to use.
type Proxy struct {
	mu       sync.Mutex
	mods     map[module.Version][]byte // go.mod
	zips     map[module.Version][]byte
	requests []string
}

// Add builds path@version from a go.mod and extra files with zip.CreateFromDir and returns the zip.
func (p *Proxy) Add(t testing.TB, path, version, gomod string, files map[string]string) []byte {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644))
	for name, body := range files {
		full := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, []byte(body), 0o644))
	}
	m := module.Version{Path: path, Version: version}
	var buf bytes.Buffer
	require.NoError(t, zip.CreateFromDir(&buf, m, dir))
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mods == nil {
		p.mods, p.zips = map[module.Version][]byte{}, map[module.Version][]byte{}
	}
	p.mods[m], p.zips[m] = []byte(gomod), buf.Bytes()
	return buf.Bytes()
}

// AddMod adds a module whose go.mod requires requires ("path@version" each) and whose zip holds
// one Go file; it returns the zip.
func (p *Proxy) AddMod(t testing.TB, path, version string, requires ...string) []byte {
	t.Helper()
	gomod := "module " + path + "\n\ngo 1.21\n"
	if len(requires) > 0 {
		gomod += "\nrequire (\n"
		for _, r := range requires {
			gomod += "\t" + strings.Replace(r, "@", " ", 1) + "\n"
		}
		gomod += ")\n"
	}
	pkg := path[strings.LastIndex(path, "/")+1:]
	return p.Add(t, path, version, gomod, map[string]string{"x.go": "package " + pkg + "\n\nconst V = \"" + version + "\"\n"})
}

// Start serves the proxy on 127.0.0.1 until the test ends.
func (p *Proxy) Start(t testing.TB) *httptest.Server {
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv
}

// Requests returns the paths requested so far.
func (p *Proxy) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

// ServeHTTP answers /<module>/@v/list, .info, .mod and .zip.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests = append(p.requests, r.URL.Path)
	escPath, file, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/@v/")
	path, err := module.UnescapePath(escPath)
	if !ok || err != nil {
		http.NotFound(w, r)
		return
	}
	if file == "list" {
		var vs []string
		for m := range p.mods {
			if m.Path == path {
				vs = append(vs, m.Version)
			}
		}
		semver.Sort(vs)
		_, _ = fmt.Fprint(w, strings.Join(vs, "\n"))
		return
	}
	ext := filepath.Ext(file)
	v, err := module.UnescapeVersion(strings.TrimSuffix(file, ext))
	m := module.Version{Path: path, Version: v}
	if _, found := p.mods[m]; err != nil || !found {
		http.NotFound(w, r)
		return
	}
	switch ext {
	case ".info":
		_, _ = fmt.Fprintf(w, `{"Version":%q,"Time":"2024-01-02T03:04:05Z"}`, v)
	case ".mod":
		_, _ = w.Write(p.mods[m])
	case ".zip":
		_, _ = w.Write(p.zips[m])
	default:
		http.NotFound(w, r)
	}
}
