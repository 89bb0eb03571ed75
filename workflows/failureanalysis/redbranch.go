package failureanalysis

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v62/github"
	"github.com/rs/zerolog"

	"github.com/contexten/autonomous/alerting"
)

// Resolver clears an alert (alerting.Notifier); Deps.Alerts implements it when it can.
type Resolver interface {
	Resolve(ctx context.Context, fingerprint, text string) error
}

// onDefaultBranch reports whether the run is of the repository's default branch itself (a push,
// a schedule, a manual dispatch), not of a pull request's head.
func onDefaultBranch(run *github.WorkflowRun) bool {
	def := run.GetRepository().GetDefaultBranch()
	return def != "" && run.GetHeadBranch() == def && !strings.HasPrefix(run.GetEvent(), "pull_request")
}

// redFingerprint identifies "the default branch is red" per workflow.
func redFingerprint(run *github.WorkflowRun) string {
	repo := run.GetRepository().GetFullName()
	return strings.ToLower(fmt.Sprintf("red:%s:%d", repo, run.GetWorkflowID()))
}

// tellDefaultBranch alerts when a workflow of the default branch fails, and resolves the alert
// when the branch's workflow passes again; alerting deduplicates repeats by fingerprint. A
// failure to alert is logged and never fails the analysis (the report is already written).
func (s *session) tellDefaultBranch(ctx context.Context, run *github.WorkflowRun, attempt int, failures []failure) {
	if s.w.deps.Alerts == nil || !onDefaultBranch(run) || run.GetRepository().GetFullName() == "" {
		return
	}
	fp := redFingerprint(run)
	if failures == nil {
		r, ok := s.w.deps.Alerts.(Resolver)
		if !ok {
			return
		}
		if err := r.Resolve(ctx, fp, fmt.Sprintf("%s passes again on %s (%s).", run.GetName(), run.GetHeadBranch(), attemptURL(run, attempt))); err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Msg("Failed to resolve the red default branch alert")
		}
		return
	}
	text := fmt.Sprintf("%s failed on the default branch %s at %s.", run.GetName(), run.GetHeadBranch(), shortSHA(run.GetHeadSHA()))
	if len(failures) > 0 && failures[0].result.Summary != "" {
		text += " " + failures[0].result.Summary
	}
	al := alerting.Alert{
		Fingerprint: fp, Severity: alerting.High, Source: "failure_analysis", Repo: run.GetRepository().GetFullName(),
		Title: fmt.Sprintf("%s is red on %s (%s)", run.GetRepository().GetFullName(), run.GetHeadBranch(), run.GetName()),
		Text:  text,
		Links: []alerting.Link{{Label: "the failed run", URL: attemptURL(run, attempt)}},
	}
	for _, f := range failures {
		al.Fields = append(al.Fields, alerting.Field{Name: "Class", Value: string(f.result.Classification)})
		break
	}
	if err := s.w.deps.Alerts.Raise(ctx, al); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("Failed to raise the red default branch alert")
	}
}

func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
