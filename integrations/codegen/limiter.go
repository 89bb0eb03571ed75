package codegen

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Limiter is a token bucket: up to n calls at once, then one more every
// per/n. It is safe for concurrent use.
type Limiter struct {
	mu       sync.Mutex
	capacity float64
	interval time.Duration // time to earn one token
	tokens   float64
	last     time.Time
	paused   time.Time // no token is handed out before this
	now      func() time.Time
}

// NewLimiter allows n calls per period, bursting to n. n < 1 is taken as 1
// and a period ≤ 0 as a minute.
func NewLimiter(n int, per time.Duration) *Limiter {
	n = max(n, 1)
	if per <= 0 {
		per = time.Minute
	}
	return &Limiter{capacity: float64(n), interval: per / time.Duration(n), tokens: float64(n), now: time.Now}
}

// Wait takes a token, sleeping until one is earned or ctx ends. When ctx's
// deadline comes before the token, it returns a [*LimitedError] at once.
func (l *Limiter) Wait(ctx context.Context) error {
	for {
		wait := l.reserve()
		if wait <= 0 {
			return nil
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return &LimitedError{Wait: wait}
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("failed to wait for a Codegen run slot: %w", ctx.Err())
		case <-timer.C:
		}
	}
}

// LimitedError is returned by [Limiter.Wait] when the next token comes
// after the context's deadline; [IsRateLimited] reports it and
// [RetryAfterOf] returns Wait.
type LimitedError struct{ Wait time.Duration }

// Error describes the wait.
func (e *LimitedError) Error() string {
	return fmt.Sprintf("codegen run creations are paced: next slot in %s", e.Wait.Round(time.Millisecond))
}

// Pause hands out no token for d (a 429's Retry-After).
func (l *Limiter) Pause(d time.Duration) {
	if d <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if until := l.now().Add(d); until.After(l.paused) {
		l.paused = until
	}
}

// reserve takes a token and returns 0, or returns how long until one may be
// there without taking it.
func (l *Limiter) reserve() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Before(l.paused) {
		return l.paused.Sub(now)
	}
	if !l.last.IsZero() && now.After(l.last) {
		l.tokens = min(l.capacity, l.tokens+float64(now.Sub(l.last))/float64(l.interval))
	}
	if l.last.IsZero() || now.After(l.last) {
		l.last = now
	}
	if l.tokens >= 1 {
		l.tokens--
		return 0
	}
	return time.Duration((1 - l.tokens) * float64(l.interval))
}
