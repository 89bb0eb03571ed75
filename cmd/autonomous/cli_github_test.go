package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/ghapp/ghapptest"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// appAPI is the part of GitHub the operator commands talk to, as the app sees it: GET /app,
// GET /app/installations, GET /rate_limit and installation tokens, on the shared fake GitHub
// (ghapptest). failWith answers every call with a status; it records the requests.
type appAPI struct {
	srv *ghapptest.Server
}

// rateHeaders are GitHub's rate-limit headers, on every answer.
var rateHeaders = map[string]string{"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4990"}

func newAppAPI(t testing.TB) *appAPI {
	a := &appAPI{srv: ghapptest.New(t)}
	reply := func(status int, body any) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			setRateHeaders(w)
			if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") && !strings.HasPrefix(r.Header.Get("Authorization"), "token ") {
				ghapptest.JSON(w, http.StatusUnauthorized, map[string]any{"message": "Unauthorized", "documentation_url": "https://docs.github.com/rest"})
				return
			}
			answer := body
			if b, ok := body.(func() any); ok {
				answer = b()
			}
			ghapptest.JSON(w, status, answer)
		}
	}
	a.srv.HandleFunc("GET /app", reply(http.StatusOK, map[string]any{"id": 1, "slug": "autonomous-ci", "name": "Autonomous CI"}))
	a.srv.HandleFunc("GET /app/installations", reply(http.StatusOK, []any{map[string]any{"id": 7, "account": map[string]any{"login": "octo-org", "type": "Organization"}}}))
	a.srv.HandleFunc("GET /rate_limit", reply(http.StatusOK, map[string]any{"resources": map[string]any{"core": map[string]any{"limit": 5000, "remaining": 4990}}}))
	a.srv.HandleFunc("POST /app/installations/{id}/access_tokens", reply(http.StatusCreated, func() any {
		return map[string]any{"token": "ghs_clitoken", "expires_at": time.Now().Add(time.Hour).Format(time.RFC3339)}
	}))
	return a
}

func setRateHeaders(w http.ResponseWriter) {
	for k, v := range rateHeaders {
		w.Header().Set(k, v)
	}
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
}

// URL is GITHUB_API_URL (Enterprise-style /api/v3 prefix, like the other fakes).
func (a *appAPI) URL() string { return a.srv.URL() + "/api/v3/" }

// failWith makes every call answer status.
func (a *appAPI) failWith(status int) {
	headers := map[string]string{"X-RateLimit-Reset": strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)}
	for k, v := range rateHeaders {
		headers[k] = v
	}
	body, _ := json.Marshal(map[string]any{"message": http.StatusText(status), "documentation_url": "https://docs.github.com/rest"})
	a.srv.Fail(ghapptest.Fault{Status: status, Headers: headers, Body: string(body)})
}

func (a *appAPI) seen() []string { return a.srv.Calls("") }

// credentialLines are --config lines with the app's credentials and GitHub at apiURL.
func credentialLines(t *testing.T, apiURL string) []string {
	keyPath := filepath.Join(t.TempDir(), "app.pem")
	require.NoError(t, os.WriteFile(keyPath, []byte(testKey(t)), 0o600))
	return []string{"github_app_id: 1", "github_private_key_path: " + keyPath, "github_webhook_secret: " + testSecret,
		"github_api_url: " + apiURL,
		// The machine running the tests may be busy: resources are judged in monitor's tests.
		"alert_cpu_percent: 100", "alert_memory_percent: 100"}
}

// healthJSON is the part of the health report the tests read.
type healthJSON struct {
	Healthy    bool
	Score      int
	Threshold  float64
	Components []struct {
		Name    string
		Status  string
		Message string
	}
	RateLimitRemaining int `json:"rate_limit_remaining"`
}

func (h healthJSON) github(t *testing.T) (bool, string) {
	for _, c := range h.Components {
		if c.Name == "github" {
			return c.Status == "healthy", c.Message
		}
	}
	t.Fatalf("no github component in %+v", h)
	return false, ""
}

// TestCLIWithCredentials runs status and health-check configured as a real install is: the
// app's credentials set and GitHub answering (these crashed on the first response when the CLI
// built its client without a metrics registry), then GitHub refusing the credentials.
func TestCLIWithCredentials(t *testing.T) {
	t.Parallel()
	gh := newAppAPI(t)
	cfgPath := writeConfig(t, workflowstest.SQLiteURL(t), credentialLines(t, gh.URL())...)
	code, _, errOut := runCLI(t, "", "init", "--config", cfgPath)
	require.Equal(t, 0, code, errOut)

	code, out, errOut := runCLI(t, "", "health-check", "--config", cfgPath)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "Health: healthy (score 100,")
	require.Contains(t, out, "app autonomous-ci, rate limit 4990/5000")

	code, out, errOut = runCLI(t, "", "status", "--json", "--config", cfgPath)
	require.Equal(t, 0, code, errOut)
	var status struct{ Health healthJSON }
	require.NoError(t, json.Unmarshal([]byte(out), &status))
	require.True(t, status.Health.Healthy, out)
	require.Equal(t, 4990, status.Health.RateLimitRemaining)
	require.Contains(t, gh.seen(), "GET /app")

	code, out, _ = runCLI(t, "", "status", "--config", cfgPath)
	require.Equal(t, 0, code)
	require.Contains(t, out, "healthy        github    app autonomous-ci")

	gh.failWith(http.StatusUnauthorized)
	code, out, _ = runCLI(t, "", "health-check", "--json", "--config", cfgPath)
	require.Equal(t, 1, code, "an unhealthy check exits 1")
	var report healthJSON
	require.NoError(t, json.Unmarshal([]byte(out), &report))
	ok, detail := report.github(t)
	require.False(t, ok)
	require.Contains(t, detail, "failed to authenticate as the app")
	require.Contains(t, detail, "401")

	gh.failWith(http.StatusBadGateway)
	code, out, _ = runCLI(t, "", "status", "--config", cfgPath)
	require.Equal(t, 0, code, "status reports a degraded GitHub and still lists the rest")
	require.Contains(t, out, "down           github")
	require.Contains(t, out, "Last executions:")
}

// TestCLIUnusableKey: credentials that are set but cannot be used are named as such, not as
// missing ones.
func TestCLIUnusableKey(t *testing.T) {
	t.Parallel()
	gh := newAppAPI(t)
	keyPath := filepath.Join(t.TempDir(), "app.pem")
	require.NoError(t, os.WriteFile(keyPath, []byte("-----BEGIN RSA PRIVATE KEY-----\nnot a key\n-----END RSA PRIVATE KEY-----\n"), 0o600))
	cfgPath := writeConfig(t, workflowstest.SQLiteURL(t), "github_app_id: 1", "github_private_key_path: "+keyPath,
		"github_webhook_secret: "+testSecret, "github_api_url: "+gh.URL())
	code, out, _ := runCLI(t, "", "health-check", "--json", "--config", cfgPath)
	require.Equal(t, 1, code)
	var report healthJSON
	require.NoError(t, json.Unmarshal([]byte(out), &report))
	ok, detail := report.github(t)
	require.False(t, ok)
	require.Contains(t, detail, "could not parse private key")
	require.NotContains(t, detail, "no GitHub App credentials")
	require.Empty(t, gh.seen())
}
