package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/dashboard/auth"
	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// operatorClient talks to a running app as an operator would: a browser (cookie jar, Accept
// text/html, no redirects followed) or an API client.
type operatorClient struct {
	t    *testing.T
	base string
	http *http.Client
}

func newOperatorClient(t *testing.T, app *App) *operatorClient {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &operatorClient{t: t, base: app.URL(), http: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a request; headers are "Name: value" strings.
func (c *operatorClient) do(method, path, body string, headers ...string) (int, http.Header, string) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	require.NoError(c.t, err)
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp.StatusCode, resp.Header, string(b)
}

const (
	acceptHTML = "Accept: text/html,application/xhtml+xml"
	bearerOK   = "Authorization: Bearer admin-token"
	asJSON     = "Content-Type: application/json"
)

// login signs the browser in through the form.
func (c *operatorClient) login(token string) (int, http.Header) {
	c.t.Helper()
	code, _, body := c.do(http.MethodGet, "/login?next=%2F", "", acceptHTML)
	require.Equal(c.t, http.StatusOK, code, body)
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	require.NotNil(c.t, m, body)
	form := url.Values{"token": {token}, "csrf": {m[1]}, "next": {"/"}}.Encode()
	code, hdr, _ := c.do(http.MethodPost, "/login", form, acceptHTML, "Content-Type: application/x-www-form-urlencoded")
	return code, hdr
}

func TestDashboardAndRiverUINeedTheOperator(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	app := startApp(t, testConfig(t, gh.APIURL(), workflowstest.SQLiteURL(t)), appOptions{})
	require.Equal(t, http.StatusOK, deliver(t, app, "workflow_run", "dash-1", failedRun(t, 1300, 1)))
	c := newOperatorClient(t, app)

	// Browsers go to the login page and come back; everything else gets 401.
	for _, path := range []string{"/", "/riverui/", "/riverui/jobs/1"} {
		code, hdr, _ := c.do(http.MethodGet, path, "", acceptHTML)
		require.Equal(t, http.StatusSeeOther, code, path)
		require.Equal(t, "/login?next="+url.QueryEscape(path), hdr.Get("Location"), path)
		code, _, _ = c.do(http.MethodGet, path, "")
		require.Equal(t, http.StatusUnauthorized, code, path)
		code, _, _ = c.do(http.MethodGet, path, "", acceptHTML, "Authorization: Bearer wrong")
		require.Equal(t, http.StatusUnauthorized, code, path)
	}
	for _, path := range []string{"/api/executions", "/api/metrics", "/riverui/api/jobs?state=available&limit=5"} {
		code, hdr, body := c.do(http.MethodGet, path, "", acceptHTML)
		require.Equal(t, http.StatusUnauthorized, code, path)
		require.Equal(t, "application/json", hdr.Get("Content-Type"), path)
		require.Contains(t, body, "ADMIN_TOKEN", path)
	}

	// The bearer token opens the page.
	code, _, body := c.do(http.MethodGet, "/", "", acceptHTML, bearerOK)
	require.Equal(t, http.StatusOK, code)
	require.Regexp(t, `id="health-score">\d+</span>`, body)
	require.Contains(t, body, `<a href="/riverui/jobs/`)
	require.Contains(t, body, "<td>failure_analysis</td>")
	require.NotContains(t, body, `action="/logout"`, "a bearer client has no session to end")

	// A wrong token at the form does not sign in.
	code, hdr := c.login("wrong")
	require.Equal(t, http.StatusUnauthorized, code)
	require.NotContains(t, strings.Join(hdr.Values("Set-Cookie"), "\n"), auth.SessionCookie+"=")
	code, _, _ = c.do(http.MethodGet, "/", "", acceptHTML)
	require.Equal(t, http.StatusSeeOther, code)

	// The form signs in: the cookie opens the dashboard, River UI and the API.
	code, hdr = c.login("admin-token")
	require.Equal(t, http.StatusSeeOther, code)
	require.Equal(t, "/", hdr.Get("Location"))
	require.Contains(t, strings.Join(hdr.Values("Set-Cookie"), "\n"), auth.SessionCookie+"=")
	code, _, body = c.do(http.MethodGet, "/", "", acceptHTML)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `id="health-score"`)
	require.Contains(t, body, `action="/logout"`)
	code, _, body = c.do(http.MethodGet, "/riverui/", "", acceptHTML)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "<html")
	code, _, _ = c.do(http.MethodGet, "/riverui/api/jobs?state=available&limit=5", "")
	require.Equal(t, http.StatusOK, code)
	code, _, _ = c.do(http.MethodGet, "/api/executions", "")
	require.Equal(t, http.StatusOK, code)
	// Another site cannot use the operator's cookie to start anything.
	code, _, _ = c.do(http.MethodPost, "/api/executions", `{"kind":"health_check"}`, asJSON, "Origin: https://evil.example")
	require.Equal(t, http.StatusForbidden, code)
	code, _, _ = c.do(http.MethodPost, "/api/executions", `{"kind":"health_check"}`, asJSON, "Sec-Fetch-Site: cross-site")
	require.Equal(t, http.StatusForbidden, code)

	// Signing out ends it.
	_, _, page := c.do(http.MethodGet, "/", "", acceptHTML)
	m := regexp.MustCompile(`action="/logout"><input type="hidden" name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	require.NotNil(t, m)
	code, hdr, _ = c.do(http.MethodPost, "/logout", "csrf="+url.QueryEscape(m[1]), acceptHTML, "Content-Type: application/x-www-form-urlencoded")
	require.Equal(t, http.StatusSeeOther, code)
	require.Equal(t, "/login", hdr.Get("Location"))
	code, _, _ = c.do(http.MethodGet, "/", "", acceptHTML)
	require.Equal(t, http.StatusSeeOther, code)
	code, _, _ = c.do(http.MethodGet, "/api/executions", "")
	require.Equal(t, http.StatusUnauthorized, code)
}

func TestOperatorPagesClosedWithoutAdminToken(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	cfg := testConfig(t, gh.APIURL(), workflowstest.SQLiteURL(t))
	cfg.AdminToken = ""
	app := startApp(t, cfg, appOptions{})
	c := newOperatorClient(t, app)
	for _, path := range []string{"/", "/riverui/", "/login"} {
		code, _, body := c.do(http.MethodGet, path, "", acceptHTML)
		require.Equal(t, http.StatusForbidden, code, path)
		require.Contains(t, body, "ADMIN_TOKEN is not set", path)
		require.Contains(t, body, "restart autonomous serve", path)
	}
	for _, path := range []string{"/api/executions", "/api/metrics", "/riverui/api/jobs"} {
		for _, h := range []string{"Authorization: Bearer ", "Authorization: Bearer admin-token", "X: none"} {
			code, _, body := c.do(http.MethodGet, path, "", h)
			require.Equal(t, http.StatusForbidden, code, path)
			require.Contains(t, body, "ADMIN_TOKEN is not set", path)
		}
	}
	code, _, _ := c.do(http.MethodPost, "/api/executions", `{"kind":"health_check"}`, asJSON, "Authorization: Bearer ")
	require.Equal(t, http.StatusForbidden, code)
	form := url.Values{"token": {""}, "csrf": {"x"}}.Encode()
	code, _, _ = c.do(http.MethodPost, "/login", form, acceptHTML, "Content-Type: application/x-www-form-urlencoded", "Cookie: autonomous_login=x")
	require.Equal(t, http.StatusForbidden, code, "an empty token never signs in")
	// The open endpoints stay open.
	code, _, _ = c.do(http.MethodGet, "/healthz", "")
	require.Equal(t, http.StatusOK, code)
}

func TestOperatorAPIStartsAndFollowsExecutions(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	cfg := testConfig(t, gh.APIURL(), workflowstest.SQLiteURL(t))
	cfg.MonitoringEnabled = false // no scheduled health_check: the test counts the ones it starts
	app := startApp(t, cfg, appOptions{})
	c := newOperatorClient(t, app)

	// Happy path: 202 with the id, then GET follows it to the end.
	code, hdr, body := c.do(http.MethodPost, "/api/executions", `{"kind":"health_check","params":{"check_all_integrations":false}}`,
		asJSON, bearerOK)
	require.Equal(t, http.StatusAccepted, code, body)
	var accepted executionAccepted
	require.NoError(t, json.Unmarshal([]byte(body), &accepted))
	require.Positive(t, accepted.ID)
	require.Equal(t, "health_check", accepted.Kind)
	require.Equal(t, fmt.Sprintf("/api/executions/%d", accepted.ID), hdr.Get("Location"))
	require.Equal(t, fmt.Sprintf("/riverui/jobs/%d", accepted.ID), accepted.RiverUIURL)
	require.Empty(t, accepted.Warning)
	var x workflows.Execution
	require.Eventually(t, func() bool {
		code, _, body := c.do(http.MethodGet, accepted.StatusURL, "", bearerOK)
		require.Equal(t, http.StatusOK, code, body)
		x = workflows.Execution{}
		require.NoError(t, json.Unmarshal([]byte(body), &x))
		return x.Terminal()
	}, 30*time.Second, 20*time.Millisecond)
	require.Equal(t, "completed", x.State, x.Errors)
	require.Equal(t, 1, x.Attempt)
	require.Contains(t, string(x.Output), "score")

	// A repository workflow with its parameters, as `autonomous execute` takes them.
	code, _, body = c.do(http.MethodPost, "/api/executions",
		`{"kind":"failure_analysis","repo":"octo-org/hello-world","params":{"workflow_run_id":1400}}`, asJSON, bearerOK)
	require.Equal(t, http.StatusAccepted, code, body)
	var fa executionAccepted
	require.NoError(t, json.Unmarshal([]byte(body), &fa))
	code, _, body = c.do(http.MethodGet, fa.StatusURL, "", bearerOK)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"kind":"failure_analysis"`)
	require.Contains(t, body, `"repo":"octo-org/hello-world"`)

	huge := `{"kind":"health_check","params":{"x":"` + strings.Repeat("a", 2<<20) + `"}}`
	for _, tc := range []struct {
		name, body, contentType string
		want                    int
		says                    string
	}{
		{"unknown kind", `{"kind":"nope"}`, "application/json", 400, `unknown workflow kind "nope"`},
		{"no kind", `{"params":{}}`, "application/json", 400, "kind is required, one of: "},
		{"kind without a worker", `{"kind":"slash_command","repo":"octo/app"}`, "application/json", 400, "no worker"},
		{"unknown parameter", `{"kind":"health_check","params":{"bogus":1}}`, "application/json", 400, `unknown parameter "bogus"`},
		{"ill-typed parameter", `{"kind":"health_check","params":{"auto_recovery":"maybe"}}`, "application/json", 400, `auto_recovery`},
		{"builder refuses", `{"kind":"failure_analysis","repo":"octo/app"}`, "application/json", 400, "needs the workflow_run_id parameter"},
		{"missing repository", `{"kind":"failure_analysis","params":{"workflow_run_id":1}}`, "application/json", 400, "needs a repository"},
		{"bad repository", `{"kind":"failure_analysis","repo":"octo/app/x","params":{"workflow_run_id":1}}`, "application/json", 400, "repo must be owner/name"},
		{"bad JSON", `{"kind":`, "application/json", 400, "not valid JSON"},
		{"not JSON at all", `kind=health_check`, "application/json", 400, "not valid JSON"},
		{"empty body", ``, "application/json", 400, "the body is empty"},
		{"two objects", `{"kind":"health_check"}{"kind":"health_check"}`, "application/json", 400, "one JSON object"},
		{"unknown field", `{"kind":"health_check","wait":true}`, "application/json", 400, `unknown field "wait"`},
		{"params not an object", `{"kind":"health_check","params":[1]}`, "application/json", 400, "params must be a JSON object"},
		{"kind not a string", `{"kind":5}`, "application/json", 400, "kind must be a string"},
		{"array body", `[]`, "application/json", 400, "must be a JSON object"},
		{"huge body", huge, "application/json", 413, "over 1048576 bytes"},
		{"form content type", `{"kind":"health_check"}`, "application/x-www-form-urlencoded", 415, "Content-Type must be application/json"},
		{"no content type", `{"kind":"health_check"}`, "", 415, "Content-Type must be application/json"},
		{"json with charset", `{"kind":"nope"}`, "application/json; charset=utf-8", 400, "unknown workflow kind"},
	} {
		headers := []string{bearerOK}
		if tc.contentType != "" {
			headers = append(headers, "Content-Type: "+tc.contentType)
		}
		code, _, body := c.do(http.MethodPost, "/api/executions", tc.body, headers...)
		require.Equal(t, tc.want, code, "%s: %s", tc.name, body)
		var answer map[string]string
		require.NoError(t, json.Unmarshal([]byte(body), &answer), tc.name)
		require.Contains(t, answer["error"], tc.says, tc.name)
	}

	// A huge body sent without a length (chunked) is cut off at the limit too.
	req, err := http.NewRequest(http.MethodPost, app.URL()+"/api/executions", io.MultiReader(strings.NewReader(huge)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer admin-token")
	require.EqualValues(t, 0, req.ContentLength, "the length is unknown: sent chunked")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)

	// Without the token nothing starts.
	before := countJobs(t, app, string(workflows.HealthCheck))
	for _, h := range []string{"X: none", "Authorization: Bearer wrong", "Authorization: admin-token"} {
		code, hdr, body := c.do(http.MethodPost, "/api/executions", `{"kind":"health_check"}`, asJSON, h)
		require.Equal(t, http.StatusUnauthorized, code, h)
		require.Equal(t, "application/json", hdr.Get("Content-Type"))
		require.Contains(t, body, "ADMIN_TOKEN")
	}
	require.Equal(t, before, countJobs(t, app, string(workflows.HealthCheck)))
}
