package auth_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/dashboard/auth"
)

const token = "operator-token-for-tests"

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// site is a guard with a page, an API and the login routes on one mux.
type site struct {
	guard *auth.Guard
	mux   *http.ServeMux
	clock *clock
}

func newSite(t *testing.T, opts auth.Options) *site {
	t.Helper()
	c := &clock{t: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
	opts.Now = c.Now
	g, err := auth.New(opts)
	require.NoError(t, err)
	mux := http.NewServeMux()
	g.Routes(mux)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "inside") })
	mux.Handle("/page/", g.Browser(ok))
	mux.Handle("/api/thing", g.API(ok))
	return &site{guard: g, mux: mux, clock: c}
}

type reqOpt func(*http.Request)

func bearer(tok string) reqOpt {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}
func page(r *http.Request) { r.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8") }
func withCookie(c *http.Cookie) reqOpt {
	return func(r *http.Request) { r.AddCookie(c) }
}
func header(k, v string) reqOpt { return func(r *http.Request) { r.Header.Set(k, v) } }

func (s *site) do(method, target string, body io.Reader, opts ...reqOpt) *http.Response {
	req := httptest.NewRequest(method, target, body)
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, o := range opts {
		o(req)
	}
	rec := httptest.NewRecorder()
	s.mux.ServeHTTP(rec, req)
	return rec.Result()
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// login loads the form and posts the token; it returns the answer.
func (s *site) login(t *testing.T, tok, next string, opts ...reqOpt) *http.Response {
	t.Helper()
	form := s.do(http.MethodGet, "/login?next="+url.QueryEscape(next), nil, page)
	require.Equal(t, http.StatusOK, form.StatusCode)
	m := csrfRe.FindStringSubmatch(readBody(t, form))
	require.NotNil(t, m, "the form has a csrf field")
	lc := cookieNamed(form, "autonomous_login")
	require.NotNil(t, lc)
	require.True(t, lc.HttpOnly)
	require.Equal(t, http.SameSiteStrictMode, lc.SameSite)
	values := url.Values{"token": {tok}, "csrf": {m[1]}, "next": {next}}
	return s.do(http.MethodPost, "/login", strings.NewReader(values.Encode()), append([]reqOpt{withCookie(lc), page}, opts...)...)
}

func (s *site) session(t *testing.T) *http.Cookie {
	t.Helper()
	resp := s.login(t, token, "/page/x")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	c := cookieNamed(resp, auth.SessionCookie)
	require.NotNil(t, c)
	return c
}

func TestClosedWithoutToken(t *testing.T) {
	t.Parallel()
	s := newSite(t, auth.Options{})
	require.False(t, s.guard.Configured())

	resp := s.do(http.MethodGet, "/api/thing", nil, bearer(""))
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Contains(t, readBody(t, resp), "ADMIN_TOKEN is not set")

	for _, target := range []string{"/page/x", "/login"} {
		resp = s.do(http.MethodGet, target, nil, page)
		require.Equal(t, http.StatusForbidden, resp.StatusCode, target)
		body := readBody(t, resp)
		require.Contains(t, body, "ADMIN_TOKEN is not set", target)
		require.Contains(t, body, "openssl rand -hex 32", target)
	}
	// Nothing gets in: not an empty bearer, not a login with an empty token.
	resp = s.do(http.MethodGet, "/page/x", nil, header("Authorization", "Bearer "))
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp = s.do(http.MethodPost, "/login", strings.NewReader("token="), page)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
}

func TestAPICredentials(t *testing.T) {
	t.Parallel()
	s := newSite(t, auth.Options{Token: token})
	session := s.session(t)

	cases := []struct {
		name string
		opts []reqOpt
		want int
	}{
		{"nothing", nil, http.StatusUnauthorized},
		{"wrong bearer", []reqOpt{bearer("wrong")}, http.StatusUnauthorized},
		{"bare token", []reqOpt{header("Authorization", token)}, http.StatusUnauthorized},
		{"bearer", []reqOpt{bearer(token)}, http.StatusOK},
		{"basic password", []reqOpt{func(r *http.Request) { r.SetBasicAuth("admin", token) }}, http.StatusOK},
		{"session cookie", []reqOpt{withCookie(session)}, http.StatusOK},
		{"forged cookie", []reqOpt{withCookie(&http.Cookie{Name: auth.SessionCookie, Value: "9999999999.AAAA"})}, http.StatusUnauthorized},
		{"cookie value without mac", []reqOpt{withCookie(&http.Cookie{Name: auth.SessionCookie, Value: "9999999999"})}, http.StatusUnauthorized},
		// A wrong header is not rescued by a good cookie: the header is what was meant.
		{"wrong bearer and cookie", []reqOpt{bearer("wrong"), withCookie(session)}, http.StatusUnauthorized},
	}
	for _, tc := range cases {
		resp := s.do(http.MethodGet, "/api/thing", nil, tc.opts...)
		require.Equal(t, tc.want, resp.StatusCode, tc.name)
		if tc.want == http.StatusUnauthorized {
			require.Equal(t, "application/json", resp.Header.Get("Content-Type"), tc.name)
			require.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer", tc.name)
			var body map[string]string
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&body), tc.name)
			require.Contains(t, body["error"], "ADMIN_TOKEN", tc.name)
		}
	}

	// A session made under another token does not open this one (changing ADMIN_TOKEN ends sessions).
	other := newSite(t, auth.Options{Token: "another-token"})
	resp := other.do(http.MethodGet, "/api/thing", nil, withCookie(session))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// Sessions expire.
	s.clock.Add(auth.DefaultSessionTTL + time.Second)
	resp = s.do(http.MethodGet, "/api/thing", nil, withCookie(session))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestBrowserRedirectsToLoginAndBack(t *testing.T) {
	t.Parallel()
	s := newSite(t, auth.Options{Token: token})

	resp := s.do(http.MethodGet, "/page/jobs?id=5", nil, page)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/login?next=%2Fpage%2Fjobs%3Fid%3D5", resp.Header.Get("Location"))

	// Not a page load (a script's fetch, a POST) or a wrong header: 401, no redirect.
	resp = s.do(http.MethodGet, "/page/api/jobs", nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp = s.do(http.MethodGet, "/page/api/jobs", nil, page)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "an API path is never a page")
	resp = s.do(http.MethodGet, "/page/x", nil, page, bearer("wrong"))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp = s.do(http.MethodPost, "/page/x", nil, page)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	resp = s.login(t, token, "/page/jobs?id=5")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/page/jobs?id=5", resp.Header.Get("Location"))
	c := cookieNamed(resp, auth.SessionCookie)
	require.NotNil(t, c)
	require.True(t, c.HttpOnly)
	require.False(t, c.Secure, "plain http: not Secure, or the browser would drop it")
	require.Equal(t, http.SameSiteStrictMode, c.SameSite)
	require.Equal(t, "/", c.Path)
	require.NotContains(t, c.Value, token, "the cookie never holds the token")
	require.Equal(t, int(auth.DefaultSessionTTL.Seconds()), c.MaxAge)

	resp = s.do(http.MethodGet, "/page/jobs", nil, page, withCookie(c))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "inside", readBody(t, resp))

	// Once signed in, the login page sends the browser on.
	resp = s.do(http.MethodGet, "/login?next=/page/y", nil, page, withCookie(c))
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/page/y", resp.Header.Get("Location"))
}

