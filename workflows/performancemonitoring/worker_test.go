package performancemonitoring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/ghapp/ghapptest"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/performancemonitoring/durationstats"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

type harness struct {
	gh     *fakeGitHub
	store  *store.Store
	alerts *fakeAlerts
	worker *Worker
}

func newHarness(t *testing.T, cfg config.RepoConfig) *harness {
	t.Helper()
	return newHarnessOn(t, cfg, workflowstest.SQLiteURL(t))
}

// newHarnessOn is newHarness on the database at url.
func newHarnessOn(t *testing.T, cfg config.RepoConfig, url string) *harness {
	t.Helper()
	h := &harness{gh: newFakeGitHub(t), store: workflowstest.OpenStore(t, url), alerts: &fakeAlerts{}}
	h.worker = NewWorker(Deps{Clients: fakeClients{client: h.gh.client()}, Configs: fakeConfigs{cfg: cfg}, Records: h.store,
		Alerts: h.alerts, HistorySize: 500, CreateSettle: 200 * time.Millisecond})
	return h
}

func defaults() config.RepoConfig { return config.DefaultRepoConfig() }

// check runs one check of args and returns its output.
func (h *harness) check(t *testing.T, args Args) Output {
	t.Helper()
	out, err := h.worker.check(context.Background(), args)
	require.NoError(t, err)
	return out
}

func prArgs(number int) Args {
	return Args{Owner: fakeOwner, Repo: fakeRepo, InstallationID: 5, PullRequest: number, Trigger: TriggerWebhook}
}

// tight is a baseline of 20 runs between 98 and 102 seconds.
func tight() []float64 {
	var s []float64
	for i := range 20 {
		s = append(s, 98+float64(i%5))
	}
	return s
}

// rowFor returns the workflow row (job "") or a job's row.
func rowFor(t *testing.T, out Output, job string) Row {
	t.Helper()
	for _, r := range out.Rows {
		if r.Workflow == "CI" && r.Job == job {
			return r
		}
	}
	t.Fatalf("no row for CI / %q in %+v", job, out.Rows)
	return Row{}
}

func TestPRMuchSlowerThanTightBaselineIsFlagged(t *testing.T) {
	t.Parallel()
	h := newHarness(t, defaults())
	h.gh.baseline(1, tight()...)
	h.gh.pr(12, "feedfacefeedfacefeedfacefeedfacefeedface", 500, 150)

	out := h.check(t, prArgs(12))
	require.Empty(t, out.Skipped)
	require.Equal(t, "main", out.BaselineBranch, "the repository's default branch")
	wf := rowFor(t, out, "")
	require.Equal(t, durationstats.KindRegression, wf.Verdict.Kind, wf.Verdict.Reason)
	require.Equal(t, 20, wf.Verdict.BaselineSamples)
	require.InDelta(t, 50, wf.Verdict.ChangePercent, 1)
	require.Equal(t, durationstats.KindRegression, rowFor(t, out, "test").Verdict.Kind, "the job regressed too")
	require.Equal(t, 5*time.Second, wf.Queue, "queue time is reported apart")
	require.Equal(t, 100*time.Second, wf.Verdict.BaselineP50)
	require.Equal(t, 150*time.Second, wf.Verdict.PRValue, "the run's duration excludes its queue")
	require.Equal(t, 2, out.Summary.Regressions)
	require.Equal(t, []int64{500}, out.JudgedRuns)

	bodies := h.gh.commentBodies()
	require.Len(t, bodies, 1, "one sticky comment")
	require.NotZero(t, out.CommentID)
	body := bodies[0]
	require.Contains(t, body, "CI is slower on this pull request: 2 regressions against main (up to +50%)")
	require.Contains(t, body, "| workflow / job | baseline p50 | this PR | change | why |")
	require.Contains(t, body, "| 🐢 CI | 1m40s | 2m30s | +50% |")
	require.Contains(t, body, "| 🐢 CI / test | 1m40s | 2m30s | +50% |")
	require.Contains(t, out.Report, "### ⏱️ Performance:")
	require.NotContains(t, body, "waited", "a short queue is not worth a word")

	// A PR run that also waited long for a runner: its duration is judged without the wait,
	// which the report mentions apart.
	h.gh.add(fakeRun{ID: 600, WorkflowID: 7, Name: "CI", Branch: "feature", HeadSHA: "0badc0de0badc0de0badc0de0badc0de0badc0de", Event: "pull_request",
		Start: epoch.Add(600 * time.Hour), Queue: 3 * time.Minute, Duration: 300 * time.Second, PRs: []int{13}})
	h.gh.pulls[13] = "0badc0de0badc0de0badc0de0badc0de0badc0de"
	queued := h.check(t, prArgs(13))
	require.Equal(t, 3*time.Minute, rowFor(t, queued, "").Queue)
	require.Equal(t, 300*time.Second, rowFor(t, queued, "").Verdict.PRValue)
	require.Contains(t, queued.Report, "CI also waited 3m0s for a runner (baseline 5s), which is not counted in its duration.")

	var decoded map[string]any
	raw, err := json.Marshal(out)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &decoded))
	require.Equal(t, out.Report, decoded["report"], "the output holds the report")
	require.EqualValues(t, 2, decoded["summary"].(map[string]any)["regressions"])
}

