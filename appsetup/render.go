package appsetup

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"strconv"

	"github.com/rs/zerolog"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages holds every page; html/template escapes all data by context.
var pages = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// messagePage is the data of message.html, used for errors and simple notices.
type messagePage struct {
	Title   string
	Message string
	Hint    string
}

// render executes the named page into a buffer, so a template error never sends half a page,
// and writes it with headers that keep the page (and the callback's code) private.
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		zerolog.Ctx(r.Context()).Error().Err(err).Str("template", name).Msg("Failed to render setup page")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	header := w.Header()
	header.Set("Content-Type", "text/html; charset=utf-8")
	header.Set("Content-Length", strconv.Itoa(buf.Len()))
	header.Set("Cache-Control", "no-store")
	header.Set("X-Content-Type-Options", "nosniff")
	header.Set("Referrer-Policy", "no-referrer")
	// No form-action: browsers apply it to the redirects after the POST to GitHub (login, SSO).
	header.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// renderMessage renders a page with a title and a message.
func (h *handler) renderMessage(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	h.render(w, r, status, "message.html", messagePage{Title: title, Message: message})
}

// renderMessageHint renders a page with a title, a message and a hint on what to do next.
func (h *handler) renderMessageHint(w http.ResponseWriter, r *http.Request, status int, title, message, hint string) {
	h.render(w, r, status, "message.html", messagePage{Title: title, Message: message, Hint: hint})
}
