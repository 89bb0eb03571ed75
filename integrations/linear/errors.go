package linear

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrInvalidInput is returned, before any request, for a missing team,
// title, issue or fingerprint, or a fingerprint with whitespace.
var ErrInvalidInput = errors.New("invalid Linear input")

// ErrNoCompletedState is returned by [Client.CloseIssue] when the team has
// no workflow state of type "completed".
var ErrNoCompletedState = errors.New("team has no completed workflow state")

// ErrUnsuccessful is returned when a mutation answers success: false.
var ErrUnsuccessful = errors.New("linear mutation answered success: false")

// GraphQLErrorItem is one entry of a GraphQL answer's errors[].
type GraphQLErrorItem struct {
	Message    string `json:"message"`
	Path       []any  `json:"path,omitempty"`
	Extensions struct {
		// Code is e.g. AUTHENTICATION_ERROR, FORBIDDEN, RATELIMITED,
		// INVALID_INPUT.
		Code string `json:"code,omitempty"`
		// Type is Linear's lower-case variant, e.g. "authentication error",
		// "ratelimited".
		Type                   string `json:"type,omitempty"`
		UserPresentableMessage string `json:"userPresentableMessage,omitempty"`
	} `json:"extensions"`
}

// GraphQLError is an answer whose errors[] is not empty, whatever its HTTP
// status (Linear answers rate limiting with errors[] and code RATELIMITED).
type GraphQLError struct {
	StatusCode int
	Errors     []GraphQLErrorItem
	// RetryAfter is how long to wait before retrying a rate-limited call,
	// from Retry-After or Linear's X-RateLimit-*-Reset headers; zero if
	// unknown or not rate limited.
	RetryAfter time.Duration
}

// Error lists the messages and codes of the first few errors.
func (e *GraphQLError) Error() string {
	parts := make([]string, 0, 3)
	for i, item := range e.Errors {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(e.Errors)-i))
			break
		}
		msg := item.Message
		if code := item.Extensions.Code; code != "" {
			msg += " (" + code + ")"
		} else if typ := item.Extensions.Type; typ != "" {
			msg += " (" + typ + ")"
		}
		parts = append(parts, msg)
	}
	return fmt.Sprintf("linear answered GraphQL errors (HTTP %d): %s", e.StatusCode, strings.Join(parts, "; "))
}

// HasCode reports whether any error carries one of codes in its
// extensions.code or extensions.type, compared ignoring case, spaces,
// underscores and hyphens ("RATELIMITED" matches "ratelimited" and
// "RATE_LIMITED").
func (e *GraphQLError) HasCode(codes ...string) bool {
	for _, item := range e.Errors {
		for _, have := range []string{item.Extensions.Code, item.Extensions.Type} {
			for _, want := range codes {
				if have != "" && normCode(have) == normCode(want) {
					return true
				}
			}
		}
	}
	return false
}

func normCode(s string) string {
	return strings.NewReplacer(" ", "", "_", "", "-", "").Replace(strings.ToLower(s))
}

// HTTPError is a non-2xx answer without GraphQL errors.
type HTTPError struct {
	StatusCode int
	// Body is the answer's body, trimmed and cut to a few hundred bytes.
	Body string
	// RetryAfter is the wait asked for on 429 (or any Retry-After), or zero.
	RetryAfter time.Duration
}

// Error describes the answer.
func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("linear answered HTTP %d", e.StatusCode)
	if e.Body != "" {
		msg += ": " + e.Body
	}
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return msg
}

var (
	authCodes      = []string{"AUTHENTICATION_ERROR", "UNAUTHENTICATED", "FORBIDDEN", "AUTHORIZATION_ERROR"}
	rateLimitCodes = []string{"RATELIMITED"}
	serverCodes    = []string{"INTERNAL_SERVER_ERROR", "INTERNAL_ERROR", "INTERNAL"}
)

// IsAuth reports whether err means the credentials are missing, invalid or
// lack a permission: HTTP 401/403 or an AUTHENTICATION_ERROR / FORBIDDEN
// GraphQL error. Retrying cannot help; a human must fix the key.
func IsAuth(err error) bool {
	var gerr *GraphQLError
	if errors.As(err, &gerr) {
		return gerr.HasCode(authCodes...) || gerr.StatusCode == http.StatusUnauthorized || gerr.StatusCode == http.StatusForbidden
	}
	var herr *HTTPError
	return errors.As(err, &herr) && (herr.StatusCode == http.StatusUnauthorized || herr.StatusCode == http.StatusForbidden)
}

