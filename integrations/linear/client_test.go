package linear_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/integrations/linear"
)

const apiKey = "lin_api_s3cr3tPersonalKey"

func newClient(t *testing.T, f *fakeLinear, key string) *linear.Client {
	t.Helper()
	c, err := linear.New(key, linear.WithURL(f.URL))
	require.NoError(t, err)
	return c
}

func TestAuthorizationHeader(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, key, want string }{
		{name: "personal key without Bearer", key: apiKey, want: apiKey},
		{name: "personal key trimmed", key: "  " + apiKey + "\n", want: apiKey},
		{name: "oauth token with Bearer", key: "lin_oauth_t0ken", want: "Bearer lin_oauth_t0ken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeLinear(t)
			v, err := newClient(t, f, tt.key).Viewer(context.Background())
			require.NoError(t, err)
			require.Equal(t, linear.Viewer{ID: "user-1", Name: "CI Bot"}, v)
			c := f.lastCall(t)
			require.Equal(t, "Viewer", c.Op)
			require.Equal(t, tt.want, c.Authorization)
		})
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	_, err := linear.New("  ")
	require.ErrorIs(t, err, linear.ErrInvalidInput)
	_, err = linear.New(apiKey, linear.WithURL("api.linear.app/graphql"))
	require.ErrorIs(t, err, linear.ErrInvalidInput)
	c, err := linear.New(apiKey, linear.WithURL(""))
	require.NoError(t, err)
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		s := fmt.Sprintf(format, c)
		require.NotContains(t, s, "s3cr3t", format)
		require.Contains(t, s, linear.DefaultURL)
	}
}

func TestErrorsAreTyped(t *testing.T) {
	t.Parallel()
	reset := time.Now().Add(40 * time.Second).UnixMilli()
	tests := []struct {
		name                 string
		status               int
		body                 string
		headers              map[string]string
		auth, limited, retry bool
		graphql              bool
		code                 string
		wantStatus           int
		minRetry, maxRetry   time.Duration
	}{
		{name: "authentication error in errors[]", status: 400, body: `{"errors":[{"message":"Authentication required, not authenticated","extensions":{"code":"AUTHENTICATION_ERROR","type":"authentication error","userPresentableMessage":"You need to authenticate"}}]}`, auth: true, graphql: true, code: "AUTHENTICATION_ERROR", wantStatus: 400},
		{name: "forbidden in errors[] with 200", status: 200, body: `{"data":null,"errors":[{"message":"Forbidden","extensions":{"type":"forbidden"}}]}`, auth: true, graphql: true, code: "forbidden", wantStatus: 200},
		{name: "rate limited in errors[]", status: 400, body: `{"errors":[{"message":"Rate limit exceeded","extensions":{"code":"RATELIMITED","type":"ratelimited"}}]}`, headers: map[string]string{"X-RateLimit-Requests-Reset": strconv.FormatInt(reset, 10), "X-RateLimit-Requests-Remaining": "0"}, limited: true, retry: true, graphql: true, code: "RATELIMITED", wantStatus: 400, minRetry: 30 * time.Second, maxRetry: 40 * time.Second},
		{name: "invalid input", status: 400, body: `{"errors":[{"message":"Argument Validation Error","path":["issueCreate"],"extensions":{"code":"INVALID_INPUT"}}]}`, graphql: true, code: "INVALID_INPUT", wantStatus: 400},
		{name: "internal server error in errors[]", status: 500, body: `{"errors":[{"message":"boom","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`, retry: true, graphql: true, code: "INTERNAL_SERVER_ERROR", wantStatus: 500},
		{name: "http 401 without body", status: 401, auth: true, wantStatus: 401},
		{name: "http 403 html", status: 403, body: "<html>forbidden</html>", auth: true, wantStatus: 403},
		{name: "http 429 retry-after", status: 429, body: "slow down", headers: map[string]string{"Retry-After": "12"}, limited: true, retry: true, wantStatus: 429, minRetry: 12 * time.Second, maxRetry: 12 * time.Second},
		{name: "http 502 html", status: 502, body: "<html>bad gateway</html>", retry: true, wantStatus: 502},
		{name: "http 503 retry-after", status: 503, headers: map[string]string{"Retry-After": "3"}, retry: true, wantStatus: 503, minRetry: 3 * time.Second, maxRetry: 3 * time.Second},
		{name: "http 400 non-json", status: 400, body: "bad request", wantStatus: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeLinear(t)
			f.fail = func(w http.ResponseWriter, _ string) bool {
				for k, v := range tt.headers {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
				return true
			}

			_, err := newClient(t, f, apiKey).Viewer(context.Background())

			require.Error(t, err)
			require.Equal(t, tt.auth, linear.IsAuth(err), "IsAuth")
			require.Equal(t, tt.limited, linear.IsRateLimited(err), "IsRateLimited")
			require.Equal(t, tt.retry, linear.IsRetryable(err), "IsRetryable")
			require.NotContains(t, err.Error(), "s3cr3t")
			var retryAfter time.Duration
			if tt.graphql {
				var gerr *linear.GraphQLError
				require.ErrorAs(t, err, &gerr)
				require.Equal(t, tt.wantStatus, gerr.StatusCode)
				require.True(t, gerr.HasCode(tt.code))
				require.Contains(t, err.Error(), tt.code)
				retryAfter = gerr.RetryAfter
			} else {
				var herr *linear.HTTPError
				require.ErrorAs(t, err, &herr)
				require.Equal(t, tt.wantStatus, herr.StatusCode)
				require.Equal(t, tt.body, herr.Body)
				retryAfter = herr.RetryAfter
			}
			require.GreaterOrEqual(t, retryAfter, tt.minRetry)
			require.LessOrEqual(t, retryAfter, tt.maxRetry)
		})
	}
}

