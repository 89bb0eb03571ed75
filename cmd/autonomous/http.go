package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/riverqueue/river/rivertype"
	"github.com/rs/zerolog"

	"github.com/contexten/autonomous/dashboard/auth"
	"github.com/contexten/autonomous/handlers"
	"github.com/contexten/autonomous/monitor"
	"github.com/contexten/autonomous/workflows"
)

// maxWebhookBytes is GitHub's maximum webhook payload size.
const maxWebhookBytes = 25 << 20

// limitBody answers 413 for bodies over GitHub's maximum without reading them whole.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxWebhookBytes {
			http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxWebhookBytes)
		next.ServeHTTP(w, r)
	})
}

// verifySignature answers 401 unless the body carries a valid X-Hub-Signature-256 (HMAC-SHA256
// of the body with the webhook secret), before the dispatcher reads the payload; 413 when the
// body is over the limit, 400 when it cannot be read. The body is read once, into a pooled
// buffer sized by Content-Length, and handed on as a *verifiedBody that directDispatch uses
// without copying; the buffer goes back to the pool when next returns.
func verifySignature(secret string, next http.Handler) http.Handler {
	macs := sync.Pool{New: func() any { return hmac.New(sha256.New, []byte(secret)) }}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, release, err := readBody(r)
		defer release()
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			zerolog.Ctx(r.Context()).Warn().Msg("Rejected an oversized webhook")
			http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
			return
		case err != nil:
			http.Error(w, "failed to read the webhook body", http.StatusBadRequest)
			return
		}
		mac := macs.Get().(hash.Hash)
		valid := validSignature(mac, body, r.Header.Get("X-Hub-Signature-256"))
		macs.Put(mac)
		if !valid {
			zerolog.Ctx(r.Context()).Warn().Msg("Rejected a webhook with a missing or invalid signature")
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		r.Body = &verifiedBody{Reader: bytes.NewReader(body), body: body}
		next.ServeHTTP(w, r)
	})
}

// verifiedBody is a webhook body whose signature verifySignature checked. It reads like any
// body (for go-githubapp's dispatcher); body is valid only until the handler chain returns.
type verifiedBody struct {
	*bytes.Reader
	body []byte
}

// Close is a no-op: the buffer belongs to verifySignature.
func (*verifiedBody) Close() error { return nil }

// maxPooledBody is the largest buffer kept for reuse; rarer, larger bodies are left to the GC.
const maxPooledBody = 1 << 20

// bodyPool holds *[]byte webhook body buffers.
var bodyPool sync.Pool

// readBody reads r.Body into a pooled buffer: exactly Content-Length bytes when the length is
// known and at most maxPooledBody, growing as bytes arrive otherwise (chunked, or a larger
// body: a client announcing 25 MB and sending nothing must not make the server allocate them),
// up to the MaxBytesReader limit. release returns the buffer to the pool and must be called
// once the body is no longer used.
func readBody(r *http.Request) (body []byte, release func(), err error) {
	bufp, _ := bodyPool.Get().(*[]byte)
	if bufp == nil {
		bufp = new([]byte)
	}
	release = func() {
		if cap(*bufp) <= maxPooledBody {
			bodyPool.Put(bufp)
		}
	}
	buf := (*bufp)[:0]
	if n := r.ContentLength; n >= 0 && n <= maxPooledBody {
		if int64(cap(buf)) < n {
			buf = make([]byte, 0, n)
		}
		buf = buf[:n]
		_, err = io.ReadFull(r.Body, buf)
	} else {
		if cap(buf) == 0 {
			buf = make([]byte, 0, 32<<10)
		}
		for {
			if len(buf) == cap(buf) {
				buf = append(buf, 0)[:len(buf)]
			}
			var m int
			m, err = r.Body.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+m]
			if err == io.EOF {
				err = nil
				break
			}
			if err != nil {
				break
			}
		}
		if err == nil && r.ContentLength >= 0 && int64(len(buf)) != r.ContentLength {
			err = io.ErrUnexpectedEOF
		}
	}
	*bufp = buf
	return buf, release, err
}

// validSignature compares "sha256=<hex>" with the body's HMAC (mac, keyed with the secret) in
// constant time.
func validSignature(mac hash.Hash, body []byte, header string) bool {
	got, ok := strings.CutPrefix(header, "sha256=")
	if !ok || hex.DecodedLen(len(got)) != sha256.Size {
		return false
	}
	var sum, want [sha256.Size]byte
	if _, err := hex.Decode(sum[:], []byte(got)); err != nil {
		return false
	}
	mac.Reset()
	mac.Write(body)
	return hmac.Equal(sum[:], mac.Sum(want[:0]))
}

