package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/workflowstest"
)

// recordingHandler keeps a copy of every payload it was given.
type recordingHandler struct {
	events   []string
	payloads [][]byte
	err      error
}

func (h *recordingHandler) Handles() []string { return h.events }

func (h *recordingHandler) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	h.payloads = append(h.payloads, bytes.Clone(payload))
	return h.err
}

// ingestChain is the server's webhook chain around handlers: limitBody, verifySignature, then
// directDispatch (no inbox: these handlers store nothing) with go-githubapp's dispatcher as the
// fallback.
func ingestChain(handlers ...githubapp.EventHandler) http.Handler {
	dispatcher := githubapp.NewEventDispatcher(handlers, testSecret, githubapp.WithErrorCallback(webhookErrorCallback))
	return limitBody(verifySignature(testSecret, directDispatch(handlers, nil, webhookErrorCallback, dispatcher)))
}

func hookRequest(body io.Reader, contentType, event string, signed []byte) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/api/github/hook", body)
	req.Header.Set("Content-Type", contentType)
	if event != "" {
		req.Header.Set("X-GitHub-Event", event)
	}
	req.Header.Set("X-GitHub-Delivery", "d-1")
	req.Header.Set("X-Hub-Signature-256", sign(signed))
	return req
}

func TestReadBody(t *testing.T) {
	t.Parallel()
	body := bytes.Repeat([]byte("0123456789"), 5000)

	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	got, release, err := readBody(req)
	require.NoError(t, err)
	require.Equal(t, body, got)
	require.Equal(t, len(body), cap(got), "sized by Content-Length")
	release()

	// Chunked (no Content-Length), read in small pieces.
	req = httptest.NewRequest(http.MethodPost, "/", iotest.HalfReader(bytes.NewReader(body)))
	req.ContentLength = -1
	got, release, err = readBody(req)
	require.NoError(t, err)
	require.Equal(t, body, got)
	release()

	// Larger than a pooled buffer: read as it arrives, not allocated up front.
	large := bytes.Repeat([]byte("x"), maxPooledBody+12345)
	req = httptest.NewRequest(http.MethodPost, "/", iotest.OneByteReader(io.LimitReader(bytes.NewReader(large), 100)))
	req.ContentLength = int64(len(large))
	_, release, err = readBody(req)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF, "the body ended before its Content-Length")
	release()
	req = httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(large))
	got, release, err = readBody(req)
	require.NoError(t, err)
	require.Equal(t, large, got)
	release()

	// Empty.
	req = httptest.NewRequest(http.MethodPost, "/", http.NoBody)
	got, release, err = readBody(req)
	require.NoError(t, err)
	require.Empty(t, got)
	release()

	// Shorter than its Content-Length: the connection ended early.
	req = httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body[:100]))
	req.ContentLength = 200
	_, release, err = readBody(req)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	release()

	// A read error is returned, not swallowed.
	boom := errors.New("connection reset")
	req = httptest.NewRequest(http.MethodPost, "/", iotest.ErrReader(boom))
	req.ContentLength = -1
	_, release, err = readBody(req)
	require.ErrorIs(t, err, boom)
	release()
}

func TestDirectDispatch(t *testing.T) {
	t.Parallel()
	run := &recordingHandler{events: []string{"workflow_run"}}
	shadowed := &recordingHandler{events: []string{"workflow_run", "push"}}
	failing := &recordingHandler{events: []string{"check_run"}, err: errors.New("store down")}
	chain := ingestChain(run, shadowed, failing)
	serve := func(req *http.Request) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		chain.ServeHTTP(w, req)
		return w
	}

	// The pooled buffer is reused across deliveries: each handler call sees its own body.
	for _, body := range []string{`{"action":"completed","n":1}`, `{"n":2}`, `{"action":"requested","n":3,"more":"x"}`} {
		w := serve(hookRequest(strings.NewReader(body), "application/json; charset=utf-8", "workflow_run", []byte(body)))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	}
	require.Equal(t, []string{`{"action":"completed","n":1}`, `{"n":2}`, `{"action":"requested","n":3,"more":"x"}`}, strings.Fields(string(bytes.Join(run.payloads, []byte(" ")))))
	require.Empty(t, shadowed.payloads, "the first handler naming an event takes it, as in go-githubapp")

	push := `{"ref":"refs/heads/main"}`
	require.Equal(t, http.StatusOK, serve(hookRequest(strings.NewReader(push), "application/json", "push", []byte(push))).Code)
	require.Equal(t, [][]byte{[]byte(push)}, shadowed.payloads)

	// A form-encoded delivery goes through go-githubapp's dispatcher, which signs the form body.
	form := "payload=" + url.QueryEscape(`{"n":4}`)
	w := serve(hookRequest(strings.NewReader(form), "application/x-www-form-urlencoded", "workflow_run", []byte(form)))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Equal(t, `{"n":4}`, string(run.payloads[len(run.payloads)-1]))

	cases := []struct {
		name, contentType, event, body string
		signed                         []byte
		want                           int
	}{
		{"no handler", "application/json", "sponsorship", `{}`, nil, http.StatusAccepted},
		{"missing event", "application/json", "", `{}`, nil, http.StatusBadRequest},
		{"handler error", "application/json", "check_run", `{}`, nil, http.StatusInternalServerError},
		{"unsupported content type", "text/plain", "workflow_run", `{}`, nil, http.StatusBadRequest},
		{"bad signature", "application/json", "workflow_run", `{}`, []byte("other"), http.StatusUnauthorized},
	}
	before := len(run.payloads)
	for _, tc := range cases {
		signed := tc.signed
		if signed == nil {
			signed = []byte(tc.body)
		}
		w := serve(hookRequest(strings.NewReader(tc.body), tc.contentType, tc.event, signed))
		require.Equal(t, tc.want, w.Code, tc.name)
	}
	require.Len(t, run.payloads, before, "refused deliveries reach no handler")
	require.Len(t, failing.payloads, 1)
}