func TestBodyEchoingTheKeyIsRedacted(t *testing.T) {
	t.Parallel()
	f := newFakeLinear(t)
	f.fail = func(w http.ResponseWriter, _ string) bool {
		http.Error(w, "bad key "+apiKey, http.StatusUnauthorized)
		return true
	}
	_, err := newClient(t, f, apiKey).Viewer(context.Background())
	var herr *linear.HTTPError
	require.ErrorAs(t, err, &herr)
	require.Equal(t, "bad key [redacted]", herr.Body)
}

func TestMalformedAnswersAreErrors(t *testing.T) {
	t.Parallel()
	for _, body := range []string{"not json", `{"data":null}`, `{}`, `{"data":{"viewer":"wrong type"}}`} {
		t.Run(body, func(t *testing.T) {
			t.Parallel()
			f := newFakeLinear(t)
			f.fail = func(w http.ResponseWriter, _ string) bool { _, _ = io.WriteString(w, body); return true }
			_, err := newClient(t, f, apiKey).Viewer(context.Background())
			require.Error(t, err)
			require.False(t, linear.IsRetryable(err))
			require.False(t, linear.IsAuth(err))
		})
	}
}

func TestTransportErrors(t *testing.T) {
	t.Parallel()
	t.Run("connection refused is retryable", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		c, err := linear.New(apiKey, linear.WithURL(srv.URL))
		require.NoError(t, err)
		_, err = c.Viewer(context.Background())
		require.Error(t, err)
		require.True(t, linear.IsRetryable(err))
		require.NotContains(t, err.Error(), "s3cr3t")
	})
	t.Run("timeout is retryable, cancel is not", func(t *testing.T) {
		t.Parallel()
		f := newFakeLinear(t)
		blocked := make(chan struct{})
		t.Cleanup(func() { close(blocked) })
		f.fail = func(http.ResponseWriter, string) bool { <-blocked; return true }
		c := newClient(t, f, apiKey)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := c.Viewer(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.True(t, linear.IsRetryable(err))

		ctx2, cancel2 := context.WithCancel(context.Background())
		cancel2()
		_, err = c.Viewer(ctx2)
		require.ErrorIs(t, err, context.Canceled)
		require.False(t, linear.IsRetryable(err))
	})
	require.False(t, linear.IsRetryable(nil))
	require.False(t, linear.IsRetryable(errors.New("other")))
}
