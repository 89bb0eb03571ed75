package monitor_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	goslack "github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/ghapp/ghapptest"
	"github.com/contexten/autonomous/integrations/codegen"
	"github.com/contexten/autonomous/integrations/linear"
	"github.com/contexten/autonomous/integrations/slack"
	"github.com/contexten/autonomous/monitor"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// fakeEngine answers the checks' questions from fields; its store is a real, migrated SQLite
// database.
type fakeEngine struct {
	st         *store.Store
	running    bool
	metrics    workflows.Metrics
	metricsErr error
	stats      []workflows.KindStats
	statsErr   error
	discarded  int
	// history is the history size KindStats was asked for.
	history int
}

func (f *fakeEngine) Running() bool       { return f.running }
func (f *fakeEngine) Store() *store.Store { return f.st }
func (f *fakeEngine) Metrics(context.Context) (workflows.Metrics, error) {
	return f.metrics, f.metricsErr
}
func (f *fakeEngine) KindStats(_ context.Context, _ []string, history int) ([]workflows.KindStats, error) {
	f.history = history
	return f.stats, f.statsErr
}
func (f *fakeEngine) DiscardedSince(context.Context, time.Time) (int, error) { return f.discarded, nil }

// fakeResources returns a fixed sample or error.
type fakeResources struct {
	sample monitor.ResourceSample
	err    error
	dir    string
}

func (f *fakeResources) Sample(_ context.Context, dir string) (monitor.ResourceSample, error) {
	f.dir = dir
	return f.sample, f.err
}

var calm = monitor.ResourceSample{CPUPercent: 10, MemoryPercent: 20, DiskPercent: 30, DiskFreeBytes: 1 << 30}

func newEngine(t *testing.T) *fakeEngine {
	return &fakeEngine{st: workflowstest.OpenStore(t, workflowstest.SQLiteURL(t)), running: true,
		metrics: workflows.Metrics{Counts: map[string]map[string]int{}}}
}

// check runs all components with a healthy GitHub and calm resources unless the test changes them.
func check(t *testing.T, c *monitor.Checker) monitor.Report {
	t.Helper()
	if c.Engine == nil {
		c.Engine = newEngine(t)
	}
	if c.GitHub == nil {
		c.GitHub = fakeClients{url: fakeApp(t, "4999", http.StatusOK)}
	}
	if c.Resources == nil {
		c.Resources = &fakeResources{sample: calm}
	}
	return c.Check(context.Background())
}

func component(t *testing.T, r monitor.Report, name string) monitor.Component {
	t.Helper()
	c, ok := r.Component(name)
	require.True(t, ok, "no %s in %+v", name, r.Components)
	return c
}

func TestUnconfiguredIntegrations(t *testing.T) {
	t.Parallel()
	r := check(t, &monitor.Checker{})
	require.Len(t, r.Components, 8)
	for _, name := range []string{monitor.ComponentCodegen, monitor.ComponentSlack, monitor.ComponentLinear} {
		c := component(t, r, name)
		require.Equal(t, monitor.NotConfigured, c.Status, name)
		require.Zero(t, c.Weight, "not configured weighs nothing")
	}
	require.Equal(t, 100, r.Score)
	require.True(t, r.Healthy)
	require.Equal(t, monitor.Healthy, r.Status)
	require.Equal(t, 70.0, r.Threshold)
}

