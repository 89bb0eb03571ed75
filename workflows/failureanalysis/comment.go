package failureanalysis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"
)

type updateOption func(*updateOptions)

type updateOptions struct{ onlyIfReported bool }

// onlyIfReported updates a pull request's comment only when it already has a section for the
// workflow: a pass is news only after a reported failure.
func onlyIfReported() updateOption { return func(o *updateOptions) { o.onlyIfReported = true } }

// updateComments puts sec into the sticky comment of each pull request.
func (s *session) updateComments(ctx context.Context, prs []int, sec section, opts ...updateOption) error {
	var o updateOptions
	for _, opt := range opts {
		opt(&o)
	}
	for _, number := range prs {
		id, err := s.updateComment(ctx, number, sec, o)
		if err != nil {
			return err
		}
		if id != 0 {
			s.out.CommentIDs = append(s.out.CommentIDs, id)
		}
	}
	return nil
}

func (s *session) updateComment(ctx context.Context, number int, sec section, o updateOptions) (int64, error) {
	a := s.args
	// The lease covers read, GitHub write and save: a minute is far more than that takes.
	release, err := s.w.deps.Records.LockPRReport(ctx, a.Owner, a.Repo, number, reportLease, 2*time.Minute)
	if err != nil {
		return 0, err
	}
	defer release()
	// Once the lease expires another execution may take it: this one must be done by then, or
	// a slow GitHub answer would land after the other's and drop its section. Stopping short
	// leaves at worst a comment whose id was not saved, which the retry finds by its marker.
	ctx, cancel := context.WithTimeout(ctx, reportLease-reportLeaseMargin)
	defer cancel()
	rec, err := s.w.deps.Records.PRReport(ctx, a.Owner, a.Repo, number)
	if err != nil {
		return 0, err
	}
	sections := map[string]section{}
	if err := json.Unmarshal([]byte(rec.Sections), &sections); err != nil {
		sections = map[string]section{}
	}
	if _, ok := sections[sec.Key]; !ok && o.onlyIfReported {
		return 0, nil
	}
	if old, ok := sections[sec.Key]; ok && (old.RunID > sec.RunID || old.RunID == sec.RunID && old.Attempt > sec.Attempt) {
		// A newer run (GitHub's run ids only grow) or a newer attempt was reported already: a
		// late analysis of an older one must not replace it.
		return rec.CommentID, nil
	}
	// A record without a comment id means an earlier execution may have created the comment
	// and failed before saving its id: only then (or when the comment is gone) is it looked up
	// by its marker. With no sections at all the bot never commented here, and it creates the
	// comment straight away, saving the record first so that a retry looks it up.
	reported := rec.CommentID != 0 || len(sections) > 0
	sections[sec.Key] = sec
	encoded, err := json.Marshal(sections)
	if err != nil {
		return 0, fmt.Errorf("failed to encode report sections: %w", err)
	}
	rec.Sections = string(encoded)
	if !reported {
		if err := s.w.deps.Records.SavePRReport(ctx, rec); err != nil {
			return 0, err
		}
	}
	body := renderComment(sections, s.configProblem)
	id, err := s.writeComment(ctx, number, rec.CommentID, !reported, body)
	if err != nil {
		return 0, err
	}
	rec.CommentID = id
	return id, s.w.deps.Records.SavePRReport(ctx, rec)
}

// writeComment edits the known sticky comment, or finds it by its marker (unless the bot never
// commented: fresh), or creates it.
func (s *session) writeComment(ctx context.Context, number int, knownID int64, fresh bool, body string) (int64, error) {
	a := s.args
	comment := &github.IssueComment{Body: &body}
	if knownID != 0 {
		// PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}
		// https://docs.github.com/en/rest/issues/comments#update-an-issue-comment
		_, _, err := s.client.Issues.EditComment(ctx, a.Owner, a.Repo, knownID, comment)
		if err == nil {
			return knownID, nil
		}
		if !isNotFound(err) {
			return 0, fmt.Errorf("failed to edit comment %d: %w", knownID, err)
		}
		// Someone deleted it: find another or create a new one.
	}
	var existing int64
	if !fresh {
		var err error
		if existing, err = s.findStickyComment(ctx, number); err != nil {
			return 0, err
		}
	}
	if existing != 0 {
		if _, _, err := s.client.Issues.EditComment(ctx, a.Owner, a.Repo, existing, comment); err != nil {
			return 0, fmt.Errorf("failed to edit comment %d: %w", existing, err)
		}
		return existing, nil
	}
	// POST /repos/{owner}/{repo}/issues/{issue_number}/comments
	// https://docs.github.com/en/rest/issues/comments#create-an-issue-comment
	created, _, err := s.client.Issues.CreateComment(ctx, a.Owner, a.Repo, number, comment)
	if err != nil {
		return 0, fmt.Errorf("failed to comment on #%d: %w", number, err)
	}
	return created.GetID(), nil
}

// findStickyComment looks for the bot's marker among the pull request's comments.
func (s *session) findStickyComment(ctx context.Context, number int) (int64, error) {
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		// GET /repos/{owner}/{repo}/issues/{issue_number}/comments
		// https://docs.github.com/en/rest/issues/comments#list-issue-comments
		comments, resp, err := s.client.Issues.ListComments(ctx, s.args.Owner, s.args.Repo, number, opts)
		if err != nil {
			return 0, fmt.Errorf("failed to list comments of #%d: %w", number, err)
		}
		for _, c := range comments {
			if c.GetUser().GetType() == "Bot" && strings.Contains(c.GetBody(), commentMarker) {
				return c.GetID(), nil
			}
		}
		if resp.NextPage == 0 {
			return 0, nil
		}
		opts.Page = resp.NextPage
	}
}

// reportLease is how long one execution may hold a pull request's report; reportLeaseMargin is
// kept free of GitHub calls at its end.
const (
	reportLease       = time.Minute
	reportLeaseMargin = 15 * time.Second
)

func isNotFound(err error) bool {
	var resp *github.ErrorResponse
	return errors.As(err, &resp) && resp.Response != nil && resp.Response.StatusCode == http.StatusNotFound
}
