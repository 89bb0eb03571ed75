package recovery_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/ghapp/ghapptest"
	"github.com/contexten/autonomous/recovery"
	"github.com/contexten/autonomous/store"
)

// timeoutError is a net.Error whose Timeout() is true.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// netError is a net.Error that is not a timeout.
type netError struct{}

func (netError) Error() string   { return "network is unreachable" }
func (netError) Timeout() bool   { return false }
func (netError) Temporary() bool { return false }

var _ net.Error = timeoutError{}

func ghResponse(code int, header map[string]string) *http.Response {
	u, _ := url.Parse("https://api.github.com/repos/octo/app/actions/runs/1")
	h := http.Header{}
	for k, v := range header {
		h.Set(k, v)
	}
	return &http.Response{StatusCode: code, Header: h, Request: &http.Request{Method: http.MethodGet, URL: u}}
}

func errResp(code int, header map[string]string) *github.ErrorResponse {
	return &github.ErrorResponse{Response: ghResponse(code, header), Message: http.StatusText(code)}
}

func rateLimit(reset time.Time) *github.RateLimitError {
	return &github.RateLimitError{
		Rate:     github.Rate{Limit: 5000, Remaining: 0, Reset: github.Timestamp{Time: reset}},
		Response: ghResponse(http.StatusForbidden, map[string]string{"X-Ratelimit-Remaining": "0"}),
		Message:  "API rate limit exceeded",
	}
}

func abuse(retryAfter *time.Duration) *github.AbuseRateLimitError {
	return &github.AbuseRateLimitError{
		Response:   ghResponse(http.StatusForbidden, nil),
		Message:    "You have exceeded a secondary rate limit",
		RetryAfter: retryAfter,
	}
}

func dur(d time.Duration) *time.Duration { return &d }