func TestPRWithinNoisyBaselineSpreadIsNotFlagged(t *testing.T) {
	t.Parallel()
	h := newHarness(t, defaults())
	// A noisy baseline: median 100 s, p90 about 150 s.
	h.gh.baseline(1, 60, 70, 80, 90, 95, 100, 100, 105, 110, 140, 150, 160, 70, 130, 100, 85, 115, 155, 65, 100)
	h.gh.pr(12, "feedfacefeedfacefeedfacefeedfacefeedface", 500, 125)

	out := h.check(t, prArgs(12))
	wf := rowFor(t, out, "")
	require.InDelta(t, 25, wf.Verdict.ChangePercent, 1, "25% slower: above the threshold")
	require.Equal(t, durationstats.KindNoChange, wf.Verdict.Kind, wf.Verdict.Reason)
	require.Contains(t, wf.Verdict.Reason, "within the baseline's spread")
	require.Greater(t, wf.Verdict.BaselineP90, 125*time.Second)
	require.Zero(t, out.Summary.Regressions)
	require.Empty(t, h.gh.commentBodies(), "nothing to say: no comment")
	require.Zero(t, h.gh.count("POST /repos/acme/widgets/issues"))
	require.Contains(t, out.Report, "No significant change in CI durations against main")
}

func TestTooFewBaselineSamplesIsNotEnoughData(t *testing.T) {
	t.Parallel()
	h := newHarness(t, defaults())
	h.gh.baseline(1, 100, 101, 99, 100) // 4 < min_samples 5
	h.gh.pr(12, "feedfacefeedfacefeedfacefeedfacefeedface", 500, 300)

	out := h.check(t, prArgs(12))
	wf := rowFor(t, out, "")
	require.Equal(t, durationstats.KindNotEnoughData, wf.Verdict.Kind)
	require.True(t, out.NotEnoughData)
	require.Zero(t, out.Summary.Regressions, "no verdict")
	require.Empty(t, h.gh.commentBodies())
	require.Contains(t, out.Report, "Not enough data to compare CI durations with main")
	require.Contains(t, out.Report, "not enough data, no verdict (the baseline has 4 samples; at least 5 are needed)")
}