// TestWebhookBodiesEndToEnd: a chunked delivery and a form-encoded one are stored like any
// other; a body shorter than its Content-Length is refused.
func TestWebhookBodiesEndToEnd(t *testing.T) {
	t.Parallel()
	gh := newFakeGitHub(t)
	app := startApp(t, testConfig(t, gh.APIURL(), workflowstest.SQLiteURL(t)), appOptions{IngestOnly: true})
	url := app.URL() + "/api/github/hook"
	do := func(req *http.Request) int {
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}

	body := failedRun(t, 701, 1)
	req, err := http.NewRequest(http.MethodPost, url, io.MultiReader(bytes.NewReader(body)))
	require.NoError(t, err)
	req.ContentLength = -1
	req.Header = hookRequest(nil, "application/json", "workflow_run", body).Header
	require.Equal(t, http.StatusOK, do(req))
	require.Equal(t, 1, countJobs(t, app, "failure_analysis"))

	form := []byte("payload=" + url2query(failedRun(t, 702, 1)))
	req, err = http.NewRequest(http.MethodPost, url, bytes.NewReader(form))
	require.NoError(t, err)
	req.Header = hookRequest(nil, "application/x-www-form-urlencoded", "workflow_run", form).Header
	require.Equal(t, http.StatusOK, do(req))
	require.Equal(t, 2, countJobs(t, app, "failure_analysis"))
}

func url2query(b []byte) string { return url.QueryEscape(string(b)) }

// BenchmarkAckPath measures the webhook chain's own cost per 22 KB delivery (bytes and
// allocations per op) with a handler that only parses nothing: "direct" is the server's chain,
// "dispatcher" hands the verified body to go-githubapp's dispatcher, which reads and verifies
// it again (the chain before directDispatch).
//
//	go test -run '^$' -bench AckPath -benchmem ./cmd/autonomous
func BenchmarkAckPath(b *testing.B) {
	body := failedRun(b, 801, 1)
	sig := sign(body)
	h := &countingHandler{}
	handlers := []githubapp.EventHandler{h}
	dispatcher := githubapp.NewEventDispatcher(handlers, testSecret, githubapp.WithErrorCallback(webhookErrorCallback))
	for _, bc := range []struct {
		name  string
		chain http.Handler
	}{
		{"direct", limitBody(verifySignature(testSecret, directDispatch(handlers, nil, webhookErrorCallback, dispatcher)))},
		{"dispatcher", limitBody(verifySignature(testSecret, dispatcher))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			reader := bytes.NewReader(body)
			req := httptest.NewRequest(http.MethodPost, "/api/github/hook", reader)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-GitHub-Event", "workflow_run")
			req.Header.Set("X-GitHub-Delivery", "d-1")
			req.Header.Set("X-Hub-Signature-256", sig)
			w := &discardWriter{header: http.Header{}}
			for b.Loop() {
				reader.Reset(body)
				r := *req
				r.Body = io.NopCloser(reader)
				bc.chain.ServeHTTP(w, &r)
				if w.status != http.StatusOK {
					b.Fatalf("status %d", w.status)
				}
			}
		})
	}
}

type countingHandler struct{ n int }

func (*countingHandler) Handles() []string { return []string{"workflow_run"} }
func (h *countingHandler) Handle(context.Context, string, string, []byte) error {
	h.n++
	return nil
}

type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }
