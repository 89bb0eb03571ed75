// Package recovery is where workflow errors meet policy: it classifies errors into the seed's
// classes and turns them into River's retry decisions (retry with backoff, snooze until a rate
// limit resets, cancel what can never succeed).
package recovery

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/riverqueue/river"
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

// Classify returns the class of err.
func Classify(err error) Class {
	if err == nil {
		return ""
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
	var netErr net.Error
	if errors.As(err, &netErr) {
		if netErr.Timeout() {
			return Timeout
		}
		return NetworkError
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return NetworkError
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.ENOMEM) {
		return ResourceExhaustion
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

// RetryAfter returns how long to wait before a rate-limited call may succeed, and whether err is
// a rate limit at all.
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
	if errors.As(err, &resp) && resp.Response != nil && resp.Response.StatusCode == http.StatusTooManyRequests {
		if d, err := time.ParseDuration(resp.Response.Header.Get("Retry-After") + "s"); err == nil {
			return max(d, time.Second), true
		}
		return time.Minute, true
	}
	return 0, false
}

// Decide turns a worker's error into River's decision: a snooze until a rate limit resets, a
// cancellation for what retrying cannot fix (the repository, run or installation is gone, the
// request is invalid), and otherwise the wrapped error, which River retries with backoff.
func Decide(err error) error {
	if err == nil {
		return nil
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
