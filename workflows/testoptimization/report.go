package testoptimization

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/alerting"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows/testoptimization/flakiness"
	"github.com/contexten/autonomous/workflows/testoptimization/testresults"
)

// Report is the repository's verdicts, the execution's output and what the CLI prints.
type Report struct {
	Repo           string  `json:"repo"`
	LookbackRuns   int     `json:"lookback_runs"`
	FlakyThreshold float64 `json:"flaky_threshold"`
	// RunsAnalyzed is how many collected run attempts the verdicts come from.
	RunsAnalyzed int `json:"runs_analyzed"`
	// Collected lists the run attempts collected by this execution.
	Collected []CollectOut `json:"collected,omitempty"`
	// Flaky are the tests with same-commit evidence (flaky, quarantined or recovered).
	Flaky   []flakiness.TestFlakiness `json:"flaky"`
	Slowest []flakiness.TestDuration  `json:"slowest"`
	Slower  []flakiness.Slowdown      `json:"slower"`
	Suites  []flakiness.SuiteDuration `json:"suites,omitempty"`
	// Changes are the lifecycle transitions this execution made.
	Changes []Change `json:"changes,omitempty"`
	// HealthIssue is the repository's CI health issue, when kept.
	HealthIssue int `json:"health_issue,omitempty"`
	// PR is the /ci flaky answer for a pull request.
	PR *PRFlaky `json:"pr,omitempty"`
	// Skipped says why nothing was judged.
	Skipped string `json:"skipped,omitempty"`
}

// Change is one lifecycle transition of a test.
type Change struct {
	TestID string `json:"test_id"`
	From   string `json:"from"`
	To     string `json:"to"`
}

// judge computes the verdicts over the last lookback run attempts and applies the lifecycle.
func (s *session) judge(ctx context.Context, rep *Report) error {
	a := s.args
	stored, err := s.w.deps.Store.TestResults(ctx, a.Owner, a.Repo, rep.LookbackRuns)
	if err != nil {
		return err
	}
	runs := map[[2]int64]bool{}
	obs := make([]flakiness.Observation, 0, len(stored))
	for _, r := range stored {
		runs[[2]int64{r.Run.RunID, int64(r.Run.Attempt)}] = true
		obs = append(obs, flakiness.Observation{
			Repo: a.Owner + "/" + a.Repo, Workflow: r.Run.Workflow, Job: r.Job, Suite: r.Suite, TestID: r.TestID,
			SHA: r.Run.HeadSHA, RunID: r.Run.RunID, Attempt: r.Run.Attempt, Outcome: testresults.Outcome(r.Outcome),
			Duration: r.Duration, At: r.Run.StartedAt, RunURL: r.Run.HTMLURL,
		})
	}
	rep.RunsAnalyzed = len(runs)
	verdicts := flakiness.Analyze(obs, flakiness.Config{
		LookbackRuns: rep.LookbackRuns, FlakyThreshold: rep.FlakyThreshold, RecoveredAfter: s.cfg.RecoveredAfter,
	})
	for _, v := range verdicts {
		if v.Status != flakiness.Stable {
			rep.Flaky = append(rep.Flaky, v)
		}
	}
	slow := flakiness.Slow(obs, flakiness.SlowConfig{LookbackRuns: rep.LookbackRuns, TopN: max(s.cfg.SlowestTests, 1)})
	rep.Slowest, rep.Slower, rep.Suites = slow.Slowest, slow.Slower, slow.Suites
	if s.cfg.SlowestTests == 0 {
		rep.Slowest = nil
	}
	return s.lifecycle(ctx, rep)
}

// lifecycle compares each flaky verdict with what was remembered and acts on the changes: a
// newly quarantined test raises its issue (alerting escalates to Linear, commenting on an open
// one), a recovered test resolves it (commented and closed).
func (s *session) lifecycle(ctx context.Context, rep *Report) error {
	a := s.args
	known, err := s.w.deps.Store.FlakyTests(ctx, a.Owner, a.Repo)
	if err != nil {
		return err
	}
	for _, v := range rep.Flaky {
		prev, had := known[v.TestID]
		from := "stable"
		if had {
			from = prev.Status
		}
		to := string(v.Status)
		if from == to && had && prev.Rate == v.Rate && prev.Runs == v.Runs {
			continue
		}
		evidence, _ := json.Marshal(v.Evidence)
		if err := s.w.deps.Store.SaveFlakyTest(ctx, store.FlakyTest{
			Owner: a.Owner, Repo: a.Repo, TestID: v.TestID, Status: to, Rate: v.Rate, Runs: v.Runs,
			FlakyRuns: v.FlakyRuns, FirstSeen: v.FirstSeen, LastSeen: v.LastSeen, Evidence: string(evidence),
		}); err != nil {
			return err
		}
		if from == to {
			continue
		}
		rep.Changes = append(rep.Changes, Change{TestID: v.TestID, From: from, To: to})
		if s.w.deps.Alerts == nil {
			continue
		}
		switch {
		case v.Status == flakiness.Quarantined:
			if err := s.w.deps.Alerts.Raise(ctx, s.quarantineAlert(v)); err != nil {
				return fmt.Errorf("failed to raise the quarantine of %s: %w", v.TestID, err)
			}
		case v.Status == flakiness.Recovered && from == string(flakiness.Quarantined):
			text := fmt.Sprintf("%s passed %d runs in a row after its last flip; it is no longer quarantined.", v.TestID, v.CleanRuns)
			if err := s.w.deps.Alerts.Resolve(ctx, fingerprint(a.Owner, a.Repo, v.TestID), text); err != nil {
				return fmt.Errorf("failed to resolve the quarantine of %s: %w", v.TestID, err)
			}
		}
	}
	return nil
}

