package dependencymanagement

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/contexten/autonomous/alerting"
	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/integrations/osv"
	"github.com/contexten/autonomous/markdown"
	"github.com/contexten/autonomous/prreport"
	"github.com/contexten/autonomous/recovery"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/dependencymanagement/registry"
)

// RepoConfigs loads a repository's configuration (config.RepoConfigLoader).
type RepoConfigs interface {
	Load(ctx context.Context, client *github.Client, owner, repo string) (config.RepoConfig, error)
}

// Records makes GitHub creates happen once (store.Store).
type Records interface {
	CreateOnce(ctx context.Context, e store.Effect) (int64, bool, error)
	// ForgetEffect forgets a recorded create that GitHub says is gone.
	ForgetEffect(ctx context.Context, key string, id int64) error
}

// Alerter raises alerts (alerting.Notifier); nil skips alerting.
type Alerter interface {
	Raise(ctx context.Context, a alerting.Alert) error
}

// Enqueuer inserts jobs (*workflows.Engine); nil uses the engine of the job's context.
type Enqueuer interface {
	Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (workflows.Inserted, error)
}

// Deps are the worker's collaborators.
type Deps struct {
	Clients ghapp.Clients
	Configs RepoConfigs
	Records Records
	PRs     PullRequests
	// Go, NPM and PyPI are the registries (GO_PROXY_URL, NPM_REGISTRY_URL, PYPI_URL).
	Go   *registry.GoProxy
	NPM  *registry.NPM
	PyPI *registry.PyPI
	// Reports keeps the sticky PR comment's sections (store.Store), for /ci deps.
	Reports prreport.Records
	// OSV finds advisories (OSV_API_URL).
	OSV Advisor
	// Alerts is told about critical advisories; nil skips it.
	Alerts Alerter
	// Enqueue is used by the scheduled fan-out; nil takes the engine from the job's context.
	Enqueue Enqueuer
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Worker runs the dependency_management workflow.
type Worker struct {
	river.WorkerDefaults[Args]
	deps Deps
}

// NewWorker creates the worker.
func NewWorker(d Deps) *Worker {
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Worker{deps: d}
}

// Timeout implements river.Worker: registries and the module proxy may be slow.
func (w *Worker) Timeout(*river.Job[Args]) time.Duration { return 15 * time.Minute }

// Output is what one execution did.
type Output struct {
	Skipped      string   `json:"skipped,omitempty"`
	Commit       string   `json:"commit,omitempty"`
	Dependencies int      `json:"dependencies,omitempty"`
	Enqueued     int      `json:"enqueued,omitempty"`
	PRs          []PROut  `json:"prs,omitempty"`
	Pending      []string `json:"pending,omitempty"`
	Majors       []string `json:"majors,omitempty"`
	Ignored      []string `json:"ignored,omitempty"`
	Blocked      []string `json:"blocked,omitempty"`
	Closed       []int    `json:"closed,omitempty"`
	Advisories   []string `json:"advisories,omitempty"`
	Problems     []string `json:"problems,omitempty"`
	Dashboard    int64    `json:"dashboard_issue,omitempty"`
	// Changes are the dependency versions a pull request changes (/ci deps).
	Changes     []string `json:"changes,omitempty"`
	Merged      int      `json:"merged,omitempty"`
	Checks      string   `json:"checks,omitempty"`
	ConfigError string   `json:"config_error,omitempty"`
	ParseErrors []string `json:"parse_errors,omitempty"`
	// Report is the dependency dashboard in Markdown (without its marker), which `autonomous
	// execute --wait` prints.
	Report string `json:"report,omitempty"`
}

// PROut is one update PR the run opened, updated or left as it was.
type PROut struct {
	Number   int    `json:"number"`
	Branch   string `json:"branch"`
	Action   string `json:"action"`
	Security bool   `json:"security,omitempty"`
	Merged   bool   `json:"merged,omitempty"`
}

// Work implements river.Worker.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	a := job.Args
	logger := zerolog.Ctx(ctx).With().Str(githubapp.LogKeyRepositoryOwner, a.Owner).Str(githubapp.LogKeyRepositoryName, a.Repo).Logger()
	ctx = logger.WithContext(ctx)
	var out Output
	var err error
	switch {
	case a.Owner == "" || a.Repo == "":
		out, err = w.fanOut(ctx, a)
	case a.Branch != "":
		out, err = w.followUp(ctx, a)
	case a.PullRequest != 0:
		out, err = w.review(ctx, a)
	default:
		out, err = w.run(ctx, a)
	}
	if err != nil {
		logger.Warn().Err(err).Str("error_class", string(recovery.Classify(err))).Msg("Dependency management failed")
		return recovery.Decide(err)
	}
	if err := river.RecordOutput(ctx, out); err != nil {
		return fmt.Errorf("failed to record output: %w", err)
	}
	logger.Info().Int("prs", len(out.PRs)).Str("skipped", out.Skipped).Msg("Dependency management done")
	return nil
}