func TestPaginationAcrossSeveralPages(t *testing.T) {
	t.Parallel()
	cfg := defaults()
	cfg.PerformanceMonitoring.BaselineRuns = 25
	h := newHarness(t, cfg)
	// 35 baseline runs (the fake pages by 10); the newest 25 are the baseline. Each run's job
	// list has 12 jobs: two pages.
	for i := range 35 {
		id := int64(1 + i)
		var jobs []fakeJob
		for j := range 12 {
			jobs = append(jobs, fakeJob{Name: fmt.Sprintf("shard-%02d", j), Queue: time.Second, Duration: 90 * time.Second})
		}
		h.gh.add(fakeRun{ID: id, WorkflowID: 7, Name: "CI", Branch: "main", HeadSHA: fmt.Sprintf("%040d", id),
			Start: epoch.Add(time.Duration(id) * time.Hour), Queue: time.Second, Duration: 90 * time.Second, Jobs: jobs})
	}
	h.gh.pr(12, "feedfacefeedfacefeedfacefeedfacefeedface", 500, 90)

	out := h.check(t, prArgs(12))
	wf := rowFor(t, out, "")
	require.Equal(t, 25, wf.Verdict.BaselineSamples, "runs from three pages")
	require.Equal(t, durationstats.KindNoChange, wf.Verdict.Kind)
	// The PR's run lists one job ("test"); the baseline's shards are not the PR's jobs.
	require.Equal(t, 25*2, out.Fetch.JobRequests-1, "two pages of jobs per baseline run, one for the PR's run")
	require.Equal(t, 1+3, out.Fetch.RunPages, "one page of the PR's runs, three of the baseline's (it stops when it has 25)")
	// Every shard of every baseline run is recorded.
	got, err := h.store.PerfRunsByID(context.Background(), fakeOwner, fakeRepo, []int64{35})
	require.NoError(t, err)
	require.Len(t, got[[2]int64{35, 1}].Jobs, 12)
}

func TestSecondCheckReusesStoredHistory(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			testSecondCheckReusesStoredHistory(t, db.URL)
		})
	}
}

func testSecondCheckReusesStoredHistory(t *testing.T, url string) {
	h := newHarnessOn(t, defaults(), url)
	h.gh.baseline(1, tight()...)
	h.gh.pr(12, "feedfacefeedfacefeedfacefeedfacefeedface", 500, 101)

	first := h.check(t, prArgs(12))
	firstCalls := len(h.gh.api.Requests())
	require.Equal(t, 21, first.Fetch.JobRequests, "20 baseline runs and the PR's run")
	require.Equal(t, 21, first.Fetch.Recorded)
	n, err := h.store.PerfRunCount(context.Background(), fakeOwner, fakeRepo)
	require.NoError(t, err)
	require.Equal(t, 21, n)

	// A new run of the PR (another workflow run completed): only its jobs are fetched.
	h.gh.pr(12, "feedfacefeedfacefeedfacefeedfacefeedface", 501, 99)
	second := h.check(t, Args{Owner: fakeOwner, Repo: fakeRepo, PullRequest: 12, RunID: 501, Trigger: TriggerWebhook})
	secondCalls := len(h.gh.api.Requests()) - firstCalls
	require.Equal(t, 1, second.Fetch.JobRequests, "only the new run's jobs")
	require.Equal(t, 21, second.Fetch.FromHistory)
	require.Equal(t, firstCalls-20, secondCalls, "the 20 baseline runs' jobs are not asked for again: %d calls against %d", secondCalls, firstCalls)
	require.Equal(t, 2, rowFor(t, second, "").Verdict.PRSamples)
	h.gh.mu.Lock()
	notModified := h.gh.notModified
	h.gh.mu.Unlock()
	require.Equal(t, 2, notModified, "the baseline's two pages of runs were conditional requests answered 304")
}

