package failureanalysis

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/contexten/autonomous/alerting"
	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/integrations/codegen"
	"github.com/contexten/autonomous/markdown"
	"github.com/contexten/autonomous/prreport"
	"github.com/contexten/autonomous/recovery"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
)

// errFixChanged reports a fix another execution changed meanwhile; the job retries.
var errFixChanged = errors.New("concurrent update")

// AgentAuthError is Codegen refusing the token (401/403): retrying cannot help, and the
// recovery manager sees an auth_error.
type AgentAuthError struct{ Err error }

func (e *AgentAuthError) Error() string {
	return "the AI fix agent refused the credentials: " + e.Err.Error()
}

// Unwrap returns the Codegen error.
func (e *AgentAuthError) Unwrap() error { return e.Err }

// RecoveryClass is the recovery manager's class of the error.
func (e *AgentAuthError) RecoveryClass() string { return string(recovery.AuthError) }

// FixArgs identifies one attempt of a fix: its first agent run (attempt 1) or a resume.
type FixArgs struct {
	Owner          string `json:"owner" river:"unique"`
	Repo           string `json:"repo" river:"unique"`
	InstallationID int64  `json:"installation_id,omitempty"`
	Key            string `json:"key" river:"unique"`
	Attempt        int    `json:"attempt" river:"unique"`
}

// Kind implements river.JobArgs.
func (FixArgs) Kind() string { return string(workflows.AIFix) }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (FixArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// FixWorker runs the ai_fix kind: it starts (or resumes) the agent run of a fix and polls it
// with snoozes, backing off, until the agent is done; the sticky comment follows.
type FixWorker struct {
	river.WorkerDefaults[FixArgs]
	deps Deps
}

// NewFixWorker creates the ai_fix worker from the failure_analysis worker's Deps.
func NewFixWorker(deps Deps) *FixWorker {
	if deps.FixPoll <= 0 {
		deps.FixPoll = 15 * time.Second
	}
	if deps.FixPollMax <= 0 {
		deps.FixPollMax = 5 * time.Minute
	}
	if deps.FixRunTimeout <= 0 {
		deps.FixRunTimeout = 3 * time.Hour
	}
	if deps.PlanLimitPause <= 0 {
		deps.PlanLimitPause = time.Hour
	}
	return &FixWorker{deps: deps}
}

// FixOutput is what one ai_fix execution did.
type FixOutput struct {
	State      string `json:"state"`
	AgentRunID int64  `json:"agent_run_id,omitempty"`
	FixPR      string `json:"fix_pr,omitempty"`
	Note       string `json:"note,omitempty"`
}

// Work implements river.Worker.
func (w *FixWorker) Work(ctx context.Context, job *river.Job[FixArgs]) error {
	a := job.Args
	logger := zerolog.Ctx(ctx).With().Str(githubapp.LogKeyRepositoryOwner, a.Owner).Str(githubapp.LogKeyRepositoryName, a.Repo).
		Str("fix", a.Key).Int("fix_attempt", a.Attempt).Logger()
	ctx = logger.WithContext(ctx)
	if w.deps.Fixes == nil || w.deps.Agent == nil {
		return river.JobCancel(errors.New("no AI fix agent is configured"))
	}
	fix, ok, err := w.deps.Fixes.AIFixByKey(ctx, a.Key)
	if err != nil {
		return recovery.Decide(err)
	}
	if !ok || fix.Attempts != a.Attempt {
		logger.Info().Msg("AI fix attempt superseded or unknown; nothing to do")
		return nil
	}
	client, _, err := w.deps.Clients.ForRepo(ctx, a.Owner, a.Repo, a.InstallationID)
	if err != nil {
		return recovery.Decide(err)
	}
	fw := &fixSession{w: w, client: client, fix: fix, data: decodeFix(fix)}
	var snooze time.Duration
	switch fix.State {
	case fixQueued:
		snooze, err = fw.start(ctx)
	case fixRunning:
		if job.Attempt > 1 {
			// Retried after an error (snoozes do not count): the section of the start may
			// not have been written.
			err = fw.comment(ctx)
		}
		if err == nil {
			snooze, err = fw.poll(ctx)
		}
	default:
		// Done: a retry after the state was saved but before the section was written.
		err = fw.comment(ctx)
	}
	if err != nil {
		var unsettled *store.UnsettledError
		var busy *store.BusyError
		var auth *AgentAuthError
		switch {
		case errors.As(err, &unsettled):
			return river.JobSnooze(unsettled.Wait)
		case errors.As(err, &busy):
			return river.JobSnooze(busy.Wait)
		case errors.As(err, &auth):
			logger.Error().Err(err).Msg("The AI fix agent refused the credentials")
			return river.JobCancel(err)
		}
		logger.Warn().Err(err).Msg("AI fix step failed")
		return recovery.Decide(err)
	}
	if snooze > 0 {
		return river.JobSnooze(snooze)
	}
	out := FixOutput{State: fw.fix.State, AgentRunID: fw.data.AgentRunID, FixPR: fw.data.FixPRURL, Note: fw.data.Note}
	if err := river.RecordOutput(ctx, out); err != nil {
		logger.Warn().Err(err).Msg("Could not record the job output")
	}
	logger.Info().Str("state", out.State).Msg("AI fix step done")
	return nil
}

// fixSession is one ai_fix execution's state.
type fixSession struct {
	w      *FixWorker
	client *github.Client
	fix    store.AIFix
	data   fixData
}

// save writes the fix (compare and set on its state and attempts) and updates the section.
func (fs *fixSession) save(ctx context.Context, state string) error {
	from, attempts := fs.fix.State, fs.fix.Attempts
	fs.fix.State = state
	fs.data.Version = time.Now().UnixMilli()
	encodeFix(&fs.fix, fs.data)
	ok, err := fs.w.deps.Fixes.UpdateAIFix(ctx, fs.fix, from, attempts)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("AI fix %s changed meanwhile: %w", fs.fix.Key, errFixChanged)
	}
	return fs.comment(ctx)
}

