package dependencymanagement_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/ghapp/ghapptest"
	dm "github.com/contexten/autonomous/workflows/dependencymanagement"
)

func TestDailyScheduleFansOutToEveryRepository(t *testing.T) {
	h := newHarness(t)
	pyRepo(h)
	h.srv.HandleFunc("GET /app/installations", func(w http.ResponseWriter, r *http.Request) {
		ghapptest.JSON(w, 200, []map[string]any{{"id": 7}, {"id": 8, "suspended_at": "2024-01-01T00:00:00Z"}})
	})
	h.srv.HandleFunc("GET /installation/repositories", func(w http.ResponseWriter, r *http.Request) {
		ghapptest.JSON(w, 200, map[string]any{"total_count": 2, "repositories": []map[string]any{
			{"name": name, "owner": map[string]any{"login": owner}},
			{"name": "old", "owner": map[string]any{"login": owner}, "archived": true},
		}})
	})
	trigger := dm.ScheduleTrigger(time.Date(2026, 12, 2, 13, 0, 0, 0, time.UTC))
	require.Equal(t, "schedule:2026-12-02", trigger)
	out := h.run(t, dm.Args{Trigger: trigger})
	require.Equal(t, 1, out.Enqueued, "one active repository of the one active installation")
	require.Eventually(t, func() bool { return len(h.openPulls()) == 2 }, 30*time.Second, 20*time.Millisecond)

	// The repository's own run of the day is unique: the fan-out again adds nothing.
	ins, err := h.engine.Enqueue(t.Context(), repoArgs(trigger), nil)
	require.NoError(t, err)
	require.True(t, ins.Duplicate)
}

func TestScheduleOffAndDisabledSkip(t *testing.T) {
	h := newHarness(t)
	pyRepo(h)
	h.configure(func(c *config.DependencyManagementConfig) { c.Schedule = "off" })
	out := h.run(t, repoArgs("schedule:2026-12-02"))
	require.Contains(t, out.Skipped, "schedule is off")
	require.Empty(t, h.openPulls())
	out = h.run(t, repoArgs("cli:1")) // asked for explicitly: runs
	require.Empty(t, out.Skipped)
	require.Len(t, h.openPulls(), 2)

	h.configure(func(c *config.DependencyManagementConfig) { c.Enabled = false })
	out = h.run(t, repoArgs("cli:2"))
	require.Contains(t, out.Skipped, "disabled")
}

func TestBuildTakesOnlyGivenParameters(t *testing.T) {
	// The registry's defaults are smart and high.
	p, err := parse(map[string]any{"security_priority": true, "pull_request": 12})
	require.NoError(t, err)
	args, _, err := dm.Build(repo(), p)
	require.NoError(t, err)
	a := args.(dm.Args)
	require.Equal(t, "high", a.SecurityPriority)
	require.Equal(t, 12, a.PullRequest)
	require.Empty(t, a.UpdateStrategy, "not given: the repository's configuration decides")
	require.Nil(t, a.TestBeforeMerge)
}
