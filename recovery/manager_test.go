package recovery_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rcrowley/go-metrics"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/alerting"
	"github.com/contexten/autonomous/recovery"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// fakeAlerts is a hand-written alerting.Notifier that records what it was asked.
type fakeAlerts struct {
	mu       sync.Mutex
	raised   []alerting.Alert
	resolved []string
	fail     error
	// gate, when set, holds every Raise until it is closed; inFlight and maxInFlight count them.
	gate                  chan struct{}
	inFlight, maxInFlight int
}

func (f *fakeAlerts) Raise(ctx context.Context, a alerting.Alert) error {
	f.mu.Lock()
	f.inFlight++
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inFlight--
	if f.fail != nil {
		return f.fail
	}
	f.raised = append(f.raised, a)
	return nil
}

func (f *fakeAlerts) Resolve(_ context.Context, fingerprint, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.resolved = append(f.resolved, fingerprint)
	return nil
}

func (f *fakeAlerts) snapshot() ([]alerting.Alert, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]alerting.Alert(nil), f.raised...), append([]string(nil), f.resolved...)
}

var _ alerting.Notifier = (*fakeAlerts)(nil)

// fakeProbe reports the resources the test sets.
type fakeProbe struct {
	mu sync.Mutex
	r  recovery.Resources
}

func (p *fakeProbe) set(mem, disk float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.r = recovery.Resources{MemoryPercent: mem, DiskPercent: disk}
}

func (p *fakeProbe) Sample(context.Context) (recovery.Resources, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.r, nil
}

func newStore(t *testing.T) *store.Store {
	t.Helper()
	return workflowstest.OpenStore(t, workflowstest.SQLiteURL(t))
}

// testOptions are enabled strategies with a quiet probe.
func testOptions(probe recovery.Probe) recovery.Options {
	return recovery.Options{Enabled: true, EscalationThreshold: 3, MaxConcurrent: 3, RetryDelay: time.Second,
		MaxWorkers: 4, Probe: probe, SampleEvery: time.Nanosecond, Registry: metrics.NewRegistry()}
}

var nextJobID atomic.Int64

// job is a job row as River hands it to middleware.
func job(kind, owner, repo string, attempt, maxAttempts int) *rivertype.JobRow {
	return &rivertype.JobRow{
		ID: nextJobID.Add(1), Kind: kind, Attempt: attempt, MaxAttempts: maxAttempts, State: rivertype.JobStateRunning,
		EncodedArgs: fmt.Appendf(nil, `{"owner":%q,"repo":%q}`, owner, repo),
	}
}

func failWith(err error) func(context.Context) error {
	return func(context.Context) error { return err }
}

func succeed(context.Context) error { return nil }

func actions(t *testing.T, m *recovery.Manager) []recovery.Action {
	t.Helper()
	list, err := m.Recent(context.Background(), 100)
	require.NoError(t, err)
	return list
}

func countAction(list []recovery.Action, action, outcome string) int {
	n := 0
	for _, a := range list {
		if a.Action == action && (outcome == "" || a.Outcome == outcome) {
			n++
		}
	}
	return n
}

func TestThreeConsecutiveFailuresEscalateOnce(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			testEscalation(t, workflowstest.OpenStore(t, db.URL))
		})
	}
}