func connRefused() error {
	return &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	reset := time.Now().Add(time.Hour)
	for _, tc := range []struct {
		name string
		err  error
		want recovery.Class
	}{
		{name: "nil", err: nil, want: ""},
		{name: "rate limit", err: rateLimit(reset), want: recovery.RateLimit},
		{name: "abuse rate limit", err: abuse(dur(time.Minute)), want: recovery.RateLimit},
		{name: "abuse rate limit without retry-after", err: abuse(nil), want: recovery.RateLimit},
		{name: "401", err: errResp(401, nil), want: recovery.AuthError},
		{name: "403", err: errResp(403, nil), want: recovery.AuthError},
		{name: "403 rate limit headers", err: errResp(403, map[string]string{"X-Ratelimit-Remaining": "0"}), want: recovery.RateLimit},
		{name: "403 with remaining quota", err: errResp(403, map[string]string{"X-Ratelimit-Remaining": "12"}), want: recovery.AuthError},
		{name: "404", err: errResp(404, nil), want: recovery.NotFound},
		{name: "410", err: errResp(410, nil), want: recovery.NotFound},
		{name: "422", err: errResp(422, nil), want: recovery.Invalid},
		{name: "429", err: errResp(429, map[string]string{"Retry-After": "30"}), want: recovery.RateLimit},
		{name: "429 without header", err: errResp(429, nil), want: recovery.RateLimit},
		{name: "500", err: errResp(500, nil), want: recovery.IntegrationFailure},
		{name: "502", err: errResp(502, nil), want: recovery.IntegrationFailure},
		{name: "503", err: errResp(503, nil), want: recovery.IntegrationFailure},
		{name: "error response without response", err: &github.ErrorResponse{Message: "odd"}, want: recovery.Unknown},
		{name: "409", err: errResp(409, nil), want: recovery.Unknown},
		{name: "net timeout", err: timeoutError{}, want: recovery.Timeout},
		{name: "url error with timeout", err: &url.Error{Op: "Get", URL: "https://api.github.com", Err: timeoutError{}}, want: recovery.Timeout},
		{name: "other net error", err: netError{}, want: recovery.NetworkError},
		{name: "connection refused", err: connRefused(), want: recovery.NetworkError},
		{name: "bare ECONNREFUSED", err: syscall.ECONNREFUSED, want: recovery.NetworkError},
		{name: "ECONNRESET", err: fmt.Errorf("read: %w", syscall.ECONNRESET), want: recovery.NetworkError},
		{name: "connection refused text", err: errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), want: recovery.NetworkError},
		{name: "no such host text", err: errors.New("lookup api.example: no such host"), want: recovery.NetworkError},
		{name: "DNS error", err: &net.DNSError{Err: "no such host", Name: "api.example", IsNotFound: true}, want: recovery.NetworkError},
		{name: "deadline exceeded", err: context.DeadlineExceeded, want: recovery.Timeout},
		{name: "url error with deadline", err: &url.Error{Op: "Get", URL: "https://api.github.com", Err: context.DeadlineExceeded}, want: recovery.Timeout},
		{name: "disk full", err: fmt.Errorf("failed to write log: %w", syscall.ENOSPC), want: recovery.ResourceExhaustion},
		{name: "out of memory", err: syscall.ENOMEM, want: recovery.ResourceExhaustion},
		{name: "disk full writing a file", err: &os.PathError{Op: "write", Path: "data/x.db", Err: syscall.ENOSPC}, want: recovery.ResourceExhaustion},
		{name: "file permission is not a network error", err: fmt.Errorf("failed to open: %w", &os.PathError{Op: "open", Path: "x", Err: syscall.EACCES}), want: recovery.Unknown},
		{name: "bare errno is not a network error", err: fmt.Errorf("failed: %w", syscall.EPERM), want: recovery.Unknown},
		{name: "bare ETIMEDOUT", err: fmt.Errorf("read: %w", syscall.ETIMEDOUT), want: recovery.Timeout},
		{name: "dial timeout", err: &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ETIMEDOUT}}, want: recovery.Timeout},
		{name: "database locked", err: errors.New("database is locked (5) (SQLITE_BUSY)"), want: recovery.ResourceExhaustion},
		{name: "too many connections", err: errors.New("FATAL: sorry, Too Many Connections"), want: recovery.ResourceExhaustion},
		{name: "unknown", err: errors.New("boom"), want: recovery.Unknown},
		{name: "canceled", err: context.Canceled, want: recovery.Unknown},

		{name: "wrapped rate limit", err: fmt.Errorf("failed to list jobs: %w", rateLimit(reset)), want: recovery.RateLimit},
		{name: "wrapped abuse", err: fmt.Errorf("failed to rerun: %w", abuse(nil)), want: recovery.RateLimit},
		{name: "wrapped 404", err: fmt.Errorf("failed to get run: %w", errResp(404, nil)), want: recovery.NotFound},
		{name: "double wrapped 422", err: fmt.Errorf("a: %w", fmt.Errorf("b: %w", errResp(422, nil))), want: recovery.Invalid},
		{name: "wrapped 401", err: fmt.Errorf("failed to get token: %w", errResp(401, nil)), want: recovery.AuthError},
		{name: "wrapped 503", err: fmt.Errorf("failed to get run: %w", errResp(503, nil)), want: recovery.IntegrationFailure},
		{name: "wrapped timeout", err: fmt.Errorf("failed to download log: %w", timeoutError{}), want: recovery.Timeout},
		{name: "wrapped deadline", err: fmt.Errorf("failed to download log: %w", context.DeadlineExceeded), want: recovery.Timeout},
		{name: "wrapped connection refused", err: fmt.Errorf("failed to post: %w", connRefused()), want: recovery.NetworkError},
		{name: "joined", err: errors.Join(errors.New("first"), errResp(404, nil)), want: recovery.NotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, recovery.Classify(tc.err))
		})
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		err    error
		want   time.Duration
		wantOK bool
	}{
		{name: "nil", err: nil},
		{name: "rate limit until reset, plus a second", err: rateLimit(now.Add(10 * time.Minute)), want: 10*time.Minute + time.Second, wantOK: true},
		{name: "rate limit already reset", err: rateLimit(now.Add(-time.Minute)), want: 2 * time.Second, wantOK: true},
		{name: "rate limit without reset", err: rateLimit(time.Time{}), want: 2 * time.Second, wantOK: true},
		{name: "wrapped rate limit", err: fmt.Errorf("failed to list: %w", rateLimit(now.Add(time.Hour))), want: time.Hour + time.Second, wantOK: true},
		{name: "abuse with retry-after", err: abuse(dur(90 * time.Second)), want: 90 * time.Second, wantOK: true},
		{name: "abuse with zero retry-after", err: abuse(dur(0)), want: time.Second, wantOK: true},
		{name: "abuse with negative retry-after", err: abuse(dur(-time.Minute)), want: time.Second, wantOK: true},
		{name: "abuse without retry-after", err: abuse(nil), want: time.Minute, wantOK: true},
		{name: "wrapped abuse", err: fmt.Errorf("failed: %w", abuse(dur(3*time.Second))), want: 3 * time.Second, wantOK: true},
		{name: "429 retry-after seconds", err: errResp(429, map[string]string{"Retry-After": "120"}), want: 2 * time.Minute, wantOK: true},
		{name: "429 retry-after zero", err: errResp(429, map[string]string{"Retry-After": "0"}), want: time.Second, wantOK: true},
		{name: "429 retry-after date", err: errResp(429, map[string]string{"Retry-After": now.Add(3 * time.Minute).Format(http.TimeFormat)}), want: 3 * time.Minute, wantOK: true},
		{name: "429 retry-after date in the past", err: errResp(429, map[string]string{"Retry-After": now.Add(-time.Hour).Format(http.TimeFormat)}), want: time.Second, wantOK: true},
		{name: "429 retry-after garbage", err: errResp(429, map[string]string{"Retry-After": "soon"}), want: time.Minute, wantOK: true},
		{name: "429 retry-after is seconds, not a Go duration", err: errResp(429, map[string]string{"Retry-After": "10m"}), want: time.Minute, wantOK: true},
		{name: "429 retry-after huge is capped", err: errResp(429, map[string]string{"Retry-After": "99999999999999"}), want: 24 * time.Hour, wantOK: true},
		{name: "429 without header", err: errResp(429, nil), want: time.Minute, wantOK: true},
		{name: "429 primary rate limit reset", err: errResp(429, map[string]string{
			"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": strconv.FormatInt(now.Add(5*time.Minute).Unix(), 10),
		}), want: 5*time.Minute + time.Second, wantOK: true},
		{name: "403 primary rate limit reset", err: errResp(403, map[string]string{
			"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": strconv.FormatInt(now.Add(20*time.Minute).Unix(), 10),
		}), want: 20*time.Minute + time.Second, wantOK: true},
		{name: "403 primary rate limit without reset", err: errResp(403, map[string]string{"X-Ratelimit-Remaining": "0"}), want: time.Minute, wantOK: true},
		{name: "wrapped 429", err: fmt.Errorf("failed: %w", errResp(429, map[string]string{"Retry-After": "7"})), want: 7 * time.Second, wantOK: true},
		{name: "403", err: errResp(403, nil)},
		{name: "403 with quota left", err: errResp(403, map[string]string{"X-Ratelimit-Remaining": "10", "Retry-After": "5"})},
		{name: "404", err: errResp(404, nil)},
		{name: "500", err: errResp(500, map[string]string{"Retry-After": "5"})},
		{name: "timeout", err: timeoutError{}},
		{name: "plain", err: errors.New("boom")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := recovery.RetryAfter(tc.err, now)
			require.Equal(t, tc.wantOK, ok)
			require.Equal(t, tc.want, got)
		})
	}
}

