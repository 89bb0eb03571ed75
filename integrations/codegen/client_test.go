package codegen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func newTestClient(t *testing.T, f *fakeCodegen, opts ...Option) *Client {
	t.Helper()
	c, err := New("42", testToken, append([]Option{WithURL(f.URL)}, opts...)...)
	require.NoError(t, err)
	return c
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, org, token, url string }{
		{"no org", "", testToken, ""},
		{"no token", "42", " ", ""},
		{"token with newline", "42", "a\nb", ""},
		{"org with slash", "4/2", testToken, ""},
		{"relative url", "42", testToken, "api.codegen.com"},
		{"ftp url", "42", testToken, "ftp://api.codegen.com"},
		{"url with credentials", "42", testToken, "https://u:p@api.codegen.com"},
	} {
		_, err := New(tt.org, tt.token, WithURL(tt.url))
		require.ErrorIs(t, err, ErrInvalidInput, tt.name)
	}
	c, err := New("42", testToken)
	require.NoError(t, err)
	require.Equal(t, "https://api.codegen.com", c.base.String())
	require.NotContains(t, c.String(), testToken)
	require.NotContains(t, fmt.Sprintf("%#v %v %+v", c, c, c), testToken)
}

func TestRunWalksToCompleteWithPR(t *testing.T) {
	t.Parallel()
	f := newFakeCodegen(t)
	f.walk = []string{"PENDING", "RUNNING", "COMPLETE"}
	f.pr = &PullRequest{ID: 9, Title: "Fix flaky assertion", URL: "https://github.com/o/r/pull/9", HeadBranchName: "codegen-bot/fix-123"}
	c := newTestClient(t, f, WithURL(f.URL+"/"), WithCreateLimiter(NewLimiter(10, time.Minute)))
	ctx := context.Background()
	repo := int64(7)
	run, err := c.CreateRun(ctx, CreateRunRequest{Prompt: "fix it", RepoID: &repo, Metadata: map[string]any{"fingerprint": "abc"}})
	require.NoError(t, err)
	require.Equal(t, Status("PENDING"), run.Status)
	require.False(t, run.Status.Done())
	require.Equal(t, fmt.Sprintf("https://codegen.com/agent/trace/%d", run.ID), run.WebURL)

	var seen []Status
	for !run.Status.Done() {
		run, err = c.GetRun(ctx, run.ID)
		require.NoError(t, err)
		seen = append(seen, run.Status)
	}
	require.Equal(t, []Status{"RUNNING", "COMPLETE"}, seen)
	require.True(t, run.Status.Succeeded())
	require.Equal(t, "Fixed the failing assertion", run.Summary)
	require.Equal(t, "Opened a pull request", run.Result)
	require.Equal(t, []PullRequest{*f.pr}, run.PullRequests)

	calls := f.calls()
	require.Len(t, calls, 3)
	require.Equal(t, "/v1/organizations/42/agent/run", calls[0].Path)
	require.Equal(t, map[string]any{"prompt": "fix it", "repo_id": float64(7), "metadata": map[string]any{"fingerprint": "abc"}}, calls[0].Body)
	require.Equal(t, fmt.Sprintf("/v1/organizations/42/agent/run/%d", run.ID), calls[1].Path)
	for _, call := range calls {
		require.Equal(t, "Bearer "+testToken, call.Authorization)
	}
}

func TestCreateWithoutRepoOmitsRepoID(t *testing.T) {
	t.Parallel()
	f := newFakeCodegen(t)
	_, err := newTestClient(t, f).CreateRun(context.Background(), CreateRunRequest{Prompt: "p"})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"prompt": "p"}, f.calls()[0].Body)
	_, err = newTestClient(t, f).CreateRun(context.Background(), CreateRunRequest{Prompt: "  "})
	require.ErrorIs(t, err, ErrInvalidInput)
	require.Len(t, f.calls(), 1)
}

