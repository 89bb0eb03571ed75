package failureanalysis

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/riverqueue/river"

	"github.com/contexten/autonomous/alerting"
	"github.com/contexten/autonomous/budget"
	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/integrations/codegen"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
)

// AI fixes. The fix flow is part of failure_analysis (its configuration, its parameters
// auto_fix_enabled and create_pr_for_fixes, its failures and excerpts, its sticky comment) but
// runs as its own River kind, ai_fix (FixWorker): an agent run takes minutes to hours and is
// polled with snoozes, which must neither hold the analysis's run lease nor share its
// uniqueness. The analysis decides (guards, budget, one fix per pull request, head commit and
// fingerprint) and enqueues; the ai_fix job starts or resumes the agent run and follows it; the
// fix pull request's own workflow runs come back through the workflow_run webhook to the
// analysis, which verifies the fix, resumes the agent with the new failure or escalates.

// SkipLabel on a pull request turns every automatic action of the bot off for it.
const SkipLabel = "autonomous-ci: skip"

// BudgetAgentRuns counts agent runs per repository per day (auto_fix.daily_budget).
const BudgetAgentRuns budget.Kind = "agent_runs"

// Agent is the AI fix agent (*codegen.Client).
type Agent interface {
	CreateRun(ctx context.Context, in codegen.CreateRunRequest) (*codegen.Run, error)
	GetRun(ctx context.Context, id int64) (*codegen.Run, error)
	ResumeRun(ctx context.Context, id int64, prompt string) (*codegen.Run, error)
	RepoID(ctx context.Context, fullName string) (int64, error)
}

// Alerter raises alerts (alerting.Notifier).
type Alerter interface {
	Raise(ctx context.Context, a alerting.Alert) error
}

// FixStore keeps the fixes (store.Store).
type FixStore interface {
	InsertAIFix(ctx context.Context, f store.AIFix) (bool, error)
	UpdateAIFix(ctx context.Context, f store.AIFix, fromState string, fromAttempts int) (bool, error)
	AIFixByKey(ctx context.Context, key string) (store.AIFix, bool, error)
	AIFixByBranch(ctx context.Context, owner, repo, branch string) (store.AIFix, bool, error)
	AIFixAttempts(ctx context.Context, owner, repo string, number int) (int, error)
	AIFixPausedUntil(ctx context.Context, scope string) (time.Time, error)
	PauseAIFixes(ctx context.Context, scope string, now, until time.Time) (bool, error)
}

// FixBudget counts agent runs (budget.Ledger).
type FixBudget interface {
	Reserve(ctx context.Context, u budget.Use, limits budget.Limits, now time.Time) (bool, time.Time, error)
}

// The states of a fix.
const (
	fixQueued    = "queued"    // the agent run (or its resume) is to be started
	fixRunning   = "running"   // the agent works; polled
	fixPROpen    = "fix_pr"    // the agent opened its fix PR; its CI decides
	fixGreen     = "green"     // the fix PR's CI passed
	fixProposed  = "proposed"  // the agent finished without a PR (create_pr_for_fixes off)
	fixFailed    = "failed"    // the agent failed or was refused
	fixEscalated = "escalated" // the fix PR kept failing: people were told
)