// requireSnooze asserts err is a River snooze of about want; a reset named relative to a clock
// read at since may be nearer by the time that has passed.
func requireSnooze(t *testing.T, err error, want time.Duration, since ...time.Time) {
	t.Helper()
	var snooze *river.JobSnoozeError
	require.ErrorAs(t, err, &snooze)
	lower := want - 2*time.Second
	if len(since) > 0 {
		lower -= time.Since(since[0])
	}
	require.True(t, snooze.Duration >= lower && snooze.Duration <= want+2*time.Second, "snooze %s, want about %s", snooze.Duration, want)
	var cancel *river.JobCancelError
	require.False(t, errors.As(err, &cancel))
}

// requireCancel asserts err cancels the job and still carries the original error.
func requireCancel(t *testing.T, err, original error) {
	t.Helper()
	var cancel *river.JobCancelError
	require.ErrorAs(t, err, &cancel)
	require.ErrorIs(t, err, original)
	require.ErrorIs(t, cancel.Unwrap(), original)
	var snooze *river.JobSnoozeError
	require.False(t, errors.As(err, &snooze))
}

// requireRetry asserts err is returned unchanged, for River to retry with backoff.
func requireRetry(t *testing.T, err, original error) {
	t.Helper()
	require.Equal(t, original, err)
	var cancel *river.JobCancelError
	require.False(t, errors.As(err, &cancel))
	var snooze *river.JobSnoozeError
	require.False(t, errors.As(err, &snooze))
}