// comment updates the pull request's AI fix section, unless it is labelled skip.
func (fs *fixSession) comment(ctx context.Context) error {
	if fs.fix.Number == 0 {
		return nil
	}
	// GET /repos/{owner}/{repo}/pulls/{pull_number}
	// https://docs.github.com/en/rest/pulls/pulls#get-a-pull-request
	pr, _, err := fs.client.PullRequests.Get(ctx, fs.fix.Owner, fs.fix.Repo, fs.fix.Number)
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("failed to get pull request #%d: %w", fs.fix.Number, err)
	}
	if pr != nil && hasSkipLabel(pr) {
		return nil
	}
	r := prreport.Reporter{Client: fs.client, Records: fs.w.deps.Records, Owner: fs.fix.Owner, Repo: fs.fix.Repo, CreateSettle: fs.w.deps.CreateSettle}
	_, err = r.UpdateComment(ctx, fs.fix.Number, fixSection(fs.fix, fs.data), false)
	return err
}

func isNotFound(err error) bool {
	var resp *github.ErrorResponse
	return errors.As(err, &resp) && resp.Response != nil && resp.Response.StatusCode == 404
}

// start creates the agent run (attempt 1) or resumes it with the new failure, once: the create
// is recorded before it is sent (store.Store.CreateOnce), so a retry does not start another.
func (fs *fixSession) start(ctx context.Context) (time.Duration, error) {
	d := fs.w.deps
	now := time.Now()
	if until, err := d.Fixes.AIFixPausedUntil(ctx, pauseScope); err != nil {
		return 0, err
	} else if now.Before(until) {
		return until.Sub(now) + time.Second, nil
	}
	var started *codegen.Run
	id, _, err := d.Records.CreateOnce(ctx, store.Effect{
		Key:    fmt.Sprintf("ai-fix:%s:%d", fs.fix.Key, fs.fix.Attempts),
		Settle: d.CreateSettle,
		Find: func(context.Context) (int64, error) {
			if fs.data.RunAttempt == fs.fix.Attempts {
				return fs.data.AgentRunID, nil
			}
			return 0, nil // Codegen cannot be searched by metadata: after the settle time it is created again
		},
		Create: func(ctx context.Context) (int64, error) {
			var err error
			if fs.fix.Attempts > 1 && fs.data.AgentRunID > 0 {
				started, err = d.Agent.ResumeRun(ctx, fs.data.AgentRunID, fs.data.Prompt)
			} else {
				req := codegen.CreateRunRequest{Prompt: fs.data.Prompt, Metadata: map[string]any{
					"source": "autonomous-ci", "repository": fs.fix.Owner + "/" + fs.fix.Repo, "pull_request": fs.fix.Number,
					"head_sha": fs.data.HeadSHA, "fingerprint": fs.data.Fingerprint,
				}}
				if repoID, rerr := d.Agent.RepoID(ctx, fs.fix.Owner+"/"+fs.fix.Repo); rerr == nil {
					req.RepoID = &repoID
				} else if !errors.Is(rerr, codegen.ErrRepoNotFound) {
					return 0, rerr
				}
				started, err = d.Agent.CreateRun(ctx, req)
			}
			if err != nil {
				return 0, err
			}
			return started.ID, nil
		},
	})
	if err != nil {
		return fs.agentFailed(ctx, err)
	}
	fs.data.AgentRunID, fs.data.RunAttempt = id, fs.fix.Attempts
	fs.data.Polls, fs.data.Started = 0, now
	if started != nil && started.WebURL != "" {
		fs.data.WebURL = started.WebURL
	}
	if err := fs.save(ctx, fixRunning); err != nil {
		return 0, err
	}
	return d.FixPoll, nil
}