// fixData is a fix's detail, kept as JSON with its row.
type fixData struct {
	InstallationID int64  `json:"installation_id,omitempty"`
	RepoID         int64  `json:"repo_id,omitempty"`
	HeadSHA        string `json:"head_sha"`
	Fingerprint    string `json:"fingerprint"`
	Branch         string `json:"branch"`
	PRURL          string `json:"pr_url,omitempty"`
	RunURL         string `json:"run_url"`
	Workflow       string `json:"workflow"`
	Class          string `json:"class"`
	Job            string `json:"job"`
	Trigger        string `json:"trigger"`
	ProposeOnly    bool   `json:"propose_only,omitempty"`
	MaxAttempts    int    `json:"max_attempts"`
	// Prompt is what the next start or resume sends.
	Prompt     string    `json:"prompt"`
	AgentRunID int64     `json:"agent_run_id,omitempty"`
	RunAttempt int       `json:"run_attempt,omitempty"` // the attempt AgentRunID was started or resumed for
	WebURL     string    `json:"web_url,omitempty"`
	Summary    string    `json:"summary,omitempty"`
	FixPRURL   string    `json:"fix_pr_url,omitempty"`
	FixPRTitle string    `json:"fix_pr_title,omitempty"`
	Polls      int       `json:"polls,omitempty"`
	Started    time.Time `json:"started,omitempty"`
	// Seen are the fix PR's run attempts ("run/attempt") already judged.
	Seen []string `json:"seen,omitempty"`
	// Note is the last thing worth telling (a failure, a refusal, the failed fix CI).
	Note string `json:"note,omitempty"`
	// LastCI links the fix PR's run that decided the state.
	LastCI string `json:"last_ci,omitempty"`
	// Version orders the section's updates (prreport never shows an older one).
	Version int64 `json:"version"`
}

func decodeFix(f store.AIFix) fixData {
	var d fixData
	_ = json.Unmarshal([]byte(f.Data), &d)
	return d
}

func encodeFix(f *store.AIFix, d fixData) {
	raw, _ := json.Marshal(d)
	f.Data = string(raw)
}

// fixKey identifies a fix: one per repository, pull request, head commit and failure.
func fixKey(owner, repo string, number int, sha, fingerprint string) string {
	return fmt.Sprintf("%s/%s#%d@%s:%s", strings.ToLower(owner), strings.ToLower(repo), number, sha, fingerprint)
}

// pauseScope is the agent-wide pause after a 402.
const pauseScope = "codegen"

// fixSettings are the effective switches of one analysis.
func (s *session) fixSettings() (enabled, manual, proposeOnly bool) {
	a := s.args
	enabled = s.repoCfg.AutoFix.Enabled || s.repoCfg.FailureAnalysis.AutoFixEnabled
	if a.AutoFixEnabled != nil {
		enabled = *a.AutoFixEnabled
		// Asked for by a person (`/ci fix`, which checked maintain on forks) or an operator.
		manual = enabled && a.Trigger != "webhook"
	}
	createPR := s.repoCfg.FailureAnalysis.CreatePRForFixes
	if a.CreatePRForFixes != nil {
		createPR = *a.CreatePRForFixes
	}
	return enabled, manual, !createPR
}

// pull returns pull request number, fetched once per execution; nil when GitHub has none.
func (s *session) pull(ctx context.Context, number int) (*github.PullRequest, error) {
	if pr, ok := s.pulls[number]; ok {
		return pr, nil
	}
	// GET /repos/{owner}/{repo}/pulls/{pull_number}
	// https://docs.github.com/en/rest/pulls/pulls#get-a-pull-request
	var pr github.PullRequest
	_, err := ghapp.GetFresh(ctx, s.client, fmt.Sprintf("repos/%s/%s/pulls/%d",
		url.PathEscape(s.args.Owner), url.PathEscape(s.args.Repo), number), nil, &pr)
	var out *github.PullRequest
	switch {
	case ghapp.IsNotFound(err):
	case err != nil:
		return nil, fmt.Errorf("failed to get pull request #%d: %w", number, err)
	default:
		out = &pr
	}
	if s.pulls == nil {
		s.pulls = map[int]*github.PullRequest{}
	}
	s.pulls[number] = out
	return out, nil
}

// hasSkipLabel reports the label that turns the bot off for a pull request.
func hasSkipLabel(pr *github.PullRequest) bool {
	for _, l := range pr.Labels {
		if strings.EqualFold(strings.TrimSpace(l.GetName()), SkipLabel) {
			return true
		}
	}
	return false
}