func testEscalation(t *testing.T, st *store.Store) {
	ctx := context.Background()
	alerts := &fakeAlerts{}
	opts := testOptions(&fakeProbe{})
	m := recovery.NewManager(st, withAlerts(opts, alerts))
	failure := fmt.Errorf("failed to get run: %w", errResp(503, nil))

	for i := range 2 {
		err := m.Work(ctx, job("failure_analysis", "Octo", "App", 1, 5), failWith(failure))
		require.Equal(t, failure, err, "failure %d is retried by River as it was", i+1)
	}
	raised, _ := alerts.snapshot()
	require.Empty(t, raised, "two failures are below the threshold")

	require.Equal(t, failure, m.Work(ctx, job("failure_analysis", "Octo", "App", 2, 5), failWith(failure)))
	raised, _ = alerts.snapshot()
	require.Len(t, raised, 1)
	a := raised[0]
	require.Equal(t, "escalation:failure_analysis:octo/app:integration_failure", a.Fingerprint)
	require.True(t, a.Escalate)
	require.Equal(t, "Octo/App", a.Repo)
	require.Equal(t, "recovery", a.Source)
	require.Equal(t, alerting.High, a.Severity)
	require.Contains(t, a.Text, "3 consecutive failures")

	// A fourth failure of the same fingerprint raises the open escalation again (alerting turns
	// a repeat into a comment on its Linear issue, with no new Slack message); another
	// repository's failure counts on its own.
	require.Error(t, m.Work(ctx, job("failure_analysis", "Octo", "App", 3, 5), failWith(failure)))
	require.Error(t, m.Work(ctx, job("failure_analysis", "octo", "other", 1, 5), failWith(failure)))
	raised, _ = alerts.snapshot()
	require.Len(t, raised, 2)
	require.Equal(t, a.Fingerprint, raised[1].Fingerprint)
	require.True(t, raised[1].Escalate)
	require.Contains(t, raised[1].Text, "still failing: 4 consecutive failures")

	streaks, err := m.Records().Streaks(ctx)
	require.NoError(t, err)
	require.Len(t, streaks, 2)
	require.Equal(t, 4, streaks[0].Failures)
	require.True(t, streaks[0].Escalated)

	// A success resets the streak and resolves the escalation, once.
	require.NoError(t, m.Work(ctx, job("failure_analysis", "Octo", "App", 1, 5), succeed))
	require.NoError(t, m.Work(ctx, job("failure_analysis", "Octo", "App", 1, 5), succeed))
	_, resolved := alerts.snapshot()
	require.Equal(t, []string{"escalation:failure_analysis:octo/app:integration_failure"}, resolved)
	streaks, err = m.Records().Streaks(ctx)
	require.NoError(t, err)
	require.Len(t, streaks, 1, "only the other repository's streak is left")

	// The streak starts over: two more failures escalate nothing, the third escalates again.
	for range 2 {
		require.Error(t, m.Work(ctx, job("failure_analysis", "Octo", "App", 1, 5), failWith(failure)))
	}
	raised, _ = alerts.snapshot()
	require.Len(t, raised, 2)
	require.Error(t, m.Work(ctx, job("failure_analysis", "Octo", "App", 1, 5), failWith(failure)))
	raised, _ = alerts.snapshot()
	require.Len(t, raised, 3)

	list := actions(t, m)
	require.Equal(t, 3, countAction(list, recovery.ActionEscalate, recovery.OutcomeOK))
	require.Equal(t, 1, countAction(list, recovery.ActionResolve, recovery.OutcomeOK))
	require.Positive(t, countAction(list, recovery.ActionRetry, recovery.OutcomeOK))
	require.Positive(t, metrics.GetOrRegisterCounter(recovery.MetricActions, opts.Registry).Count())
}

func TestAuthErrorEscalatesAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	alerts := &fakeAlerts{}
	m := recovery.NewManager(newStore(t), withAlerts(testOptions(&fakeProbe{}), alerts))
	authErr := fmt.Errorf("failed to create an installation token: %w", errResp(http.StatusUnauthorized, nil))

	require.Equal(t, authErr, m.Work(ctx, job("dependency_management", "octo", "app", 1, 5), failWith(authErr)))
	raised, _ := alerts.snapshot()
	require.Len(t, raised, 1)
	require.Equal(t, "escalation:dependency_management:octo/app:auth_error", raised[0].Fingerprint)
	require.Equal(t, alerting.Critical, raised[0].Severity)
	require.True(t, raised[0].Escalate)

	require.Error(t, m.Work(ctx, job("dependency_management", "octo", "app", 2, 5), failWith(authErr)))
	raised, _ = alerts.snapshot()
	require.Len(t, raised, 1, "the retries right after an escalation add nothing")
	for i := 3; i <= 4; i++ {
		require.Error(t, m.Work(ctx, job("dependency_management", "octo", "app", i, 5), failWith(authErr)))
	}
	raised, _ = alerts.snapshot()
	require.Len(t, raised, 2, "every ESCALATION_THRESHOLD more failures raise it again: a Linear comment, no new Slack message")
	require.Equal(t, raised[0].Fingerprint, raised[1].Fingerprint)
}

