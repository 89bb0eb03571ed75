package performancemonitoring

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/contexten/autonomous/alerting"
	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/markdown"
	"github.com/contexten/autonomous/prreport"
	"github.com/contexten/autonomous/recovery"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/performancemonitoring/durationstats"
)

// RepoConfigs loads a repository's configuration (config.RepoConfigLoader).
type RepoConfigs interface {
	Load(ctx context.Context, client *github.Client, owner, repo string) (config.RepoConfig, error)
}

// Records is the history of run timings and the pull requests' reports (store.Store).
type Records interface {
	prreport.Records
	SavePerfRuns(ctx context.Context, runs []store.PerfRun, keep int) error
	PerfRunsByID(ctx context.Context, owner, repo string, runIDs []int64) (map[[2]int64]store.PerfRun, error)
}

// Alerter raises an alert about a regression on the baseline branch and clears it when the
// branch is back to normal (alerting.Notifier).
type Alerter interface {
	Raise(ctx context.Context, a alerting.Alert) error
	Resolve(ctx context.Context, fingerprint, text string) error
}

// Enqueuer inserts the scheduled checks of the fan-out (workflows.Engine); nil takes the engine
// from the job's context.
type Enqueuer interface {
	Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (workflows.Inserted, error)
}

// Deps are the worker's collaborators.
type Deps struct {
	Clients ghapp.Clients
	Configs RepoConfigs
	Records Records
	// Alerts, when set, is told about regressions of the baseline branch (deduplicated by
	// fingerprint); nil sends none.
	Alerts Alerter
	// HistorySize bounds the runs kept per repository (PERFORMANCE_HISTORY_SIZE); zero: 1000.
	HistorySize int
	// Interval is the period of the schedule, over which the fan-out spreads the repositories'
	// checks; zero: a day.
	Interval time.Duration
	// Jobs enqueues the fan-out's checks; nil: the engine in the job's context.
	Jobs Enqueuer
	// CreateSettle is store.Effect.Settle for the sticky comment; zero: the default.
	CreateSettle time.Duration
}

// defaultBaselineRuns is the baseline's size when the configuration says zero.
const defaultBaselineRuns = 20

// Worker runs the performance_monitoring workflow.
type Worker struct {
	river.WorkerDefaults[Args]
	deps Deps
}

// NewWorker creates the worker.
func NewWorker(deps Deps) *Worker {
	if deps.HistorySize <= 0 {
		deps.HistorySize = 1000
	}
	if deps.Interval <= 0 {
		deps.Interval = 24 * time.Hour
	}
	return &Worker{deps: deps}
}

// Output is what one check found, recorded as the job's output; Report is the same as Markdown.
type Output struct {
	Skipped     string `json:"skipped,omitempty"`
	Trigger     string `json:"trigger,omitempty"`
	PullRequest int    `json:"pull_request,omitempty"`
	HeadSHA     string `json:"head_sha,omitempty"`
	// BaselineBranch is the branch compared with; BaselineRuns, ThresholdPercent and MinSamples
	// the settings the verdicts used.
	BaselineBranch   string  `json:"baseline_branch,omitempty"`
	BaselineRuns     int     `json:"baseline_runs,omitempty"`
	ThresholdPercent float64 `json:"threshold_percent,omitempty"`
	MinSamples       int     `json:"min_samples,omitempty"`
	// JudgedRuns are the run ids judged against the baseline.
	JudgedRuns []int64 `json:"judged_runs,omitempty"`
	// FailedRuns are the pull request's runs that failed, which are not compared.
	FailedRuns    int          `json:"failed_runs,omitempty"`
	Summary       Summary      `json:"summary"`
	NotEnoughData bool         `json:"not_enough_data,omitempty"`
	Rows          []Row        `json:"rows,omitempty"`
	Suggestions   []Suggestion `json:"suggestions,omitempty"`
	Fetch         FetchStats   `json:"fetch"`
	CommentID     int64        `json:"comment_id,omitempty"`
	// Alerts are the fingerprints raised; Resolved those cleared.
	Alerts        []string `json:"alerts,omitempty"`
	Resolved      []string `json:"resolved,omitempty"`
	AlertError    string   `json:"alert_error,omitempty"`
	Scheduled     int      `json:"scheduled,omitempty"`
	ConfigProblem string   `json:"config_problem,omitempty"`
	Report        string   `json:"report,omitempty"`
}

// Work implements river.Worker.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	a := job.Args
	logger := zerolog.Ctx(ctx).With().Str(githubapp.LogKeyRepositoryOwner, a.Owner).Str(githubapp.LogKeyRepositoryName, a.Repo).
		Int("pull_request", a.PullRequest).Str("trigger", a.Trigger).Logger()
	ctx = logger.WithContext(ctx)
	var out Output
	var err error
	if a.fanOut() {
		out, err = w.fanOut(ctx, a)
	} else {
		out, err = w.check(ctx, a)
		if err == nil && out.Report == "" {
			out.Report = "### ⏱️ Performance: nothing to compare\n\n" + markdown.Plain(out.Skipped) + "\n"
		}
	}
	if err != nil {
		logger.Warn().Err(err).Str("error_class", string(recovery.Classify(err))).Msg("Performance monitoring failed")
		return recovery.Decide(err)
	}
	if err := river.RecordOutput(ctx, out); err != nil {
		return fmt.Errorf("failed to record output: %w", err)
	}
	logger.Info().Int("regressions", out.Summary.Regressions).Int("improvements", out.Summary.Improvements).
		Str("skipped", out.Skipped).Msg("Performance monitoring done")
	return nil
}

// check judges one repository: a pull request against the baseline branch, or the baseline
// branch's latest runs against their own history.
func (w *Worker) check(ctx context.Context, a Args) (Output, error) {
	out := Output{Trigger: a.Trigger, PullRequest: a.PullRequest}
	client, installationID, err := w.deps.Clients.ForRepo(ctx, a.Owner, a.Repo, a.InstallationID)
	if err != nil {
		return out, err
	}
	a.InstallationID = installationID
	cfg, cfgErr := w.deps.Configs.Load(ctx, client, a.Owner, a.Repo)
	if cfgErr != nil && cfg.PerformanceMonitoring.BaselineRuns == 0 {
		return out, cfgErr // GitHub failed; a parse error comes with the defaults
	}
	pm := cfg.PerformanceMonitoring
	if cfgErr != nil {
		out.ConfigProblem = cfgErr.Error()
		zerolog.Ctx(ctx).Warn().Err(cfgErr).Msg("Repository configuration is invalid; using the defaults")
	}
	if !pm.Enabled && a.automatic() {
		out.Skipped = "performance_monitoring is disabled in " + config.RepoConfigPath
		return out, nil
	}
	if pm.BaselineRuns <= 0 {
		pm.BaselineRuns = defaultBaselineRuns
	}
	if pm.MinSamples <= 0 {
		pm.MinSamples = durationstats.DefaultMinSamples
	}
	if pm.AlertThresholdPercent <= 0 {
		pm.AlertThresholdPercent = durationstats.DefaultThresholdPercent
	}
	if a.AlertThresholdPercent != nil {
		pm.AlertThresholdPercent = *a.AlertThresholdPercent
	}
	if a.AutoOptimize != nil {
		pm.AutoOptimize = *a.AutoOptimize
	}
	baseline := a.BaselineBranch
	if baseline == "" {
		baseline = pm.BaselineBranch
	}
	if baseline == "" {
		baseline = a.DefaultBranch
	}
	if baseline == "" {
		// GET /repos/{owner}/{repo} — https://docs.github.com/rest/repos/repos#get-a-repository
		repo, _, err := client.Repositories.Get(ctx, a.Owner, a.Repo)
		if err != nil {
			return out, fmt.Errorf("failed to get the default branch of %s/%s: %w", a.Owner, a.Repo, err)
		}
		baseline = repo.GetDefaultBranch()
	}
	out.BaselineBranch, out.BaselineRuns, out.MinSamples = baseline, pm.BaselineRuns, pm.MinSamples
	out.ThresholdPercent = pm.AlertThresholdPercent
	if a.Trigger == TriggerPush && a.Branch != baseline {
		out.Skipped = fmt.Sprintf("push to %s, not to the baseline branch %s", a.Branch, baseline)
		return out, nil
	}
	if a.PullRequest == 0 && a.ForkHead != "" {
		number, err := forkPullRequest(ctx, client, a)
		if err != nil {
			return out, err
		}
		if number == 0 {
			out.Skipped = fmt.Sprintf("no open pull request from %s at %s", a.ForkHead, markdown.ShortSHA(a.HeadSHA))
			return out, nil
		}
		a.PullRequest, out.PullRequest = number, number
	}
	s := &session{w: w, args: a, cfg: pm, out: &out, client: client,
		f: &fetcher{client: client, records: w.deps.Records, owner: a.Owner, repo: a.Repo, historySize: w.deps.HistorySize, stats: &out.Fetch}}
	if a.PullRequest > 0 {
		err = s.pullRequest(ctx)
	} else {
		err = s.baselineBranch(ctx)
	}
	if err != nil {
		return out, err
	}
	if out.Skipped == "" {
		out.Report = renderReport(out)
	}
	return out, nil
}

