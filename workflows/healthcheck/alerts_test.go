package healthcheck_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/alerting"
	"github.com/contexten/autonomous/ghapp/ghapptest"
	"github.com/contexten/autonomous/monitor"
	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/healthcheck"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// fakeNotifier records what is raised and resolved; failRaise makes Raise fail once.
type fakeNotifier struct {
	mu        sync.Mutex
	raised    []alerting.Alert
	resolved  []string
	failRaise atomic.Bool
}

func (f *fakeNotifier) Raise(_ context.Context, a alerting.Alert) error {
	if f.failRaise.CompareAndSwap(true, false) {
		return errors.New("database is locked")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.raised = append(f.raised, a)
	return nil
}

func (f *fakeNotifier) Resolve(_ context.Context, fingerprint, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resolved = append(f.resolved, fingerprint)
	return nil
}

func (f *fakeNotifier) take() ([]alerting.Alert, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, s := f.raised, f.resolved
	f.raised, f.resolved = nil, nil
	return r, s
}

// fakeHealer records the reports it was handed.
type fakeHealer struct {
	mu      sync.Mutex
	reports []monitor.Report
}

func (f *fakeHealer) Heal(_ context.Context, r monitor.Report) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reports = append(f.reports, r)
	return nil
}

func (f *fakeHealer) count() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.reports) }

// appClients is ghapp.Clients with the app client on the fake GitHub.
type appClients struct{ url string }

func (a appClients) ForRepo(context.Context, string, string, int64) (*github.Client, int64, error) {
	return nil, 0, errors.New("not used")
}

func (a appClients) App() (*github.Client, error) {
	return github.NewClient(nil).WithEnterpriseURLs(a.url+"/", a.url+"/")
}

type calmResources struct{}

func (calmResources) Sample(context.Context, string) (monitor.ResourceSample, error) {
	return monitor.ResourceSample{CPUPercent: 5, MemoryPercent: 10, DiskPercent: 20}, nil
}

type harness struct {
	engine   *workflows.Engine
	notifier *fakeNotifier
	healer   *fakeHealer
	status   atomic.Int32 // GET /app's answer
}

func newHarness(t *testing.T) *harness {
	h := &harness{notifier: &fakeNotifier{}, healer: &fakeHealer{}}
	h.status.Store(http.StatusOK)
	srv := ghapptest.New(t)
	srv.HandleFunc("GET /app", func(w http.ResponseWriter, _ *http.Request) {
		ghapptest.JSON(w, int(h.status.Load()), map[string]any{"id": 1, "slug": "autonomous-ci", "message": "Bad credentials"})
	})
	checker := &monitor.Checker{GitHub: appClients{url: srv.URL()}, Resources: calmResources{}, RequireRunning: true}
	workers := river.NewWorkers()
	river.AddWorker(workers, &healthcheck.Worker{Checker: checker, Alerts: h.notifier, Healer: h.healer})
	st := workflowstest.OpenStore(t, workflowstest.SQLiteURL(t))
	engine, err := workflows.NewEngine(st, workflows.Options{Workers: workers, FetchPollInterval: 10 * time.Millisecond, RetryDelay: time.Millisecond})
	require.NoError(t, err)
	engine.Register(workflows.HealthCheck, healthcheck.Build)
	checker.Engine = engine
	require.NoError(t, engine.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = engine.Stop(ctx)
	})
	h.engine = engine
	return h
}

// run triggers health_check with params and waits for it to complete; it returns the output.
func (h *harness) run(t *testing.T, params map[string]any) healthcheck.Output {
	t.Helper()
	ins, err := h.engine.Trigger(context.Background(), workflows.HealthCheck, workflows.Repo{}, params)
	require.NoError(t, err)
	var x workflows.Execution
	require.Eventually(t, func() bool {
		x, err = h.engine.Status(context.Background(), ins.ID)
		require.NoError(t, err)
		return x.Terminal()
	}, 20*time.Second, 10*time.Millisecond)
	require.Equal(t, "completed", x.State, x.Errors)
	var out healthcheck.Output
	require.NoError(t, json.Unmarshal(x.Output, &out))
	return out
}

