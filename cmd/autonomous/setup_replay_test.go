package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/ghapp/ghapptest"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// unconfiguredConfig is a server without GitHub App credentials, as on first start.
func unconfiguredConfig(t *testing.T, apiURL string) config.Config {
	cfg := config.Default()
	cfg.GitHubAPIURL = apiURL
	cfg.DatabaseURL = workflowstest.SQLiteURL(t)
	require.False(t, cfg.HasAppCredentials())
	return cfg
}

// visitor is one browser: its own cookies.
func visitor(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// register runs the manifest flow as client: the setup page, then GitHub's redirect to the
// callback with code. It returns both status codes.
func register(t *testing.T, client *http.Client, base, code string) (page, callback int) {
	resp, err := client.Get(base + "/")
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	u, err := url.Parse(base)
	require.NoError(t, err)
	state := strings.Repeat("0", 64) // a visitor without a page of their own forges one
	for _, c := range client.Jar.Cookies(u) {
		if c.Name == "autonomous_setup_state" {
			state = c.Value
		}
	}
	if resp.StatusCode != http.StatusOK {
		client.Jar.SetCookies(u, []*http.Cookie{{Name: "autonomous_setup_state", Value: state}})
	}
	cb, err := client.Get(base + "/setup/callback?code=" + code + "&state=" + state)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, cb.Body)
	cb.Body.Close()
	return resp.StatusCode, cb.StatusCode
}

// TestSetupReplayThroughServer: the first visitor registers the app; a second visitor, before any
// restart, gets 410 from the setup page and the callback, and the env file keeps the first app.
// After the restart with those credentials the setup routes do not exist.
func TestSetupReplayThroughServer(t *testing.T) {
	t.Parallel()
	var conversions atomic.Int64
	api := ghapptest.New(t)
	api.HandleFunc("POST /app-manifests/{code}/conversions", func(w http.ResponseWriter, _ *http.Request) {
		n := strconv.FormatInt(conversions.Add(1), 10)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"id":`+n+`,"slug":"autonomous-ci","name":"Autonomous CI","client_id":"Iv1.a",
			"client_secret":"cs","webhook_secret":"whsec-`+n+`","html_url":"https://github.com/apps/autonomous-ci",
			"pem":"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"}`)
	})
	envFile := filepath.Join(t.TempDir(), ".env")
	app := startApp(t, unconfiguredConfig(t, api.URL()+"/"), appOptions{EnvFile: envFile})

	page, cb := register(t, visitor(t), app.URL(), "first")
	require.Equal(t, []int{http.StatusOK, http.StatusOK}, []int{page, cb})
	saved, err := config.LoadEnvFile(envFile)
	require.NoError(t, err)
	require.Equal(t, "1", saved[config.EnvAppID])
	require.Equal(t, "whsec-1", saved[config.EnvWebhookSecret])
	raw, err := os.ReadFile(envFile)
	require.NoError(t, err)

	page, cb = register(t, visitor(t), app.URL(), "second")
	require.Equal(t, []int{http.StatusGone, http.StatusGone}, []int{page, cb})
	require.Equal(t, int64(1), conversions.Load(), "the second code is never exchanged")
	require.Len(t, api.Calls("/conversions"), 1)
	after, err := os.ReadFile(envFile)
	require.NoError(t, err)
	require.Equal(t, string(raw), string(after), "the env file is never written again")

	// After the restart, configured: no setup route at all; "/" is the operators' dashboard.
	gh := newFakeGitHub(t)
	configured := startApp(t, testConfig(t, gh.APIURL(), workflowstest.SQLiteURL(t)), appOptions{EnvFile: envFile})
	for path, want := range map[string]int{
		"/": http.StatusUnauthorized, "/setup/callback?code=x&state=" + strings.Repeat("0", 64): http.StatusNotFound,
	} {
		resp, err := http.Get(configured.URL() + path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, want, resp.StatusCode, path)
	}
}

// TestUnconfiguredServerBindsLoopback: while the setup page is up, serve listens on 127.0.0.1
// unless BIND_ADDR or PUBLIC_URL says otherwise; once configured, on every interface.
func TestUnconfiguredServerBindsLoopback(t *testing.T) {
	t.Parallel()
	addr := func(cfg config.Config) string {
		app, err := buildApp(t.Context(), cfg, appOptions{EnvFile: filepath.Join(t.TempDir(), ".env")})
		require.NoError(t, err)
		require.NoError(t, app.store.Close())
		return app.server.Addr
	}
	cfg := unconfiguredConfig(t, "http://127.0.0.1:1/")
	require.Equal(t, "127.0.0.1:8080", addr(cfg))
	cfg.BindAddr = "0.0.0.0"
	require.Equal(t, "0.0.0.0:8080", addr(cfg))
	cfg.BindAddr, cfg.PublicURL = "", "https://bot.example.com"
	require.Equal(t, ":8080", addr(cfg))
	gh := newFakeGitHub(t)
	require.Equal(t, ":8080", addr(testConfig(t, gh.APIURL(), workflowstest.SQLiteURL(t))))
}
