package commands

import (
	"context"
	"fmt"

	"github.com/contexten/autonomous/workflows"
)

// audit enqueues the security audit of this pull request's head, which reports the findings
// the pull request introduces on its check run and in the sticky comment.
func (s *session) audit(ctx context.Context, _ Command) (outcome, error) {
	engine, err := workflows.FromContext(ctx)
	if err != nil {
		return outcome{}, err
	}
	repo := workflows.Repo{Owner: s.args.Owner, Name: s.args.Repo, InstallationID: s.installationID}
	ins, err := engine.Trigger(ctx, workflows.SecurityAudit, repo, map[string]any{"pull_request": int64(s.args.Number)},
		workflows.By(fmt.Sprintf("comment:%d", s.args.CommentID)), workflows.Tagged(PRTag(s.args.RepoID, s.args.Number)))
	if err != nil {
		return outcome{}, fmt.Errorf("failed to enqueue the security audit: %w", err)
	}
	verb := "queued"
	if ins.Duplicate {
		verb = "was already queued"
	}
	return outcome{Status: statusDone, Text: fmt.Sprintf("Security audit of this pull request %s as execution %d; its findings will appear on the check run `Autonomous CI / security audit` and here.",
		verb, ins.ID)}, nil
}
