package ghapp

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/ghapp/ghapptest"
)

// contextRecorder is a transport that keeps the context of each request it sends.
type contextRecorder struct {
	next http.RoundTripper
	ctxs []context.Context
}

func (c *contextRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	c.ctxs = append(c.ctxs, r.Context())
	return c.next.RoundTrip(r)
}

// TestRequestTimeoutEndsWithTheAnswer: the request's context (and with it its deadline's timer)
// ends once the answer is read: for an error answer, whose body go-github swaps for a copy and
// never closes, as for a decoded success.
func TestRequestTimeoutEndsWithTheAnswer(t *testing.T) {
	t.Parallel()
	fake := ghapptest.New(t)
	fake.HandleFunc("GET /repos/o/r/contents/missing.yml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"message":"Not Found"}`))
	})
	fake.HandleFunc("GET /repos/o/r", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":1,"name":"r"}`))
	})
	rec := &contextRecorder{next: http.DefaultTransport}
	client := timedClient(t, fake, requestTimeout(time.Hour)(rec))

	_, _, resp, err := client.Repositories.GetContents(context.Background(), "o", "r", "missing.yml", nil)
	require.Error(t, err)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	repo, _, err := client.Repositories.Get(context.Background(), "o", "r")
	require.NoError(t, err)
	require.Equal(t, "r", repo.GetName())

	require.Len(t, rec.ctxs, 2)
	for _, ctx := range rec.ctxs {
		deadline, ok := ctx.Deadline()
		require.True(t, ok)
		require.WithinDuration(t, time.Now().Add(time.Hour), deadline, time.Minute)
		require.ErrorIs(t, ctx.Err(), context.Canceled, "the request's context ends with its answer")
	}
}

// TestRequestTimeoutBoundsTheRequest: a GitHub that does not answer in time fails the request
// with the deadline.
func TestRequestTimeoutBoundsTheRequest(t *testing.T) {
	t.Parallel()
	fake := ghapptest.New(t)
	release := make(chan struct{})
	defer close(release)
	fake.HandleFunc("GET /repos/o/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	client := timedClient(t, fake, requestTimeout(50*time.Millisecond)(http.DefaultTransport))
	start := time.Now()
	_, _, err := client.Repositories.Get(context.Background(), "o", "slow")
	require.Error(t, err)
	require.True(t, errors.Is(err, context.DeadlineExceeded), "got %v", err)
	require.Less(t, time.Since(start), 10*time.Second)
}

// timedClient is a go-github client of the fake over transport, without http.Client.Timeout.
func timedClient(t *testing.T, fake *ghapptest.Server, transport http.RoundTripper) *github.Client {
	t.Helper()
	c, err := github.NewClient(&http.Client{Transport: transport}).WithEnterpriseURLs(fake.URL()+"/", fake.URL()+"/")
	require.NoError(t, err)
	return c
}