func TestUnknownEscalatesOnceRetriesAreSpent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	alerts := &fakeAlerts{}
	opts := testOptions(&fakeProbe{})
	opts.EscalationThreshold = 10
	m := recovery.NewManager(newStore(t), withAlerts(opts, alerts))
	boom := errors.New("boom")

	require.Equal(t, boom, m.Work(ctx, job("security_audit", "octo", "app", 1, 2), failWith(boom)))
	raised, _ := alerts.snapshot()
	require.Empty(t, raised)
	require.Equal(t, boom, m.Work(ctx, job("security_audit", "octo", "app", 2, 2), failWith(boom)))
	raised, _ = alerts.snapshot()
	require.Len(t, raised, 1)
	require.Equal(t, "escalation:security_audit:octo/app:unknown", raised[0].Fingerprint)
	require.Equal(t, 1, countAction(actions(t, m), recovery.ActionDiscard, recovery.OutcomeOK))
}

func TestQuietKindsNeverEscalate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	alerts := &fakeAlerts{}
	m := recovery.NewManager(newStore(t), withAlerts(testOptions(&fakeProbe{}), alerts))
	slackDown := errResp(http.StatusUnauthorized, nil)
	for range 4 {
		require.Error(t, m.Work(ctx, job("alert_delivery", "", "", 1, 5), failWith(slackDown)))
	}
	raised, _ := alerts.snapshot()
	require.Empty(t, raised, "alert delivery failures raise no alerts about alerts")
	require.Equal(t, 4, countAction(actions(t, m), recovery.ActionRetry, recovery.OutcomeOK))
}

func TestFailedRaiseIsTriedAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	alerts := &fakeAlerts{fail: errors.New("database is closed")}
	m := recovery.NewManager(newStore(t), withAlerts(testOptions(&fakeProbe{}), alerts))
	authErr := errResp(http.StatusUnauthorized, nil)
	require.Error(t, m.Work(ctx, job("failure_analysis", "octo", "app", 1, 5), failWith(authErr)))
	alerts.mu.Lock()
	alerts.fail = nil
	alerts.mu.Unlock()
	require.Error(t, m.Work(ctx, job("failure_analysis", "octo", "app", 2, 5), failWith(authErr)))
	raised, _ := alerts.snapshot()
	require.Len(t, raised, 1)
	list := actions(t, m)
	require.Equal(t, 1, countAction(list, recovery.ActionEscalate, recovery.OutcomeOK))
	require.Equal(t, 2, countAction(list, recovery.ActionEscalate, ""))
}

func TestDecisions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := recovery.NewManager(newStore(t), withAlerts(testOptions(&fakeProbe{}), &fakeAlerts{}))

	// A raw rate limit is snoozed until its reset; the worker's own snooze stands.
	err := m.Work(ctx, job("failure_analysis", "octo", "app", 1, 5), failWith(errResp(429, map[string]string{"Retry-After": "30"})))
	requireSnooze(t, err, 30*time.Second)
	err = m.Work(ctx, job("failure_analysis", "octo", "app", 1, 5), failWith(river.JobSnooze(time.Minute)))
	requireSnooze(t, err, time.Minute)

	// Gone or invalid is cancelled, whether the worker cancelled or not.
	gone := errResp(404, nil)
	requireCancel(t, m.Work(ctx, job("failure_analysis", "octo", "app", 1, 5), failWith(gone)), gone)
	cancelled := river.JobCancel(gone)
	require.Equal(t, cancelled, m.Work(ctx, job("failure_analysis", "octo", "app", 1, 5), failWith(cancelled)))

	for range 3 {
		requireCancel(t, m.Work(ctx, job("failure_analysis", "octo", "app", 1, 5), failWith(gone)), gone)
	}
	streaks, err := m.Records().Streaks(ctx)
	require.NoError(t, err)
	require.Empty(t, streaks, "what is gone counts no streak")

	list := actions(t, m)
	require.Equal(t, 2, countAction(list, recovery.ActionSnooze, recovery.OutcomeOK))
	require.Equal(t, 5, countAction(list, recovery.ActionCancel, recovery.OutcomeOK))
	for _, a := range list {
		if a.Action == recovery.ActionSnooze && a.Delay == 30*time.Second {
			require.Equal(t, recovery.RateLimit, a.Class)
			require.Equal(t, "octo/app", a.Repo)
			require.Equal(t, "failure_analysis", a.Kind)
			require.NotZero(t, a.JobID)
		}
	}
}

