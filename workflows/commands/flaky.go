package commands

import (
	"context"
	"fmt"

	"github.com/contexten/autonomous/workflows"
)

// flaky starts test optimization for this pull request: its answer (which of the failed tests at
// the head are known flaky, with evidence) appears in the sticky comment.
func (s *session) flaky(ctx context.Context, _ Command) (outcome, error) {
	engine, err := workflows.FromContext(ctx)
	if err != nil {
		return outcome{}, err
	}
	repo := workflows.Repo{Owner: s.args.Owner, Name: s.args.Repo, InstallationID: s.installationID}
	ins, err := engine.Trigger(ctx, workflows.TestOptimization, repo, map[string]any{"pr": int64(s.args.Number)},
		workflows.By(fmt.Sprintf("comment:%d", s.args.CommentID)), workflows.Tagged(PRTag(s.args.RepoID, s.args.Number)))
	if err != nil {
		return outcome{}, fmt.Errorf("failed to enqueue test optimization: %w", err)
	}
	verb := "queued"
	if ins.Duplicate {
		verb = "was already queued"
	}
	return outcome{Status: statusDone, Text: fmt.Sprintf("Test optimization %s as execution %d: which of this pull request's failed tests are known flaky will appear on this pull request.", verb, ins.ID)}, nil
}
