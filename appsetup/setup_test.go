package appsetup

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSetupPage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		cfg        Config
		host       string
		header     map[string]string
		target     string
		wantBase   string
		wantAction string
		wantSecure bool
	}{
		{
			name:       "derived from Host",
			host:       "127.0.0.1:3000",
			target:     "/",
			wantBase:   "http://127.0.0.1:3000",
			wantAction: "https://github.com/settings/apps/new",
		},
		{
			name:       "derived from proxy headers",
			host:       "10.0.0.5:3000",
			header:     map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "Bot.Example.com, proxy.internal"},
			target:     "/",
			wantBase:   "https://bot.example.com",
			wantAction: "https://github.com/settings/apps/new",
			wantSecure: true,
		},
		{
			name:       "public URL and GitHub Enterprise",
			cfg:        Config{PublicURL: "https://ci.example.com/bot/", GitHubURL: "https://ghe.example.com/"},
			host:       "localhost:3000",
			target:     "/",
			wantBase:   "https://ci.example.com/bot",
			wantAction: "https://ghe.example.com/settings/apps/new",
		},
		{
			name:       "organization",
			host:       "localhost:3000",
			target:     "/?org=my-org",
			wantBase:   "http://localhost:3000",
			wantAction: "https://github.com/organizations/my-org/settings/apps/new",
		},
		{
			name:       "IPv6 host",
			host:       "[::1]:3000",
			target:     "/",
			wantBase:   "http://[::1]:3000",
			wantAction: "https://github.com/settings/apps/new",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHandler(t, tt.cfg)
			resp := get(h, tt.host, tt.target, tt.header)
			body := readBody(t, resp)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
			require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))

			cookie := stateCookieOf(t, resp)
			require.True(t, validState(cookie.Value))
			require.True(t, cookie.HttpOnly)
			require.Equal(t, http.SameSiteLaxMode, cookie.SameSite)
			require.Equal(t, "/", cookie.Path)
			require.Equal(t, tt.wantSecure, cookie.Secure)

			action, err := url.Parse(formAction(t, body))
			require.NoError(t, err)
			require.Equal(t, tt.wantAction, action.Scheme+"://"+action.Host+action.Path)
			require.Equal(t, cookie.Value, action.Query().Get("state"))

			manifest := manifestFromPage(t, body)
			require.Equal(t, "Autonomous CI", manifest["name"])
			require.Equal(t, "https://github.com/contexten/autonomous", manifest["url"])
			require.Equal(t, tt.wantBase+"/setup/callback", manifest["redirect_url"])
			hook, ok := manifest["hook_attributes"].(map[string]any)
			require.True(t, ok)
			require.Equal(t, tt.wantBase+"/api/github/hook", hook["url"])

			require.Contains(t, body, "Autonomous CI")
			require.Contains(t, body, "<code>pull_requests</code></td><td>write</td>")
			require.Contains(t, body, "<code>workflow_run</code>")
			require.Contains(t, body, tt.wantBase+"/api/github/hook")
		})
	}
}

func TestSetupPageReusesStateCookie(t *testing.T) {
	t.Parallel()
	h := newTestHandler(t, Config{})
	first := get(h, "localhost", "/", nil)
	cookie := stateCookieOf(t, first)
	second := get(h, "localhost", "/?org=acme", nil, cookie)
	body := readBody(t, second)
	require.Equal(t, cookie.Value, stateCookieOf(t, second).Value)
	action, err := url.Parse(formAction(t, body))
	require.NoError(t, err)
	require.Equal(t, cookie.Value, action.Query().Get("state"))

	// A malformed cookie is replaced by a fresh state.
	third := get(h, "localhost", "/", nil, &http.Cookie{Name: stateCookie, Value: "short"})
	fresh := stateCookieOf(t, third).Value
	require.True(t, validState(fresh))
	require.NotEqual(t, cookie.Value, fresh)
}

func TestSetupPageRejectsInvalidOrganization(t *testing.T) {
	t.Parallel()
	tests := []string{"-org", "org-", "a--b", "my org", "../settings", `"><script>alert(1)</script>`, strings.Repeat("a", 40)}
	for _, org := range tests {
		t.Run(org, func(t *testing.T) {
			t.Parallel()
			h := newTestHandler(t, Config{})
			resp := get(h, "localhost", "/?org="+url.QueryEscape(org), nil)
			body := readBody(t, resp)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode)
			require.Contains(t, body, "not a valid GitHub organization name")
			require.NotContains(t, body, "<script>")
			require.NotContains(t, formAction(t, body), "/organizations/")
		})
	}
}

func TestSetupPageEscapesHostileInput(t *testing.T) {
	t.Parallel()
	const script = `"><script>alert(1)</script>`
	tests := []struct {
		name   string
		host   string
		header map[string]string
	}{
		{name: "Host", host: "bot.example.com" + script},
		{name: "X-Forwarded-Host", host: "localhost", header: map[string]string{"X-Forwarded-Host": "evil" + script}},
		{name: "X-Forwarded-Proto", host: "localhost", header: map[string]string{"X-Forwarded-Proto": "javascript" + script}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHandler(t, Config{})
			resp := get(h, tt.host, "/", tt.header)
			body := readBody(t, resp)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode)
			require.NotContains(t, body, "<script>")
			require.NotContains(t, body, "alert(1)")
			require.NotContains(t, body, `name="manifest"`)
		})
	}
}

func TestSetupPageEscapesManifestText(t *testing.T) {
	t.Parallel()
	manifest := []byte("name: \"<script>alert('name')</script>\"\n" +
		"description: \"\\\"><img src=x onerror=alert(1)>\"\n" +
		"default_events: [\"<b>push</b>\"]\n" +
		"default_permissions: {\"<i>checks</i>\": \"<u>write</u>\"}\n")
	h := newTestHandler(t, Config{Manifest: manifest})
	resp := get(h, "localhost", "/", nil)
	body := readBody(t, resp)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	for _, raw := range []string{"<script>", "<img", "<b>", "<i>", "<u>"} {
		require.NotContains(t, body, raw)
	}
	require.Contains(t, body, "&lt;script&gt;")
	require.Equal(t, "<script>alert('name')</script>", manifestFromPage(t, body)["name"])
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	h := newTestHandler(t, Config{})
	tests := []struct {
		method string
		target string
		want   int
	}{
		{http.MethodGet, "/", http.StatusOK},
		{http.MethodHead, "/", http.StatusOK},
		{http.MethodGet, "/index.html", http.StatusNotFound},
		{http.MethodGet, "/api/github/hook", http.StatusNotFound},
		{http.MethodPost, "/api/github/hook", http.StatusNotFound},
		{http.MethodGet, "/setup", http.StatusNotFound},
		{http.MethodGet, "/setup/callback/extra", http.StatusNotFound},
		{http.MethodPost, "/", http.StatusMethodNotAllowed},
		{http.MethodPost, "/setup/callback", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(tt.method, tt.target, nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			require.Equal(t, tt.want, rec.Code)
			if tt.method == http.MethodHead {
				require.Empty(t, rec.Body.String())
			}
		})
	}
}
