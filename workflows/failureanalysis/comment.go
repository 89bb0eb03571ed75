package failureanalysis

import (
	"context"

	"github.com/contexten/autonomous/prreport"
)

type updateOption func(*updateOptions)

type updateOptions struct{ onlyIfReported bool }

// onlyIfReported updates a pull request's comment only when it already has a prreport.Section for the
// workflow: a pass is news only after a reported failure.
func onlyIfReported() updateOption { return func(o *updateOptions) { o.onlyIfReported = true } }

// reporter writes this repository's sticky comments and check runs.
func (s *session) reporter() prreport.Reporter {
	return prreport.Reporter{
		Client: s.client, Records: s.w.deps.Records, Owner: s.args.Owner, Repo: s.args.Repo,
		CreateSettle: s.w.deps.CreateSettle, ConfigProblem: s.configProblem,
	}
}

// updateComments puts sec into the sticky comment of each pull request.
func (s *session) updateComments(ctx context.Context, prs []int, sec prreport.Section, opts ...updateOption) error {
	var o updateOptions
	for _, opt := range opts {
		opt(&o)
	}
	r := s.reporter()
	for _, number := range prs {
		id, err := r.UpdateComment(ctx, number, sec, o.onlyIfReported)
		if err != nil {
			return err
		}
		if id != 0 {
			s.out.CommentIDs = append(s.out.CommentIDs, id)
		}
	}
	return nil
}
