package codegen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/contexten/autonomous/workflows/failureanalysis/redact"
)

// ErrInvalidInput is returned, before any request, for a missing
// organization, token, prompt, run id or repository name.
var ErrInvalidInput = errors.New("invalid Codegen input")

// ErrRepoNotFound is returned by [Client.RepoID] when the organization has
// no repository of that name.
var ErrRepoNotFound = errors.New("repository not found in the Codegen organization")

// DefaultRetryAfter is the wait assumed on a 429 without a usable
// Retry-After: Codegen allows about 10 run creations a minute.
const DefaultRetryAfter = 6 * time.Second

// maxDetail bounds the part of an error answer kept.
const maxDetail = 500

// APIError is a non-2xx answer from the Codegen API.
type APIError struct {
	// Method and Path name the call (the path has no query and no token).
	Method, Path string
	StatusCode   int
	// Detail is the answer's "detail" (a string, or a FastAPI validation
	// list joined), else the start of its body; redacted and cut short.
	Detail string
	// RetryAfter is the wait asked for: Retry-After on any answer, and at
	// least DefaultRetryAfter on a 429.
	RetryAfter time.Duration
}

// Error describes the answer.
func (e *APIError) Error() string {
	msg := fmt.Sprintf("codegen answered HTTP %d to %s %s", e.StatusCode, e.Method, e.Path)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return msg
}

func statusOf(err error) int {
	var aerr *APIError
	if errors.As(err, &aerr) {
		return aerr.StatusCode
	}
	return 0
}

// IsPlanLimit reports a 402: the organization's plan allows no more agent
// runs for now. Callers pause agent runs for a while and notify once.
func IsPlanLimit(err error) bool { return statusOf(err) == http.StatusPaymentRequired }

// IsRateLimited reports a 429 (also when the client-side [Limiter] refused
// to wait). Wait [RetryAfterOf] before retrying.
func IsRateLimited(err error) bool {
	var lerr *LimitedError
	return statusOf(err) == http.StatusTooManyRequests || errors.As(err, &lerr)
}

// IsAuth reports a 401 or 403: the token is missing, invalid or lacks
// access. Retrying cannot help; for the recovery manager an auth_error.
func IsAuth(err error) bool {
	s := statusOf(err)
	return s == http.StatusUnauthorized || s == http.StatusForbidden
}

// IsPermanent reports an answer that retrying the same call cannot change:
// 422 (validation, see Detail) and any other 4xx except 401/403 (auth),
// 402 (plan limit), 408 (timeout) and 429 (rate limit), which have their own
// handling.
func IsPermanent(err error) bool {
	switch s := statusOf(err); s {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusPaymentRequired,
		http.StatusRequestTimeout, http.StatusTooManyRequests:
		return false
	default:
		return s >= 400 && s < 500
	}
}

// IsRetryable reports whether the same call may succeed later: a 5xx, 408 or
// 429 answer, or a [*TransportError] (no answer; the caller's context ending
// is not one). A timed-out create may still have created the run.
func IsRetryable(err error) bool {
	if IsRateLimited(err) {
		return true
	}
	if s := statusOf(err); s != 0 {
		return s >= 500 || s == http.StatusRequestTimeout || s == http.StatusTooManyRequests
	}
	var terr *TransportError
	return errors.As(err, &terr)
}

// RetryAfterOf is the wait an [*APIError] or [*LimitedError] in err asks
// for, else zero.
func RetryAfterOf(err error) time.Duration {
	var aerr *APIError
	if errors.As(err, &aerr) {
		return aerr.RetryAfter
	}
	var lerr *LimitedError
	if errors.As(err, &lerr) {
		return lerr.Wait
	}
	return 0
}

// TransportError is a call that got no answer (connection refused, reset,
// timeout). Err is the underlying error, which carries no token.
type TransportError struct {
	Method, Path string
	Err          error
}

// Error describes the failure.
func (e *TransportError) Error() string {
	return fmt.Sprintf("failed to call Codegen %s %s: %v", e.Method, e.Path, e.Err)
}

