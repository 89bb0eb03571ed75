package performancemonitoring

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/alerting"
	"github.com/contexten/autonomous/ghapp/ghapptest"
	"github.com/contexten/autonomous/workflows"
)

func TestBuild(t *testing.T) {
	t.Parallel()
	repo := workflows.Repo{Owner: "acme", Name: "widgets", InstallationID: 5}
	params, err := workflows.ParseParams(workflows.PerformanceMonitoring, map[string]any{})
	require.NoError(t, err)
	args, opts, err := Build(repo, params)
	require.NoError(t, err)
	require.Nil(t, opts)
	require.Equal(t, Args{Owner: "acme", Repo: "widgets", InstallationID: 5}, args, "nothing given: the configuration decides")

	params, err = workflows.ParseParams(workflows.PerformanceMonitoring, map[string]any{
		"baseline_branch": "develop", "alert_threshold_percent": "35", "auto_optimize": "true", "pull_request": "12",
	})
	require.NoError(t, err)
	args, _, err = Build(repo, params)
	require.NoError(t, err)
	a := args.(Args)
	require.Equal(t, "develop", a.BaselineBranch)
	require.Equal(t, 12, a.PullRequest)
	require.InDelta(t, 35, *a.AlertThresholdPercent, 0)
	require.True(t, *a.AutoOptimize)

	for _, bad := range []string{"", "a b", "-x", "x..y~1", "refs:x"} {
		params, err = workflows.ParseParams(workflows.PerformanceMonitoring, map[string]any{"baseline_branch": bad})
		require.NoError(t, err)
		_, _, err = Build(repo, params)
		require.ErrorContains(t, err, "baseline_branch", bad)
	}
	_, err = workflows.ParseParams(workflows.PerformanceMonitoring, map[string]any{"pull_request": "0"})
	require.ErrorContains(t, err, "pull_request")
	_, _, err = Build(workflows.Repo{}, params)
	require.ErrorContains(t, err, "needs a repository")
}

func TestArgs(t *testing.T) {
	t.Parallel()
	require.Equal(t, "performance_monitoring", Args{}.Kind())
	require.True(t, Args{}.InsertOpts().UniqueOpts.ByArgs)
	require.True(t, Args{Trigger: "schedule:1"}.fanOut())
	require.True(t, Args{Owner: "a", Repo: "b", Trigger: "schedule:1"}.automatic())
	require.True(t, Args{Trigger: TriggerPush}.automatic())
	require.False(t, Args{Trigger: "comment:1"}.automatic())
	require.False(t, Args{Trigger: "cli:1"}.automatic())
	day := 24 * time.Hour
	now := time.Date(2026, 3, 4, 15, 4, 5, 0, time.UTC)
	require.Equal(t, "schedule:1772582400", scheduleTrigger(now, day))
	require.Equal(t, scheduleTrigger(now, day), scheduleTrigger(now.Add(8*time.Hour), day), "one trigger per period")
	require.NotEqual(t, scheduleTrigger(now, day), scheduleTrigger(now.Add(9*time.Hour), day))
	require.NotNil(t, Periodic(day))
}

// recordingEnqueuer records the fan-out's scheduled checks.
type recordingEnqueuer struct {
	mu   sync.Mutex
	args []Args
	at   []time.Time
}

func (e *recordingEnqueuer) Enqueue(_ context.Context, args river.JobArgs, opts *river.InsertOpts) (workflows.Inserted, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.args = append(e.args, args.(Args))
	e.at = append(e.at, opts.ScheduledAt)
	return workflows.Inserted{ID: int64(len(e.args))}, nil
}

// TestFanOutSpreadsRepositories: the periodic job schedules one check per repository of each
// active installation, spread evenly over the interval; suspended installations and archived
// repositories are left out.
func TestFanOutSpreadsRepositories(t *testing.T) {
	t.Parallel()
	api := ghapptest.New(t)
	api.HandleFunc("GET /app/installations", func(w http.ResponseWriter, r *http.Request) {
		ghapptest.JSON(w, 200, []map[string]any{
			{"id": 1, "account": map[string]any{"login": "acme"}},
			{"id": 2, "account": map[string]any{"login": "gone"}, "suspended_at": "2026-01-01T00:00:00Z"},
		})
	})
	api.HandleFunc("GET /installation/repositories", func(w http.ResponseWriter, r *http.Request) {
		repo := func(name string, archived bool) map[string]any {
			return map[string]any{"name": name, "full_name": "acme/" + name, "owner": map[string]any{"login": "acme"}, "archived": archived}
		}
		ghapptest.JSON(w, 200, map[string]any{"total_count": 4, "repositories": []map[string]any{
			repo("zeta", false), repo("alpha", false), repo("old", true), repo("mid", false),
		}})
	})
	jobs := &recordingEnqueuer{}
	w := NewWorker(Deps{Clients: fakeClients{client: api.Client(ghapptest.ClientOptions{})}, Interval: 3 * time.Hour, Jobs: jobs})
	before := time.Now()
	out, err := w.fanOut(context.Background(), Args{Trigger: "schedule:99"})
	require.NoError(t, err)
	require.Equal(t, 3, out.Scheduled)
	require.Equal(t, []Args{
		{Owner: "acme", Repo: "alpha", InstallationID: 1, Trigger: "schedule:99"},
		{Owner: "acme", Repo: "mid", InstallationID: 1, Trigger: "schedule:99"},
		{Owner: "acme", Repo: "zeta", InstallationID: 1, Trigger: "schedule:99"},
	}, jobs.args)
	for i, at := range jobs.at {
		want := before.Add(time.Duration(i) * time.Hour)
		require.WithinDuration(t, want, at, time.Minute, "repository %d one hour after the one before", i)
	}
	require.Len(t, api.Calls("GET /installation/repositories"), 1, "the suspended installation is not asked")

	w.deps.Clients = fakeClients{err: errors.New("the GitHub App has no credentials")}
	out, err = w.fanOut(context.Background(), Args{Trigger: "schedule:100"})
	require.NoError(t, err, "an unregistered app has nothing to check")
	require.Contains(t, out.Skipped, "no credentials")
	w.deps.Clients = fakeClients{client: api.Client(ghapptest.ClientOptions{})}

	api.Fail(ghapptest.Fault{Path: "/app/installations", Status: 401, Body: `{"message":"Bad credentials"}`})
	_, err = w.fanOut(context.Background(), Args{Trigger: "schedule:100"})
	require.Error(t, err)
	var ge *github.ErrorResponse
	require.ErrorAs(t, err, &ge)
}

// TestFingerprintIsValidForAlerting: any repository name GitHub allows makes a fingerprint the
// alerting service accepts.
func TestFingerprintIsValidForAlerting(t *testing.T) {
	t.Parallel()
	for _, r := range [][2]string{{"Octo-Org", "Hello.World_v2"}, {"a", "-"}, {"x", strings.Repeat("r", 100)}} {
		fp := Fingerprint(r[0], r[1], 1<<40)
		require.NoError(t, alerting.ValidFingerprint(fp), fp)
	}
}