// directDispatch hands a JSON webhook that verifySignature verified straight to its handler,
// with the pooled body as the payload: go-githubapp's dispatcher (fallback) would read the body
// again into a new slice and check the signature a second time. It keeps the dispatcher's
// behaviour: handlers chosen by X-GitHub-Event (the first handler naming an event wins), 400
// through onError for a missing event, the handler's error through onError, the responder
// context and githubapp.DefaultResponseCallback (202 for an event no handler takes). The jobs
// the handler enqueues are stored in the inbox together, after the handler accepted the whole
// payload (a payload refused halfway stores nothing), and before the answer. Other content
// types (form-encoded payloads) go to fallback, whose handlers store each job on its own.
func directDispatch(hooks []githubapp.EventHandler, inbox *workflows.Inbox, onError githubapp.ErrorCallback, fallback http.Handler) http.Handler {
	byEvent := map[string]githubapp.EventHandler{}
	for i := len(hooks) - 1; i >= 0; i-- {
		for _, event := range hooks[i].Handles() {
			byEvent[event] = hooks[i]
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		vb, ok := r.Body.(*verifiedBody)
		contentType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if !ok || err != nil || contentType != "application/json" {
			fallback.ServeHTTP(w, r)
			return
		}
		eventType, deliveryID := r.Header.Get("X-GitHub-Event"), r.Header.Get("X-GitHub-Delivery")
		if eventType == "" {
			onError(w, r, githubapp.ValidationError{EventType: eventType, DeliveryID: deliveryID, Cause: errors.New("missing event type")})
			return
		}
		ctx := githubapp.InitializeResponder(r.Context())
		logger := zerolog.Ctx(ctx).With().Str(githubapp.LogKeyEventType, eventType).Str(githubapp.LogKeyDeliveryID, deliveryID).Logger()
		ctx = logger.WithContext(ctx)
		r = r.WithContext(ctx)
		logger.Debug().Msg("Received webhook event")
		handler, ok := byEvent[eventType]
		if ok {
			ctx, delivery := inbox.Begin(ctx, deliveryID)
			if err := handler.Handle(ctx, eventType, deliveryID, vb.body); err != nil {
				onError(w, r, err)
				return
			}
			if err := delivery.Commit(ctx); err != nil {
				onError(w, r, &handlers.EnqueueError{Err: err})
				return
			}
			if kinds := delivery.Kinds(); len(kinds) > 0 {
				logger.Info().Strs("kinds", kinds).Msg("Stored the delivery's workflows")
			}
		}
		githubapp.DefaultResponseCallback(w, r, eventType, ok)
	})
}

// webhookErrorCallback maps webhook failures to status codes: 413 for an oversized body, 400
// for a malformed payload (with the reason, which names a field but never echoes a value), 503
// when the job could not be stored (GitHub records a failed delivery, which can be redelivered).
// Missing or wrong signatures were answered 401 by verifySignature.
func webhookErrorCallback(w http.ResponseWriter, r *http.Request, err error) {
	logger := zerolog.Ctx(r.Context())
	var ve githubapp.ValidationError
	var tooLarge *http.MaxBytesError
	var malformed *handlers.MalformedPayloadError
	var enqueue *handlers.EnqueueError
	isValidation := errors.As(err, &ve)
	switch {
	case errors.As(err, &tooLarge), isValidation && errors.As(ve.Cause, &tooLarge):
		logger.Warn().Msg("Rejected an oversized webhook")
		http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
	case errors.As(err, &malformed):
		logger.Warn().Err(err).Msg("Rejected a malformed webhook")
		http.Error(w, "malformed webhook payload: "+malformed.Reason, http.StatusBadRequest)
	case isValidation:
		logger.Warn().Err(err).Msg("Rejected an invalid webhook")
		http.Error(w, "invalid webhook request", http.StatusBadRequest)
	case errors.As(err, &enqueue):
		logger.Error().Err(err).Msg("Failed to store a webhook's job")
		http.Error(w, "temporarily unable to accept the webhook", http.StatusServiceUnavailable)
	default:
		logger.Error().Err(err).Msg("Failed to handle a webhook")
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
	}
}

// statusRecorder remembers the status code for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// requestLogging logs every request with the webhook's delivery id and event.
func requestLogging(logger zerolog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		ctx := logger.WithContext(r.Context())
		next.ServeHTTP(rec, r.WithContext(ctx))
		level := zerolog.DebugLevel
		if rec.status >= 500 {
			level = zerolog.WarnLevel
		}
		ev := logger.WithLevel(level).Str("method", r.Method).Str("path", r.URL.Path).Int("status", rec.status).
			Dur("duration", time.Since(start))
		if id := r.Header.Get("X-GitHub-Delivery"); id != "" {
			ev = ev.Str(githubapp.LogKeyDeliveryID, id).Str(githubapp.LogKeyEventType, r.Header.Get("X-GitHub-Event"))
		}
		ev.Msg("Handled request")
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// healthz: the process is alive.
func (a *App) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "version": version})
}