// poll reads the agent run; until it is done the job snoozes, backing off.
func (fs *fixSession) poll(ctx context.Context) (time.Duration, error) {
	d := fs.w.deps
	run, err := d.Agent.GetRun(ctx, fs.data.AgentRunID)
	if err != nil {
		return fs.agentFailed(ctx, err)
	}
	if run.WebURL != "" {
		fs.data.WebURL = run.WebURL
	}
	switch {
	case run.Status.Succeeded():
		fs.data.Summary = firstNonEmpty(run.Summary, run.Result)
		if pr := latestPR(run.PullRequests); pr != nil && !fs.data.ProposeOnly {
			fs.data.FixPRURL, fs.data.FixPRTitle, fs.fix.FixBranch = pr.URL, pr.Title, pr.HeadBranchName
			if err := fs.save(ctx, fixPROpen); err != nil {
				return 0, err
			}
			return 0, fs.recheckCI(ctx)
		}
		if fs.data.FixPRURL != "" { // a resume that pushed to the PR it opened before
			if err := fs.save(ctx, fixPROpen); err != nil {
				return 0, err
			}
			return 0, fs.recheckCI(ctx)
		}
		return 0, fs.save(ctx, fixProposed)
	case run.Status.Failed():
		fs.data.Note = fmt.Sprintf("The agent run ended with status %s. %s", strings.ToUpper(string(run.Status)), firstNonEmpty(run.Result, run.Summary))
		return 0, fs.save(ctx, fixFailed)
	}
	if time.Since(fs.data.Started) > d.FixRunTimeout {
		fs.data.Note = fmt.Sprintf("The agent run did not finish within %s.", d.FixRunTimeout)
		return 0, fs.save(ctx, fixFailed)
	}
	fs.data.Polls++
	encodeFix(&fs.fix, fs.data)
	if _, err := d.Fixes.UpdateAIFix(ctx, fs.fix, fs.fix.State, fs.fix.Attempts); err != nil {
		return 0, err
	}
	return backoff(d.FixPoll, d.FixPollMax, fs.data.Polls), nil
}

// backoff doubles the poll interval per poll, up to ceiling.
func backoff(base, ceiling time.Duration, polls int) time.Duration {
	wait := base
	for i := 0; i < polls && wait < ceiling; i++ {
		wait *= 2
	}
	return min(wait, ceiling)
}

