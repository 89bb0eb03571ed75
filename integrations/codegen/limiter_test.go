package codegen

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLimiterBucket(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	l := NewLimiter(10, time.Minute)
	l.now = clock.now
	for i := range 10 {
		require.Zero(t, l.reserve(), "burst %d", i)
	}
	require.Equal(t, 6*time.Second, l.reserve())
	clock.add(3 * time.Second)
	require.Equal(t, 3*time.Second, l.reserve())
	clock.add(3 * time.Second)
	require.Zero(t, l.reserve())
	require.Equal(t, 6*time.Second, l.reserve())

	clock.add(10 * time.Minute) // refills to the burst, not beyond
	for range 10 {
		require.Zero(t, l.reserve())
	}
	require.Positive(t, l.reserve())

	clock.add(time.Hour)
	l.Pause(30 * time.Second)
	require.Equal(t, 30*time.Second, l.reserve())
	l.Pause(time.Second) // a shorter pause does not shorten it
	require.Equal(t, 30*time.Second, l.reserve())
	clock.add(30 * time.Second)
	require.Zero(t, l.reserve())
}

func TestLimiterWaitHonoursContext(t *testing.T) {
	t.Parallel()
	l := NewLimiter(1, time.Hour)
	require.NoError(t, l.Wait(context.Background()))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := l.Wait(ctx)
	var lerr *LimitedError
	require.ErrorAs(t, err, &lerr)
	require.True(t, IsRateLimited(err))
	require.Greater(t, RetryAfterOf(err), 59*time.Minute)

	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	require.ErrorIs(t, l.Wait(ctx2), context.Canceled)
}

func TestLimiterWaitSleepsForAToken(t *testing.T) {
	t.Parallel()
	l := NewLimiter(1000, time.Second) // a token every millisecond
	for range 1005 {
		require.NoError(t, l.Wait(context.Background()))
	}
}
