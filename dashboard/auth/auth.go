// Package auth guards the operator surfaces — the dashboard, River UI and the /api/* operator
// endpoints — with the one operator token, ADMIN_TOKEN (DESIGN.md §6).
//
// A request is admitted when it carries the token as "Authorization: Bearer <token>" (the
// scheme is case-insensitive, RFC 7235) or as the password of HTTP basic authentication, or
// when it carries the session cookie that the login form sets. The cookie holds an expiry and
// an HMAC of it keyed by a key derived from the token, never the token itself: it is HttpOnly,
// SameSite=Strict, Secure when PUBLIC_URL is https, and changing ADMIN_TOKEN ends every session.
// Forms carry a token tied to the browser (a login cookie, the session) and every unsafe
// request passes Go's cross-origin protection, so another site cannot post on an operator's
// behalf. Without ADMIN_TOKEN everything is closed: a 403 that says how to set it.
package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Cookie names: the session, and the login form's anti-forgery value.
const (
	SessionCookie = "autonomous_session"
	loginCookie   = "autonomous_login"
)

// Form field names.
const (
	// CSRFField is the hidden field of every form the operator pages post.
	CSRFField  = "csrf"
	tokenField = "token"
	nextField  = "next"
)

// DefaultSessionTTL is how long a login lasts.
const DefaultSessionTTL = 12 * time.Hour

// Login attempts: at most maxFailures wrong tokens per failureWindow, from everyone together
// (behind a proxy every client has the same address); then 429 until the window ends.
const (
	maxFailures   = 20
	failureWindow = time.Minute
)

// Options configure a Guard.
type Options struct {
	// Token is ADMIN_TOKEN; empty closes every guarded route.
	Token string
	// PublicURL is where operators reach the bot: https makes the cookies Secure, and its origin
	// is trusted by the cross-origin check (a proxy may rewrite the Host header).
	PublicURL string
	// SessionTTL is how long a login lasts; DefaultSessionTTL when zero.
	SessionTTL time.Duration
	// Now is the clock (tests); time.Now when nil.
	Now func() time.Time
}

// Guard admits operators; see the package documentation.
type Guard struct {
	token  string
	key    []byte
	secure bool
	ttl    time.Duration
	now    func() time.Time
	origin *http.CrossOriginProtection

	mu          sync.Mutex
	windowStart time.Time
	failures    int
}

// New returns the guard of opts.Token. A PublicURL that is not an http(s) URL is an error.
func New(opts Options) (*Guard, error) {
	g := &Guard{token: opts.Token, ttl: opts.SessionTTL, now: opts.Now, origin: http.NewCrossOriginProtection()}
	if g.ttl <= 0 {
		g.ttl = DefaultSessionTTL
	}
	if g.now == nil {
		g.now = time.Now
	}
	if opts.Token != "" {
		mac := hmac.New(sha256.New, []byte(opts.Token))
		mac.Write([]byte("autonomous-ci operator session key v1"))
		g.key = mac.Sum(nil)
	}
	if opts.PublicURL != "" {
		u, err := url.Parse(opts.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("PUBLIC_URL must be an http(s) URL, got %q", opts.PublicURL)
		}
		g.secure = u.Scheme == "https"
		if err := g.origin.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
			return nil, fmt.Errorf("failed to trust PUBLIC_URL's origin: %w", err)
		}
	}
	g.origin.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.refuse(w, r, http.StatusForbidden, "cross-origin request refused: operator forms and APIs only accept requests from this site")
	}))
	return g, nil
}

// Configured reports whether ADMIN_TOKEN is set; without it every guarded route is closed.
func (g *Guard) Configured() bool { return g.token != "" }

// Authenticated reports whether r carries the token (header) or a valid session cookie.
func (g *Guard) Authenticated(r *http.Request) bool {
	if !g.Configured() {
		return false
	}
	if _, ok := r.Header["Authorization"]; ok {
		return HeaderMatches(r, g.token)
	}
	return g.validSession(r)
}

// HeaderMatches reports whether r's Authorization header carries want, as "Bearer <token>" or as
// a basic-auth password, compared in constant time (of equal-length digests, so the token's
// length does not leak either). A bare token without a scheme is refused; an empty want never
// matches.
func HeaderMatches(r *http.Request, want string) bool {
	if want == "" {
		return false
	}
	var got string
	if _, password, ok := r.BasicAuth(); ok {
		got = password
	} else {
		scheme, token, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return false
		}
		got = strings.TrimSpace(token)
	}
	return equalSecret(got, want)
}

// equalSecret compares two secrets in constant time, whatever their lengths.
func equalSecret(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// API guards JSON endpoints: 403 JSON when ADMIN_TOKEN is not set, 401 JSON (with a
// WWW-Authenticate challenge) without valid credentials, 403 for a cross-origin unsafe request.
func (g *Guard) API(next http.Handler) http.Handler {
	return g.origin.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case !g.Configured():
			writeJSONError(w, http.StatusForbidden, closedMessage)
		case !g.Authenticated(r):
			w.Header().Set("WWW-Authenticate", `Bearer realm="Autonomous CI operators"`)
			writeJSONError(w, http.StatusUnauthorized,
				"a valid ADMIN_TOKEN is required (Authorization: Bearer <token>, a basic-auth password, or a login at /login)")
		default:
			next.ServeHTTP(w, r)
		}
	}))
}