// TestAlertOnDegradation: GitHub refusing the app raises one alert "health:github"; once it
// answers again the alert is resolved. Healthy components are resolved every time (alerting
// ignores a fingerprint that is not open).
func TestAlertOnDegradation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	out := h.run(t, nil)
	require.True(t, out.Healthy, "%+v", out.Components)
	raised, resolved := h.notifier.take()
	require.Empty(t, raised)
	require.Contains(t, resolved, "health:github")
	require.Len(t, out.Components, 8, "check_all_integrations defaults to true")
	require.Zero(t, h.healer.count(), "a healthy report is not healed")

	h.status.Store(http.StatusUnauthorized)
	out = h.run(t, nil)
	require.False(t, out.Healthy)
	raised, resolved = h.notifier.take()
	require.Len(t, raised, 1)
	a := raised[0]
	require.Equal(t, "health:github", a.Fingerprint)
	require.Equal(t, alerting.High, a.Severity)
	require.Equal(t, "GitHub is down", a.Title)
	require.Contains(t, a.Text, "failed to authenticate as the app (HTTP 401)")
	require.Equal(t, "monitor", a.Source)
	require.Contains(t, a.Fields, alerting.Field{Name: "http_status", Value: "401"})
	require.NotContains(t, resolved, "health:github")
	require.Equal(t, []string{"health:github"}, out.Raised)
	require.True(t, out.Healed)
	require.Equal(t, 1, h.healer.count(), "auto_recovery hands the report to the healer")

	h.status.Store(http.StatusOK)
	out = h.run(t, nil)
	require.True(t, out.Healthy)
	raised, resolved = h.notifier.take()
	require.Empty(t, raised)
	require.Contains(t, resolved, "health:github")
	require.Contains(t, out.Resolved, "health:github")
}

// TestParams: check_all_integrations=false checks the core only; alert_on_degradation=false and
// auto_recovery=false leave the notifier and the healer alone.
func TestParams(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.status.Store(http.StatusBadGateway)
	out := h.run(t, map[string]any{"check_all_integrations": false, "alert_on_degradation": false, "auto_recovery": false})
	require.Len(t, out.Components, 3)
	require.False(t, out.Healthy)
	raised, resolved := h.notifier.take()
	require.Empty(t, raised)
	require.Empty(t, resolved)
	require.Zero(t, h.healer.count())
	require.False(t, out.Healed)
}

// TestRaiseFailureIsRetried: an alert that could not be stored fails the attempt, and River's
// retry raises it.
func TestRaiseFailureIsRetried(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.status.Store(http.StatusUnauthorized)
	h.notifier.failRaise.Store(true)
	out := h.run(t, map[string]any{"auto_recovery": false})
	require.Equal(t, []string{"health:github"}, out.Raised)
	raised, _ := h.notifier.take()
	require.Len(t, raised, 1)
}

func TestBuild(t *testing.T) {
	t.Parallel()
	p, err := workflows.ParseParams(workflows.HealthCheck, map[string]any{"check_all_integrations": false})
	require.NoError(t, err)
	args, _, err := healthcheck.Build(workflows.Repo{}, p)
	require.NoError(t, err)
	require.Equal(t, healthcheck.Args{Trigger: "cli", CoreOnly: true}, args)
	p, err = workflows.ParseParams(workflows.HealthCheck, map[string]any{"alert_on_degradation": false, "auto_recovery": false})
	require.NoError(t, err)
	args, _, err = healthcheck.Build(workflows.Repo{}, p)
	require.NoError(t, err)
	require.Equal(t, healthcheck.Args{Trigger: "cli", NoAlerts: true, NoRecovery: true}, args)
}