// withoutSkipped drops the pull requests labelled SkipLabel from an automatic analysis's
// pull requests; asked for by a person or an operator, nothing is dropped.
func (s *session) withoutSkipped(ctx context.Context, prs []int) ([]int, error) {
	if s.args.Trigger != "webhook" || len(prs) == 0 {
		return prs, nil
	}
	var out []int
	for _, n := range prs {
		pr, err := s.pull(ctx, n)
		if err != nil {
			return nil, err
		}
		if pr != nil && hasSkipLabel(pr) {
			s.out.SkippedPRs = append(s.out.SkippedPRs, n)
			continue
		}
		out = append(out, n)
	}
	return out, nil
}

// considerFix runs after a workflow run was analyzed and reported: a run of an agent's fix PR
// verifies that fix; a failure elsewhere may be handed to the agent.
func (s *session) considerFix(ctx context.Context, run *github.WorkflowRun, attempt int, prs []int, failures []failure) error {
	d := s.w.deps
	if d.Fixes == nil {
		return nil
	}
	fix, isFixPR, err := d.Fixes.AIFixByBranch(ctx, s.args.Owner, s.args.Repo, run.GetHeadBranch())
	if err != nil {
		return err
	}
	if isFixPR {
		return s.verifyFix(ctx, fix, run, attempt, failures)
	}
	if s.out.Conclusion == "success" {
		return nil
	}
	enabled, manual, proposeOnly := s.fixSettings()
	if !enabled {
		return nil
	}
	if len(failures) == 0 {
		if !manual {
			return nil
		}
		for _, number := range prs { // asked for: say why nothing happened
			if err := s.fixNotice(ctx, number, run, "No AI fix was started: no failed job with a log was found in this run."); err != nil {
				return err
			}
			s.out.Fix = append(s.out.Fix, fmt.Sprintf("#%d: no failed job", number))
		}
		return nil
	}
	if len(prs) == 0 {
		// No pull request: a failure of the default branch is fixed by a pull request against
		// it; another branch's only when asked.
		def, err := s.defaultBranch(ctx, run)
		if err != nil {
			return err
		}
		if run.GetHeadBranch() != def && !manual || run.GetHeadBranch() == "" {
			return nil
		}
		prs = []int{0}
	}
	for _, number := range prs {
		note, err := s.startFix(ctx, run, number, failures, manual, proposeOnly)
		if err != nil {
			return err
		}
		s.out.Fix = append(s.out.Fix, fmt.Sprintf("#%d: %s", number, note))
	}
	return nil
}

// isAgentPR reports a pull request the agent (or this bot) opened.
func (s *session) isAgentPR(ctx context.Context, pr *github.PullRequest) (bool, error) {
	login := strings.ToLower(pr.GetUser().GetLogin())
	for _, a := range s.repoCfg.AutoFix.AgentAuthors {
		if strings.EqualFold(a, login) {
			return true, nil
		}
	}
	if slug := s.w.deps.AppSlug; slug != "" && login == strings.ToLower(slug)+"[bot]" {
		return true, nil
	}
	ref := pr.GetHead().GetRef()
	for _, p := range s.repoCfg.AutoFix.AgentBranchPrefixes {
		if p != "" && strings.HasPrefix(ref, p) {
			return true, nil
		}
	}
	_, known, err := s.w.deps.Fixes.AIFixByBranch(ctx, s.args.Owner, s.args.Repo, ref)
	return known, err
}

// pickFixable returns the failure to hand to the agent: automatically only a fixable class
// that a re-run does not fix; asked for, the first failure.
func (s *session) pickFixable(failures []failure, manual bool) (failure, bool) {
	for _, f := range failures {
		if manual || (!f.result.Retryable && slices.Contains(s.repoCfg.AutoFix.Classes, string(f.result.Classification))) {
			return f, true
		}
	}
	return failure{}, false
}

