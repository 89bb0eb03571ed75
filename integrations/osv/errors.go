package osv

import (
	"net/http"
	"time"
)

// RecoveryClass names the recovery manager's class of the answer (package recovery reads it
// through an interface, so this package does not import it): 429 rate_limit, 401/403
// auth_error, 404 not_found, 408 timeout, 5xx integration_failure, other 4xx invalid.
func (e *HTTPError) RecoveryClass() string {
	switch code := e.StatusCode; {
	case code == http.StatusTooManyRequests:
		return "rate_limit"
	case code == http.StatusUnauthorized, code == http.StatusForbidden:
		return "auth_error"
	case code == http.StatusNotFound:
		return "not_found"
	case code == http.StatusRequestTimeout:
		return "timeout"
	case code >= 500:
		return "integration_failure"
	default:
		return "invalid"
	}
}

// RecoveryWait is how long a rate-limited query must wait (Retry-After), zero if OSV named none.
func (e *HTTPError) RecoveryWait() time.Duration { return e.RetryAfter }