func TestDecide(t *testing.T) {
	t.Parallel()
	const (
		snooze = "snooze"
		cancel = "cancel"
		retry  = "retry"
	)
	in := func(d time.Duration) string { return strconv.FormatInt(time.Now().Add(d).Unix(), 10) }
	built := time.Now()
	for _, tc := range []struct {
		name       string
		err        error
		want       string
		wantSnooze time.Duration
	}{
		{name: "rate limit snoozes until the reset", err: rateLimit(time.Now().Add(15 * time.Minute)), want: snooze, wantSnooze: 15*time.Minute + time.Second},
		{name: "wrapped rate limit", err: fmt.Errorf("failed to list runs: %w", rateLimit(time.Now().Add(time.Minute))), want: snooze, wantSnooze: time.Minute + time.Second},
		{name: "rate limit already reset", err: rateLimit(time.Now().Add(-time.Hour)), want: snooze, wantSnooze: 2 * time.Second},
		{name: "abuse with retry-after", err: abuse(dur(45 * time.Second)), want: snooze, wantSnooze: 45 * time.Second},
		{name: "wrapped abuse without retry-after", err: fmt.Errorf("failed to rerun: %w", abuse(nil)), want: snooze, wantSnooze: time.Minute},
		{name: "429 retry-after", err: errResp(429, map[string]string{"Retry-After": "30"}), want: snooze, wantSnooze: 30 * time.Second},
		{name: "403 exhausted quota", err: errResp(403, map[string]string{"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": in(10 * time.Minute)}), want: snooze, wantSnooze: 10*time.Minute + time.Second},
		{name: "403 forbidden retries", err: errResp(403, nil), want: retry},
		{name: "401 retries", err: errResp(401, nil), want: retry},
		{name: "404 cancels", err: errResp(404, nil), want: cancel},
		{name: "wrapped 404 cancels", err: fmt.Errorf("failed to get repository: %w", errResp(404, nil)), want: cancel},
		{name: "410 cancels", err: errResp(410, nil), want: cancel},
		{name: "422 cancels", err: errResp(422, nil), want: cancel},
		{name: "500 retries", err: errResp(500, nil), want: retry},
		{name: "502 retries", err: fmt.Errorf("failed: %w", errResp(502, nil)), want: retry},
		{name: "503 retries", err: errResp(503, nil), want: retry},
		{name: "net timeout retries", err: timeoutError{}, want: retry},
		{name: "connection refused retries", err: connRefused(), want: retry},
		{name: "deadline retries", err: fmt.Errorf("failed to download: %w", context.DeadlineExceeded), want: retry},
		{name: "unknown retries", err: errors.New("boom"), want: retry},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := recovery.Decide(tc.err)
			require.Error(t, got)
			switch tc.want {
			case snooze:
				requireSnooze(t, got, tc.wantSnooze, built)
			case cancel:
				requireCancel(t, got, tc.err)
			default:
				requireRetry(t, got, tc.err)
			}
		})
	}
}

func TestDecideNil(t *testing.T) {
	t.Parallel()
	require.NoError(t, recovery.Decide(nil))
}