// IsRateLimited reports whether err is Linear's rate limit: HTTP 429 or a
// RATELIMITED GraphQL error. Wait RetryAfter (when set) before retrying.
func IsRateLimited(err error) bool {
	var gerr *GraphQLError
	if errors.As(err, &gerr) && gerr.HasCode(rateLimitCodes...) {
		return true
	}
	var herr *HTTPError
	return errors.As(err, &herr) && herr.StatusCode == http.StatusTooManyRequests
}

// IsRetryable reports whether the same call may succeed later: rate
// limiting, HTTP 408/5xx, an internal server GraphQL error, or a transport
// failure (no answer) other than the caller cancelling its context.
func IsRetryable(err error) bool {
	if err == nil || IsAuth(err) {
		return false
	}
	if IsRateLimited(err) {
		return true
	}
	var gerr *GraphQLError
	if errors.As(err, &gerr) {
		return gerr.StatusCode >= 500 || gerr.HasCode(serverCodes...)
	}
	var herr *HTTPError
	if errors.As(err, &herr) {
		return herr.StatusCode >= 500 || herr.StatusCode == http.StatusRequestTimeout
	}
	var uerr *url.Error
	return errors.As(err, &uerr) && !errors.Is(err, context.Canceled)
}

// retryAfter reads Retry-After (seconds or HTTP date) and, for a rate-limited
// answer, Linear's X-RateLimit-Requests-Reset / X-RateLimit-Complexity-Reset
// (UTC epoch milliseconds), keeping the longest wait.
func retryAfter(h http.Header, rateLimited bool, now time.Time) time.Duration {
	var wait time.Duration
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
			wait = time.Duration(secs) * time.Second
		} else if at, err := http.ParseTime(v); err == nil && at.After(now) {
			wait = at.Sub(now)
		}
	}
	if !rateLimited {
		return wait
	}
	for _, name := range []string{"X-RateLimit-Requests-Reset", "X-RateLimit-Complexity-Reset"} {
		ms, err := strconv.ParseInt(strings.TrimSpace(h.Get(name)), 10, 64)
		if err != nil || ms <= 0 {
			continue
		}
		if d := time.UnixMilli(ms).Sub(now); d > wait {
			wait = d
		}
	}
	return wait
}

// RecoveryClass names the recovery manager's class of the answer (package recovery reads it
// through an interface, so this package does not import it): a bad or under-privileged key is
// an auth_error, rate limiting a rate_limit, 408 a timeout, 5xx or an internal GraphQL error an
// integration_failure, and other GraphQL or 4xx errors an invalid request.
func (e *GraphQLError) RecoveryClass() string {
	switch {
	case IsAuth(e):
		return "auth_error"
	case IsRateLimited(e):
		return "rate_limit"
	case e.StatusCode == http.StatusRequestTimeout:
		return "timeout"
	case e.StatusCode >= 500 || e.HasCode(serverCodes...):
		return "integration_failure"
	default:
		return "invalid"
	}
}

// RecoveryWait is how long a rate-limited call must wait (RetryAfter), zero if unknown.
func (e *GraphQLError) RecoveryWait() time.Duration { return e.RetryAfter }

// RecoveryClass names the recovery manager's class of the answer: 401/403 auth_error, 429
// rate_limit, 408 timeout, 404 not_found, 5xx integration_failure, other 4xx invalid.
func (e *HTTPError) RecoveryClass() string {
	switch code := e.StatusCode; {
	case code == http.StatusUnauthorized, code == http.StatusForbidden:
		return "auth_error"
	case code == http.StatusTooManyRequests:
		return "rate_limit"
	case code == http.StatusRequestTimeout:
		return "timeout"
	case code == http.StatusNotFound:
		return "not_found"
	case code >= 500:
		return "integration_failure"
	default:
		return "invalid"
	}
}

// RecoveryWait is how long a rate-limited call must wait (RetryAfter), zero if unknown.
func (e *HTTPError) RecoveryWait() time.Duration { return e.RetryAfter }