func TestGitHubComponent(t *testing.T) {
	t.Parallel()
	slowApp := func(t *testing.T, status int, delay time.Duration) string {
		srv := ghapptest.New(t)
		srv.HandleFunc("GET /app", func(w http.ResponseWriter, _ *http.Request) {
			time.Sleep(delay)
			ghapptest.JSON(w, status, map[string]any{"id": 1, "slug": "autonomous-ci", "message": http.StatusText(status)})
		})
		return srv.URL()
	}
	cases := []struct {
		name     string
		url      func(t *testing.T) string
		respTime time.Duration
		status   monitor.Status
		message  string
	}{
		{"healthy", func(t *testing.T) string { return fakeApp(t, "4999", 200) }, 0, monitor.Healthy, "app autonomous-ci, rate limit 4999/5000"},
		{"401", func(t *testing.T) string { return fakeApp(t, "4999", 401) }, 0, monitor.Down, "failed to authenticate as the app (HTTP 401)"},
		{"403", func(t *testing.T) string { return fakeApp(t, "4999", 403) }, 0, monitor.Down, "HTTP 403"},
		{"500", func(t *testing.T) string { return slowApp(t, 500, 0) }, 0, monitor.Down, "failed to authenticate as the app"},
		{"503", func(t *testing.T) string { return slowApp(t, 503, 0) }, 0, monitor.Down, "503"},
		{"slow", func(t *testing.T) string { return slowApp(t, 200, 30*time.Millisecond) }, time.Millisecond, monitor.Degraded, "over ALERT_RESPONSE_TIME_MS=1"},
		{"rate limit low", func(t *testing.T) string { return fakeApp(t, "100", 200) }, 0, monitor.Degraded, "rate limit nearly exhausted: 100 left"},
		{"rate limit exhausted", func(t *testing.T) string { return fakeApp(t, "0", 200) }, 0, monitor.Down, "rate limit exhausted"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			th := monitor.DefaultThresholds
			if tc.respTime > 0 {
				th.ResponseTime = tc.respTime
			}
			r := check(t, &monitor.Checker{GitHub: fakeClients{url: tc.url(t)}, Thresholds: th})
			c := component(t, r, monitor.ComponentGitHub)
			require.Equal(t, tc.status, c.Status, c.Message)
			require.Contains(t, c.Message, tc.message)
			require.Contains(t, c.Values, "api_latency_ms")
			if tc.status == monitor.Down {
				require.LessOrEqual(t, r.Score, monitor.CoreDownCap)
				require.False(t, r.Healthy)
			}
		})
	}
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		srv := ghapptest.New(t)
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		srv.HandleFunc("GET /app", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		c := &monitor.Checker{Engine: newEngine(t), GitHub: fakeClients{url: srv.URL()}, Resources: &fakeResources{sample: calm}}
		r := c.Run(ctx, monitor.Options{CoreOnly: true})
		require.Equal(t, monitor.Down, component(t, r, monitor.ComponentGitHub).Status)
	})
}

func TestDatabaseAndRiverComponents(t *testing.T) {
	t.Parallel()
	t.Run("backlog", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			oldest  float64
			running bool
			require bool
			status  monitor.Status
			message string
		}{
			{oldest: 5, running: true, require: true, status: monitor.Healthy, message: "3 jobs waiting, oldest 5.0 s, 2 discarded in the last hour"},
			{oldest: 5, running: false, require: false, status: monitor.Healthy, message: "3 jobs waiting"},
			{oldest: 5, running: false, require: true, status: monitor.Down, message: "river is not running"},
			{oldest: 900, running: true, require: true, status: monitor.Degraded, message: "backlog waiting over 10m0s"},
			{oldest: 7200, running: true, require: true, status: monitor.Down, message: "backlog stuck"},
		}
		for _, tc := range cases {
			e := newEngine(t)
			e.running, e.discarded = tc.running, 2
			e.metrics = workflows.Metrics{QueueDepth: 3, OldestAvailableSec: tc.oldest, Counts: map[string]map[string]int{
				"failure_analysis": {"available": 2, "completed": 4}, "health_check": {"available": 1},
			}}
			r := check(t, &monitor.Checker{Engine: e, RequireRunning: tc.require})
			c := component(t, r, monitor.ComponentRiver)
			require.Equal(t, tc.status, c.Status, c.Message)
			require.Contains(t, c.Message, tc.message)
			require.Equal(t, map[string]int{"failure_analysis": 2, "health_check": 1}, r.QueueDepthByKind)
			require.Equal(t, 2, r.DiscardedLastHour)
			require.Equal(t, 3, c.Values["queue_depth"])
		}
	})
	t.Run("river error", func(t *testing.T) {
		t.Parallel()
		e := newEngine(t)
		e.metricsErr = errors.New("disk I/O error")
		r := check(t, &monitor.Checker{Engine: e})
		c := component(t, r, monitor.ComponentRiver)
		require.Equal(t, monitor.Down, c.Status)
		require.Contains(t, c.Message, "disk I/O error")
	})
	t.Run("database closed", func(t *testing.T) {
		t.Parallel()
		e := newEngine(t)
		require.NoError(t, e.st.Close())
		r := check(t, &monitor.Checker{Engine: e})
		c := component(t, r, monitor.ComponentDatabase)
		require.Equal(t, monitor.Down, c.Status)
		require.Contains(t, c.Message, "failed to reach the database")
		require.Equal(t, "sqlite", c.Values["dialect"])
		require.LessOrEqual(t, r.Score, monitor.CoreDownCap)
	})
}