// forkPullRequest finds the open pull request of a fork's run by its head (owner:branch) and
// commit; zero when there is none (closed, or pushed to since).
//
// GitHub API docs: https://docs.github.com/rest/pulls/pulls#list-pull-requests
func forkPullRequest(ctx context.Context, client *github.Client, a Args) (int, error) {
	// GET /repos/{owner}/{repo}/pulls?head={fork owner}:{branch}&state=open
	list, _, err := client.PullRequests.List(ctx, a.Owner, a.Repo, &github.PullRequestListOptions{
		State: "open", Head: a.ForkHead, ListOptions: github.ListOptions{PerPage: 10},
	})
	if err != nil {
		return 0, fmt.Errorf("failed to list pull requests from %s: %w", a.ForkHead, err)
	}
	number := 0
	for _, pr := range list {
		if pr.GetHead().GetSHA() == a.HeadSHA && pr.GetNumber() > 0 && (number == 0 || pr.GetNumber() < number) {
			number = pr.GetNumber()
		}
	}
	return number, nil
}

// session is one check's state.
type session struct {
	w      *Worker
	args   Args
	cfg    config.PerformanceMonitoringConfig
	out    *Output
	client *github.Client
	f      *fetcher
	// latest is the newest judged run's page of each workflow, linked from its alert.
	latest map[int64]string
}

func (s *session) options() durationstats.Options {
	return durationstats.Options{ThresholdPercent: s.cfg.AlertThresholdPercent, MinSamples: s.cfg.MinSamples}
}

// pullRequest judges the runs on the pull request's head commit against the baseline's.
func (s *session) pullRequest(ctx context.Context) error {
	a := s.args
	head := a.HeadSHA
	if head == "" {
		// GET /repos/{owner}/{repo}/pulls/{pull_number} — https://docs.github.com/rest/pulls/pulls#get-a-pull-request
		pr, _, err := s.client.PullRequests.Get(ctx, a.Owner, a.Repo, a.PullRequest)
		if err != nil {
			return fmt.Errorf("failed to get pull request #%d: %w", a.PullRequest, err)
		}
		head = pr.GetHead().GetSHA()
	}
	s.out.HeadSHA = head
	prRuns, err := s.f.listRuns(ctx, listFilter{headSHA: head})
	if err != nil {
		return err
	}
	// Runs of the head commit on the baseline branch itself (the commit was pushed there too)
	// are baseline, not the pull request's.
	// A failed run stops early or late for reasons of its own: only runs that succeeded (and
	// the cancelled or skipped, which durationstats.Fair counts and leaves out) are compared.
	kept := prRuns[:0]
	want := map[int64]bool{}
	for _, r := range prRuns {
		if r.GetHeadBranch() == s.out.BaselineBranch && r.GetEvent() != "pull_request" {
			continue
		}
		switch r.GetConclusion() {
		case "failure", "timed_out", "startup_failure", "action_required":
			s.out.FailedRuns++
			continue
		}
		kept = append(kept, r)
		want[r.GetWorkflowID()] = true
	}
	if len(kept) == 0 {
		s.out.Skipped = fmt.Sprintf("no completed workflow run on the head commit %s yet", markdown.ShortSHA(head))
		return nil
	}
	current, err := s.f.timings(ctx, kept)
	if err != nil {
		return err
	}
	baseRuns, err := s.f.listRuns(ctx, listFilter{branch: s.out.BaselineBranch, perWorkflow: s.cfg.BaselineRuns, want: want})
	if err != nil {
		return err
	}
	baseRuns = newestPerWorkflow(baseRuns, s.cfg.BaselineRuns, want, head)
	baseline, err := s.f.timings(ctx, baseRuns)
	if err != nil {
		return err
	}
	s.judge(baseline, current)
	return s.comment(ctx, current)
}

