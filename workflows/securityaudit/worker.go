package securityaudit

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
	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/ghapp/botpr"
	"github.com/contexten/autonomous/prreport"
	"github.com/contexten/autonomous/recovery"
	"github.com/contexten/autonomous/workflows/securityaudit/workflowaudit"
)

// RepoConfigs loads a repository's configuration (config.RepoConfigLoader).
type RepoConfigs interface {
	Load(ctx context.Context, client *github.Client, owner, repo string) (config.RepoConfig, error)
}

// Alerter raises and clears alerts (alerting.Notifier).
type Alerter interface {
	Raise(ctx context.Context, a alerting.Alert) error
	Resolve(ctx context.Context, fingerprint, text string) error
}

// Deps are the worker's collaborators.
type Deps struct {
	Clients ghapp.Clients
	Configs RepoConfigs
	// Records keeps the check run's and the sticky comment's ids (store.Store).
	Records prreport.Records
	// OSV answers dependency advisories; nil skips the dependency audit.
	OSV OSV
	// Alerts is told about critical findings on the default branch; nil skips alerting.
	Alerts Alerter
	// CreateSettle is how long a create whose answer was lost may still land on GitHub.
	CreateSettle time.Duration
}

// Worker runs the security_audit workflow.
type Worker struct {
	river.WorkerDefaults[Args]
	deps Deps
}

// NewWorker creates the worker.
func NewWorker(deps Deps) *Worker { return &Worker{deps: deps} }

// Output is what one execution did, recorded as the job's output.
type Output struct {
	Skipped     string `json:"skipped,omitempty"`
	SHA         string `json:"sha,omitempty"`
	PullRequest int    `json:"pull_request,omitempty"`
	Conclusion  string `json:"conclusion,omitempty"`
	// Findings are those reported (on a pull request: the ones it introduces), the first
	// maxOutputFindings of them (worst first); FindingCount counts them all.
	Findings     []Finding `json:"findings,omitempty"`
	FindingCount int       `json:"finding_count"`
	// Existing counts a pull request's findings already on its base.
	Existing   int      `json:"existing,omitempty"`
	Queried    int      `json:"queried,omitempty"`
	CheckRunID int64    `json:"check_run_id,omitempty"`
	CommentID  int64    `json:"comment_id,omitempty"`
	FixPR      *FixOut  `json:"fix_pr,omitempty"`
	Alerted    bool     `json:"alerted,omitempty"`
	Problems   []string `json:"problems,omitempty"`
	// Report is the check run's title and summary in Markdown, which `autonomous execute
	// --wait` prints.
	Report string `json:"report,omitempty"`
}

// FixOut is what happened to the fix pull request.
type FixOut struct {
	Number int    `json:"number,omitempty"`
	URL    string `json:"url,omitempty"`
	Action string `json:"action"`
	Note   string `json:"note,omitempty"`
}

// maxOutputFindings bounds the findings kept in the job's output; the check run has them all.
const maxOutputFindings = 200

// report is the audit's result as the check run and the comment show it.
type report struct {
	sha, baseSHA         string
	pr                   int
	failOn               workflowaudit.Severity
	workflows, manifests int
	queried              int
	osvSkipped           string
	shown                []Finding
	existing             int
	fix                  string
	problems             []string
}

// Work implements river.Worker.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	a := job.Args
	logger := zerolog.Ctx(ctx).With().Str(githubapp.LogKeyRepositoryOwner, a.Owner).Str(githubapp.LogKeyRepositoryName, a.Repo).
		Int(githubapp.LogKeyPRNum, a.PullRequest).Logger()
	ctx = logger.WithContext(ctx)
	out, err := w.work(ctx, a, job.CreatedAt)
	if err != nil {
		logger.Warn().Err(err).Str("error_class", string(recovery.Classify(err))).Msg("Security audit failed")
		return recovery.Decide(err)
	}
	if err := river.RecordOutput(ctx, out); err != nil {
		return fmt.Errorf("failed to record output: %w", err)
	}
	logger.Info().Int("findings", out.FindingCount).Str("conclusion", out.Conclusion).Str("skipped", out.Skipped).Msg("Security audit done")
	return nil
}

// target is what one audit looks at.
type target struct {
	sha, baseSHA  string
	defaultBranch string
	onDefault     bool // sha is the default branch's head
	public        bool
}