// startFix applies the guards and, when they pass, records the fix and enqueues its ai_fix
// job. It returns what it did, for the output.
func (s *session) startFix(ctx context.Context, run *github.WorkflowRun, number int, failures []failure, manual, proposeOnly bool) (string, error) {
	d := s.w.deps
	a := s.args
	cfg := s.repoCfg.AutoFix
	var pr *github.PullRequest
	if number != 0 {
		var err error
		if pr, err = s.pull(ctx, number); err != nil {
			return "", err
		}
		if pr == nil {
			return "pull request not found", nil
		}
		agent, err := s.isAgentPR(ctx, pr)
		if err != nil {
			return "", err
		}
		if agent {
			return "not fixed: the agent's own pull request", nil
		}
		fork := pr.GetHead().GetRepo().GetID() != pr.GetBase().GetRepo().GetID() || fromFork(run)
		if fork && !manual {
			return "refused: fork pull request", s.fixNotice(ctx, number, run,
				"Automatic AI fixes are not started for pull requests from forks. A maintainer can comment `/ci fix` to ask for one.")
		}
	}
	f, ok := s.pickFixable(failures, manual)
	if !ok {
		return "no fixable failure", nil
	}
	if d.Agent == nil {
		return "no AI fix agent is configured", nil
	}
	key := fixKey(a.Owner, a.Repo, number, run.GetHeadSHA(), f.fingerprint)
	if existing, found, err := d.Fixes.AIFixByKey(ctx, key); err != nil {
		return "", err
	} else if found {
		if existing.State == fixQueued && existing.Attempts == 1 {
			return "already handed to the agent", s.enqueueFix(ctx, existing) // an earlier enqueue may have failed
		}
		return "already handed to the agent", nil
	}
	used, err := d.Fixes.AIFixAttempts(ctx, a.Owner, a.Repo, number)
	if err != nil {
		return "", err
	}
	if number != 0 && used >= cfg.Attempts() { // default-branch fixes are bounded by the daily budget
		return "refused: attempts used up", s.fixNotice(ctx, number, run, fmt.Sprintf(
			"No AI fix was started: this pull request had its %d agent attempts (`auto_fix.max_attempts_per_pr`).", cfg.Attempts()))
	}
	now := time.Now()
	if until, err := d.Fixes.AIFixPausedUntil(ctx, pauseScope); err != nil {
		return "", err
	} else if now.Before(until) {
		return "refused: agent runs are paused", s.fixNotice(ctx, number, run, fmt.Sprintf(
			"No AI fix was started: agent runs are paused until %s (the Codegen plan's limit was reached).", until.UTC().Format("2006-01-02 15:04 UTC")))
	}
	if d.Budget != nil {
		ok, freed, err := d.Budget.Reserve(ctx, budget.Use{Kind: BudgetAgentRuns, Key: key, RepoID: run.GetRepository().GetID(), Number: number},
			budget.Limits{PerRepoPerDay: cfg.Daily()}, now)
		if err != nil {
			return "", err
		}
		if !ok {
			return "refused: daily budget used up", s.fixNotice(ctx, number, run, fmt.Sprintf(
				"No AI fix was started: this repository used its %d agent runs of the day (`auto_fix.daily_budget`); the next is possible at %s.",
				cfg.Daily(), freed.UTC().Format("2006-01-02 15:04 UTC")))
		}
	}
	fc := s.fixContext(run, pr, f)
	fc.ProposeOnly = proposeOnly
	data := fixData{
		InstallationID: a.InstallationID, RepoID: run.GetRepository().GetID(), HeadSHA: run.GetHeadSHA(),
		Fingerprint: f.fingerprint, Branch: fc.Branch, PRURL: pr.GetHTMLURL(), RunURL: run.GetHTMLURL(),
		Workflow: run.GetName(), Class: string(f.result.Classification), Job: fc.Job, Trigger: a.Trigger,
		ProposeOnly: proposeOnly, MaxAttempts: cfg.Attempts(), Prompt: codegen.BuildFixPrompt(fc), Version: now.UnixMilli(),
	}
	fix := store.AIFix{Key: key, Owner: a.Owner, Repo: a.Repo, Number: number, State: fixQueued, Attempts: 1}
	encodeFix(&fix, data)
	if _, err := d.Fixes.InsertAIFix(ctx, fix); err != nil {
		return "", err
	}
	if err := s.enqueueFix(ctx, fix); err != nil {
		return "", err
	}
	if number != 0 {
		if err := s.updateComments(ctx, []int{number}, fixSection(fix, data)); err != nil {
			return "", err
		}
	}
	return "handed to the agent", nil
}