// Browser guards pages (the dashboard, River UI): without ADMIN_TOKEN a 403 page saying how to
// set it; a browser without a session is sent to the login page and comes back after; a request
// with a wrong Authorization header, or one that is not a page load (River UI's API calls, a
// POST), gets the API's 401 JSON.
func (g *Guard) Browser(next http.Handler) http.Handler {
	api := g.API(next)
	return g.origin.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wantsPage(r) {
			if !g.Configured() {
				g.renderClosed(w, r)
				return
			}
			if _, hasHeader := r.Header["Authorization"]; !hasHeader && !g.validSession(r) {
				http.Redirect(w, r, "/login?"+url.Values{nextField: {r.URL.RequestURI()}}.Encode(), http.StatusSeeOther)
				return
			}
		}
		api.ServeHTTP(w, r)
	}))
}

// wantsPage reports whether r is a browser loading a page: GET or HEAD asking for HTML, not
// under an /api/ path (River UI's API is called by its script).
func wantsPage(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead || strings.Contains(r.URL.Path, "/api/") {
		return false
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// Routes adds GET and POST /login and POST /logout to mux.
func (g *Guard) Routes(mux *http.ServeMux) {
	mux.Handle("GET /login", g.origin.Handler(http.HandlerFunc(g.loginForm)))
	mux.Handle("POST /login", g.origin.Handler(http.HandlerFunc(g.login)))
	mux.Handle("POST /logout", g.origin.Handler(http.HandlerFunc(g.logout)))
}

// LogoutToken is the CSRF field value of the logout form for r's session, "" when r is not
// authenticated by a session cookie (a bearer client has nothing to log out of).
func (g *Guard) LogoutToken(r *http.Request) string {
	c, err := r.Cookie(SessionCookie)
	if err != nil || !g.validSession(r) {
		return ""
	}
	return g.sign("logout", c.Value)
}

func (g *Guard) loginForm(w http.ResponseWriter, r *http.Request) {
	if !g.Configured() {
		g.renderClosed(w, r)
		return
	}
	next := safeNext(r.URL.Query().Get(nextField))
	if g.Authenticated(r) {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	g.renderLogin(w, r, http.StatusOK, next, "")
}

func (g *Guard) login(w http.ResponseWriter, r *http.Request) {
	if !g.Configured() {
		g.renderClosed(w, r)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			g.refuse(w, r, http.StatusRequestEntityTooLarge, "the login form is too large")
			return
		}
		g.refuse(w, r, http.StatusBadRequest, "the login form could not be read")
		return
	}
	next := safeNext(r.PostForm.Get(nextField))
	c, err := r.Cookie(loginCookie)
	if err != nil || c.Value == "" || !hmac.Equal([]byte(c.Value), []byte(r.PostForm.Get(CSRFField))) {
		g.renderLogin(w, r, http.StatusForbidden, next, "The login form has expired or cookies are blocked: try again.")
		return
	}
	if wait, limited := g.limited(); limited {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+1)))
		g.renderLogin(w, r, http.StatusTooManyRequests, next, "Too many wrong tokens: wait a minute and try again.")
		return
	}
	if !equalSecret(r.PostForm.Get(tokenField), g.token) {
		g.fail()
		zerolog.Ctx(r.Context()).Warn().Str("remote_addr", r.RemoteAddr).Msg("Refused a login with a wrong operator token")
		g.renderLogin(w, r, http.StatusUnauthorized, next, "That is not the operator token (ADMIN_TOKEN).")
		return
	}
	expires := g.now().Add(g.ttl)
	http.SetCookie(w, g.cookie(SessionCookie, g.sessionValue(expires), "/", int(g.ttl.Seconds())))
	http.SetCookie(w, g.cookie(loginCookie, "", "/login", -1))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (g *Guard) logout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		g.refuse(w, r, http.StatusBadRequest, "the logout form could not be read")
		return
	}
	want := g.LogoutToken(r)
	if want != "" && !hmac.Equal([]byte(want), []byte(r.PostForm.Get(CSRFField))) {
		g.refuse(w, r, http.StatusForbidden, "the logout form is not from this session")
		return
	}
	// Without a valid session there is nothing to end; clearing the cookie is harmless.
	http.SetCookie(w, g.cookie(SessionCookie, "", "/", -1))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// sessionValue is "<expiry unix seconds>.<HMAC of it>".
func (g *Guard) sessionValue(expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 10)
	return exp + "." + g.sign("session", exp)
}

func (g *Guard) validSession(r *http.Request) bool {
	if !g.Configured() {
		return false
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return false
	}
	exp, mac, ok := strings.Cut(c.Value, ".")
	if !ok {
		return false
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !hmac.Equal([]byte(mac), []byte(g.sign("session", exp))) {
		return false
	}
	return g.now().Before(time.Unix(unix, 0))
}

// sign is the base64url HMAC of purpose and value under the key derived from the token.
func (g *Guard) sign(purpose, value string) string {
	mac := hmac.New(sha256.New, g.key)
	mac.Write([]byte(purpose))
	mac.Write([]byte{0})
	mac.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func (g *Guard) cookie(name, value, path string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, Secure: g.secure, SameSite: http.SameSiteStrictMode,
	}
}

// limited reports whether login attempts are refused for now, and for how long.
func (g *Guard) limited() (time.Duration, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if now.Sub(g.windowStart) >= failureWindow {
		g.windowStart, g.failures = now, 0
	}
	return g.windowStart.Add(failureWindow).Sub(now), g.failures >= maxFailures
}

func (g *Guard) fail() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.failures++
}

// safeNext keeps a post-login destination on this site: a path starting with one "/", else "/".
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n\t") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}

// newLoginValue is the random anti-forgery value of one login form.
func newLoginValue() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("failed to read random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