// fanOut enqueues the day's run for every repository of every installation: GET
// /app/installations (https://docs.github.com/en/rest/apps/apps#list-installations-for-the-authenticated-app)
// and GET /installation/repositories
// (https://docs.github.com/en/rest/apps/installations#list-repositories-accessible-to-the-app-installation).
func (w *Worker) fanOut(ctx context.Context, a Args) (Output, error) {
	enq := w.deps.Enqueue
	if enq == nil {
		e, err := workflows.FromContext(ctx)
		if err != nil {
			return Output{}, err
		}
		enq = e
	}
	repos, err := ghapp.InstalledRepos(ctx, w.deps.Clients, 100)
	if err != nil {
		return Output{}, err
	}
	out := Output{}
	for _, r := range repos {
		args := Args{Owner: r.Owner, Repo: r.Name, InstallationID: r.InstallationID, Trigger: a.Trigger}
		if _, err := enq.Enqueue(ctx, args, nil); err != nil {
			return out, fmt.Errorf("failed to enqueue %s: %w", r.FullName(), err)
		}
		out.Enqueued++
	}
	return out, nil
}

// setup returns the repository's client, configuration and policy.
func (w *Worker) setup(ctx context.Context, a *Args) (*github.Client, config.DependencyManagementConfig, Policy, string, error) {
	client, inst, err := w.deps.Clients.ForRepo(ctx, a.Owner, a.Repo, a.InstallationID)
	if err != nil {
		return nil, config.DependencyManagementConfig{}, Policy{}, "", err
	}
	a.InstallationID = inst
	cfg, cfgErr := w.deps.Configs.Load(ctx, client, a.Owner, a.Repo)
	problem := ""
	if cfgErr != nil {
		if cfg.DependencyManagement.MaxOpenPRs == 0 && cfg.DependencyManagement.Schedule == "" {
			return nil, cfg.DependencyManagement, Policy{}, "", cfgErr // GitHub failed; a parse error comes with the defaults
		}
		problem = cfgErr.Error()
	}
	dm := cfg.DependencyManagement
	pol := Policy{Strategy: registry.Strategy(dm.UpdateStrategy), Security: string(dm.SecurityPriority), Config: dm}
	if a.UpdateStrategy != "" {
		pol.Strategy = registry.Strategy(a.UpdateStrategy)
	}
	if a.SecurityPriority != "" {
		pol.Security = a.SecurityPriority
	}
	if a.TestBeforeMerge != nil {
		pol.Config.TestBeforeMerge = *a.TestBeforeMerge
	}
	if pol.Strategy == "" {
		pol.Strategy = registry.Smart
	}
	if pol.Security == "" {
		pol.Security = "high"
	}
	return client, dm, pol, problem, nil
}

