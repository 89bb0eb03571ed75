package store_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// fakeEffect is a thing on a fake GitHub: created (or not) by create, seen by find.
type fakeEffect struct {
	mu      sync.Mutex
	id      int64
	creates int
	// answer is what the next create returns after (maybe) creating.
	answer func() (made bool, err error)
}

func (f *fakeEffect) effect(key string, settle time.Duration) store.Effect {
	return store.Effect{
		Key: key, Settle: settle,
		Find: func(context.Context) (int64, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.id, nil
		},
		Create: func(context.Context) (int64, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.creates++
			made, err := true, error(nil)
			if f.answer != nil {
				made, err = f.answer()
			}
			if made {
				f.id = int64(100 + f.creates)
			}
			if err != nil {
				return 0, err
			}
			return f.id, nil
		},
	}
}

func TestCreateOnce(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := workflowstest.OpenStore(t, db.URL)

			// Created once, then remembered.
			var f fakeEffect
			aID, created, err := st.CreateOnce(ctx, f.effect("a", time.Minute))
			require.NoError(t, err)
			require.True(t, created)
			again, created, err := st.CreateOnce(ctx, f.effect("a", time.Minute))
			require.NoError(t, err)
			require.False(t, created)
			require.Equal(t, aID, again)
			require.Equal(t, 1, f.creates)

			// A create that timed out but was made is found, not repeated.
			var slow fakeEffect
			slow.answer = func() (bool, error) { return true, context.DeadlineExceeded }
			_, _, err = st.CreateOnce(ctx, slow.effect("b", 50*time.Millisecond))
			require.ErrorIs(t, err, context.DeadlineExceeded)
			slow.answer = nil
			id, created, err := st.CreateOnce(ctx, slow.effect("b", 50*time.Millisecond))
			require.NoError(t, err)
			require.False(t, created)
			require.Equal(t, int64(101), id)
			require.Equal(t, 1, slow.creates)

			// One that timed out and was not made is created again once it settled.
			var lost fakeEffect
			lost.answer = func() (bool, error) { return false, context.DeadlineExceeded }
			began := time.Now()
			_, _, err = st.CreateOnce(ctx, lost.effect("c", 10*time.Second))
			require.Error(t, err)
			var unsettled *store.UnsettledError
			_, _, err = st.CreateOnce(ctx, lost.effect("c", 10*time.Second))
			require.ErrorAs(t, err, &unsettled, "too early to tell")
			require.Greater(t, unsettled.Wait, 5*time.Second)
			lost.answer = nil
			_, _, err = st.CreateOnce(ctx, lost.effect("c", 0)) // the default: 30 s
			require.ErrorAs(t, err, &unsettled)
			_, created, err = st.CreateOnce(ctx, lost.effect("c", 200*time.Millisecond))
			require.NoError(t, err)
			require.True(t, created, "settled and not there: created")
			// The record keeps whole milliseconds, so the settle point may fall up to 1 ms early.
			require.GreaterOrEqual(t, time.Since(began), 199*time.Millisecond, "waited for the earlier create to settle")
			require.Equal(t, 2, lost.creates)

			// GitHub refused: nothing to wait for.
			var refused fakeEffect
			refused.answer = func() (bool, error) {
				return false, &github.ErrorResponse{Response: &http.Response{StatusCode: http.StatusUnprocessableEntity}, Message: "Validation Failed"}
			}
			_, _, err = st.CreateOnce(ctx, refused.effect("d", time.Hour))
			require.Error(t, err)
			refused.answer = nil
			_, created, err = st.CreateOnce(ctx, refused.effect("d", time.Hour))
			require.NoError(t, err)
			require.True(t, created)

			// Forgotten (deleted on GitHub): created anew.
			require.NoError(t, st.ForgetEffect(ctx, "a", aID+1), "another id forgets nothing")
			again, _, err = st.CreateOnce(ctx, f.effect("a", time.Minute))
			require.NoError(t, err)
			require.Equal(t, aID, again)
			f.mu.Lock()
			f.id = 0
			f.mu.Unlock()
			require.NoError(t, st.ForgetEffect(ctx, "a", aID))
			_, created, err = st.CreateOnce(ctx, f.effect("a", time.Minute))
			require.NoError(t, err)
			require.True(t, created)
			require.Equal(t, 2, f.creates)
		})
	}
}

func TestCreateOnceConcurrently(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			st := workflowstest.OpenStore(t, db.URL)
			var f fakeEffect
			var wg sync.WaitGroup
			var ok, busy atomic.Int32
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, _, err := st.CreateOnce(context.Background(), f.effect("same", time.Minute))
					var unsettled *store.UnsettledError
					switch {
					case err == nil:
						ok.Add(1)
					case errors.As(err, &unsettled):
						busy.Add(1)
					default:
						t.Errorf("CreateOnce: %v", err)
					}
				}()
			}
			wg.Wait()
			require.Equal(t, 1, f.creates)
			require.Equal(t, int32(8), ok.Load()+busy.Load())
		})
	}
}

func TestLockRunIsExclusive(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := workflowstest.OpenStore(t, db.URL)
			release, err := st.LockRun(ctx, "octo", "a", 7, time.Minute, 0)
			require.NoError(t, err)
			_, err = st.LockRun(ctx, "octo", "a", 7, time.Minute, 100*time.Millisecond)
			require.ErrorIs(t, err, store.ErrRunBusy)
			var busy *store.BusyError
			require.ErrorAs(t, err, &busy)
			require.Equal(t, 5*time.Second, busy.Wait, "try again soon: the holder may finish early")
			other, err := st.LockRun(ctx, "octo", "a", 8, time.Minute, 0)
			require.NoError(t, err, "another run is another lease")
			other()
			release()
			again, err := st.LockRun(ctx, "octo", "a", 7, 50*time.Millisecond, 0)
			require.NoError(t, err)
			_ = again // not released: it expires by itself
			expired, err := st.LockRun(ctx, "octo", "a", 7, time.Minute, time.Second)
			require.NoError(t, err, "an expired lease is taken over")
			expired()
		})
	}
}

// TestCreateOnceDefaultSettle pins the default settle window: an earlier create sent 31 s ago
// whose effect is not on GitHub surely failed (GitHub ends a request after about 10 s), so the
// next attempt creates it; one sent 15 s ago may still be in flight and is waited for.
func TestCreateOnceDefaultSettle(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := workflowstest.OpenStore(t, db.URL)
			record := func(key string, ago time.Duration) {
				_, err := st.DB.ExecContext(ctx, st.Rebind(`INSERT INTO autonomous_effect (effect_key, started_ms, created_id)
					VALUES (?, ?, 0)`), key, time.Now().Add(-ago).UnixMilli())
				require.NoError(t, err)
			}

			record("recent", 15*time.Second)
			var recent fakeEffect
			_, _, err := st.CreateOnce(ctx, recent.effect("recent", 0))
			var unsettled *store.UnsettledError
			require.ErrorAs(t, err, &unsettled, "sent 15 s ago: may still land")
			require.LessOrEqual(t, unsettled.Wait, 15*time.Second)
			require.Zero(t, recent.creates)

			record("old", 31*time.Second)
			var old fakeEffect
			_, created, err := st.CreateOnce(ctx, old.effect("old", 0))
			require.NoError(t, err)
			require.True(t, created, "sent 31 s ago and not on GitHub: settled, created")
			require.Equal(t, 1, old.creates)
		})
	}
}