// TestDecideRealResponses runs the errors go-github itself builds from a fake GitHub's replies.
func TestDecideRealResponses(t *testing.T) {
	t.Parallel()
	built := time.Now()
	for _, tc := range []struct {
		name       string
		code       int
		header     map[string]string
		body       string
		wantClass  recovery.Class
		wantType   any
		wantSnooze time.Duration // 0: not a snooze
		wantCancel bool
	}{
		{name: "primary rate limit", code: 403, header: map[string]string{
			"X-Ratelimit-Limit": "5000", "X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": strconv.FormatInt(time.Now().Add(10*time.Minute).Unix(), 10),
		}, body: `{"message":"API rate limit exceeded"}`, wantClass: recovery.RateLimit, wantType: &github.RateLimitError{}, wantSnooze: 10*time.Minute + time.Second},
		{name: "secondary rate limit", code: 403, header: map[string]string{"Retry-After": "60"},
			body:      `{"message":"You have exceeded a secondary rate limit","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`,
			wantClass: recovery.RateLimit, wantType: &github.AbuseRateLimitError{}, wantSnooze: time.Minute},
		{name: "429", code: 429, header: map[string]string{"Retry-After": "20"}, body: `{"message":"slow down"}`,
			wantClass: recovery.RateLimit, wantType: &github.ErrorResponse{}, wantSnooze: 20 * time.Second},
		{name: "not found", code: 404, body: `{"message":"Not Found"}`, wantClass: recovery.NotFound, wantType: &github.ErrorResponse{}, wantCancel: true},
		{name: "unprocessable", code: 422, body: `{"message":"Validation Failed"}`, wantClass: recovery.Invalid, wantType: &github.ErrorResponse{}, wantCancel: true},
		{name: "bad credentials", code: 401, body: `{"message":"Bad credentials"}`, wantClass: recovery.AuthError, wantType: &github.ErrorResponse{}},
		{name: "forbidden", code: 403, body: `{"message":"Resource not accessible by integration"}`, wantClass: recovery.AuthError, wantType: &github.ErrorResponse{}},
		{name: "server error", code: 500, body: `{"message":"boom"}`, wantClass: recovery.IntegrationFailure, wantType: &github.ErrorResponse{}},
		{name: "bad gateway, not JSON", code: 502, body: `<html>bad gateway</html>`, wantClass: recovery.IntegrationFailure, wantType: &github.ErrorResponse{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := ghapptest.New(t)
			srv.Fail(ghapptest.Fault{Method: http.MethodGet, Path: "/repos/octo/app", Status: tc.code, Headers: tc.header, Body: tc.body})
			_, _, ghErr := srv.Client(ghapptest.ClientOptions{}).Repositories.Get(context.Background(), "octo", "app")
			require.Error(t, ghErr)
			require.IsType(t, tc.wantType, ghErr)
			err := fmt.Errorf("failed to get repository: %w", ghErr)

			require.Equal(t, tc.wantClass, recovery.Classify(err))
			decided := recovery.Decide(err)
			switch {
			case tc.wantSnooze > 0:
				requireSnooze(t, decided, tc.wantSnooze, built)
			case tc.wantCancel:
				requireCancel(t, decided, err)
			default:
				requireRetry(t, decided, err)
			}
		})
	}
}

// TestDecideConnectionRefused dials a loopback port nobody listens on.
func TestDecideConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	client, err := github.NewClient(nil).WithEnterpriseURLs("http://"+addr+"/", "http://"+addr+"/")
	require.NoError(t, err)
	_, _, ghErr := client.Repositories.Get(context.Background(), "octo", "app")
	require.Error(t, ghErr)
	err = fmt.Errorf("failed to get repository: %w", ghErr)
	require.Equal(t, recovery.NetworkError, recovery.Classify(err))
	requireRetry(t, recovery.Decide(err), err)
}

// TestDecideClientTimeout lets go-github's request hit a context deadline.
func TestDecideClientTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	client, err := github.NewClient(nil).WithEnterpriseURLs(srv.URL+"/", srv.URL+"/")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, _, ghErr := client.Repositories.Get(ctx, "octo", "app")
	require.Error(t, ghErr)
	require.Equal(t, recovery.Timeout, recovery.Classify(ghErr))
	requireRetry(t, recovery.Decide(ghErr), ghErr)
}

// TestDecideSnoozesUnsettledAndBusy: an earlier create that may still land and a lease another
// execution holds are waited for, not retried at once nor spent as attempts.
func TestDecideSnoozesUnsettledAndBusy(t *testing.T) {
	t.Parallel()
	for _, err := range []error{
		fmt.Errorf("failed to create the comment: %w", &store.UnsettledError{Key: "comment", Wait: 3 * time.Second}),
		fmt.Errorf("failed to lock the report: %w", &store.BusyError{Wait: 3 * time.Second}),
	} {
		var snooze *river.JobSnoozeError
		require.ErrorAs(t, recovery.Decide(err), &snooze, err)
		require.Equal(t, 3*time.Second, snooze.Duration)
	}
}