// run plans and publishes the repository's updates.
func (w *Worker) run(ctx context.Context, a Args) (Output, error) {
	client, dm, pol, problem, err := w.setup(ctx, &a)
	if err != nil {
		return Output{}, err
	}
	out := Output{ConfigError: problem}
	if !dm.Enabled {
		out.Skipped = "dependency_management is disabled for this repository"
		return out, nil
	}
	if strings.HasPrefix(a.Trigger, "schedule:") {
		switch {
		case dm.Schedule == "off":
			out.Skipped = "the repository's schedule is off"
			return out, nil
		case dm.Schedule == "weekly" && w.deps.Now().UTC().Weekday() != time.Monday:
			out.Skipped = "the repository's schedule is weekly (Mondays)"
			return out, nil
		}
	}
	snap, _, err := TakeSnapshot(ctx, client, a.Owner, a.Repo)
	if err != nil {
		if ghapp.HasStatus(err, http.StatusConflict) { // an empty repository
			out.Skipped = "the repository is empty"
			return out, nil
		}
		return out, err
	}
	out.Commit, out.Dependencies = snap.SHA, len(snap.Inventory.Dependencies)
	for _, pe := range snap.Inventory.Errors {
		out.ParseErrors = append(out.ParseErrors, pe.Error())
	}
	vs := Registries{Go: w.deps.Go, NPM: w.deps.NPM, PyPI: w.deps.PyPI, Tags: registry.GitHubTags{Repos: client.Repositories}}
	plan, err := MakePlan(ctx, snap.Inventory, vs, w.deps.OSV, pol)
	if err != nil {
		return out, err
	}
	out.Problems = plan.Problems
	open, err := listOpenPRs(ctx, client, a.Owner, a.Repo)
	if err != nil {
		return out, err
	}
	ed := &Editor{Snap: snap, Proxy: w.deps.Go, NPM: w.deps.NPM}
	rep := &report{plan: plan, open: open}
	// The limit counts the regular update PRs; security fixes neither count nor wait.
	openCount := 0
	for branch := range open {
		if !strings.HasPrefix(branch, BranchPrefix+securityPrefix) {
			openCount++
		}
	}
	wanted := map[string]bool{}
	for _, g := range plan.Groups {
		wanted[g.Branch()] = true
		ch, err := ed.Apply(ctx, g)
		if err != nil {
			return out, err
		}
		rep.blocked = append(rep.blocked, ch.Blocked...)
		for _, b := range ch.Blocked {
			out.Blocked = append(out.Blocked, fmt.Sprintf("%s %s → %s: %s", b.Update.Name, b.Update.From, b.Update.To, b.Reason))
		}
		if len(ch.Applied) == 0 || len(ch.Files) == 0 {
			continue
		}
		_, exists := open[g.Branch()]
		if !g.Security && !exists && openCount >= dm.MaxOpenPRs {
			rep.pending = append(rep.pending, g)
			out.Pending = append(out.Pending, g.Branch())
			continue
		}
		labels := append([]string(nil), dm.Labels...)
		if g.Security {
			labels = append(labels, "security")
		}
		req := PRRequest{Owner: a.Owner, Repo: a.Repo, Base: snap.Branch, Branch: g.Branch(), Title: g.Title,
			Body: PRBody(g, ch, pol.Config.TestBeforeMerge), CommitMessage: commitMessage(g, ch), Labels: labels, Reviewers: dm.Reviewers}
		for _, p := range sortedKeys(ch.Files) {
			req.Files = append(req.Files, PRFile{Path: p, Content: ch.Files[p]})
		}
		res, err := w.deps.PRs.Ensure(ctx, client, req)
		if errors.Is(err, errNoChanges) {
			continue
		}
		if isHumanEdited(err) {
			rep.humanEdited = append(rep.humanEdited, g)
			out.Blocked = append(out.Blocked, fmt.Sprintf("%s: a person pushed to the branch; the bot leaves it alone", g.Branch()))
			continue
		}
		if err != nil {
			return out, fmt.Errorf("failed to publish %s: %w", g.Branch(), err)
		}
		if res.Action == PRCreated && !g.Security {
			openCount++
		}
		po := PROut{Number: res.Number, Branch: g.Branch(), Action: res.Action, Security: g.Security}
		rep.prs = append(rep.prs, prRef{group: g, number: res.Number, url: res.URL})
		// A PR whose checks finished before this run (a missed webhook) is merged now.
		if res.Action == PRUnchanged && pol.Config.TestBeforeMerge && !g.HasMajor() {
			merged, _, err := w.mergeIfGreen(ctx, client, a, res.Number, res.HeadSHA)
			if err != nil {
				return out, err
			}
			po.Merged = merged
		}
		out.PRs = append(out.PRs, po)
	}
	// Close the bot's PRs the plan no longer wants, only when the plan is complete.
	if len(plan.Problems) == 0 && !snap.Truncated && len(snap.Inventory.Errors) == 0 {
		for _, branch := range sortedKeys(open) {
			if wanted[branch] {
				continue
			}
			pr := open[branch]
			if err := w.deps.PRs.Close(ctx, client, a.Owner, a.Repo, pr.Number,
				"Superseded: the default branch no longer needs this update (it is there already, or a newer plan replaces it)."); err != nil {
				return out, err
			}
			out.Closed = append(out.Closed, pr.Number)
		}
	}
	for _, f := range plan.Findings {
		for _, adv := range f.Advisories {
			out.Advisories = append(out.Advisories, fmt.Sprintf("%s %s@%s: %s (%s)", f.Ecosystem, f.Name, f.Version, adv.ID, adv.Severity))
		}
	}
	for _, u := range plan.Majors {
		out.Majors = append(out.Majors, fmt.Sprintf("%s %s → %s", u.Name, u.From, u.To))
	}
	for _, u := range plan.Ignored {
		out.Ignored = append(out.Ignored, fmt.Sprintf("%s %s → %s", u.Name, u.From, u.To))
	}
	if err := w.alertCritical(ctx, a, plan); err != nil {
		return out, err
	}
	out.Report = strings.TrimPrefix(DashboardBody(rep), dashboardMarker+"\n")
	if dm.Dashboard {
		id, err := w.upsertDashboard(ctx, client, a.Owner, a.Repo, rep)
		if err != nil {
			return out, err
		}
		out.Dashboard = id
	}
	return out, nil
}