// baselineBranch judges each workflow's newest successful run on the branch (the pushed commit's
// when it has one) against the runs before it, and alerts on a regression.
func (s *session) baselineBranch(ctx context.Context) error {
	runs, err := s.f.listRuns(ctx, listFilter{branch: s.out.BaselineBranch, perWorkflow: s.cfg.BaselineRuns + 1})
	if err != nil {
		return err
	}
	runs = newestPerWorkflow(runs, s.cfg.BaselineRuns+1, nil, "")
	timed, err := s.f.timings(ctx, runs)
	if err != nil {
		return err
	}
	// Newest first within each workflow: GitHub lists runs newest first.
	sort.SliceStable(timed, func(i, j int) bool { return timed[i].StartedAt.After(timed[j].StartedAt) })
	var current, baseline []store.PerfRun
	taken := map[int64]bool{}
	for _, r := range timed {
		if s.args.HeadSHA != "" && r.HeadSHA == s.args.HeadSHA && !taken[r.WorkflowID] {
			taken[r.WorkflowID] = true
			current = append(current, r)
		}
	}
	for _, r := range timed {
		switch {
		case s.args.HeadSHA != "" && r.HeadSHA == s.args.HeadSHA:
			// the pushed commit's runs: judged (the newest) or neither
		case !taken[r.WorkflowID]:
			taken[r.WorkflowID] = true
			current = append(current, r)
		default:
			baseline = append(baseline, r)
		}
	}
	if len(current) == 0 {
		s.out.Skipped = fmt.Sprintf("no successful workflow run on %s yet", s.out.BaselineBranch)
		return nil
	}
	s.judge(baseline, current)
	s.alert(ctx)
	return nil
}

// newestPerWorkflow keeps at most n runs of each workflow (of want, when given), newest first,
// leaving out the runs of commit skip.
func newestPerWorkflow(runs []*github.WorkflowRun, n int, want map[int64]bool, skip string) []*github.WorkflowRun {
	counts := map[int64]int{}
	var out []*github.WorkflowRun
	for _, r := range runs {
		id := r.GetWorkflowID()
		if (len(want) > 0 && !want[id]) || (skip != "" && r.GetHeadSHA() == skip) || counts[id] >= n {
			continue
		}
		counts[id]++
		out = append(out, r)
	}
	return out
}

func (s *session) judge(baseline, current []store.PerfRun) {
	out := s.out
	s.latest = map[int64]string{}
	newest := map[int64]int64{}
	for _, r := range current {
		out.JudgedRuns = append(out.JudgedRuns, r.RunID)
		if r.RunID > newest[r.WorkflowID] {
			newest[r.WorkflowID], s.latest[r.WorkflowID] = r.RunID, r.HTMLURL
		}
	}
	out.Rows = judge(baseline, current, s.options())
	out.Summary = summarize(out.Rows)
	// "Not enough data" is the answer only when no workflow got a verdict.
	out.NotEnoughData = true
	for _, r := range out.Rows {
		if r.Job == "" && r.Verdict.Kind != durationstats.KindNotEnoughData {
			out.NotEnoughData = false
		}
	}
	if s.cfg.AutoOptimize {
		out.Suggestions = suggest(append(append([]store.PerfRun(nil), baseline...), current...))
	}
}

// comment writes the pull request's section when there is something to say: a regression or an
// improvement (or suggestions asked for). Otherwise a section written before is replaced with
// the news that nothing stands out any more, and no comment is created.
func (s *session) comment(ctx context.Context, current []store.PerfRun) error {
	if !s.cfg.Comment {
		return nil
	}
	var runID int64
	for _, r := range current {
		runID = max(runID, r.RunID)
	}
	say := s.out.Summary.Regressions > 0 || s.out.Summary.Improvements > 0 || len(s.out.Suggestions) > 0
	rep := prreport.Reporter{Client: s.client, Records: s.w.deps.Records, Owner: s.args.Owner, Repo: s.args.Repo,
		CreateSettle: s.w.deps.CreateSettle, ConfigProblem: s.out.ConfigProblem}
	id, err := rep.UpdateComment(ctx, s.args.PullRequest, section(*s.out, runID), !say)
	if err != nil {
		return err
	}
	s.out.CommentID = id
	return nil
}

// Fingerprint is the alert's fingerprint for a workflow of a repository.
func Fingerprint(owner, repo string, workflowID int64) string {
	return "perf:" + strings.ToLower(owner+"/"+repo) + ":" + strconv.FormatInt(workflowID, 10)
}