// fingerprint is the alert (and Linear issue) identity of a test's quarantine.
func fingerprint(owner, repo, testID string) string {
	return "flaky:" + lower(owner+"/"+repo) + ":" + testresults.Fingerprint(testID)
}

func (s *session) quarantineAlert(v flakiness.TestFlakiness) alerting.Alert {
	a := s.args
	al := alerting.Alert{
		Fingerprint: fingerprint(a.Owner, a.Repo, v.TestID),
		Severity:    alerting.Medium,
		Title:       fmt.Sprintf("Flaky test quarantined in %s/%s: %s", a.Owner, a.Repo, v.TestID),
		Text: fmt.Sprintf("%s both failed and passed on the same commit in %d of its last %d runs (%.0f%%, at or above the %.0f%% threshold). "+
			"Its failures are re-run and reported as known flaky until it passes %d runs in a row.",
			v.TestID, v.FlakyRuns, v.Runs, v.Rate*100, s.threshold()*100, s.cfg.RecoveredAfter),
		Fields: []alerting.Field{
			{Name: "Test", Value: v.TestID},
			{Name: "Flake rate", Value: fmt.Sprintf("%.1f%% over %d runs", v.Rate*100, v.Runs)},
			{Name: "First seen", Value: v.FirstSeen.UTC().Format(time.DateOnly)},
			{Name: "Last seen", Value: v.LastSeen.UTC().Format(time.DateOnly)},
		},
		Repo: a.Owner + "/" + a.Repo, Source: "test_optimization", Escalate: true,
	}
	for i, e := range v.Evidence {
		if i == 3 {
			break
		}
		if e.FailedURL != "" {
			al.Links = append(al.Links, alerting.Link{Label: fmt.Sprintf("failed (%s, attempt %d)", short(e.SHA), e.FailedAttempt), URL: e.FailedURL})
		}
		if e.PassedURL != "" {
			al.Links = append(al.Links, alerting.Link{Label: fmt.Sprintf("passed (%s, attempt %d)", short(e.SHA), e.PassedAttempt), URL: e.PassedURL})
		}
	}
	return al
}

func (s *session) threshold() float64 {
	if s.args.HasThreshold {
		return s.args.FlakyThreshold
	}
	return s.cfg.FlakyThreshold
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// backfill collects the repository's recent completed runs (every attempt) that are not
// stored yet, up to lookback run attempts, newest first.
func (s *session) backfill(ctx context.Context, rep *Report) error {
	a := s.args
	have, err := s.w.deps.Store.TestRuns(ctx, a.Owner, a.Repo, rep.LookbackRuns)
	if err != nil {
		return err
	}
	if len(have) >= rep.LookbackRuns {
		return nil
	}
	want := rep.LookbackRuns
	opts := &github.ListWorkflowRunsOptions{Status: "completed", ListOptions: github.ListOptions{PerPage: min(100, want)}}
	seen := 0
	for page := 0; page < 10 && seen < want; page++ {
		// GET /repos/{owner}/{repo}/actions/runs
		// https://docs.github.com/en/rest/actions/workflow-runs#list-workflow-runs-for-a-repository
		list, resp, err := s.client.Actions.ListRepositoryWorkflowRuns(ctx, a.Owner, a.Repo, opts)
		if err != nil {
			return fmt.Errorf("failed to list the workflow runs: %w", err)
		}
		for _, run := range list.WorkflowRuns {
			for attempt := run.GetRunAttempt(); attempt >= 1 && seen < want; attempt-- {
				seen++
				latest := run
				if attempt != run.GetRunAttempt() {
					latest = nil
				}
				out, err := s.collect(ctx, run.GetID(), attempt, latest, false)
				if err != nil {
					return err
				}
				if out.Skipped == "" {
					rep.Collected = append(rep.Collected, out)
				}
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return nil
}