// agentFailed decides on a Codegen error: a plan limit pauses every agent run and tells people
// once; a rate limit snoozes; refused credentials or a permanent refusal fail the fix; anything
// else is retried.
func (fs *fixSession) agentFailed(ctx context.Context, err error) (time.Duration, error) {
	d := fs.w.deps
	switch {
	case codegen.IsPlanLimit(err):
		now := time.Now()
		until := now.Add(max(d.PlanLimitPause, codegen.RetryAfterOf(err)))
		notify, perr := d.Fixes.PauseAIFixes(ctx, pauseScope, now, until)
		if perr != nil {
			return 0, perr
		}
		if notify && d.Alerts != nil {
			if aerr := d.Alerts.Raise(ctx, alerting.Alert{
				Fingerprint: "codegen:plan_limit", Severity: alerting.High, Source: string(workflows.AIFix),
				Title: "Codegen plan limit reached: AI fixes are paused",
				Text:  fmt.Sprintf("Codegen answered 402 (plan limit). No agent run starts before %s.", until.UTC().Format(time.RFC3339)),
			}); aerr != nil {
				return 0, aerr
			}
		}
		fs.data.Note = fmt.Sprintf("Agent runs are paused until %s: the Codegen plan's limit was reached.", until.UTC().Format("2006-01-02 15:04 UTC"))
		if notify {
			fs.data.Version = now.UnixMilli()
			encodeFix(&fs.fix, fs.data)
			if _, err := d.Fixes.UpdateAIFix(ctx, fs.fix, fs.fix.State, fs.fix.Attempts); err != nil {
				return 0, err
			}
			if err := fs.comment(ctx); err != nil {
				return 0, err
			}
		}
		return until.Sub(now) + time.Second, nil
	case codegen.IsRateLimited(err):
		return max(codegen.RetryAfterOf(err), time.Second), nil
	case codegen.IsAuth(err):
		fs.data.Note = "Codegen refused the credentials (CODEGEN_TOKEN); an operator must fix the configuration."
		if d.Alerts != nil {
			if aerr := d.Alerts.Raise(ctx, alerting.Alert{
				Fingerprint: "codegen:auth_error", Severity: alerting.High, Source: string(workflows.AIFix),
				Title: "Codegen refused the credentials", Text: err.Error(),
			}); aerr != nil {
				return 0, aerr
			}
		}
		if serr := fs.save(ctx, fixFailed); serr != nil {
			return 0, serr
		}
		return 0, &AgentAuthError{Err: err}
	case codegen.IsPermanent(err), errors.Is(err, codegen.ErrInvalidInput):
		var aerr *codegen.APIError
		fs.data.Note = "Codegen refused the agent run."
		if errors.As(err, &aerr) && aerr.Detail != "" {
			fs.data.Note = fmt.Sprintf("Codegen refused the agent run (HTTP %d): %s", aerr.StatusCode, aerr.Detail)
		}
		return 0, fs.save(ctx, fixFailed)
	}
	return 0, err
}

func latestPR(prs []codegen.PullRequest) *codegen.PullRequest {
	for i := len(prs) - 1; i >= 0; i-- {
		if prs[i].URL != "" {
			return &prs[i]
		}
	}
	return nil
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// escalateFix tells people that the agent's fix kept failing: an escalation through Deps.Alerts
// (Slack and Linear) when configured, and a comment on the pull request (unless it is labelled
// SkipLabel: comment false), each once.
func escalateFix(ctx context.Context, d Deps, client *github.Client, fix store.AIFix, data fixData, comment bool) error {
	repo := fix.Owner + "/" + fix.Repo
	if d.Alerts != nil {
		a := alerting.Alert{
			Fingerprint: strings.ToLower(fmt.Sprintf("escalation:ai_fix:%s#%d", repo, fix.Number)),
			Severity:    alerting.High, Source: string(workflows.AIFix), Repo: repo, Escalate: true,
			Title: fmt.Sprintf("AI fix of %s#%d failed %d times", repo, fix.Number, fix.Attempts),
			Text:  data.Note,
		}
		for _, l := range []alerting.Link{{Label: "pull request", URL: data.PRURL}, {Label: "fix pull request", URL: data.FixPRURL}, {Label: "agent run", URL: data.WebURL}, {Label: "failed CI", URL: data.LastCI}} {
			if strings.HasPrefix(l.URL, "https://") || strings.HasPrefix(l.URL, "http://") {
				a.Links = append(a.Links, l)
			}
		}
		// Raised once per fix, however often the escalation is redone.
		_, _, err := d.Records.CreateOnce(ctx, store.Effect{
			Key: "ai-fix-escalation-alert:" + fix.Key, Settle: d.CreateSettle,
			Find: func(context.Context) (int64, error) { return 0, nil },
			Create: func(ctx context.Context) (int64, error) {
				if err := d.Alerts.Raise(ctx, a); err != nil {
					return 0, err
				}
				return 1, nil
			},
		})
		if err != nil {
			return err
		}
	}
	if fix.Number == 0 || !comment {
		return nil
	}
	marker := "<!-- autonomous-ci:ai-fix-escalation " + fix.Key + " -->"
	body := fmt.Sprintf("%s\n### 🚨 The AI fix needs a person\n\nThe agent's fix pull request %s still fails CI after %d attempts (`auto_fix.max_attempts_per_pr`), so the bot stopped trying. %s\n\n- Last failed CI run: %s\n- Agent run: %s\n",
		marker, markdown.Plain(data.FixPRURL), fix.Attempts, markdown.Plain(data.Note), markdown.Plain(data.LastCI), markdown.Plain(data.WebURL))
	_, _, err := d.Records.CreateOnce(ctx, store.Effect{
		Key: "ai-fix-escalation:" + fix.Key, Settle: d.CreateSettle,
		Find: func(ctx context.Context) (int64, error) {
			// GET /repos/{owner}/{repo}/issues/{issue_number}/comments
			// https://docs.github.com/en/rest/issues/comments#list-issue-comments
			list, _, err := client.Issues.ListComments(ctx, fix.Owner, fix.Repo, fix.Number, &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}})
			if err != nil {
				return 0, fmt.Errorf("failed to list comments of #%d: %w", fix.Number, err)
			}
			for _, c := range list {
				if strings.Contains(c.GetBody(), marker) {
					return c.GetID(), nil
				}
			}
			return 0, nil
		},
		Create: func(ctx context.Context) (int64, error) {
			// POST /repos/{owner}/{repo}/issues/{issue_number}/comments
			// https://docs.github.com/en/rest/issues/comments#create-an-issue-comment
			c, _, err := client.Issues.CreateComment(ctx, fix.Owner, fix.Repo, fix.Number, &github.IssueComment{Body: github.String(body)})
			if err != nil {
				return 0, fmt.Errorf("failed to comment the escalation on #%d: %w", fix.Number, err)
			}
			return c.GetID(), nil
		},
	})
	return err
}