func TestRerunCancelledAndQueuedRunsAreNotSlowRuns(t *testing.T) {
	t.Parallel()
	h := newHarness(t, defaults())
	h.gh.baseline(1, tight()...)
	sha := "feedfacefeedfacefeedfacefeedfacefeedface"
	h.gh.pr(12, sha, 500)
	// A re-run, a cancelled run and a run that waited 20 minutes for a runner, all "slow".
	h.gh.add(fakeRun{ID: 501, WorkflowID: 7, Name: "CI", Branch: "feature", HeadSHA: sha, Event: "pull_request", Attempt: 2,
		Start: epoch, Queue: 5 * time.Second, Duration: 400 * time.Second})
	h.gh.add(fakeRun{ID: 502, WorkflowID: 7, Name: "CI", Branch: "feature", HeadSHA: sha, Event: "pull_request", Conclusion: "cancelled",
		Start: epoch, Queue: 5 * time.Second, Duration: 400 * time.Second,
		Jobs: []fakeJob{{Name: "test", Queue: 5 * time.Second, Duration: 400 * time.Second, Conclusion: "cancelled"}}})
	h.gh.add(fakeRun{ID: 503, WorkflowID: 7, Name: "CI", Branch: "feature", HeadSHA: sha, Event: "pull_request",
		Start: epoch, Queue: 20 * time.Minute, Duration: 60 * time.Second})
	// A failed run is not compared at all.
	h.gh.add(fakeRun{ID: 504, WorkflowID: 7, Name: "CI", Branch: "feature", HeadSHA: sha, Event: "pull_request", Conclusion: "failure",
		Start: epoch, Queue: 5 * time.Second, Duration: 10 * time.Second})

	out := h.check(t, prArgs(12))
	wf := rowFor(t, out, "")
	require.Equal(t, durationstats.KindNotEnoughData, wf.Verdict.Kind, "no fair PR sample is left")
	require.Equal(t, durationstats.Dropped{Rerun: 1, Cancelled: 1, Queued: 1}, wf.Dropped)
	require.Equal(t, 1, out.FailedRuns)
	require.Zero(t, out.Summary.Regressions)
	require.Contains(t, out.Report, "3 runs left out as not comparable: 1 re-run, 1 cancelled or skipped, 1 queued longer than they ran")
}

func TestSeveralPRSamplesUseMannWhitney(t *testing.T) {
	t.Parallel()
	h := newHarness(t, defaults())
	h.gh.baseline(1, tight()...)
	h.gh.pr(12, "feedfacefeedfacefeedfacefeedfacefeedface", 500, 140, 138, 142)
	out := h.check(t, prArgs(12))
	wf := rowFor(t, out, "")
	require.Equal(t, durationstats.KindRegression, wf.Verdict.Kind)
	require.NotNil(t, wf.Verdict.Test)
	require.Less(t, wf.Verdict.Test.P, 0.05)
}

func TestImprovementIsReported(t *testing.T) {
	t.Parallel()
	h := newHarness(t, defaults())
	h.gh.baseline(1, tight()...)
	h.gh.pr(12, "feedfacefeedfacefeedfacefeedfacefeedface", 500, 60)
	out := h.check(t, prArgs(12))
	require.Equal(t, durationstats.KindImprovement, rowFor(t, out, "").Verdict.Kind)
	require.Equal(t, 2, out.Summary.Improvements)
	bodies := h.gh.commentBodies()
	require.Len(t, bodies, 1)
	require.Contains(t, bodies[0], "CI is faster on this pull request")
	require.Contains(t, bodies[0], "| 🚀 CI | 1m40s | 1m0s | -40% |")
}

// TestSectionIsClearedWhenNothingIsLeftToSay: a reported regression is replaced by the news
// that nothing stands out, in the same comment, once a newer run is back to normal.
func TestSectionIsClearedWhenNothingIsLeftToSay(t *testing.T) {
	t.Parallel()
	h := newHarness(t, defaults())
	h.gh.baseline(1, tight()...)
	h.gh.pr(12, "feedfacefeedfacefeedfacefeedfacefeedface", 500, 150)
	first := h.check(t, prArgs(12))
	require.Equal(t, 2, first.Summary.Regressions)

	h.gh.pr(12, "0badc0de0badc0de0badc0de0badc0de0badc0de", 600, 100)
	second := h.check(t, prArgs(12))
	require.Zero(t, second.Summary.Regressions)
	bodies := h.gh.commentBodies()
	require.Len(t, bodies, 1, "the same sticky comment")
	require.Contains(t, bodies[0], "No significant change in CI durations against main")
	require.NotContains(t, bodies[0], "🐢")
	require.Equal(t, first.CommentID, second.CommentID)
}

