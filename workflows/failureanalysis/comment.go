package failureanalysis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/store"
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
	release, err := s.w.deps.Records.LockPRReport(ctx, a.Owner, a.Repo, number, reportLease, leaseWait)
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
// commented: fresh), or creates it, once: a create whose answer was lost is looked up before
// another is made (store.Store.CreateOnce).
func (s *session) writeComment(ctx context.Context, number int, knownID int64, fresh bool, body string) (int64, error) {
	a := s.args
	comment := &github.IssueComment{Body: &body}
	key := fmt.Sprintf("comment:%s/%s#%d", a.Owner, a.Repo, number)
	edit := func(id int64) error {
		// PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}
		// https://docs.github.com/en/rest/issues/comments#update-an-issue-comment
		if _, _, err := s.client.Issues.EditComment(ctx, a.Owner, a.Repo, id, comment); err != nil {
			return fmt.Errorf("failed to edit comment %d: %w", id, err)
		}
		return nil
	}
	if knownID != 0 {
		err := edit(knownID)
		if err == nil || !ghapp.IsNotFound(err) {
			return knownID, err
		}
		// Someone deleted it: find another or create a new one.
		if err := s.w.deps.Records.ForgetEffect(ctx, key, knownID); err != nil {
			return 0, err
		}
		fresh = false
	}
	id, created, err := s.w.deps.Records.CreateOnce(ctx, store.Effect{
		Key: key, FindFirst: !fresh, Settle: s.w.deps.CreateSettle,
		Find: func(ctx context.Context) (int64, error) { return s.findStickyComment(ctx, number) },
		Create: func(ctx context.Context) (int64, error) {
			// POST /repos/{owner}/{repo}/issues/{issue_number}/comments
			// https://docs.github.com/en/rest/issues/comments#create-an-issue-comment
			c, _, err := s.client.Issues.CreateComment(ctx, a.Owner, a.Repo, number, comment)
			if err != nil {
				return 0, fmt.Errorf("failed to comment on #%d: %w", number, err)
			}
			return c.GetID(), nil
		},
	})
	if err != nil || created {
		return id, err
	}
	if err := edit(id); err != nil {
		if ghapp.IsNotFound(err) {
			// Remembered, but deleted since: the retry creates it anew.
			err = errors.Join(err, s.w.deps.Records.ForgetEffect(ctx, key, id))
		}
		return 0, err
	}
	return id, nil
}

// findStickyComment looks for the bot's marker among the pull request's comments, as GitHub
// has them now (not as the HTTP cache does).
func (s *session) findStickyComment(ctx context.Context, number int) (int64, error) {
	query := url.Values{"per_page": {"100"}}
	for page := 1; ; page++ {
		query.Set("page", strconv.Itoa(page))
		var comments []*github.IssueComment
		// GET /repos/{owner}/{repo}/issues/{issue_number}/comments
		// https://docs.github.com/en/rest/issues/comments#list-issue-comments
		resp, err := ghapp.GetFresh(ctx, s.client, fmt.Sprintf("repos/%s/%s/issues/%d/comments",
			url.PathEscape(s.args.Owner), url.PathEscape(s.args.Repo), number), query, &comments)
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
	}
}

// reportLease is how long one execution may hold a pull request's report (a crashed holder
// blocks the others that long); reportLeaseMargin is kept free of GitHub calls at its end.
// leaseWait is how long an execution waits for a lease (this one or a run's): longer than a
// lease, so that one left by a dead holder is taken over in place, and enough for the many
// executions of a busy pull request to take turns. A job with less time left snoozes instead
// (store.BusyError).
const (
	reportLease       = 30 * time.Second
	reportLeaseMargin = 10 * time.Second
	leaseWait         = 2 * time.Minute
)
