package slack_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	goslack "github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/integrations/slack"
)

func simpleMessage() *goslack.WebhookMessage {
	return slack.Alert{Fingerprint: "fp-1", Severity: slack.SeverityHigh, Title: "Queue stuck", Text: "oldest job 2h"}.Message()
}

func TestSendAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		answer     http.HandlerFunc
		wantStatus int // 0: success
		wantBody   string
		retryAfter time.Duration
		permanent  bool
	}{
		{name: "200 ok", answer: answer(http.StatusOK, "ok")},
		{name: "500", answer: answer(http.StatusInternalServerError, "internal_error\n"), wantStatus: 500, wantBody: "internal_error"},
		{name: "503 retry-after", answer: answer(http.StatusServiceUnavailable, "", "Retry-After", "5"), wantStatus: 503, retryAfter: 5 * time.Second},
		{name: "429 retry-after seconds", answer: answer(http.StatusTooManyRequests, "rate_limited", "Retry-After", "30"), wantStatus: 429, wantBody: "rate_limited", retryAfter: 30 * time.Second},
		{name: "400 invalid_payload", answer: answer(http.StatusBadRequest, "invalid_payload"), wantStatus: 400, wantBody: "invalid_payload", permanent: true},
		{name: "403 invalid_token", answer: answer(http.StatusForbidden, "invalid_token"), wantStatus: 403, wantBody: "invalid_token", permanent: true},
		{name: "404 no_service", answer: answer(http.StatusNotFound, "no_service"), wantStatus: 404, wantBody: "no_service", permanent: true},
		{name: "404 channel_not_found", answer: answer(http.StatusNotFound, "channel_not_found"), wantStatus: 404, wantBody: "channel_not_found", permanent: true},
		{name: "410 channel_is_archived", answer: answer(http.StatusGone, "channel_is_archived"), wantStatus: 410, wantBody: "channel_is_archived", permanent: true},
		{name: "302 not followed", answer: answer(http.StatusFound, "", "Location", "http://127.0.0.1:1/elsewhere"), wantStatus: 302, permanent: true},
		{name: "body echoing the URL is redacted", answer: answer(http.StatusBadRequest, "bad request to "+secretPath), wantStatus: 400, wantBody: "bad request to /[redacted]", permanent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := newFakeWebhook(t, tt.answer)
			client, err := slack.New(fake.url())
			require.NoError(t, err)

			err = client.Send(context.Background(), simpleMessage())

			reqs := fake.got(t)
			require.Len(t, reqs, 1, "one POST, no retry and no redirect followed")
			require.Equal(t, http.MethodPost, reqs[0].Method)
			require.Equal(t, secretPath, reqs[0].Path)
			require.True(t, strings.HasPrefix(reqs[0].ContentType, "application/json"))
			last, ok := client.LastSend()
			require.True(t, ok)
			require.Equal(t, err, last.Err)
			if tt.wantStatus == 0 {
				require.NoError(t, err)
				require.False(t, slack.IsRetryable(err))
				return
			}
			var herr *slack.HTTPError
			require.ErrorAs(t, err, &herr)
			require.Equal(t, tt.wantStatus, herr.StatusCode)
			require.Equal(t, tt.wantBody, herr.Body)
			require.Equal(t, tt.retryAfter, herr.RetryAfter)
			require.Equal(t, tt.permanent, herr.Permanent())
			require.Equal(t, tt.permanent, slack.IsPermanent(err))
			require.Equal(t, !tt.permanent, slack.IsRetryable(err))
			requireNoSecret(t, err, fake.url())
		})
	}
}

func TestRetryAfterHTTPDate(t *testing.T) {
	t.Parallel()
	at := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	fake := newFakeWebhook(t, answer(http.StatusTooManyRequests, "rate_limited", "Retry-After", at))
	client, err := slack.New(fake.url())
	require.NoError(t, err)
	var herr *slack.HTTPError
	require.ErrorAs(t, client.Send(context.Background(), simpleMessage()), &herr)
	require.Greater(t, herr.RetryAfter, 60*time.Second)
	require.LessOrEqual(t, herr.RetryAfter, 90*time.Second)
}