// fixContext is the prompt's account of one failure.
func (s *session) fixContext(run *github.WorkflowRun, pr *github.PullRequest, f failure) codegen.FixContext {
	fc := codegen.FixContext{
		Repo: s.args.Owner + "/" + s.args.Repo, Branch: run.GetHeadBranch(), HeadSHA: run.GetHeadSHA(),
		Step: f.result.FailedStep, Class: string(f.result.Classification), FailedTests: f.result.FailedTests,
	}
	if len(f.jobs) > 0 {
		fc.Job = f.jobs[0].Name
	}
	if pr != nil {
		fc.PRURL, fc.Branch = pr.GetHTMLURL(), pr.GetHead().GetRef()
	} else if s.defaultBr != "" && s.defaultBr == run.GetHeadBranch() {
		fc.BaseBranchIfDefault = s.defaultBr
	}
	for _, l := range f.result.Excerpt {
		fc.Excerpt = append(fc.Excerpt, l.Text) // redacted by redactResult; BuildFixPrompt redacts again
	}
	return fc
}

// enqueueFix enqueues the ai_fix job of the fix's current attempt (unique: enqueuing twice adds
// nothing).
func (s *session) enqueueFix(ctx context.Context, fix store.AIFix) error {
	engine, err := workflows.FromContext(ctx)
	if err != nil {
		return err
	}
	var opts *river.InsertOpts
	if d := decodeFix(fix); fix.Number != 0 && d.RepoID != 0 {
		// Tagged with its pull request: `/ci status` lists it and `/ci cancel` stops it.
		opts = &river.InsertOpts{Tags: []string{workflows.PRTag(d.RepoID, fix.Number)}}
	}
	_, err = engine.Enqueue(ctx, FixArgs{Owner: fix.Owner, Repo: fix.Repo, InstallationID: s.args.InstallationID, Key: fix.Key, Attempt: fix.Attempts}, opts)
	return err
}

// fixNotice puts a refusal into the pull request's AI fix section.
func (s *session) fixNotice(ctx context.Context, number int, run *github.WorkflowRun, text string) error {
	if number == 0 {
		return nil
	}
	return s.updateComments(ctx, []int{number}, noticeSection(run, text))
}

// verifyFix judges a run of the agent's fix PR: a pass makes the fix green; a failure resumes
// the agent with the new excerpt, or, when the attempts are used up, escalates.
func (s *session) verifyFix(ctx context.Context, fix store.AIFix, run *github.WorkflowRun, attempt int, failures []failure) error {
	d := decodeFix(fix)
	seen := fmt.Sprintf("%d/%d", run.GetID(), attempt)
	if slices.Contains(d.Seen, seen) {
		if d.LastCI != attemptURL(run, attempt) {
			return nil // judged, and a later run decided since
		}
		// Judged by an execution that may have failed before its effects: redo them, each
		// idempotent (a unique job, a comment created once, the same section).
		return s.fixEffects(ctx, fix, d)
	}
	switch fix.State {
	case fixPROpen, fixGreen:
	default:
		s.out.Fix = append(s.out.Fix, "fix PR run ignored: the fix is "+fix.State)
		return nil
	}
	from, fromAttempts := fix.State, fix.Attempts
	d.Seen = append(d.Seen, seen)
	d.LastCI = attemptURL(run, attempt)
	d.Version = time.Now().UnixMilli()
	switch {
	case s.out.Conclusion == "success":
		if fix.State == fixGreen {
			return nil
		}
		fix.State = fixGreen
		s.out.Fix = append(s.out.Fix, "fix PR CI passed")
	case len(failures) == 0:
		return nil
	case fix.Attempts >= max(d.MaxAttempts, 1):
		fix.State = fixEscalated
		d.Note = fmt.Sprintf("The fix pull request's CI failed after %d agent attempts: %s.", fix.Attempts, failures[0].result.Summary)
		s.out.Fix = append(s.out.Fix, "escalated")
	default:
		f := failures[0]
		fc := s.fixContext(run, nil, f)
		fc.Branch, fc.PRURL, fc.FollowUpOf, fc.BaseBranchIfDefault = run.GetHeadBranch(), d.PRURL, d.FixPRURL, ""
		d.Prompt = codegen.BuildFixPrompt(fc)
		d.Note = fmt.Sprintf("The fix pull request's CI failed (%s): the agent was asked to fix it again.", f.result.Summary)
		fix.State = fixQueued
		fix.Attempts++
		s.out.Fix = append(s.out.Fix, fmt.Sprintf("fix PR CI failed: resuming (attempt %d)", fix.Attempts))
	}
	encodeFix(&fix, d)
	ok, err := s.w.deps.Fixes.UpdateAIFix(ctx, fix, from, fromAttempts)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("AI fix %s changed while it was judged: %w", fix.Key, errFixChanged)
	}
	return s.fixEffects(ctx, fix, d)
}