func TestBaselineBranchFromParamsConfigAndDefault(t *testing.T) {
	t.Parallel()
	cfg := defaults()
	cfg.PerformanceMonitoring.BaselineBranch = "develop"
	h := newHarness(t, cfg)
	for i, s := range tight() {
		id := int64(1 + i)
		h.gh.add(fakeRun{ID: id, WorkflowID: 7, Name: "CI", Branch: "develop", HeadSHA: fmt.Sprintf("%040d", id),
			Start: epoch.Add(time.Duration(id) * time.Hour), Queue: time.Second, Duration: seconds(s)})
	}
	h.gh.pr(12, "feedfacefeedfacefeedfacefeedfacefeedface", 500, 150)

	out := h.check(t, prArgs(12))
	require.Equal(t, "develop", out.BaselineBranch, "the repository's configuration")
	require.Equal(t, durationstats.KindRegression, rowFor(t, out, "").Verdict.Kind)
	require.Zero(t, h.gh.count("GET /repos/acme/widgets "), "the default branch is not asked for")

	a := prArgs(12)
	a.BaselineBranch = "main" // no runs there
	out = h.check(t, a)
	require.Equal(t, "main", out.BaselineBranch, "the parameter wins")
	require.True(t, out.NotEnoughData)
}

func TestPushToBaselineBranchAlertsOnRegressionAndResolves(t *testing.T) {
	t.Parallel()
	h := newHarness(t, defaults())
	h.gh.baseline(1, tight()...)
	h.gh.baseline(21, 170) // the latest run on main is 70% slower
	push := Args{Owner: fakeOwner, Repo: fakeRepo, Branch: "main", HeadSHA: strings.Repeat("ab", 20), DefaultBranch: "main", Trigger: TriggerPush}

	out := h.check(t, push)
	require.Empty(t, out.Skipped)
	require.Equal(t, []int64{21}, out.JudgedRuns)
	require.Equal(t, durationstats.KindRegression, rowFor(t, out, "").Verdict.Kind)
	fp := Fingerprint(fakeOwner, fakeRepo, 7)
	require.Equal(t, "perf:acme/widgets:7", fp)
	require.Equal(t, []string{fp}, out.Alerts)
	require.Equal(t, []string{fp}, h.alerts.raised)
	require.Contains(t, h.alerts.titles[0], "CI on main of acme/widgets is 70% slower")
	require.Equal(t, []string{"https://github.com/acme/widgets/actions/runs/21"}, h.alerts.links)
	require.Empty(t, h.gh.commentBodies(), "no pull request: no comment")
	require.Contains(t, out.Report, "CI is slower on main's latest runs")
	n, err := h.store.PerfRunCount(context.Background(), fakeOwner, fakeRepo)
	require.NoError(t, err)
	require.Equal(t, 21, n, "the push recorded the branch's runs")

	// Back to normal: the alert is resolved.
	h.gh.baseline(22, 100)
	push.HeadSHA = strings.Repeat("cd", 20)
	out = h.check(t, push)
	require.Equal(t, durationstats.KindNoChange, rowFor(t, out, "").Verdict.Kind)
	require.Equal(t, []string{fp}, out.Resolved)
	require.Equal(t, []string{fp}, h.alerts.resolved)

	// An alerting outage is recorded; the check stands.
	h.alerts.err = errors.New("alerting is down")
	out = h.check(t, push)
	require.Contains(t, out.AlertError, "alerting is down")
}

func TestPushToAnotherBranchIsSkipped(t *testing.T) {
	t.Parallel()
	h := newHarness(t, defaults())
	out := h.check(t, Args{Owner: fakeOwner, Repo: fakeRepo, Branch: "feature", HeadSHA: strings.Repeat("ab", 20), DefaultBranch: "main", Trigger: TriggerPush})
	require.Equal(t, "push to feature, not to the baseline branch main", out.Skipped)
	require.Zero(t, h.gh.count("/actions/runs"))
}