func TestLowercaseCompletedFinishes(t *testing.T) {
	t.Parallel()
	f := newFakeCodegen(t)
	f.walk = []string{"pending", "completed"}
	c := newTestClient(t, f)
	run, err := c.CreateRun(context.Background(), CreateRunRequest{Prompt: "p"})
	require.NoError(t, err)
	run, err = c.GetRun(context.Background(), run.ID)
	require.NoError(t, err)
	require.True(t, run.Status.Succeeded())
	require.True(t, run.Status.Done())
}

func TestStatusHelpers(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status            Status
		succeeded, failed bool
	}{
		{"COMPLETE", true, false}, {"completed", true, false}, {" Complete ", true, false},
		{"FAILED", false, true}, {"error", false, true}, {"Cancelled", false, true},
		{"canceled", false, true}, {"STOPPED", false, true},
		{"PENDING", false, false}, {"RUNNING", false, false}, {"ACTIVE", false, false},
		{"EVALUATION", false, false}, {"", false, false}, {"COMPLETEISH", false, false},
	} {
		require.Equal(t, tt.succeeded, tt.status.Succeeded(), tt.status)
		require.Equal(t, tt.failed, tt.status.Failed(), tt.status)
		require.Equal(t, tt.succeeded || tt.failed, tt.status.Done(), tt.status)
	}
}

func TestResumeRunSendsIDAndPrompt(t *testing.T) {
	t.Parallel()
	f := newFakeCodegen(t)
	f.walk = []string{"PENDING", "COMPLETE"}
	c := newTestClient(t, f)
	run, err := c.CreateRun(context.Background(), CreateRunRequest{Prompt: "first"})
	require.NoError(t, err)
	resumed, err := c.ResumeRun(context.Background(), run.ID, "the fix PR failed again")
	require.NoError(t, err)
	require.Equal(t, run.ID, resumed.ID)
	last := f.calls()[len(f.calls())-1]
	require.Equal(t, "/v1/organizations/42/agent/run/resume", last.Path)
	require.Equal(t, map[string]any{"agent_run_id": float64(run.ID), "prompt": "the fix PR failed again"}, last.Body)

	_, err = c.ResumeRun(context.Background(), 999, "x")
	require.True(t, IsPermanent(err))
	_, err = c.ResumeRun(context.Background(), 0, "x")
	require.ErrorIs(t, err, ErrInvalidInput)
}

func TestErrorsAreTyped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, retryAfter                 string
		status                                 int
		plan, rate, auth, permanent, retryable bool
		wantDetail                             string
		wantWait                               time.Duration
	}{
		{name: "402 plan limit", status: 402, body: `{"detail":"Agent run limit reached for your plan"}`, plan: true, wantDetail: "Agent run limit reached for your plan"},
		{name: "429 with Retry-After", status: 429, body: `{"detail":"Rate limit exceeded"}`, retryAfter: "30", rate: true, retryable: true, wantWait: 30 * time.Second},
		{name: "429 without Retry-After", status: 429, body: `{}`, rate: true, retryable: true, wantWait: DefaultRetryAfter},
		{name: "401", status: 401, body: `{"detail":"Invalid token"}`, auth: true, wantDetail: "Invalid token"},
		{name: "403", status: 403, body: `{"detail":"Forbidden"}`, auth: true},
		{name: "422 string detail", status: 422, body: `{"detail":"Repository is not set up"}`, permanent: true, wantDetail: "Repository is not set up"},
		{name: "422 validation list", status: 422, body: `{"detail":[{"loc":["body","prompt"],"msg":"Field required","type":"missing"}]}`, permanent: true, wantDetail: "body.prompt: Field required"},
		{name: "404", status: 404, body: `not json`, permanent: true, wantDetail: "not json"},
		{name: "500", status: 500, body: `<html>oops</html>`, retryable: true},
		{name: "503 with Retry-After", status: 503, body: ``, retryAfter: "2", retryable: true, wantWait: 2 * time.Second},
		{name: "408", status: 408, body: ``, retryable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeCodegen(t)
			f.fail = func(w http.ResponseWriter, _ *http.Request) bool {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
				return true
			}
			_, err := newTestClient(t, f, WithCreateLimiter(nil)).CreateRun(context.Background(), CreateRunRequest{Prompt: "p"})
			require.Error(t, err)
			var aerr *APIError
			require.ErrorAs(t, err, &aerr)
			require.Equal(t, tt.status, aerr.StatusCode)
			require.Equal(t, tt.plan, IsPlanLimit(err), "plan")
			require.Equal(t, tt.rate, IsRateLimited(err), "rate")
			require.Equal(t, tt.auth, IsAuth(err), "auth")
			require.Equal(t, tt.permanent, IsPermanent(err), "permanent")
			require.Equal(t, tt.retryable, IsRetryable(err), "retryable")
			if tt.wantDetail != "" {
				require.Equal(t, tt.wantDetail, aerr.Detail)
			}
			require.Equal(t, tt.wantWait, RetryAfterOf(err))
			require.NotContains(t, err.Error(), testToken)
		})
	}
}