func (w *Worker) work(ctx context.Context, a Args, created time.Time) (Output, error) {
	if a.Owner == "" || a.Repo == "" {
		return Output{}, river.JobCancel(errors.New("security_audit needs a repository"))
	}
	client, installationID, err := w.deps.Clients.ForRepo(ctx, a.Owner, a.Repo, a.InstallationID)
	if err != nil {
		return Output{}, err
	}
	a.InstallationID = installationID
	out := Output{PullRequest: a.PullRequest}
	cfg := config.DefaultRepoConfig()
	var configProblem string
	if w.deps.Configs != nil {
		loaded, cfgErr := w.deps.Configs.Load(ctx, client, a.Owner, a.Repo)
		if cfgErr != nil && loaded.FailureAnalysis.LogBytesLimit == 0 {
			return Output{}, cfgErr // GitHub failed; a parse error comes with the defaults
		}
		cfg = loaded
		if cfgErr != nil {
			configProblem = cfgErr.Error()
			out.Problems = append(out.Problems, configProblem)
		}
	}
	sa := cfg.SecurityAudit
	automatic := a.Trigger == "push" || a.Trigger == "pull_request" || strings.HasPrefix(a.Trigger, "schedule")
	if !sa.Enabled && automatic {
		out.Skipped = "security_audit is disabled in " + config.RepoConfigPath
		return out, nil
	}
	failOn := workflowaudit.Severity(sa.FailOn)
	if failOn == "" {
		failOn = workflowaudit.SeverityHigh
	}
	if a.FailOn != "" {
		failOn = workflowaudit.Severity(a.FailOn)
	}
	if failOn.Rank() == 0 {
		return Output{}, river.JobCancel(fmt.Errorf("fail_on %q is not a severity", a.FailOn))
	}

	t, skip, err := w.resolveTarget(ctx, client, a)
	if err != nil {
		return Output{}, err
	}
	if skip != "" {
		out.Skipped = skip
		return out, nil
	}
	out.SHA = t.sha
	opts := workflowaudit.Options{Disabled: sa.IgnoreRules, PinFirstParty: sa.PinFirstParty, PublicRepo: t.public}
	head, err := read(ctx, client, a.Owner, a.Repo, t.sha, sa.IgnoresPath)
	if err != nil {
		return Output{}, err
	}
	r := &report{sha: t.sha, baseSHA: t.baseSHA, pr: a.PullRequest, failOn: failOn}
	findings, err := w.audit(ctx, head, sa, opts, r)
	if err != nil {
		return Output{}, err
	}
	for p := range head.Files {
		if isWorkflow(p) {
			r.workflows++
		} else {
			r.manifests++
		}
	}
	r.shown = findings
	if a.PullRequest > 0 {
		base, err := read(ctx, client, a.Owner, a.Repo, t.baseSHA, sa.IgnoresPath)
		if err != nil {
			return Output{}, err
		}
		baseReport := &report{}
		baseFindings, err := w.audit(ctx, base, sa, opts, baseReport)
		if err != nil {
			return Output{}, err
		}
		r.shown = introduced(findings, head.Files, baseFindings, base.Files)
		r.existing = len(findings) - len(r.shown)
	}
	sortFindings(r.shown)
	out.Findings, out.FindingCount, out.Existing, out.Queried = r.shown[:min(len(r.shown), maxOutputFindings)], len(r.shown), r.existing, r.queried
	out.Conclusion = conclusion(r.shown, failOn)

	if t.onDefault && a.PullRequest == 0 && sa.FixPR {
		fix, err := w.fixPR(ctx, client, a, t, head, findings, opts)
		if err != nil {
			return Output{}, err
		}
		out.FixPR = fix
		r.fix = fixLine(fix)
	}
	r.problems = append(r.problems, out.Problems...)
	out.Problems = r.problems
	out.Report = "### 🛡️ Security audit: " + title(r.shown, a.PullRequest > 0) + "\n\n" + summary(r)

	rep := prreport.Reporter{Client: client, Records: w.deps.Records, Owner: a.Owner, Repo: a.Repo,
		CreateSettle: w.deps.CreateSettle, ConfigProblem: configProblem}
	checkKey := fmt.Sprintf("%s/%s:%s", a.Owner, a.Repo, t.sha)
	if a.PullRequest > 0 {
		checkKey += fmt.Sprintf(":pr%d", a.PullRequest)
	}
	out.CheckRunID, err = rep.UpsertCheckRun(ctx, prreport.CheckRun{
		Name: CheckRunName, HeadSHA: t.sha, ExternalID: "autonomous-ci:security-audit:" + checkKey,
		Key: "check-run:security-audit:" + checkKey, Conclusion: out.Conclusion,
		Title: title(r.shown, a.PullRequest > 0), Summary: summary(r), Annotations: annotations(r.shown, failOn),
	})
	if err != nil {
		return Output{}, err
	}
	if a.PullRequest > 0 {
		link := fmt.Sprintf("https://github.com/%s/%s/runs/%d", url.PathEscape(a.Owner), url.PathEscape(a.Repo), out.CheckRunID)
		sec := section(r, link, created.UnixNano())
		if out.CommentID, err = rep.UpdateComment(ctx, a.PullRequest, sec, sec.Passed); err != nil {
			return Output{}, err
		}
	}
	if t.onDefault && a.PullRequest == 0 && w.deps.Alerts != nil {
		if out.Alerted, err = w.alert(ctx, a, t, r.shown, out.CheckRunID); err != nil {
			return Output{}, err
		}
	}
	return out, nil
}

