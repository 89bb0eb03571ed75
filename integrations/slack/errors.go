package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ErrInvalidWebhookURL is returned by [New] for a URL that is not absolute
// http(s). It never includes the URL, which is a secret.
var ErrInvalidWebhookURL = errors.New("invalid Slack webhook URL: must be an absolute http(s) URL")

// ErrEmptyMessage is returned by [Client.Send] for a message with neither
// text nor blocks.
var ErrEmptyMessage = errors.New("empty Slack message: neither text nor blocks")

// HTTPError is a non-2xx answer of the webhook. Slack answers 400
// invalid_payload or invalid_blocks for a malformed message, 403
// invalid_token or 404 no_service / channel_not_found for a revoked webhook,
// 410 channel_is_archived, 429 with Retry-After when rate limited, and 5xx
// when it is failing (https://api.slack.com/messaging/webhooks#handling_errors).
type HTTPError struct {
	StatusCode int
	// Body is the answer's body, trimmed and cut to a few hundred bytes;
	// Slack puts its error code there (e.g. "invalid_payload").
	Body string
	// RetryAfter is the wait Slack asked for with Retry-After, or zero.
	RetryAfter time.Duration
}

// Error describes the answer; it never contains the webhook URL.
func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("slack webhook answered HTTP %d", e.StatusCode)
	if e.Body != "" {
		msg += ": " + e.Body
	}
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return msg
}

// Permanent reports whether sending the same message again cannot succeed:
// every 3xx and 4xx answer except 408 Request Timeout and 429 Too Many
// Requests. The webhook is gone, revoked or the message is invalid; a human
// must act.
func (e *HTTPError) Permanent() bool {
	if e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusRequestTimeout {
		return false
	}
	return e.StatusCode >= 300 && e.StatusCode < 500
}

// TransportError is a send that got no HTTP answer: DNS, connection,
// timeout or a cancelled context. Its text never contains the webhook URL;
// Unwrap gives the underlying error (without the *url.Error that held the
// URL), so errors.Is(err, context.DeadlineExceeded) works.
type TransportError struct {
	Err error
	msg string
}

// Error describes the failure without the webhook URL.
func (e *TransportError) Error() string { return "failed to post Slack webhook: " + e.msg }

// Unwrap returns the underlying network error.
func (e *TransportError) Unwrap() error { return e.Err }

// IsRetryable reports whether err, returned by [Client.Send], may go through
// if the same message is sent again later: a transport error, 408, 429 or a
// 5xx answer. Honour [HTTPError.RetryAfter] when it is set.
func IsRetryable(err error) bool {
	var herr *HTTPError
	if errors.As(err, &herr) {
		return !herr.Permanent()
	}
	var terr *TransportError
	return errors.As(err, &terr)
}

// IsPermanent reports whether err, returned by [Client.Send], will recur on
// every retry: an invalid message, or a 3xx/4xx answer other than 408/429.
func IsPermanent(err error) bool {
	var herr *HTTPError
	if errors.As(err, &herr) {
		return herr.Permanent()
	}
	return errors.Is(err, ErrEmptyMessage) || errors.Is(err, ErrInvalidWebhookURL)
}

// parseRetryAfter reads Retry-After as delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil && at.After(now) {
		return at.Sub(now)
	}
	return 0
}

// RecoveryClass names the recovery manager's class of the answer (package recovery reads it
// through an interface, so this package does not import it): 429 is a rate_limit; 401, 403 and
// a webhook that is gone (404, 410) are an auth_error, which only a person can fix; 408 is a
// timeout; another 3xx/4xx is an invalid message; 5xx is an integration_failure.
func (e *HTTPError) RecoveryClass() string {
	switch code := e.StatusCode; {
	case code == http.StatusTooManyRequests:
		return "rate_limit"
	case code == http.StatusUnauthorized, code == http.StatusForbidden, code == http.StatusNotFound, code == http.StatusGone:
		return "auth_error"
	case code == http.StatusRequestTimeout:
		return "timeout"
	case code >= 500:
		return "integration_failure"
	default:
		return "invalid"
	}
}

// RecoveryWait is how long a rate-limited send must wait: Retry-After, or zero if Slack named
// none.
func (e *HTTPError) RecoveryWait() time.Duration { return e.RetryAfter }

// RecoveryClass names the recovery manager's class of a send without an answer: a timeout when
// a deadline passed, else a network_error.
func (e *TransportError) RecoveryClass() string {
	if errors.Is(e.Err, context.DeadlineExceeded) || isTimeout(e.Err) {
		return "timeout"
	}
	return "network_error"
}

// isTimeout reports a net.Error-style timeout anywhere in err's chain.
func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
