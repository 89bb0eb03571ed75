// Package recovery is where workflow errors meet policy: it classifies errors into the seed's
// classes and turns them into River's retry decisions (retry with backoff, snooze until a rate
// limit resets, cancel what can never succeed).
package recovery

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/riverqueue/river"

	"github.com/contexten/autonomous/store"
)

// Class is an error class of the seed.
type Class string

// The error classes.
const (
	Timeout            Class = "timeout"
	ResourceExhaustion Class = "resource_exhaustion"
	IntegrationFailure Class = "integration_failure"
	RateLimit          Class = "rate_limit"
	AuthError          Class = "auth_error"
	NetworkError       Class = "network_error"
	NotFound           Class = "not_found"
	Invalid            Class = "invalid"
	Unknown            Class = "unknown"
)

// Classed is an error that names its own class: the error types of the integrations (Slack,
// Linear, Codegen, OSV) implement it, returning one of the Class values as a string, so those
// packages need not import this one.
type Classed interface {
	error
	RecoveryClass() string
}

// Waiter is a rate-limited error that knows how long to wait (zero: unknown).
type Waiter interface {
	RecoveryWait() time.Duration
}

// maxWait bounds every snooze until a rate limit resets.
const maxWait = 24 * time.Hour

// Classify returns the class of err, from the error itself: an error that names its class
// (Classed), go-github's rate-limit and response errors by status and headers, deadlines,
// system-call and network errors; only the database's own busy and connection-limit errors are
// recognised by their text, as the drivers give them no type.
func Classify(err error) Class {
	if err == nil {
		return ""
	}
	var classed Classed
	if errors.As(err, &classed) {
		if c := Class(classed.RecoveryClass()); c != "" {
			return c
		}
	}
	var rate *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	if errors.As(err, &rate) || errors.As(err, &abuse) {
		return RateLimit
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return Timeout
	}
	var resp *github.ErrorResponse
	if errors.As(err, &resp) && resp.Response != nil {
		switch code := resp.Response.StatusCode; {
		case code == http.StatusUnauthorized:
			return AuthError
		case code == http.StatusForbidden:
			if resp.Response.Header.Get("X-Ratelimit-Remaining") == "0" {
				return RateLimit
			}
			return AuthError
		case code == http.StatusNotFound || code == http.StatusGone:
			return NotFound
		case code == http.StatusUnprocessableEntity:
			return Invalid
		case code == http.StatusTooManyRequests:
			return RateLimit
		case code >= 500:
			return IntegrationFailure
		}
	}
	// Before net.Error: syscall.Errno implements net.Error, so a full disk would otherwise look
	// like a network error.
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.ENOMEM) {
		return ResourceExhaustion
	}
	var netErr net.Error
	if errors.As(err, &netErr) && !isLocalError(netErr) {
		if netErr.Timeout() {
			return Timeout
		}
		return NetworkError
	}
	if errors.Is(err, syscall.ETIMEDOUT) {
		return Timeout
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return NetworkError
	}
	msg := strings.ToLower(err.Error())
	switch {
	case strings.Contains(msg, "database is locked"), strings.Contains(msg, "too many connections"):
		return ResourceExhaustion
	case strings.Contains(msg, "connection refused"), strings.Contains(msg, "no such host"):
		return NetworkError
	}
	return Unknown
}

// isLocalError reports whether a net.Error match is really a bare system-call error:
// syscall.Errno implements net.Error too, whatever the call was.
func isLocalError(err net.Error) bool {
	_, ok := err.(syscall.Errno)
	return ok
}

// RetryAfter returns how long to wait before a rate-limited call may succeed, and whether err is
// a rate limit at all: go-github's rate-limit errors, and a 429 (or a 403 with an exhausted
// X-Ratelimit-Remaining) honouring Retry-After (seconds, capped at a day, or an HTTP date), then
// X-Ratelimit-Reset, then a minute; and an integration's rate-limit error (Classed, Waiter):
// its own wait, else a minute.
func RetryAfter(err error, now time.Time) (time.Duration, bool) {
	var rate *github.RateLimitError
	if errors.As(err, &rate) {
		return max(rate.Rate.Reset.Time.Sub(now), time.Second) + time.Second, true
	}
	var abuse *github.AbuseRateLimitError
	if errors.As(err, &abuse) {
		if abuse.RetryAfter != nil {
			return max(*abuse.RetryAfter, time.Second), true
		}
		return time.Minute, true
	}
	var resp *github.ErrorResponse
	if errors.As(err, &resp) && resp.Response != nil {
		code, header := resp.Response.StatusCode, resp.Response.Header
		exhausted := header.Get("X-Ratelimit-Remaining") == "0"
		if code != http.StatusTooManyRequests && (code != http.StatusForbidden || !exhausted) {
			return 0, false
		}
		// Retry-After is a number of seconds or an HTTP date (RFC 9110 §10.2.3).
		if v := strings.TrimSpace(header.Get("Retry-After")); v != "" {
			if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
				return max(time.Duration(min(secs, 24*3600))*time.Second, time.Second), true
			}
			if at, err := http.ParseTime(v); err == nil {
				return max(at.Sub(now), time.Second), true
			}
		}
		// A primary rate limit names its reset time in epoch seconds.
		if exhausted {
			if reset, err := strconv.ParseInt(header.Get("X-Ratelimit-Reset"), 10, 64); err == nil && reset > 0 {
				return max(time.Unix(reset, 0).Sub(now), time.Second) + time.Second, true
			}
		}
		return time.Minute, true
	}
	var classed Classed
	if errors.As(err, &classed) && Class(classed.RecoveryClass()) == RateLimit {
		var wait time.Duration
		var w Waiter
		if errors.As(err, &w) {
			wait = w.RecoveryWait()
		}
		if wait <= 0 {
			wait = time.Minute
		}
		return min(max(wait, time.Second), maxWait), true
	}
	return 0, false
}

// Decide turns a worker's error into River's decision: a snooze while a create may still land
// or a lease is held (store.UnsettledError, store.BusyError) and until a rate limit resets, a
// cancellation for what retrying cannot fix (the repository, run or installation is gone, the
// request is invalid), and otherwise the wrapped error, which River retries with backoff.
func Decide(err error) error {
	if err == nil {
		return nil
	}
	// A create that may still land, or a lease another execution holds (maybe a dead one): look
	// again after the wait, without spending an attempt.
	var unsettled *store.UnsettledError
	if errors.As(err, &unsettled) {
		return river.JobSnooze(unsettled.Wait)
	}
	var busy *store.BusyError
	if errors.As(err, &busy) {
		return river.JobSnooze(busy.Wait)
	}
	if d, ok := RetryAfter(err, time.Now()); ok {
		return river.JobSnooze(d)
	}
	switch Classify(err) {
	case NotFound, Invalid:
		return river.JobCancel(err)
	}
	return err
}