// alert raises an alert per workflow whose latest run on the baseline branch regressed and
// clears it for a workflow judged normal again. An alerting failure is recorded in the output:
// the check's findings stand.
func (s *session) alert(ctx context.Context) {
	if s.w.deps.Alerts == nil {
		return
	}
	a, out := s.args, s.out
	var errs []error
	for _, r := range out.Rows {
		if r.Job != "" || r.Verdict.Kind == durationstats.KindNotEnoughData {
			continue
		}
		fp := Fingerprint(a.Owner, a.Repo, r.WorkflowID)
		if r.Verdict.Kind != durationstats.KindRegression {
			if err := s.w.deps.Alerts.Resolve(ctx, fp, fmt.Sprintf("%s on %s is back within its usual duration.", r.Workflow, out.BaselineBranch)); err != nil {
				errs = append(errs, err)
				continue
			}
			out.Resolved = append(out.Resolved, fp)
			continue
		}
		fields := []alerting.Field{
			{Name: "baseline p50", Value: roundDuration(r.Verdict.BaselineP50).String()},
			{Name: "baseline p90", Value: roundDuration(r.Verdict.BaselineP90).String()},
			{Name: "latest", Value: roundDuration(r.Verdict.PRValue).String()},
			{Name: "change", Value: fmt.Sprintf("%+.0f%%", r.Verdict.ChangePercent)},
		}
		var slow []string
		for _, j := range out.Rows {
			if j.WorkflowID == r.WorkflowID && j.Job != "" && j.Verdict.Kind == durationstats.KindRegression {
				slow = append(slow, fmt.Sprintf("%s %+.0f%%", j.Job, j.Verdict.ChangePercent))
			}
		}
		if len(slow) > 0 {
			fields = append(fields, alerting.Field{Name: "slower jobs", Value: strings.Join(slow, ", ")})
		}
		alert := alerting.Alert{
			Fingerprint: fp, Severity: alerting.Medium, Source: string(workflows.PerformanceMonitoring),
			Repo:  a.Owner + "/" + a.Repo,
			Title: fmt.Sprintf("%s on %s of %s/%s is %.0f%% slower", r.Workflow, out.BaselineBranch, a.Owner, a.Repo, r.Verdict.ChangePercent),
			Text:  r.Verdict.Reason, Fields: fields,
		}
		if u := s.latest[r.WorkflowID]; strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
			alert.Links = []alerting.Link{{Label: "latest run", URL: u}}
		}
		if err := s.w.deps.Alerts.Raise(ctx, alert); err != nil {
			errs = append(errs, err)
			continue
		}
		out.Alerts = append(out.Alerts, fp)
	}
	if err := errors.Join(errs...); err != nil {
		out.AlertError = err.Error()
		zerolog.Ctx(ctx).Warn().Err(err).Msg("Failed to send a performance alert")
	}
}

// fanOut schedules a check of every repository of every active installation, spread evenly
// over the interval in the order of their names, so that not all repositories are checked (and
// GitHub asked) at once.
func (w *Worker) fanOut(ctx context.Context, a Args) (Output, error) {
	out := Output{Trigger: a.Trigger}
	if _, err := w.deps.Clients.App(); err != nil {
		// Not registered yet (or no key): nothing to check until it is; the next period tries again.
		out.Skipped = "no GitHub App client: " + err.Error()
		return out, nil
	}
	repos, err := w.installedRepos(ctx)
	if err != nil {
		return out, err
	}
	jobs := w.deps.Jobs
	if jobs == nil {
		engine, err := workflows.FromContext(ctx)
		if err != nil {
			return out, err
		}
		jobs = engine
	}
	now := time.Now()
	for i, r := range repos {
		offset := time.Duration(int64(w.deps.Interval) / int64(len(repos)) * int64(i))
		args := Args{Owner: r.Owner, Repo: r.Name, InstallationID: r.InstallationID, Trigger: a.Trigger}
		if _, err := jobs.Enqueue(ctx, args, &river.InsertOpts{ScheduledAt: now.Add(offset)}); err != nil {
			return out, fmt.Errorf("failed to schedule the check of %s: %w", r.FullName(), err)
		}
		out.Scheduled++
	}
	return out, nil
}

// installedRepos lists the repositories of the app's active installations, by name.
func (w *Worker) installedRepos(ctx context.Context) ([]workflows.Repo, error) {
	list, err := ghapp.InstalledRepos(ctx, w.deps.Clients, maxRunPages)
	if err != nil {
		return nil, err
	}
	repos := make([]workflows.Repo, len(list))
	for i, r := range list {
		repos[i] = workflows.Repo{Owner: r.Owner, Name: r.Name, InstallationID: r.InstallationID}
	}
	return repos, nil
}