// recheckCI has the fix PR's runs that completed while the agent was still working analyzed
// now: their webhooks came before the fix was ready to be judged. Only the newest completed run
// of each workflow on the fix branch since this attempt started counts; runs still going send
// their own webhooks.
func (fs *fixSession) recheckCI(ctx context.Context) error {
	branch := fs.fix.FixBranch
	if branch == "" {
		return nil
	}
	var list github.WorkflowRuns
	// GET /repos/{owner}/{repo}/actions/runs?branch={branch}&status=completed
	// https://docs.github.com/en/rest/actions/workflow-runs#list-workflow-runs-for-a-repository
	_, err := ghapp.GetFresh(ctx, fs.client, fmt.Sprintf("repos/%s/%s/actions/runs", url.PathEscape(fs.fix.Owner), url.PathEscape(fs.fix.Repo)),
		url.Values{"branch": {branch}, "status": {"completed"}, "per_page": {"30"}}, &list)
	if err != nil {
		if isNotFound(err) {
			return nil
		}
		return fmt.Errorf("failed to list the runs of %s: %w", branch, err)
	}
	newest := map[int64]*github.WorkflowRun{}
	// GitHub's timestamps are whole seconds: a run created in the second the attempt started
	// reads as earlier than it unless the start is cut to the second too.
	since := fs.data.Started.Truncate(time.Second)
	for _, r := range list.WorkflowRuns {
		if r.GetHeadBranch() != branch || r.GetStatus() != "completed" || r.GetCreatedAt().Before(since) {
			continue
		}
		cur, ok := newest[r.GetWorkflowID()]
		if !ok || r.GetCreatedAt().After(cur.GetCreatedAt().Time) ||
			r.GetCreatedAt().Equal(cur.GetCreatedAt()) && r.GetID() > cur.GetID() { // run ids only grow
			newest[r.GetWorkflowID()] = r
		}
	}
	if len(newest) == 0 {
		return nil
	}
	engine, err := workflows.FromContext(ctx)
	if err != nil {
		return err
	}
	repo := workflows.Repo{Owner: fs.fix.Owner, Name: fs.fix.Repo, InstallationID: fs.data.InstallationID}
	for _, r := range newest {
		if _, err := engine.Trigger(ctx, workflows.FailureAnalysis, repo,
			map[string]any{"workflow_run_id": r.GetID(), "run_attempt": int64(max(r.GetRunAttempt(), 1))},
			workflows.By(fmt.Sprintf("ai_fix:%d", fs.fix.Attempts))); err != nil {
			return fmt.Errorf("failed to re-check run %d of the fix: %w", r.GetID(), err)
		}
	}
	return nil
}