func TestSendTransportErrorsHideTheURL(t *testing.T) {
	t.Parallel()
	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.NotFoundHandler())
		webhook := srv.URL + secretPath
		srv.Close()
		client, err := slack.New(webhook)
		require.NoError(t, err)

		err = client.Send(context.Background(), simpleMessage())

		var terr *slack.TransportError
		require.ErrorAs(t, err, &terr)
		require.ErrorIs(t, err, syscall.ECONNREFUSED)
		require.True(t, slack.IsRetryable(err))
		require.False(t, slack.IsPermanent(err))
		requireNoSecret(t, err, webhook)
		last, ok := client.LastSend()
		require.True(t, ok)
		requireNoSecret(t, last.Err, webhook)
	})
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		fake := newFakeWebhook(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
		client, err := slack.New(fake.url())
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()

		err = client.Send(ctx, simpleMessage())

		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.True(t, slack.IsRetryable(err))
		requireNoSecret(t, err, fake.url())
	})
}

func TestNewRejectsBadURLWithoutEchoingIt(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"", "hooks.slack.com" + secretPath, "ftp://hooks.slack.com" + secretPath, "http://[::1" + secretPath, "/services/x"} {
		t.Run(raw, func(t *testing.T) {
			t.Parallel()
			client, err := slack.New(raw)
			require.Nil(t, client)
			require.ErrorIs(t, err, slack.ErrInvalidWebhookURL)
			require.True(t, slack.IsPermanent(err))
			require.NotContains(t, err.Error(), "s3cr3t")
		})
	}
}

func TestClientNeverPrintsTheURL(t *testing.T) {
	t.Parallel()
	client, err := slack.New("https://hooks.slack.test" + secretPath)
	require.NoError(t, err)
	for _, format := range []string{"%v", "%+v", "%s", "%#v"} {
		require.NotContains(t, fmt.Sprintf(format, client), "s3cr3t", format)
	}
}

func TestSendRefusesEmptyMessage(t *testing.T) {
	t.Parallel()
	fake := newFakeWebhook(t, answer(http.StatusOK, "ok"))
	client, err := slack.New(fake.url())
	require.NoError(t, err)
	var nilSection *goslack.SectionBlock
	onlyNil := &goslack.Blocks{BlockSet: []goslack.Block{nil, nilSection}}
	for _, msg := range []*goslack.WebhookMessage{nil, {}, {Text: "  ", Blocks: &goslack.Blocks{}}, {Blocks: onlyNil}} {
		err := client.Send(context.Background(), msg)
		require.ErrorIs(t, err, slack.ErrEmptyMessage)
		require.True(t, slack.IsPermanent(err))
	}
	require.Empty(t, fake.got(t), "nothing posted")
}

func TestLastSendBeforeAnySend(t *testing.T) {
	t.Parallel()
	client, err := slack.New("https://hooks.slack.test" + secretPath)
	require.NoError(t, err)
	_, ok := client.LastSend()
	require.False(t, ok)
}

// requireNoSecret asserts the webhook URL and its secret path appear nowhere
// in err's chain of messages.
func requireNoSecret(t *testing.T, err error, webhook string) {
	t.Helper()
	require.Error(t, err)
	for e := err; e != nil; e = errors.Unwrap(e) {
		require.NotContains(t, e.Error(), webhook)
		require.NotContains(t, e.Error(), "s3cr3t")
	}
}

func TestSendDropsNilBlocks(t *testing.T) {
	t.Parallel()
	fake := newFakeWebhook(t, answer(http.StatusOK, "ok"))
	client, err := slack.New(fake.url())
	require.NoError(t, err)
	var nilSection *goslack.SectionBlock
	var nilHeader *goslack.HeaderBlock
	var nilContext *goslack.ContextBlock
	msg := &goslack.WebhookMessage{Text: "t", Blocks: &goslack.Blocks{BlockSet: []goslack.Block{nil, nilSection, nilHeader, nilContext, goslack.NewDividerBlock()}}}

	require.NoError(t, client.Send(context.Background(), msg))

	require.JSONEq(t, `{"text":"t","blocks":[{"type":"divider"}],"replace_original":false,"delete_original":false}`, string(fake.got(t)[0].Body))
}