func TestWorkflowsComponent(t *testing.T) {
	t.Parallel()
	kind := func(name string, finished, completed, failed int) workflows.KindStats {
		s := workflows.KindStats{Kind: name, Finished: finished, Completed: completed, Discarded: finished - completed,
			FailedAttempts: failed, DurationP50MS: 120, DurationP95MS: 900}
		if finished > 0 {
			s.SuccessRate = float64(completed) / float64(finished)
			s.ErrorRatePercent = 100 * float64(failed) / float64(completed+failed)
		}
		return s
	}
	cases := []struct {
		name    string
		stats   []workflows.KindStats
		err     error
		status  monitor.Status
		message string
	}{
		{"none finished", nil, nil, monitor.Healthy, "no finished executions yet"},
		{"all good", []workflows.KindStats{kind("failure_analysis", 50, 50, 2), kind("health_check", 50, 50, 0)}, nil, monitor.Healthy, "100 finished, success rate 100%, error rate 2.0%"},
		{"error rate over threshold", []workflows.KindStats{kind("failure_analysis", 20, 18, 6), kind("health_check", 50, 50, 0)}, nil, monitor.Degraded, "error rate over ALERT_ERROR_RATE_PERCENT=10"},
		{"most fail", []workflows.KindStats{kind("failure_analysis", 20, 5, 45)}, nil, monitor.Down, "most executions fail"},
		{"few fail", []workflows.KindStats{kind("failure_analysis", 2, 0, 6)}, nil, monitor.Degraded, "failure_analysis 100.0%"},
		{"error", nil, errors.New("no such table: river_job"), monitor.Down, "no such table"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEngine(t)
			e.stats, e.statsErr = tc.stats, tc.err
			th := monitor.DefaultThresholds
			th.HistorySize = 250
			r := check(t, &monitor.Checker{Engine: e, Thresholds: th})
			c := component(t, r, monitor.ComponentWorkflows)
			require.Equal(t, tc.status, c.Status, c.Message)
			require.Contains(t, c.Message, tc.message)
			require.Equal(t, 250, e.history, "PERFORMANCE_HISTORY_SIZE is the history read")
			if tc.err == nil {
				require.Len(t, r.Workflows, len(tc.stats))
			}
		})
	}
}