// audit runs the workflow auditor and, when configured, the dependency audit on s.
func (w *Worker) audit(ctx context.Context, s *snapshot, sa config.SecurityAuditConfig, opts workflowaudit.Options, r *report) ([]Finding, error) {
	findings, problems := auditWorkflows(s, opts)
	r.problems = append(r.problems, problems...)
	r.problems = append(r.problems, s.Skipped...)
	if s.Truncated {
		r.problems = append(r.problems, "GitHub listed only part of the repository's files; the rest was not audited")
	}
	switch {
	case !sa.Dependencies:
		r.osvSkipped = "security_audit.dependencies is off"
	case w.deps.OSV == nil:
		r.osvSkipped = "no OSV client is configured"
	default:
		deps, queried, problems, err := auditDependencies(ctx, w.deps.OSV, s, sa)
		if err != nil {
			return nil, err
		}
		r.queried = queried
		r.problems = append(r.problems, problems...)
		findings = append(findings, deps...)
	}
	disabled := map[string]bool{}
	for _, id := range opts.Disabled {
		disabled[strings.TrimSpace(id)] = true
	}
	kept := findings[:0]
	for _, f := range findings {
		if !disabled[f.RuleID] {
			kept = append(kept, f)
		}
	}
	return kept, nil
}

// resolveTarget reads the repository (default branch, visibility) and the commit to audit; a
// non-empty skip says why there is nothing to do.
//
// GET /repos/{owner}/{repo}
// https://docs.github.com/en/rest/repos/repos#get-a-repository
// GET /repos/{owner}/{repo}/pulls/{pull_number}
// https://docs.github.com/en/rest/pulls/pulls#get-a-pull-request
func (w *Worker) resolveTarget(ctx context.Context, gh *github.Client, a Args) (target, string, error) {
	var repo github.Repository
	if _, err := ghapp.GetFresh(ctx, gh, fmt.Sprintf("repos/%s/%s", url.PathEscape(a.Owner), url.PathEscape(a.Repo)), nil, &repo); err != nil {
		return target{}, "", fmt.Errorf("failed to read %s/%s: %w", a.Owner, a.Repo, err)
	}
	t := target{defaultBranch: repo.GetDefaultBranch(), public: !repo.GetPrivate()}
	if t.defaultBranch == "" {
		return target{}, "", fmt.Errorf("%s/%s has no default branch", a.Owner, a.Repo)
	}
	if repo.GetArchived() {
		return t, "the repository is archived", nil
	}
	headOfDefault, err := branchHead(ctx, gh, a.Owner, a.Repo, t.defaultBranch)
	if err != nil {
		return target{}, "", err
	}
	if a.PullRequest > 0 {
		var pr github.PullRequest
		if _, err := ghapp.GetFresh(ctx, gh, fmt.Sprintf("repos/%s/%s/pulls/%d", url.PathEscape(a.Owner), url.PathEscape(a.Repo), a.PullRequest), nil, &pr); err != nil {
			return target{}, "", fmt.Errorf("failed to read pull request #%d: %w", a.PullRequest, err)
		}
		if pr.GetState() != "open" {
			return t, fmt.Sprintf("pull request #%d is %s", a.PullRequest, pr.GetState()), nil
		}
		t.sha, t.baseSHA = pr.GetHead().GetSHA(), pr.GetBase().GetSHA()
		if t.sha == "" || t.baseSHA == "" {
			return target{}, "", fmt.Errorf("pull request #%d: GitHub named no head or base commit", a.PullRequest)
		}
		if a.SHA != "" && a.SHA != t.sha {
			return t, fmt.Sprintf("pull request #%d moved on from %s; its newer head gets its own audit", a.PullRequest, short(a.SHA)), nil
		}
		if a.CheckChanges {
			touches, err := touchesAudited(ctx, gh, a.Owner, a.Repo, a.PullRequest)
			if err != nil {
				return target{}, "", err
			}
			if !touches {
				return t, fmt.Sprintf("pull request #%d changes no workflow file or manifest", a.PullRequest), nil
			}
		}
		return t, "", nil
	}
	t.sha = a.SHA
	if t.sha == "" {
		t.sha = headOfDefault
	}
	t.onDefault = t.sha == headOfDefault
	return t, "", nil
}