// readyz: the database answers, migrations are applied and River is running.
func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"database": "ok", "migrations": "ok", "river": "ok"}
	ready := true
	switch err := monitor.Database(ctx, a.store); {
	case errors.Is(err, monitor.ErrUnreachable):
		checks["database"], ready = "unreachable", false
		delete(checks, "migrations")
	case err != nil:
		checks["migrations"], ready = "not applied", false
	}
	if monitor.River(a.engine) != nil {
		checks["river"], ready = "not running", false
	}
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, map[string]any{"ready": ready, "checks": checks, "app_configured": a.cfg.HasAppCredentials()})
}

// routeOperatorAPI serves /api/executions (GET lists, POST starts one), /api/alerts,
// /api/recoveries and /api/metrics to holders of ADMIN_TOKEN, and /metrics to holders of
// METRICS_TOKEN or ADMIN_TOKEN.
func (a *App) routeOperatorAPI(mux *http.ServeMux) {
	mux.Handle("GET /api/executions", a.requireToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit, err := queryLimit(r, 20, 1000)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		states, err := queryStates(r)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		list, err := a.engine.List(r.Context(), workflows.ListFilter{
			Kinds: splitList(r.URL.Query().Get("kind")), States: states, Limit: limit,
		})
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "failed to list executions"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"executions": list})
	})))
	mux.Handle("POST /api/executions", a.requireToken(http.HandlerFunc(a.postExecution)))
	mux.Handle("GET /api/executions/{id}", a.requireToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "execution id must be a number"})
			return
		}
		x, err := a.engine.Status(r.Context(), id)
		if errors.Is(err, workflows.ErrNotFound) {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "execution not found"})
			return
		}
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "failed to get execution"})
			return
		}
		writeJSON(w, http.StatusOK, x)
	})))
	mux.Handle("GET /api/alerts", a.requireToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit, err := queryLimit(r, 20, 500)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		list, err := a.alerts.Recent(r.Context(), limit)
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "failed to list alerts"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"alerts": list})
	})))
	mux.Handle("GET /api/metrics", a.requireToken(http.HandlerFunc(a.apiMetrics)))
	// Prometheus text format, for scrapers holding METRICS_TOKEN (or ADMIN_TOKEN).
	mux.Handle("GET /metrics", a.requireMetricsToken(http.HandlerFunc(a.prometheusMetrics)))
	mux.Handle("GET /api/recoveries", a.requireToken(http.HandlerFunc(a.recoveries)))
}

// recoveries serves the recovery manager's last actions (?limit=, default 50) and its open
// failure streaks.
func (a *App) recoveries(w http.ResponseWriter, r *http.Request) {
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "limit must be a number from 1 to 500"})
			return
		}
		limit = n
	}
	actions, err := a.recovery.Recent(r.Context(), limit)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "failed to read recovery actions"})
		return
	}
	streaks, err := a.recovery.Records().Streaks(r.Context())
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "failed to read failure streaks"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"recoveries": actions, "streaks": streaks})
}

// requireToken admits holders of ADMIN_TOKEN to a JSON endpoint: a bearer token (the scheme is
// case-insensitive, RFC 7235), a basic-auth password, or the login form's session cookie
// (dashboard/auth). Others get 401 JSON; without a configured token the endpoints are closed (403).
func (a *App) requireToken(next http.Handler) http.Handler { return a.guard.API(next) }

// tokenMatches reports whether the request's Authorization header carries want, as
// "Bearer <token>" or as a basic-auth password, compared in constant time; a bare token without
// a scheme is refused, and an empty want never matches.
func tokenMatches(r *http.Request, want string) bool { return auth.HeaderMatches(r, want) }

// queryLimit reads ?limit=: def when absent, else a number from 1 to maximum (an error says so).
func queryLimit(r *http.Request, def, maximum int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maximum {
		return 0, fmt.Errorf("limit must be a number from 1 to %d, got %q", maximum, v)
	}
	return n, nil
}

// queryStates reads ?state=a,b: River's job states (empty entries are dropped); an unknown one
// is an error naming the known ones.
func queryStates(r *http.Request) ([]string, error) {
	var out []string
	for _, s := range splitList(r.URL.Query().Get("state")) {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !slices.Contains(rivertype.JobStates(), rivertype.JobState(s)) {
			known := make([]string, 0, len(rivertype.JobStates()))
			for _, st := range rivertype.JobStates() {
				known = append(known, string(st))
			}
			return nil, fmt.Errorf("unknown state %q (known: %s)", s, strings.Join(known, ", "))
		}
		out = append(out, s)
	}
	return out, nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