// Unwrap returns the underlying error.
func (e *TransportError) Unwrap() error { return e.Err }

// newAPIError builds the error for a non-2xx answer.
func newAPIError(method, path string, status int, h http.Header, body []byte, token string, now time.Time) *APIError {
	e := &APIError{Method: method, Path: path, StatusCode: status, Detail: detailOf(body, token)}
	e.RetryAfter = parseRetryAfter(h.Get("Retry-After"), now)
	if status == http.StatusTooManyRequests && e.RetryAfter <= 0 {
		e.RetryAfter = DefaultRetryAfter
	}
	return e
}

// detailOf reads FastAPI's {"detail": "..."} or {"detail": [{"loc": [...],
// "msg": "..."}]}, else keeps the start of the body.
func detailOf(body []byte, token string) string {
	var parsed struct {
		Detail json.RawMessage `json:"detail"`
	}
	text := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &parsed) == nil && len(parsed.Detail) > 0 {
		var s string
		var items []struct {
			Loc []any  `json:"loc"`
			Msg string `json:"msg"`
		}
		switch {
		case json.Unmarshal(parsed.Detail, &s) == nil:
			text = s
		case json.Unmarshal(parsed.Detail, &items) == nil:
			parts := make([]string, 0, len(items))
			for _, it := range items {
				loc := make([]string, 0, len(it.Loc))
				for _, l := range it.Loc {
					loc = append(loc, fmt.Sprint(l))
				}
				if len(loc) > 0 {
					parts = append(parts, strings.Join(loc, ".")+": "+it.Msg)
				} else {
					parts = append(parts, it.Msg)
				}
			}
			text = strings.Join(parts, "; ")
		default:
			text = string(parsed.Detail)
		}
	}
	text = strings.ToValidUTF8(strings.Join(strings.Fields(text), " "), "\uFFFD")
	if token != "" {
		text = strings.ReplaceAll(text, token, redact.Mask)
	}
	text = redact.String(text)
	if len(text) > maxDetail {
		cut := maxDetail
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut] + "…"
	}
	return text
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date; zero if
// absent or unusable. Waits are capped at an hour.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 && secs < 1e6 {
		d = time.Duration(secs * float64(time.Second))
	} else if at, err := http.ParseTime(v); err == nil && at.After(now) {
		d = at.Sub(now)
	}
	return min(d, time.Hour)
}

// PlanLimitWait is the wait the recovery manager gives a 402 (the plan allows no more agent
// runs for now) without a Retry-After.
const PlanLimitWait = time.Hour

// RecoveryClass names the recovery manager's class of the answer (package recovery reads it
// through an interface, so this package does not import it): 401/403 auth_error; 429 and 402
// (the plan's run quota) rate_limit; 408 timeout; 404 not_found; 5xx integration_failure;
// other 4xx invalid.
func (e *APIError) RecoveryClass() string {
	switch code := e.StatusCode; {
	case code == http.StatusUnauthorized, code == http.StatusForbidden:
		return "auth_error"
	case code == http.StatusTooManyRequests, code == http.StatusPaymentRequired:
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

// RecoveryWait is how long a rate-limited call must wait: RetryAfter, and at least
// PlanLimitWait on a 402.
func (e *APIError) RecoveryWait() time.Duration {
	if e.StatusCode == http.StatusPaymentRequired {
		return max(e.RetryAfter, PlanLimitWait)
	}
	return e.RetryAfter
}

// RecoveryClass is rate_limit: the client-side pacing refused to wait past the deadline.
func (e *LimitedError) RecoveryClass() string { return "rate_limit" }

// RecoveryWait is the wait until the next run-creation slot.
func (e *LimitedError) RecoveryWait() time.Duration { return e.Wait }

// RecoveryClass names the recovery manager's class of a call without an answer: a timeout when
// a deadline passed, else a network_error.
func (e *TransportError) RecoveryClass() string {
	var t interface{ Timeout() bool }
	if errors.Is(e.Err, context.DeadlineExceeded) || (errors.As(e.Err, &t) && t.Timeout()) {
		return "timeout"
	}
	return "network_error"
}
