package gomod

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

// fakeProxy serves modules built in the test over the GOPROXY protocol
// and records the requests it gets.
type fakeProxy struct {
	mu       sync.Mutex
	mods     map[module.Version][]byte // go.mod
	zips     map[module.Version][]byte
	requests []string
}

// add builds path@version from a go.mod and extra files with
// golang.org/x/mod/zip.CreateFromDir.
func (p *fakeProxy) add(t *testing.T, path, version, gomod string, files map[string]string) {
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
	p.mods[m] = []byte(gomod)
	p.zips[m] = buf.Bytes()
}

// addMod adds a module whose zip holds its go.mod and one Go file.
func (p *fakeProxy) addMod(t *testing.T, path, version string, requires ...string) {
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
	p.add(t, path, version, gomod, map[string]string{"x.go": "package " + pkg + "\n\nconst V = \"" + version + "\"\n"})
}

func (p *fakeProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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

func (p *fakeProxy) start(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv
}

func (p *fakeProxy) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}
