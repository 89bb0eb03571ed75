package commands

import (
	"context"
	"fmt"

	"github.com/contexten/autonomous/workflows"
)

// deps starts the dependency report of this pull request: the dependency_management workflow
// with pull_request set, through the engine (no import of its package), once per comment.
func (s *session) deps(ctx context.Context, _ Command) (outcome, error) {
	engine, err := workflows.FromContext(ctx)
	if err != nil {
		return outcome{}, err
	}
	repo := workflows.Repo{Owner: s.args.Owner, Name: s.args.Repo, InstallationID: s.installationID}
	ins, err := engine.Trigger(ctx, workflows.DependencyManagement, repo, map[string]any{"pull_request": int64(s.args.Number)},
		workflows.By(fmt.Sprintf("comment:%d", s.args.CommentID)), workflows.Tagged(PRTag(s.args.RepoID, s.args.Number)))
	if err != nil {
		return outcome{}, fmt.Errorf("failed to enqueue the dependency report: %w", err)
	}
	verb := "queued"
	if ins.Duplicate {
		verb = "was already queued"
	}
	return outcome{Status: statusDone, Text: fmt.Sprintf("The dependency report of this pull request %s as execution %d: "+
		"the versions it changes and the advisories they carry will appear in the bot's comment.", verb, ins.ID)}, nil
}
