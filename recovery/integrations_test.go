package recovery_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/riverqueue/river"
	goslack "github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/integrations/codegen"
	"github.com/contexten/autonomous/integrations/linear"
	"github.com/contexten/autonomous/integrations/osv"
	"github.com/contexten/autonomous/integrations/slack"
	"github.com/contexten/autonomous/recovery"
)

func authGraphQL() *linear.GraphQLError {
	e := &linear.GraphQLError{StatusCode: 200, Errors: []linear.GraphQLErrorItem{{Message: "Authentication required"}}}
	e.Errors[0].Extensions.Code = "AUTHENTICATION_ERROR"
	return e
}

func rateLimitedGraphQL() *linear.GraphQLError {
	e := &linear.GraphQLError{StatusCode: 400, RetryAfter: 42 * time.Second, Errors: []linear.GraphQLErrorItem{{Message: "Rate limit exceeded"}}}
	e.Errors[0].Extensions.Code = "RATELIMITED"
	return e
}

// TestClassifyIntegrations classifies the integrations' own error types through their
// RecoveryClass, never through their text.
func TestClassifyIntegrations(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		err      error
		want     recovery.Class
		wantWait time.Duration // > 0: a rate limit with this wait
	}{
		{name: "slack 429", err: &slack.HTTPError{StatusCode: 429, RetryAfter: 7 * time.Second}, want: recovery.RateLimit, wantWait: 7 * time.Second},
		{name: "slack 429 without retry-after", err: &slack.HTTPError{StatusCode: 429}, want: recovery.RateLimit, wantWait: time.Minute},
		{name: "slack 500", err: &slack.HTTPError{StatusCode: 500}, want: recovery.IntegrationFailure},
		{name: "slack revoked webhook", err: &slack.HTTPError{StatusCode: 403, Body: "invalid_token"}, want: recovery.AuthError},
		{name: "slack channel gone", err: &slack.HTTPError{StatusCode: 404, Body: "no_service"}, want: recovery.AuthError},
		{name: "slack invalid payload", err: &slack.HTTPError{StatusCode: 400, Body: "invalid_payload"}, want: recovery.Invalid},
		{name: "slack timeout", err: &slack.TransportError{Err: context.DeadlineExceeded}, want: recovery.Timeout},
		{name: "slack refused", err: &slack.TransportError{Err: &net.OpError{Op: "dial", Err: errors.New("refused")}}, want: recovery.NetworkError},
		{name: "linear auth", err: fmt.Errorf("failed to create issue: %w", authGraphQL()), want: recovery.AuthError},
		{name: "linear rate limit", err: rateLimitedGraphQL(), want: recovery.RateLimit, wantWait: 42 * time.Second},
		{name: "linear HTTP 401", err: &linear.HTTPError{StatusCode: 401}, want: recovery.AuthError},
		{name: "linear HTTP 502", err: &linear.HTTPError{StatusCode: 502}, want: recovery.IntegrationFailure},
		{name: "linear HTTP 429", err: &linear.HTTPError{StatusCode: 429, RetryAfter: 3 * time.Second}, want: recovery.RateLimit, wantWait: 3 * time.Second},
		{name: "codegen 401", err: &codegen.APIError{StatusCode: 401}, want: recovery.AuthError},
		{name: "codegen 402 plan limit", err: &codegen.APIError{StatusCode: 402}, want: recovery.RateLimit, wantWait: codegen.PlanLimitWait},
		{name: "codegen 429", err: &codegen.APIError{StatusCode: 429, RetryAfter: 6 * time.Second}, want: recovery.RateLimit, wantWait: 6 * time.Second},
		{name: "codegen paced", err: fmt.Errorf("failed: %w", &codegen.LimitedError{Wait: 9 * time.Second}), want: recovery.RateLimit, wantWait: 9 * time.Second},
		{name: "codegen 422", err: &codegen.APIError{StatusCode: 422}, want: recovery.Invalid},
		{name: "codegen 404", err: &codegen.APIError{StatusCode: 404}, want: recovery.NotFound},
		{name: "codegen 503", err: &codegen.APIError{StatusCode: 503}, want: recovery.IntegrationFailure},
		{name: "codegen transport timeout", err: &codegen.TransportError{Err: context.DeadlineExceeded}, want: recovery.Timeout},
		{name: "codegen transport", err: &codegen.TransportError{Err: errors.New("connection reset")}, want: recovery.NetworkError},
		{name: "osv 429", err: &osv.HTTPError{StatusCode: 429, RetryAfter: 2 * time.Second}, want: recovery.RateLimit, wantWait: 2 * time.Second},
		{name: "osv 503", err: &osv.HTTPError{StatusCode: 503}, want: recovery.IntegrationFailure},
		{name: "osv 400", err: &osv.HTTPError{StatusCode: 400}, want: recovery.Invalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, recovery.Classify(tc.err))
			wait, ok := recovery.RetryAfter(tc.err, time.Now())
			require.Equal(t, tc.wantWait > 0, ok)
			require.Equal(t, tc.wantWait, wait)
			decided := recovery.Decide(tc.err)
			var snooze *river.JobSnoozeError
			if tc.wantWait > 0 {
				require.ErrorAs(t, decided, &snooze)
			} else {
				require.False(t, errors.As(decided, &snooze))
			}
		})
	}
}

// TestClassifySlackAnswers classifies the errors the Slack client builds from a fake Slack's
// answers on loopback.
func TestClassifySlackAnswers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		status   int
		header   map[string]string
		want     recovery.Class
		wantWait time.Duration
	}{
		{name: "rate limited", status: 429, header: map[string]string{"Retry-After": "5"}, want: recovery.RateLimit, wantWait: 5 * time.Second},
		{name: "failing", status: 503, want: recovery.IntegrationFailure},
		{name: "revoked", status: 403, want: recovery.AuthError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				http.Error(w, "nope", tc.status)
			}))
			t.Cleanup(srv.Close)
			client, err := slack.New(srv.URL + "/services/T/B/x")
			require.NoError(t, err)
			sendErr := client.Send(context.Background(), &goslack.WebhookMessage{Text: "hello"})
			require.Error(t, sendErr)
			err = fmt.Errorf("failed to send the alert: %w", sendErr)
			require.Equal(t, tc.want, recovery.Classify(err))
			wait, ok := recovery.RetryAfter(err, time.Now())
			require.Equal(t, tc.wantWait > 0, ok)
			require.Equal(t, tc.wantWait, wait)
		})
	}
}