func TestTimedOutAttemptRestartsOnceWithFreshState(t *testing.T) {
	t.Parallel()
	m := recovery.NewManager(newStore(t), withAlerts(testOptions(&fakeProbe{}), &fakeAlerts{}))
	row := job("failure_analysis", "octo", "app", 1, 5)
	timedOut := func() context.Context {
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		t.Cleanup(cancel)
		return ctx
	}
	work := func(ctx context.Context) error { return fmt.Errorf("failed to read the log: %w", ctx.Err()) }

	err := m.Work(timedOut(), row, work)
	requireSnooze(t, err, 0)
	row.Attempt = 2
	err = m.Work(timedOut(), row, work)
	require.ErrorIs(t, err, context.DeadlineExceeded, "the second time out is retried with backoff")
	var snooze *river.JobSnoozeError
	require.False(t, errors.As(err, &snooze))

	list := actions(t, m)
	require.Equal(t, 1, countAction(list, recovery.ActionRestart, recovery.OutcomeOK))
	require.Equal(t, 1, countAction(list, recovery.ActionRetry, recovery.OutcomeOK))
}

func TestDisabledRecordsWithoutActing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	alerts := &fakeAlerts{}
	probe := &fakeProbe{}
	probe.set(99, 99)
	opts := testOptions(probe)
	opts.Enabled = false
	opts.AutoRestart = true
	m := recovery.NewManager(newStore(t), withAlerts(opts, alerts))

	authErr := errResp(http.StatusUnauthorized, nil)
	for range 4 {
		require.Equal(t, authErr, m.Work(ctx, job("failure_analysis", "octo", "app", 1, 5), failWith(authErr)))
	}
	limited := errResp(429, map[string]string{"Retry-After": "30"})
	require.Equal(t, limited, m.Work(ctx, job("failure_analysis", "octo", "app", 1, 5), failWith(limited)),
		"the worker's decision stands")
	require.NoError(t, m.Heal(ctx, monitorReport(40)))

	raised, _ := alerts.snapshot()
	require.Empty(t, raised)
	list := actions(t, m)
	require.Len(t, list, 6)
	for _, a := range list {
		require.Equal(t, recovery.OutcomeDisabled, a.Outcome, "%+v", a)
	}
	require.Equal(t, 4, countAction(list, recovery.ActionRetry, ""))
	auth := 0
	for _, a := range list {
		if a.Class == recovery.AuthError {
			auth++
		}
	}
	require.Equal(t, 4, auth)
	require.Equal(t, 1, countAction(list, recovery.ActionSnooze, ""))
	require.Equal(t, 1, countAction(list, recovery.ActionCleanup, ""))
	require.Equal(t, 0, countAction(list, recovery.ActionThrottle, ""), "no throttling while disabled")
}

func TestRecoveryActionsCapped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	alerts := &fakeAlerts{gate: make(chan struct{})}
	opts := testOptions(&fakeProbe{})
	opts.MaxConcurrent = 2
	m := recovery.NewManager(newStore(t), withAlerts(opts, alerts))
	authErr := errResp(http.StatusUnauthorized, nil)

	const jobs = 6
	var wg sync.WaitGroup
	for i := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = m.Work(ctx, job("failure_analysis", "octo", fmt.Sprintf("app%d", i), 1, 5), failWith(authErr))
		}()
	}
	require.Eventually(t, func() bool {
		alerts.mu.Lock()
		defer alerts.mu.Unlock()
		return alerts.inFlight == 2
	}, 30*time.Second, 5*time.Millisecond)
	close(alerts.gate)
	wg.Wait()

	raised, _ := alerts.snapshot()
	require.Len(t, raised, jobs, "every escalation went through, two at a time")
	require.Equal(t, 2, alerts.maxInFlight)
	require.Equal(t, 2, m.MaxConcurrentSeen())
}

func TestResourcePressureThrottlesAndCleansUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dataDir := t.TempDir()
	old := time.Now().Add(-2 * time.Hour)
	for _, name := range []string{"stale.tmp", ".autonomous.env.tmp-123", "fresh.tmp", "autonomous.db"} {
		require.NoError(t, os.WriteFile(filepath.Join(dataDir, name), []byte("x"), 0o600))
		if name != "fresh.tmp" {
			require.NoError(t, os.Chtimes(filepath.Join(dataDir, name), old, old))
		}
	}
	probe := &fakeProbe{}
	probe.set(95, 40)
	opts := testOptions(probe)
	opts.MaxWorkers, opts.LowWorkers = 4, 1
	opts.Cleanup = recovery.Cleanup{DataDir: dataDir}
	m := recovery.NewManager(newStore(t), withAlerts(opts, &fakeAlerts{}))

	// Three jobs start while memory is short: one works at a time.
	var active, maxActive atomic.Int64
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			require.NoError(t, m.Work(ctx, job("health_check", "", "", 1, 1), func(context.Context) error {
				n := active.Add(1)
				for {
					seen := maxActive.Load()
					if n <= seen || maxActive.CompareAndSwap(seen, n) {
						break
					}
				}
				<-release
				active.Add(-1)
				return nil
			}))
		}()
	}
	require.Eventually(t, func() bool { return active.Load() == 1 }, 30*time.Second, 5*time.Millisecond)
	close(release)
	wg.Wait()
	require.Equal(t, int64(1), maxActive.Load())

	left, err := os.ReadDir(dataDir)
	require.NoError(t, err)
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	require.ElementsMatch(t, []string{"fresh.tmp", "autonomous.db"}, names, "old temp files removed, the database kept")

	list := actions(t, m)
	require.Equal(t, 1, countAction(list, recovery.ActionThrottle, recovery.OutcomeOK))
	require.Equal(t, 1, countAction(list, recovery.ActionCleanup, ""))

	// Memory back to normal: the workers are released.
	probe.set(30, 40)
	require.NoError(t, m.Work(ctx, job("health_check", "", "", 1, 1), succeed))
	require.Equal(t, 1, countAction(actions(t, m), recovery.ActionUnthrottle, recovery.OutcomeOK))
}

func TestResourceExhaustionErrorCleansUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := recovery.NewManager(newStore(t), withAlerts(testOptions(&fakeProbe{}), &fakeAlerts{}))
	full := fmt.Errorf("failed to write the report: %w", &os.PathError{Op: "write", Path: "x", Err: errNoSpace})
	require.Equal(t, full, m.Work(ctx, job("performance_monitoring", "octo", "app", 1, 5), failWith(full)))
	list := actions(t, m)
	require.Equal(t, 1, countAction(list, recovery.ActionCleanup, ""))
	require.Equal(t, recovery.ResourceExhaustion, list[0].Class)
	require.Contains(t, list[0].Outcome, "removed 0 temp files")
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	require.Equal(t, "escalation:failure_analysis:octo/my.app:auth_error", recovery.Fingerprint("failure_analysis", "Octo/My.App", recovery.AuthError))
	require.Equal(t, "escalation:health_check:-:timeout", recovery.Fingerprint("health_check", "", recovery.Timeout))
	require.Equal(t, "escalation:x:a-b-c/d:unknown", recovery.Fingerprint("x", "a b\nc/d", recovery.Unknown))
}

func TestStoppedJobCountsNoStreak(t *testing.T) {
	t.Parallel()
	alerts := &fakeAlerts{}
	m := recovery.NewManager(newStore(t), withAlerts(testOptions(&fakeProbe{}), alerts))
	for range 4 {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := m.Work(ctx, job("failure_analysis", "octo", "app", 1, 5), func(ctx context.Context) error { return ctx.Err() })
		require.ErrorIs(t, err, context.Canceled)
	}
	raised, _ := alerts.snapshot()
	require.Empty(t, raised, "a shutdown is not a failure of the workflow")
	streaks, err := m.Records().Streaks(context.Background())
	require.NoError(t, err)
	require.Empty(t, streaks)
	require.Equal(t, 4, countAction(actions(t, m), recovery.ActionRetry, recovery.OutcomeOK))
}

func TestWithoutAlertingAnEscalationIsRecordedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := recovery.NewManager(newStore(t), testOptions(&fakeProbe{}))
	authErr := errResp(http.StatusUnauthorized, nil)
	for range 3 {
		require.Error(t, m.Work(ctx, job("failure_analysis", "octo", "app", 1, 5), failWith(authErr)))
	}
	list := actions(t, m)
	require.Equal(t, 1, countAction(list, recovery.ActionEscalate, "skipped: no alerting configured"))
	require.NoError(t, m.Work(ctx, job("failure_analysis", "octo", "app", 1, 5), succeed))
	streaks, err := m.Records().Streaks(ctx)
	require.NoError(t, err)
	require.Empty(t, streaks, "a success clears the streak")
}