// fixEffects does what a judged fix state asks for: the next attempt's job, the escalation,
// and the section.
func (s *session) fixEffects(ctx context.Context, fix store.AIFix, d fixData) error {
	switch fix.State {
	case fixQueued:
		if err := s.enqueueFix(ctx, fix); err != nil {
			return err
		}
	case fixEscalated:
		skip, err := s.skipped(ctx, fix.Number)
		if err != nil {
			return err
		}
		if err := escalateFix(ctx, s.w.deps, s.client, fix, d, !skip); err != nil {
			return err
		}
	}
	return s.fixComment(ctx, fix, d)
}

// skipped reports whether pull request number (zero: none) is labelled SkipLabel.
func (s *session) skipped(ctx context.Context, number int) (bool, error) {
	if number == 0 {
		return false, nil
	}
	pr, err := s.pull(ctx, number)
	if err != nil {
		return false, err
	}
	return pr != nil && hasSkipLabel(pr), nil
}

// fixComment updates the original pull request's AI fix section, unless it is labelled skip.
func (s *session) fixComment(ctx context.Context, fix store.AIFix, d fixData) error {
	if fix.Number == 0 {
		return nil
	}
	if skip, err := s.skipped(ctx, fix.Number); err != nil || skip {
		return err
	}
	return s.updateComments(ctx, []int{fix.Number}, fixSection(fix, d))
}

// considerFixAfter runs considerFix once the report is written (reportErr nil); a failed
// report is retried first.
func (s *session) considerFixAfter(ctx context.Context, reportErr error, run *github.WorkflowRun, attempt int, prs []int, failures []failure) error {
	if reportErr != nil {
		return nil
	}
	return s.considerFix(ctx, run, attempt, prs, failures)
}

// defaultBranch returns the repository's default branch: from the run when GitHub included it,
// else from the repository, fetched once.
func (s *session) defaultBranch(ctx context.Context, run *github.WorkflowRun) (string, error) {
	if s.defaultBr == "" {
		s.defaultBr = run.GetRepository().GetDefaultBranch()
	}
	if s.defaultBr == "" {
		// GET /repos/{owner}/{repo}
		// https://docs.github.com/en/rest/repos/repos#get-a-repository
		repo, _, err := s.client.Repositories.Get(ctx, s.args.Owner, s.args.Repo)
		if ghapp.IsNotFound(err) {
			return "", nil // no default branch known: nothing is fixed without a pull request
		}
		if err != nil {
			return "", fmt.Errorf("failed to get repository %s/%s: %w", s.args.Owner, s.args.Repo, err)
		}
		s.defaultBr = repo.GetDefaultBranch()
	}
	return s.defaultBr, nil
}