func commitMessage(g Group, ch *Changes) string {
	var b strings.Builder
	b.WriteString(g.Title + "\n\n")
	for _, u := range ch.Applied {
		fmt.Fprintf(&b, "- %s %s -> %s\n", u.Name, u.From, u.To)
	}
	return b.String()
}

// alertCritical raises one alert per critical advisory of the repository (the alerting
// service dedupes repeats by fingerprint).
func (w *Worker) alertCritical(ctx context.Context, a Args, plan *Plan) error {
	if w.deps.Alerts == nil {
		return nil
	}
	for _, f := range plan.Findings {
		for _, adv := range f.Advisories {
			if adv.Severity != osv.SeverityCritical {
				continue
			}
			al := alerting.Alert{
				Fingerprint: strings.ToLower(fmt.Sprintf("deps:%s/%s:%s", a.Owner, a.Repo, fingerprintSafe(adv.ID))),
				Severity:    alerting.Critical,
				Title:       fmt.Sprintf("Critical advisory %s in %s/%s", adv.ID, a.Owner, a.Repo),
				Text:        fmt.Sprintf("%s %s@%s (%s): %s", f.Ecosystem, f.Name, f.Version, f.Manifest, adv.Summary),
				Fields:      []alerting.Field{{Name: "Fixed in", Value: strings.Join(adv.Fixed, ", ")}},
				Links:       []alerting.Link{{Label: adv.ID, URL: "https://osv.dev/vulnerability/" + adv.ID}},
				Repo:        a.Owner + "/" + a.Repo,
				Source:      string(workflows.DependencyManagement),
			}
			if err := w.deps.Alerts.Raise(ctx, al); err != nil {
				return fmt.Errorf("failed to raise the alert for %s: %w", adv.ID, err)
			}
		}
	}
	return nil
}

func fingerprintSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".:_/-@#", r) {
			return r
		}
		return '-'
	}, s)
}

// followUp handles an update PR whose checks completed: merge it when green.
func (w *Worker) followUp(ctx context.Context, a Args) (Output, error) {
	client, dm, pol, problem, err := w.setup(ctx, &a)
	if err != nil {
		return Output{}, err
	}
	out := Output{ConfigError: problem}
	switch {
	case !dm.Enabled:
		out.Skipped = "dependency_management is disabled for this repository"
		return out, nil
	case !pol.Config.TestBeforeMerge:
		out.Skipped = "test_before_merge is off: the PR is left for people"
		return out, nil
	}
	open, err := listOpenPRs(ctx, client, a.Owner, a.Repo)
	if err != nil {
		return out, err
	}
	pr, ok := open[a.Branch]
	switch {
	case !ok:
		out.Skipped = "no open update PR on " + a.Branch
		return out, nil
	case pr.SHA != a.HeadSHA:
		out.Skipped = "the PR's head moved on since these checks"
		return out, nil
	}
	meta, ok := ParseMeta(pr.Body)
	if !ok {
		out.Skipped = "the PR has no update metadata"
		return out, nil
	}
	if meta.HasMajor() {
		out.Skipped = "a major update is never merged automatically"
		return out, nil
	}
	merged, state, err := w.mergeIfGreen(ctx, client, a, pr.Number, pr.SHA)
	out.Checks = state
	if merged {
		out.Merged = pr.Number
	}
	return out, err
}

// mergeIfGreen merges the PR when every check on headSHA passed; a red head (or a merge
// GitHub refuses) gets one note on the PR, which is left open.
func (w *Worker) mergeIfGreen(ctx context.Context, client *github.Client, a Args, number int, headSHA string) (bool, string, error) {
	checks, err := w.deps.PRs.ChecksGreen(ctx, client, a.Owner, a.Repo, headSHA)
	if err != nil {
		return false, "", err
	}
	switch {
	case checks.Failed:
		return false, "failed", w.note(ctx, client, a, number, headSHA, "failed",
			"Checks failed on "+headSHA[:min(7, len(headSHA))]+": the bot leaves this update open. "+
				"The failure analysis explains what broke; fix the branch or close the PR.\n\n"+bullets(checks.Details))
	case !checks.Green:
		return false, "pending", nil
	}
	err = w.deps.PRs.Merge(ctx, client, a.Owner, a.Repo, number, headSHA)
	var mb *MergeBlockedError
	if errors.As(err, &mb) {
		return false, "blocked", w.note(ctx, client, a, number, headSHA, "blocked",
			"Every check passed, but GitHub refused the merge (branch protection, a required review or a conflict): "+mb.Error())
	}
	if err != nil {
		return false, "green", err
	}
	return true, "green", nil
}

func bullets(lines []string) string {
	sort.Strings(lines)
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("- " + markdown.Plain(l) + "\n")
	}
	return b.String()
}