// branchHead reads a branch's head commit bypassing the cache.
//
// GET /repos/{owner}/{repo}/git/ref/heads/{branch}
// https://docs.github.com/en/rest/git/refs#get-a-reference
func branchHead(ctx context.Context, gh *github.Client, owner, repo, branch string) (string, error) {
	segs := strings.Split(branch, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	var ref github.Reference
	if _, err := ghapp.GetFresh(ctx, gh, fmt.Sprintf("repos/%s/%s/git/ref/heads/%s", url.PathEscape(owner), url.PathEscape(repo), strings.Join(segs, "/")), nil, &ref); err != nil {
		return "", fmt.Errorf("failed to read branch %s of %s/%s: %w", branch, owner, repo, err)
	}
	return ref.GetObject().GetSHA(), nil
}

// maxFilePages bounds the pages of a pull request's files read (GitHub lists up to 3000).
const maxFilePages = 30

// touchesAudited reports whether the pull request changes a workflow file or a manifest.
//
// GET /repos/{owner}/{repo}/pulls/{pull_number}/files
// https://docs.github.com/en/rest/pulls/pulls#list-pull-requests-files
func touchesAudited(ctx context.Context, gh *github.Client, owner, repo string, number int) (bool, error) {
	found := false
	path := fmt.Sprintf("repos/%s/%s/pulls/%d/files", url.PathEscape(owner), url.PathEscape(repo), number)
	err := ghapp.EachFresh(ctx, gh, path, nil, maxFilePages, func(page []*github.CommitFile) bool {
		for _, f := range page {
			if audited(f.GetFilename()) || audited(f.GetPreviousFilename()) {
				found = true
			}
		}
		return found
	})
	if err != nil {
		return false, fmt.Errorf("failed to list the files of pull request #%d: %w", number, err)
	}
	return found, nil
}

// fixPR opens, updates or closes the fix pull request for the default branch's findings.
func (w *Worker) fixPR(ctx context.Context, gh *github.Client, a Args, t target, head *snapshot, findings []Finding, opts workflowaudit.Options) (*FixOut, error) {
	tags := &tagResolver{gh: gh, cache: map[string]string{}}
	var fixed []fixedFile
	mechanical := 0
	paths := map[string]bool{}
	for _, f := range findings {
		if isWorkflow(f.File) {
			paths[f.File] = true
		}
	}
	for p := range paths {
		ff, err := fixFile(ctx, tags, p, head.Files[p], findings, opts)
		if err != nil {
			return nil, err
		}
		if len(ff.Changes) > 0 {
			fixed = append(fixed, ff)
			mechanical += len(ff.Changes)
		}
	}
	req, ok := fixRequest(a.Owner, a.Repo, t.defaultBranch, fixed, max(len(findings)-mechanical, 0))
	if !ok {
		return w.closeFix(ctx, gh, a, t, "no finding of "+t.defaultBranch+" has a mechanical fix any more")
	}
	res, err := botpr.Ensure(ctx, gh, req)
	var human *botpr.HumanEditedError
	switch {
	case errors.As(err, &human):
		return &FixOut{Action: "left_alone", Note: human.Error()}, nil
	case errors.Is(err, botpr.ErrNoChanges):
		return w.closeFix(ctx, gh, a, t, "the fixes are on "+t.defaultBranch+" already")
	case err != nil:
		return nil, err
	}
	return &FixOut{Number: res.Number, URL: res.URL, Action: string(res.Action)}, nil
}

// closeFix closes the bot's open fix pull request, if any, saying why.
func (w *Worker) closeFix(ctx context.Context, gh *github.Client, a Args, t target, why string) (*FixOut, error) {
	pr, found, err := botpr.Find(ctx, gh, a.Owner, a.Repo, FixBranch)
	if err != nil || !found {
		return nil, err
	}
	// A person's commit on the branch is theirs to close.
	// GET /repos/{owner}/{repo}/git/commits/{commit_sha}
	// https://docs.github.com/en/rest/git/commits#get-a-commit-object
	head, _, err := gh.Git.GetCommit(ctx, a.Owner, a.Repo, pr.GetHead().GetSHA())
	if err != nil {
		return nil, fmt.Errorf("failed to read the head of pull request #%d: %w", pr.GetNumber(), err)
	}
	if !botpr.IsBotCommit(head, FixBranch, "") {
		return &FixOut{Number: pr.GetNumber(), URL: pr.GetHTMLURL(), Action: "left_alone", Note: "its branch has a commit by a person"}, nil
	}
	if err := botpr.Close(ctx, gh, a.Owner, a.Repo, pr.GetNumber(), fmt.Sprintf("Closing: %s (audit of %s).", why, short(t.sha))); err != nil {
		return nil, err
	}
	return &FixOut{Number: pr.GetNumber(), URL: pr.GetHTMLURL(), Action: "closed", Note: why}, nil
}

func fixLine(f *FixOut) string {
	switch {
	case f == nil:
		return ""
	case f.Action == "left_alone":
		return "The fix pull request's branch has a commit by a person; the bot left it alone."
	case f.Action == "closed":
		return fmt.Sprintf("The fix pull request #%d was closed: %s.", f.Number, f.Note)
	}
	return fmt.Sprintf("The mechanical fixes are in pull request #%d (%s).", f.Number, f.Action)
}

// alert raises the repository's alert for critical findings on the default branch, or
// resolves it when there are none.
func (w *Worker) alert(ctx context.Context, a Args, t target, fs []Finding, checkRunID int64) (bool, error) {
	fingerprint := strings.ToLower(fmt.Sprintf("security:%s/%s:critical", a.Owner, a.Repo))
	var critical []Finding
	for _, f := range fs {
		if f.Severity == workflowaudit.SeverityCritical {
			critical = append(critical, f)
		}
	}
	if len(critical) == 0 {
		if err := w.deps.Alerts.Resolve(ctx, fingerprint, fmt.Sprintf("No critical security finding on %s any more.", t.defaultBranch)); err != nil {
			return false, fmt.Errorf("failed to resolve the security alert: %w", err)
		}
		return false, nil
	}
	var fields []alerting.Field
	for i, f := range critical {
		if i == 5 {
			break
		}
		fields = append(fields, alerting.Field{Name: fmt.Sprintf("%s:%d", f.File, f.Line), Value: f.RuleID + ": " + f.Message})
	}
	err := w.deps.Alerts.Raise(ctx, alerting.Alert{
		Fingerprint: fingerprint, Severity: alerting.Critical, Source: "security_audit", Repo: a.Owner + "/" + a.Repo,
		Title:  fmt.Sprintf("%d critical security findings on %s/%s@%s", len(critical), a.Owner, a.Repo, t.defaultBranch),
		Text:   fmt.Sprintf("The security audit of %s found what an outsider can exploit; see the check run.", short(t.sha)),
		Fields: fields,
		Links:  []alerting.Link{{Label: "check run", URL: fmt.Sprintf("https://github.com/%s/%s/runs/%d", a.Owner, a.Repo, checkRunID)}},
	})
	if err != nil {
		return false, fmt.Errorf("failed to raise the security alert: %w", err)
	}
	return true, nil
}
