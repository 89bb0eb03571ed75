package auth

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages holds the login, closed and message pages; html/template escapes all data by context.
var pages = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// closedMessage is what every guarded route says while ADMIN_TOKEN is not set.
const closedMessage = "the operator pages and APIs are closed because ADMIN_TOKEN is not set: set ADMIN_TOKEN " +
	"to a long random value (for example the output of `openssl rand -hex 32`) in the server's environment or " +
	"its .env file, then restart autonomous serve"

// page is the data every page template gets.
type page struct {
	Nonce   string
	Title   string
	Message string
	Hint    string
	// Login form.
	Next, CSRF string
	Session    string
}

// renderClosed answers 403 with the page that says how to open the operator pages.
func (g *Guard) renderClosed(w http.ResponseWriter, r *http.Request) {
	Render(w, r, http.StatusForbidden, pages, "message.html", func(nonce string) any {
		return page{Nonce: nonce, Title: "Operator pages are closed", Message: "ADMIN_TOKEN is not set, so the dashboard, River UI and the operator API are closed to everyone.",
			Hint: "Set ADMIN_TOKEN to a long random value (for example the output of openssl rand -hex 32) in the server's environment or its .env file, then restart autonomous serve."}
	})
}

// renderLogin answers the login form with a fresh anti-forgery value (and its cookie).
func (g *Guard) renderLogin(w http.ResponseWriter, r *http.Request, status int, next, problem string) {
	value, err := newLoginValue()
	if err != nil {
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("Failed to make a login form")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, g.cookie(loginCookie, value, "/login", 3600))
	Render(w, r, status, pages, "login.html", func(nonce string) any {
		return page{Nonce: nonce, Title: "Sign in", Message: problem, Next: next, CSRF: value, Session: humanTTL(g.ttl)}
	})
}

// refuse answers a refused request: JSON for API clients, a short page for browsers.
func (g *Guard) refuse(w http.ResponseWriter, r *http.Request, status int, message string) {
	if strings.HasPrefix(r.URL.Path, "/api/") || !strings.Contains(r.Header.Get("Accept"), "text/html") {
		writeJSONError(w, status, message)
		return
	}
	Render(w, r, status, pages, "message.html", func(nonce string) any {
		return page{Nonce: nonce, Title: http.StatusText(status), Message: message}
	})
}

func writeJSONError(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": message})
}

// Render executes the named template of set into a buffer (a template error never sends half a
// page) and writes it with the operator pages' headers: no caching, no framing, no referrer,
// and a Content-Security-Policy that allows nothing but the page's own inline style, marked by
// a per-response nonce that data(nonce) puts where the template's <style nonce> wants it.
func Render(w http.ResponseWriter, r *http.Request, status int, set *template.Template, name string, data func(nonce string) any) {
	nonce, err := newNonce()
	if err != nil {
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("Failed to make a page nonce")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := set.ExecuteTemplate(&buf, name, data(nonce)); err != nil {
		zerolog.Ctx(r.Context()).Error().Err(err).Str("template", name).Msg("Failed to render an operator page")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	header := w.Header()
	header.Set("Content-Type", "text/html; charset=utf-8")
	header.Set("Content-Length", strconv.Itoa(buf.Len()))
	header.Set("Cache-Control", "no-store")
	header.Set("X-Content-Type-Options", "nosniff")
	header.Set("X-Frame-Options", "DENY")
	header.Set("Referrer-Policy", "no-referrer")
	header.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+nonce+"'; img-src data:; "+
		"form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

func newNonce() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// humanTTL says a session's length in words: "12 hours", "30 minutes".
func humanTTL(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return plural(int(d/time.Minute), "minute")
	}
	return d.String()
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
