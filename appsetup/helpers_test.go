package appsetup

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/ghapp/ghapptest"
)

var (
	manifestInputPattern = regexp.MustCompile(`name="manifest" value="([^"]*)"`)
	postFormPattern      = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
)

// appYAML returns testdata/app.yml: the repository's app.yml with its description quoted so
// that it is valid YAML (TestRepositoryAppYAML checks that the two stay in step).
func appYAML(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "app.yml"))
	require.NoError(t, err)
	return data
}

// newTestHandler builds a handler for app.yml that writes to a temporary env file.
func newTestHandler(t *testing.T, cfg Config) http.Handler {
	t.Helper()
	if cfg.Manifest == nil {
		cfg.Manifest = appYAML(t)
	}
	if cfg.EnvFile == "" {
		cfg.EnvFile = filepath.Join(t.TempDir(), ".env")
	}
	h, err := NewHandler(cfg)
	require.NoError(t, err)
	return h
}

// get serves a GET request for target with the given host, headers and cookies.
func get(h http.Handler, host, target string, header map[string]string, cookies ...*http.Cookie) *http.Response {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if host != "" {
		req.Host = host
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

// readBody returns the response body as a string.
func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	buf, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(buf)
}

// manifestFromPage extracts and decodes the hidden manifest input of the setup page.
func manifestFromPage(t *testing.T, body string) map[string]any {
	t.Helper()
	m := manifestInputPattern.FindStringSubmatch(body)
	require.NotNil(t, m, "setup page has no manifest input")
	var manifest map[string]any
	require.NoError(t, json.Unmarshal([]byte(html.UnescapeString(m[1])), &manifest))
	return manifest
}

// formAction extracts the action of the registration form.
func formAction(t *testing.T, body string) string {
	t.Helper()
	m := postFormPattern.FindStringSubmatch(body)
	require.NotNil(t, m, "setup page has no registration form")
	return html.UnescapeString(m[1])
}

// stateCookieOf returns the state cookie set by resp.
func stateCookieOf(t *testing.T, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == stateCookie {
			return c
		}
	}
	require.FailNow(t, "no state cookie set")
	return nil
}

// fakeGitHub is the shared fake GitHub (ghapptest) answering the manifest conversion.
type fakeGitHub struct {
	*ghapptest.Server
}

// newFakeGitHub starts a fake API whose conversion endpoint
// (POST /app-manifests/{code}/conversions) answers with status and body.
func newFakeGitHub(t *testing.T, status int, body string) *fakeGitHub {
	t.Helper()
	f := &fakeGitHub{Server: ghapptest.New(t)}
	f.HandleFunc("POST /app-manifests/{code}/conversions", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
	return f
}

// recorded returns the requests seen so far as "METHOD /path", the path as sent.
func (f *fakeGitHub) recorded() []string {
	var out []string
	for _, r := range f.Requests() {
		out = append(out, r.Method+" "+r.Sent)
	}
	return out
}