func TestDisabledSkipsAutomaticChecksOnly(t *testing.T) {
	t.Parallel()
	cfg := defaults()
	cfg.PerformanceMonitoring.Enabled = false
	h := newHarness(t, cfg)
	h.gh.baseline(1, tight()...)
	h.gh.pr(12, "feedfacefeedfacefeedfacefeedfacefeedface", 500, 150)
	out := h.check(t, prArgs(12))
	require.Contains(t, out.Skipped, "disabled")
	a := prArgs(12)
	a.Trigger = "comment:77"
	out = h.check(t, a)
	require.Empty(t, out.Skipped, "a person asked")
	require.Equal(t, 2, out.Summary.Regressions)
}

func TestAutoOptimizeSuggestions(t *testing.T) {
	t.Parallel()
	cfg := defaults()
	cfg.PerformanceMonitoring.AutoOptimize = true
	h := newHarness(t, cfg)
	for i := range 10 {
		id := int64(1 + i)
		hit := i%2 == 0
		save := 20 * time.Second
		if hit {
			save = 500 * time.Millisecond
		}
		jobs := []fakeJob{
			{Name: "build", Queue: 2 * time.Second, Duration: 300 * time.Second, Steps: []fakeStep{
				{Name: "Set up job", Duration: 2 * time.Second}, {Name: "Run actions/cache@v4", Duration: 10 * time.Second},
				{Name: "go build ./...", Duration: 60 * time.Second}, {Name: "go test ./...", Duration: 200 * time.Second},
				{Name: "Post Run actions/cache@v4", Duration: save},
			}},
			{Name: "lint", Queue: 5 * time.Minute, Duration: 40 * time.Second, Steps: []fakeStep{{Name: "golangci-lint", Duration: 40 * time.Second}}},
		}
		h.gh.add(fakeRun{ID: id, WorkflowID: 7, Name: "CI", Branch: "main", HeadSHA: fmt.Sprintf("%040d", id),
			Start: epoch.Add(time.Duration(id) * time.Hour), Queue: 2 * time.Second, Duration: 300 * time.Second, Jobs: jobs})
	}
	out := h.check(t, Args{Owner: fakeOwner, Repo: fakeRepo, Trigger: "cli:1"})
	kinds := map[string]Suggestion{}
	for _, s := range out.Suggestions {
		kinds[s.Kind] = s
	}
	require.Len(t, kinds, 3, "%+v", out.Suggestions)
	require.Equal(t, "build", kinds["slowest_steps"].Job)
	require.Contains(t, kinds["slowest_steps"].Text, `"go test ./..." (p50 3m20s, 67%), "go build ./..." (p50 1m0s, 20%)`)
	require.Equal(t, "lint", kinds["queue_bound"].Job)
	require.Contains(t, kinds["queue_bound"].Text, "waits longer for a runner (p50 5m0s) than it runs (p50 40s)")
	require.Equal(t, "build", kinds["unused_cache"].Job)
	require.Contains(t, kinds["unused_cache"].Text, "with a cache hit (p50 5m0s, 5 runs) as without (p50 5m0s, 5 runs)")
	require.Contains(t, out.Report, "**Suggestions**")

	cfg.PerformanceMonitoring.AutoOptimize = false
	h.worker.deps.Configs = fakeConfigs{cfg: cfg}
	require.Empty(t, h.check(t, Args{Owner: fakeOwner, Repo: fakeRepo, Trigger: "cli:2"}).Suggestions)
	on := true
	require.NotEmpty(t, h.check(t, Args{Owner: fakeOwner, Repo: fakeRepo, Trigger: "cli:3", AutoOptimize: &on}).Suggestions, "the parameter wins")
}

// TestUntrustedNamesAreEscaped: a workflow named to break the table or inject a mention is
// rendered as plain text.
func TestUntrustedNamesAreEscaped(t *testing.T) {
	t.Parallel()
	h := newHarness(t, defaults())
	name := "CI | <img src=x> @everyone"
	for i, s := range tight() {
		id := int64(1 + i)
		h.gh.add(fakeRun{ID: id, WorkflowID: 9, Name: name, Branch: "main", HeadSHA: fmt.Sprintf("%040d", id),
			Start: epoch.Add(time.Duration(id) * time.Hour), Duration: seconds(s)})
	}
	h.gh.add(fakeRun{ID: 500, WorkflowID: 9, Name: name, Branch: "feature", HeadSHA: "feedfacefeedfacefeedfacefeedfacefeedface", Event: "pull_request",
		Start: epoch, Duration: 200 * time.Second})
	h.gh.pulls[12] = "feedfacefeedfacefeedfacefeedfacefeedface"
	h.check(t, prArgs(12))
	body := h.gh.commentBodies()[0]
	require.NotContains(t, body, "<img")
	require.NotContains(t, body, "CI | <")
	require.NotContains(t, body, " @everyone")
}

func TestAPIFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		fault  ghapptest.Fault
		cancel bool
		snooze bool
	}{
		{name: "runs 500", fault: ghapptest.Fault{Method: "GET", Path: "/repos/acme/widgets/actions/runs", Status: 500, Body: `{"message":"boom"}`}},
		{name: "runs 401", fault: ghapptest.Fault{Method: "GET", Path: "/repos/acme/widgets/actions/runs", Status: 401, Body: `{"message":"Bad credentials"}`}},
		{name: "runs 403", fault: ghapptest.Fault{Method: "GET", Path: "/repos/acme/widgets/actions/runs", Status: 403, Body: `{"message":"Resource not accessible by integration"}`}},
		{name: "pull request 404", fault: ghapptest.Fault{Method: "GET", Path: "/repos/acme/widgets/pulls/12", Status: 404, Body: `{"message":"Not Found"}`}, cancel: true},
		{name: "jobs 422", fault: ghapptest.Fault{Method: "GET", Path: "/repos/acme/widgets/actions/runs/500/attempts/1/jobs", Status: 422, Body: `{"message":"Validation Failed"}`}, cancel: true},
		{name: "rate limited", fault: ghapptest.Fault{Method: "GET", Path: "/repos/acme/widgets/actions/runs", Status: 429,
			Headers: map[string]string{"Retry-After": "30"}, Body: `{"message":"secondary rate limit"}`}, snooze: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, defaults())
			h.gh.baseline(1, tight()...)
			h.gh.pr(12, "feedfacefeedfacefeedfacefeedfacefeedface", 500, 150)
			h.gh.api.Fail(tc.fault)
			err := h.worker.Work(context.Background(), &river.Job[Args]{JobRow: &rivertype.JobRow{ID: 1, Attempt: 1}, Args: prArgs(12)})
			require.Error(t, err)
			var cancel *river.JobCancelError
			require.Equal(t, tc.cancel, errors.As(err, &cancel), "%v", err)
			var snooze *river.JobSnoozeError
			require.Equal(t, tc.snooze, errors.As(err, &snooze), "%v", err)
			require.Empty(t, h.gh.commentBodies(), "nothing is posted on a failed check")
		})
	}
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, defaults())
		h.gh.baseline(1, tight()...)
		h.gh.pr(12, "feedfacefeedfacefeedfacefeedfacefeedface", 500, 150)
		h.worker.deps.Clients = fakeClients{client: h.gh.api.Client(ghapptest.ClientOptions{Timeout: 100 * time.Millisecond})}
		h.gh.api.Fail(ghapptest.Fault{Method: "GET", Path: "/repos/acme/widgets/actions/runs", Delay: time.Second, Times: 1})
		_, err := h.worker.check(context.Background(), prArgs(12))
		require.Error(t, err)
	})
}

func TestConfigProblemKeepsDefaults(t *testing.T) {
	t.Parallel()
	h := newHarness(t, defaults())
	h.worker.deps.Configs = fakeConfigs{cfg: defaults(), err: errors.New("invalid .github/autonomous.yml: line 2: oops")}
	h.gh.baseline(1, tight()...)
	h.gh.pr(12, "feedfacefeedfacefeedfacefeedfacefeedface", 500, 150)
	out := h.check(t, prArgs(12))
	require.Contains(t, out.ConfigProblem, "oops")
	require.Equal(t, 2, out.Summary.Regressions)
	require.Contains(t, h.gh.commentBodies()[0], "The repository configuration could not be used")

	// GitHub failing to give the configuration fails the check (retried).
	h.worker.deps.Configs = fakeConfigs{err: errors.New("502 from GitHub")}
	_, err := h.worker.check(context.Background(), prArgs(12))
	require.ErrorContains(t, err, "502")
}