func TestResourcesComponent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		sample  monitor.ResourceSample
		err     error
		status  monitor.Status
		message string
	}{
		{"calm", calm, nil, monitor.Healthy, "CPU 10%, memory 20%, disk 30% of data"},
		{"cpu", monitor.ResourceSample{CPUPercent: 81, MemoryPercent: 20, DiskPercent: 30}, nil, monitor.Degraded, "CPU over ALERT_CPU_PERCENT=80"},
		{"memory", monitor.ResourceSample{CPUPercent: 10, MemoryPercent: 86, DiskPercent: 30}, nil, monitor.Degraded, "memory over ALERT_MEMORY_PERCENT=85"},
		{"disk nearly full", monitor.ResourceSample{CPUPercent: 10, MemoryPercent: 20, DiskPercent: 95}, nil, monitor.Degraded, "disk over 90%"},
		{"disk full", monitor.ResourceSample{CPUPercent: 10, MemoryPercent: 20, DiskPercent: 99}, nil, monitor.Down, "disk over 90%"},
		{"unmeasurable", monitor.ResourceSample{}, errors.New("failed to measure memory: no /proc"), monitor.Degraded, "no /proc"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := &fakeResources{sample: tc.sample, err: tc.err}
			r := check(t, &monitor.Checker{Resources: res, DataDir: "data"})
			c := component(t, r, monitor.ComponentResources)
			require.Equal(t, tc.status, c.Status, c.Message)
			require.Contains(t, c.Message, tc.message)
			require.Equal(t, "data", res.dir)
		})
	}

	t.Run("this machine", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		s, err := (&monitor.SystemResources{}).Sample(context.Background(), dir+"/not/yet/created")
		require.NoError(t, err)
		for _, v := range []float64{s.CPUPercent, s.MemoryPercent, s.DiskPercent} {
			require.GreaterOrEqual(t, v, 0.0)
			require.LessOrEqual(t, v, 100.0)
		}
		require.Positive(t, s.DiskFreeBytes)
		require.Positive(t, s.MemoryPercent)
	})
}

func TestDataDir(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                            "data",
		"/var/lib/autonomous/app.db":  "/var/lib/autonomous",
		"sqlite:///srv/ci/app.db":     "/srv/ci",
		"file:/srv/ci/app.db?cache=x": "/srv/ci",
		"postgres://u@db/autonomous":  ".",
		"mysql://nope":                ".",
	} {
		require.Equal(t, want, monitor.DataDir(in), in)
	}
}

// TestCodegenComponent probes a fake Codegen API on loopback with the real client.
func TestCodegenComponent(t *testing.T) {
	t.Parallel()
	serve := func(t *testing.T, status int, body string, delay time.Duration) *codegen.Client {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			require.Equal(t, "/v1/organizations/42/repos", r.URL.Path)
			require.Equal(t, "Bearer cg-token", r.Header.Get("Authorization"))
			time.Sleep(delay)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		c, err := codegen.New("42", "cg-token", codegen.WithURL(srv.URL))
		require.NoError(t, err)
		return c
	}
	cases := []struct {
		name    string
		status  int
		body    string
		delay   time.Duration
		th      time.Duration
		want    monitor.Status
		message string
	}{
		{"healthy", 200, `{"items":[{"id":1,"name":"app","full_name":"octo/app"}],"total":1,"page":1,"size":100,"pages":1}`, 0, 0, monitor.Healthy, "1 repositories"},
		{"401", 401, `{"detail":"Invalid token"}`, 0, 0, monitor.Down, "Codegen refused the credentials"},
		{"500", 500, `{"detail":"boom"}`, 0, 0, monitor.Down, "failed to reach Codegen"},
		{"slow", 200, `[]`, 30 * time.Millisecond, time.Millisecond, monitor.Degraded, "Codegen answered in"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			th := monitor.DefaultThresholds
			if tc.th > 0 {
				th.ResponseTime = tc.th
			}
			r := check(t, &monitor.Checker{Codegen: serve(t, tc.status, tc.body, tc.delay), Thresholds: th})
			c := component(t, r, monitor.ComponentCodegen)
			require.Equal(t, tc.want, c.Status, c.Message)
			require.Contains(t, c.Message, tc.message)
			require.NotContains(t, c.Message, "cg-token")
			require.Equal(t, 4.0, c.Weight)
		})
	}
}

// TestLinearComponent probes a fake Linear GraphQL API on loopback with the real client.
func TestLinearComponent(t *testing.T) {
	t.Parallel()
	serve := func(t *testing.T, status int, body string) *linear.Client {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			require.Equal(t, "lin_api_key", r.Header.Get("Authorization"), "personal keys go without Bearer")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		c, err := linear.New("lin_api_key", linear.WithURL(srv.URL))
		require.NoError(t, err)
		return c
	}
	cases := []struct {
		name    string
		status  int
		body    string
		want    monitor.Status
		message string
	}{
		{"healthy", 200, `{"data":{"viewer":{"id":"user-1","name":"CI Bot"}}}`, monitor.Healthy, "authenticated as CI Bot"},
		{"401", 401, `{"errors":[{"message":"Authentication required, not authenticated","extensions":{"code":"AUTHENTICATION_ERROR","type":"authentication error"}}]}`, monitor.Down, "Linear refused LINEAR_API_KEY"},
		{"500", 500, `oops`, monitor.Down, "failed to reach Linear"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := check(t, &monitor.Checker{Linear: serve(t, tc.status, tc.body)})
			c := component(t, r, monitor.ComponentLinear)
			require.Equal(t, tc.want, c.Status, c.Message)
			require.Contains(t, c.Message, tc.message)
			require.NotContains(t, c.Message, "lin_api_key")
		})
	}
}

