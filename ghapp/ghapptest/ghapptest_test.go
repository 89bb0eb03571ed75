package ghapptest_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/ghapp/ghapptest"
	"github.com/contexten/autonomous/recovery"
)

func newServer(t *testing.T) (*ghapptest.Server, *atomic.Int32) {
	s := ghapptest.New(t)
	created := new(atomic.Int32)
	s.Handle("POST /repos/{owner}/{repo}/issues/{number}/comments", func(w http.ResponseWriter, r *http.Request, body []byte) {
		created.Add(1)
		ghapptest.JSON(w, 201, map[string]any{"id": 1, "body": string(body), "html_url": r.PathValue("number")})
	})
	return s, created
}

func TestRoutesRecordsAndAnswers404(t *testing.T) {
	t.Parallel()
	s, created := newServer(t)
	c := s.Client(ghapptest.ClientOptions{})
	ctx := context.Background()
	got, _, err := c.Issues.CreateComment(ctx, "acme", "widgets", 7, &github.IssueComment{Body: github.String("hi")})
	require.NoError(t, err)
	require.Equal(t, "7", got.GetHTMLURL())
	require.Contains(t, got.GetBody(), `"body":"hi"`)
	require.Equal(t, int32(1), created.Load())
	_, _, err = c.PullRequests.Get(ctx, "acme", "widgets", 7)
	require.Equal(t, recovery.NotFound, recovery.Classify(err))
	require.Equal(t, []string{"POST /repos/acme/widgets/issues/7/comments", "GET /repos/acme/widgets/pulls/7"}, s.Calls(""))
	require.Contains(t, s.Requests()[0].Body, `"hi"`)
}

func TestFaults(t *testing.T) {
	t.Parallel()
	s, created := newServer(t)
	c := s.Client(ghapptest.ClientOptions{})
	ctx := context.Background()
	const path = "/repos/acme/widgets/issues/7/comments"
	comment := &github.IssueComment{Body: github.String("hi")}

	s.Fail(ghapptest.Fault{Method: "POST", Path: path, Status: 422, Body: `{"message":"Validation Failed"}`, Times: 1})
	_, resp, err := c.Issues.CreateComment(ctx, "acme", "widgets", 7, comment)
	require.Error(t, err)
	require.Equal(t, 422, resp.StatusCode)
	require.Equal(t, int32(0), created.Load(), "a fault answers instead of the route")

	s.Fail(ghapptest.Fault{Method: "POST", Path: path, Status: 429, Headers: map[string]string{"Retry-After": "120"}, Body: `{"message":"slow down"}`, Times: 1})
	_, _, err = c.Issues.CreateComment(ctx, "acme", "widgets", 7, comment)
	wait, limited := recovery.RetryAfter(err, time.Now())
	require.True(t, limited)
	require.InDelta(t, 120, wait.Seconds(), 5)

	s.Fail(ghapptest.Fault{Method: "POST", Path: path, Status: 502, Body: `{"message":"Bad Gateway"}`,
		Match: func(r ghapptest.Request) bool { return r.Query == "" }, Times: 1})
	_, resp, err = c.Issues.CreateComment(ctx, "acme", "widgets", 7, comment)
	require.Error(t, err)
	require.Equal(t, 502, resp.StatusCode)

	s.Fail(ghapptest.Fault{Status: 503, Body: `{"message":"unavailable"}`, Times: 1}) // any method, any path
	_, resp, err = c.Issues.CreateComment(ctx, "acme", "widgets", 7, comment)
	require.Error(t, err)
	require.Equal(t, 503, resp.StatusCode)

	_, _, err = c.Issues.CreateComment(ctx, "acme", "widgets", 7, comment)
	require.NoError(t, err, "the faults were used up")
	require.Equal(t, int32(1), created.Load())
	require.Len(t, s.Calls("POST "+path), 5, "every request is recorded, faulted or not")
}

func TestSlowCreateSucceedsAfterTheClientTimedOut(t *testing.T) {
	t.Parallel()
	s, created := newServer(t)
	s.Fail(ghapptest.Fault{Method: "POST", Path: "/repos/acme/widgets/issues/7/comments", Delay: 400 * time.Millisecond, Times: 1})
	c := s.Client(ghapptest.ClientOptions{Timeout: 100 * time.Millisecond})
	_, _, err := c.Issues.CreateComment(context.Background(), "acme", "widgets", 7, &github.IssueComment{Body: github.String("hi")})
	require.Error(t, err, "the client gave up")
	require.Eventually(t, func() bool { return len(s.Calls("POST")) == 1 }, 5*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool { return s.Calls("") != nil && created.Load() == 1 }, 5*time.Second, 10*time.Millisecond, "the create landed anyway")
}

func TestCacheableAnswersNotModified(t *testing.T) {
	t.Parallel()
	fake := ghapptest.New(t)
	var notModified atomic.Int32
	fake.HandleFunc("GET /repos/{owner}/{repo}", func(w http.ResponseWriter, r *http.Request) {
		if ghapptest.Cacheable(w, r, r.URL.Path, 0) {
			notModified.Add(1)
			return
		}
		ghapptest.JSON(w, http.StatusOK, map[string]any{"id": 1})
	})
	c := fake.Client(ghapptest.ClientOptions{Cached: true})
	for range 2 {
		repo, _, err := c.Repositories.Get(context.Background(), "octo", "app")
		require.NoError(t, err)
		require.Equal(t, int64(1), repo.GetID())
	}
	require.Len(t, fake.Calls("GET /repos/octo/app"), 2, "max-age=0 revalidates")
	require.Equal(t, "/api/v3/repos/octo/app", fake.Requests()[0].Sent, "Sent keeps the prefix the client sent")
	require.Equal(t, int32(1), notModified.Load(), "the repeat carries the ETag and gets 304")
}
