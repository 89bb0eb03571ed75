package commands

import (
	"context"
	"fmt"

	"github.com/contexten/autonomous/workflows"
)

// perf enqueues a performance_monitoring check of this pull request (its head commit's runs
// against the baseline branch); the report appears as a section of the sticky comment when
// there is something to say, and in the execution's output in any case.
func (s *session) perf(ctx context.Context, _ Command) (outcome, error) {
	engine, err := workflows.FromContext(ctx)
	if err != nil {
		return outcome{}, err
	}
	repo := workflows.Repo{Owner: s.args.Owner, Name: s.args.Repo, InstallationID: s.installationID}
	ins, err := engine.Trigger(ctx, workflows.PerformanceMonitoring, repo, map[string]any{"pull_request": int64(s.args.Number)},
		workflows.By(fmt.Sprintf("comment:%d", s.args.CommentID)), workflows.Tagged(PRTag(s.args.RepoID, s.args.Number)))
	if err != nil {
		return outcome{}, fmt.Errorf("failed to enqueue performance monitoring: %w", err)
	}
	verb := "queued"
	if ins.Duplicate {
		verb = "was already queued"
	}
	return outcome{Status: statusDone, Text: fmt.Sprintf("A comparison of this pull request's CI durations with the baseline branch %s as execution %d; "+
		"a regression or an improvement will appear in the bot's comment here (execution %d's output has every figure).", verb, ins.ID, ins.ID)}, nil
}