// TestSlackComponent judges Slack by the real client's last send to a fake webhook on loopback.
func TestSlackComponent(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.WriteHeader(status)
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	client, err := slack.New(srv.URL + "/services/T/B/secret")
	require.NoError(t, err)
	setStatus := func(s int) { mu.Lock(); status = s; mu.Unlock() }
	send := func() { _ = client.Send(context.Background(), &goslack.WebhookMessage{Text: "hello"}) }
	slackStatus := func() monitor.Component {
		return component(t, check(t, &monitor.Checker{Slack: client}), monitor.ComponentSlack)
	}

	c := slackStatus()
	require.Equal(t, monitor.Healthy, c.Status)
	require.Equal(t, "configured, nothing sent yet", c.Message)

	send()
	require.Equal(t, monitor.Healthy, slackStatus().Status)

	setStatus(http.StatusInternalServerError)
	send()
	c = slackStatus()
	require.Equal(t, monitor.Degraded, c.Status, c.Message)
	require.Contains(t, c.Message, "retried")
	require.NotContains(t, c.Message, "secret")
	r := check(t, &monitor.Checker{Slack: client})
	require.Equal(t, 98, r.Score, "Slack answering 500 degrades the score: 100 × (93 − 1.5) / 93")

	setStatus(http.StatusNotFound)
	send()
	require.Equal(t, monitor.Down, slackStatus().Status)

	setStatus(http.StatusOK)
	send()
	require.Equal(t, monitor.Healthy, slackStatus().Status)
}

func TestCoreOnly(t *testing.T) {
	t.Parallel()
	srv := ghapptest.New(t)
	srv.HandleFunc("GET /app", func(w http.ResponseWriter, _ *http.Request) {
		ghapptest.JSON(w, http.StatusOK, map[string]any{"id": 1, "slug": "autonomous-ci"})
	})
	c := &monitor.Checker{Engine: newEngine(t), GitHub: fakeClients{url: srv.URL()}}
	r := c.Run(context.Background(), monitor.Options{CoreOnly: true})
	require.Len(t, r.Components, 3)
	require.Equal(t, 100, r.Score)
	require.Empty(t, r.Workflows)
	_, ok := c.Last()
	require.False(t, ok, "a core-only report is not the last full one")
	// Latest does not settle for a core-only report.
	c.Resources = &fakeResources{sample: calm}
	require.Len(t, c.Latest(context.Background(), time.Hour).Components, 8)
	require.Len(t, c.Latest(context.Background(), time.Hour).Components, 8)
	require.Len(t, srv.Calls("GET /app"), 2, "the second Latest used the report of the first")
}

// TestLatestSharesOneCheck: concurrent callers of Latest wait for one check.
func TestLatestSharesOneCheck(t *testing.T) {
	t.Parallel()
	srv := ghapptest.New(t)
	srv.HandleFunc("GET /app", func(w http.ResponseWriter, _ *http.Request) {
		ghapptest.JSON(w, http.StatusOK, map[string]any{"id": 1, "slug": "autonomous-ci"})
	})
	c := &monitor.Checker{Engine: newEngine(t), GitHub: fakeClients{url: srv.URL()}, Resources: &fakeResources{sample: calm}}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			require.Equal(t, 100, c.Latest(context.Background(), time.Hour).Score)
		}()
	}
	wg.Wait()
	require.Len(t, srv.Calls("GET /app"), 1)
}