// TestPushRedeliveryRunsOnce runs the worker in a real engine: the push handler's job, inserted
// twice (a redelivered webhook), is one execution, which records the branch's runs.
func TestPushRedeliveryRunsOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, defaults())
	h.gh.baseline(1, tight()...)
	workers := river.NewWorkers()
	river.AddWorker(workers, h.worker)
	engine, err := workflows.NewEngine(h.store, workflows.Options{Workers: workers, FetchPollInterval: 10 * time.Millisecond, SoftStopTimeout: 5 * time.Second})
	require.NoError(t, err)
	engine.Register(workflows.PerformanceMonitoring, Build)
	ctx := context.Background()
	require.NoError(t, engine.Start(ctx))
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = engine.Stop(stopCtx)
	})
	push := Args{Owner: fakeOwner, Repo: fakeRepo, InstallationID: 5, Branch: "main", HeadSHA: strings.Repeat("ab", 20), DefaultBranch: "main", Trigger: TriggerPush}
	first, err := engine.Enqueue(ctx, push, nil)
	require.NoError(t, err)
	var x workflows.Execution
	require.Eventually(t, func() bool {
		x, err = engine.Status(ctx, first.ID)
		require.NoError(t, err)
		return x.Terminal()
	}, 20*time.Second, 10*time.Millisecond)
	require.Equal(t, "completed", x.State, "%v", x.Errors)
	var out Output
	require.NoError(t, json.Unmarshal(x.Output, &out))
	require.Equal(t, 20, out.Fetch.Recorded)
	jobCalls := h.gh.count("/jobs")

	again, err := engine.Enqueue(ctx, push, nil)
	require.NoError(t, err)
	require.True(t, again.Duplicate, "a redelivered push adds nothing")
	require.Equal(t, first.ID, again.ID)
	require.Equal(t, jobCalls, h.gh.count("/jobs"))

	// execute performance_monitoring --param baseline_branch=main: the output has the report.
	ins, err := engine.Trigger(ctx, workflows.PerformanceMonitoring, workflows.Repo{Owner: fakeOwner, Name: fakeRepo},
		map[string]any{"baseline_branch": "main"})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		x, err = engine.Status(ctx, ins.ID)
		require.NoError(t, err)
		return x.Terminal()
	}, 20*time.Second, 10*time.Millisecond)
	require.Equal(t, "completed", x.State, "%v", x.Errors)
	require.NoError(t, json.Unmarshal(x.Output, &out))
	require.Contains(t, out.Report, "### ⏱️ Performance: No significant change in CI durations against main")
	require.Equal(t, 20, out.Fetch.FromHistory, "the push's history is reused")
}

// TestForkPullRequestIsFoundByItsHead: a fork's run names no pull request; the check finds it
// by the fork's owner:branch and head commit, and skips when it is gone or moved on.
func TestForkPullRequestIsFoundByItsHead(t *testing.T) {
	t.Parallel()
	h := newHarness(t, defaults())
	h.gh.baseline(1, tight()...)
	sha := "feedfacefeedfacefeedfacefeedfacefeedface"
	h.gh.pr(12, sha, 500, 150)
	h.gh.forkPulls["mallory:feature"] = 12
	fork := Args{Owner: fakeOwner, Repo: fakeRepo, RunID: 500, HeadSHA: sha, ForkHead: "mallory:feature", Trigger: TriggerWebhook}
	out := h.check(t, fork)
	require.Equal(t, 12, out.PullRequest)
	require.Equal(t, 2, out.Summary.Regressions)
	require.Len(t, h.gh.commentBodies(), 1)

	fork.HeadSHA = "0badc0de0badc0de0badc0de0badc0de0badc0de" // pushed to since
	out = h.check(t, fork)
	require.Equal(t, "no open pull request from mallory:feature at 0badc0d", out.Skipped)
}
