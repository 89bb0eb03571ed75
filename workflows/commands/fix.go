package commands

import (
	"context"
	"fmt"

	"github.com/contexten/autonomous/markdown"
	"github.com/contexten/autonomous/workflows"
)

// fix hands the latest failed run of the head commit to the AI fix agent: failure analysis of
// that run with auto_fix_enabled, which reports the failure, applies the fix guards (one agent
// run per pull request, head commit and failure; the budgets) and starts the agent. decide has
// checked the permission (maintain or admin on a fork's pull request) and that an agent is
// configured.
func (s *session) fix(ctx context.Context, _ Command) (outcome, error) {
	pr, err := s.pull(ctx)
	if err != nil {
		return outcome{}, err
	}
	head := pr.GetHead().GetSHA()
	runs, err := s.latestFailedRuns(ctx, head)
	if err != nil {
		return outcome{}, err
	}
	if len(runs) == 0 {
		return outcome{Status: statusInfo, Text: fmt.Sprintf("No failed workflow run on the head commit %s: nothing to fix.", markdown.Code(markdown.ShortSHA(head)))}, nil
	}
	run := runs[0]
	engine, err := workflows.FromContext(ctx)
	if err != nil {
		return outcome{}, err
	}
	repo := workflows.Repo{Owner: s.args.Owner, Name: s.args.Repo, InstallationID: s.installationID}
	params := map[string]any{"workflow_run_id": run.GetID(), "run_attempt": int64(max(run.GetRunAttempt(), 1)), "auto_fix_enabled": true}
	ins, err := engine.Trigger(ctx, workflows.FailureAnalysis, repo, params,
		workflows.By(fmt.Sprintf("comment:%d", s.args.CommentID)), workflows.Tagged(PRTag(s.args.RepoID, s.args.Number)))
	if err != nil {
		return outcome{}, fmt.Errorf("failed to enqueue the fix: %w", err)
	}
	return outcome{Status: statusDone, Text: fmt.Sprintf("Handing the failure of %s to the AI fix agent (execution %d). "+
		"Its progress and fix pull request will appear in the bot's comment on this pull request; the same failure is never handed over twice.",
		runLink(run), ins.ID)}, nil
}