func TestLoginSecureCookieBehindHTTPS(t *testing.T) {
	t.Parallel()
	s := newSite(t, auth.Options{Token: token, PublicURL: "https://ci.example.com"})
	resp := s.login(t, token, "/")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	c := cookieNamed(resp, auth.SessionCookie)
	require.NotNil(t, c)
	require.True(t, c.Secure)

	_, err := auth.New(auth.Options{Token: token, PublicURL: "ci.example.com"})
	require.ErrorContains(t, err, "PUBLIC_URL must be an http(s) URL")
}

func TestLoginRefusals(t *testing.T) {
	t.Parallel()
	s := newSite(t, auth.Options{Token: token})

	resp := s.login(t, "wrong", "/page/x")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Nil(t, cookieNamed(resp, auth.SessionCookie))
	require.Contains(t, readBody(t, resp), "not the operator token")

	// No anti-forgery value, or one that is not this browser's: refused even with the token.
	resp = s.do(http.MethodPost, "/login", strings.NewReader(url.Values{"token": {token}}.Encode()), page)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Nil(t, cookieNamed(resp, auth.SessionCookie))
	resp = s.do(http.MethodPost, "/login", strings.NewReader(url.Values{"token": {token}, "csrf": {"abc"}}.Encode()), page,
		withCookie(&http.Cookie{Name: "autonomous_login", Value: "xyz"}))
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Nil(t, cookieNamed(resp, auth.SessionCookie))

	// Another site's form is refused before anything is read.
	resp = s.login(t, token, "/", header("Sec-Fetch-Site", "cross-site"))
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Nil(t, cookieNamed(resp, auth.SessionCookie))
	resp = s.login(t, token, "/", header("Origin", "https://evil.example"))
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	// A huge form is refused.
	resp = s.do(http.MethodPost, "/login", strings.NewReader("token="+strings.Repeat("a", 70<<10)), page)
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
}

func TestLoginKeepsNextOnThisSite(t *testing.T) {
	t.Parallel()
	s := newSite(t, auth.Options{Token: token})
	for next, want := range map[string]string{
		"/riverui/jobs/5":        "/riverui/jobs/5",
		"//evil.example/":        "/",
		"/\\evil.example":        "/",
		"https://evil.example/":  "/",
		"javascript:alert(1)":    "/",
		"":                       "/",
		"/ok?x=1":                "/ok?x=1",
		"/\t/evil.example":       "/",
		"relative/path":          "/",
		"/%2F%2Fevil.example/ok": "/%2F%2Fevil.example/ok",
	} {
		resp := s.login(t, token, next)
		require.Equal(t, http.StatusSeeOther, resp.StatusCode, next)
		require.Equal(t, want, resp.Header.Get("Location"), next)
	}
}