func TestDetailEchoingSecretsIsRedacted(t *testing.T) {
	t.Parallel()
	f := newFakeCodegen(t)
	f.fail = func(w http.ResponseWriter, _ *http.Request) bool {
		writeJSON(w, 400, map[string]any{"detail": "bad token " + testToken + " and ghp_" + strings.Repeat("A1b2", 9)})
		return true
	}
	_, err := newTestClient(t, f).GetRun(context.Background(), 5)
	require.Error(t, err)
	require.NotContains(t, err.Error(), testToken)
	require.NotContains(t, err.Error(), "ghp_A1b2")
	require.Contains(t, err.Error(), "[REDACTED]")
}

func TestTransportAndDecodeErrors(t *testing.T) {
	t.Parallel()
	f := newFakeCodegen(t)
	c := newTestClient(t, f)
	f.fail = func(w http.ResponseWriter, _ *http.Request) bool {
		_, _ = w.Write([]byte(`{"id": "not a number"`))
		return true
	}
	_, err := c.GetRun(context.Background(), 5)
	require.Error(t, err)
	require.False(t, IsRetryable(err))
	require.False(t, IsPermanent(err))

	f.fail = func(w http.ResponseWriter, _ *http.Request) bool {
		_, _ = w.Write([]byte(`{"status":"RUNNING"}`))
		return true
	}
	_, err = c.CreateRun(context.Background(), CreateRunRequest{Prompt: "p"})
	require.ErrorIs(t, err, ErrNoRunID)
	_, err = c.GetRun(context.Background(), 5)
	require.ErrorIs(t, err, ErrNoRunID)

	f.Close()
	_, err = c.GetRun(context.Background(), 5)
	var terr *TransportError
	require.ErrorAs(t, err, &terr)
	require.True(t, IsRetryable(err))
	require.NotContains(t, err.Error(), testToken)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.GetRun(ctx, 5)
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, IsRetryable(err))
}

func TestRateLimitPausesCreations(t *testing.T) {
	t.Parallel()
	f := newFakeCodegen(t)
	f.fail = func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	}
	c := newTestClient(t, f)
	_, err := c.CreateRun(context.Background(), CreateRunRequest{Prompt: "p"})
	require.True(t, IsRateLimited(err))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = c.CreateRun(ctx, CreateRunRequest{Prompt: "p"})
	require.True(t, IsRateLimited(err))
	require.True(t, IsRetryable(err))
	require.Greater(t, RetryAfterOf(err), 100*time.Second)
	require.Len(t, f.calls(), 1, "the paused creation must not reach Codegen")
	_, err = c.GetRun(ctx, 1) // reads are not paced
	require.True(t, IsRateLimited(err))
	require.Len(t, f.calls(), 2)
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	f := newFakeCodegen(t)
	c := newTestClient(t, f, WithCreateLimiter(nil))
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			run, err := c.CreateRun(context.Background(), CreateRunRequest{Prompt: "p"})
			if err == nil {
				_, err = c.GetRun(context.Background(), run.ID)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.False(t, errors.Is(err, ErrInvalidInput))
		require.NoError(t, err)
	}
}
