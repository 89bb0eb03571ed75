package slack_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// secretPath is the secret part of the fake webhook URL; no error may show it.
const secretPath = "/services/T0000/B0000/s3cr3tW3bh00kT0ken"

// recorded is one request the fake webhook received.
type recorded struct {
	Method      string
	Path        string
	ContentType string
	Body        []byte
}

// fakeWebhook is a Slack incoming webhook on loopback answering with a
// programmable handler and recording every request.
type fakeWebhook struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
}

func newFakeWebhook(t *testing.T, answer http.HandlerFunc) *fakeWebhook {
	t.Helper()
	f := &fakeWebhook{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.requests = append(f.requests, recorded{Method: r.Method, Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"), Body: body})
		f.mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeWebhook) url() string { return f.URL + secretPath }

func (f *fakeWebhook) got(t *testing.T) []recorded {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.requests...)
}

// sentPayload decodes the only request's body as Slack would.
func (f *fakeWebhook) sentPayload(t *testing.T) payload {
	t.Helper()
	reqs := f.got(t)
	require.Len(t, reqs, 1)
	var p payload
	require.NoError(t, json.Unmarshal(reqs[0].Body, &p))
	return p
}

// payload is the JSON shape of a webhook message, decoded independently of
// slack-go's types.
type payload struct {
	Text   string  `json:"text"`
	Blocks []block `json:"blocks"`
}

type block struct {
	Type     string       `json:"type"`
	Text     *textObject  `json:"text"`
	Fields   []textObject `json:"fields"`
	Elements []textObject `json:"elements"`
}

type textObject struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

func answer(status int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}