func TestLoginAttemptsAreLimited(t *testing.T) {
	t.Parallel()
	s := newSite(t, auth.Options{Token: token})
	for i := 0; i < 20; i++ {
		require.Equal(t, http.StatusUnauthorized, s.login(t, "guess", "/").StatusCode, i)
	}
	resp := s.login(t, token, "/")
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "even the right token waits")
	require.NotEmpty(t, resp.Header.Get("Retry-After"))
	// Bearer clients are not locked out by someone guessing at the form.
	require.Equal(t, http.StatusOK, s.do(http.MethodGet, "/api/thing", nil, bearer(token)).StatusCode)
	s.clock.Add(time.Minute)
	require.Equal(t, http.StatusSeeOther, s.login(t, token, "/").StatusCode)
}

func TestLogout(t *testing.T) {
	t.Parallel()
	s := newSite(t, auth.Options{Token: token})
	session := s.session(t)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(session)
	csrf := s.guard.LogoutToken(req)
	require.NotEmpty(t, csrf)
	require.Empty(t, s.guard.LogoutToken(httptest.NewRequest(http.MethodGet, "/", nil)), "no session, no logout form")

	resp := s.do(http.MethodPost, "/logout", strings.NewReader("csrf=wrong"), page, withCookie(session))
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Nil(t, cookieNamed(resp, auth.SessionCookie))
	resp = s.do(http.MethodPost, "/logout", strings.NewReader("csrf="+url.QueryEscape(csrf)), page, withCookie(session),
		header("Sec-Fetch-Site", "cross-site"))
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "another site cannot log the operator out")

	resp = s.do(http.MethodPost, "/logout", strings.NewReader("csrf="+url.QueryEscape(csrf)), page, withCookie(session))
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/login", resp.Header.Get("Location"))
	cleared := cookieNamed(resp, auth.SessionCookie)
	require.NotNil(t, cleared)
	require.Less(t, cleared.MaxAge, 0)
	require.Empty(t, cleared.Value)
}

func TestCrossOriginUnsafeRequestsRefused(t *testing.T) {
	t.Parallel()
	s := newSite(t, auth.Options{Token: token, PublicURL: "https://ci.example.com"})
	session := s.session(t)
	resp := s.do(http.MethodPost, "/api/thing", nil, withCookie(session), header("Origin", "https://evil.example"))
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Contains(t, readBody(t, resp), "cross-origin")
	resp = s.do(http.MethodPost, "/api/thing", nil, withCookie(session), header("Sec-Fetch-Site", "cross-site"))
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	// The public origin (behind a proxy that rewrites Host) and same-origin requests pass.
	resp = s.do(http.MethodPost, "/api/thing", nil, withCookie(session), header("Origin", "https://ci.example.com"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp = s.do(http.MethodPost, "/api/thing", nil, withCookie(session), header("Sec-Fetch-Site", "same-origin"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	// Reading is always allowed to whoever holds credentials.
	resp = s.do(http.MethodGet, "/api/thing", nil, withCookie(session), header("Sec-Fetch-Site", "cross-site"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestPagesAreLockedDown(t *testing.T) {
	t.Parallel()
	s := newSite(t, auth.Options{Token: token})
	resp := s.do(http.MethodGet, "/login", nil, page)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	csp := resp.Header.Get("Content-Security-Policy")
	m := regexp.MustCompile(`style-src 'nonce-([^']+)'`).FindStringSubmatch(csp)
	require.NotNil(t, m, csp)
	require.Contains(t, readBody(t, resp), `<style nonce="`+m[1]+`">`)
	require.Contains(t, csp, "default-src 'none'")
	require.Contains(t, csp, "frame-ancestors 'none'")
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
	// A fresh nonce per response.
	again := s.do(http.MethodGet, "/login", nil, page).Header.Get("Content-Security-Policy")
	require.NotEqual(t, csp, again)
}

func TestHeaderMatches(t *testing.T) {
	t.Parallel()
	for h, want := range map[string]bool{
		"Bearer " + token: true, "bearer " + token: true, "BEARER  " + token + " ": true,
		token: false, "Token " + token: false, "Bearer": false, "Bearer ": false, "Bearer " + token + "x": false, "": false,
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if h != "" {
			r.Header.Set("Authorization", h)
		}
		require.Equal(t, want, auth.HeaderMatches(r, token), "%q", h)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer ")
	require.False(t, auth.HeaderMatches(r, ""), "an empty bearer never matches an unset token")
}
