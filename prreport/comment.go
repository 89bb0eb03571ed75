package prreport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/store"
)

// Records is what a Reporter needs of the database (store.Store).
type Records interface {
	PRReport(ctx context.Context, owner, repo string, number int) (store.PRReport, error)
	SavePRReport(ctx context.Context, r store.PRReport) error
	LockPRReport(ctx context.Context, owner, repo string, number int, ttl, wait time.Duration) (func(), error)
	CreateOnce(ctx context.Context, e store.Effect) (int64, bool, error)
	ForgetEffect(ctx context.Context, key string, id int64) error
}

// Reporter writes the bot's sticky comments and check runs in one repository.
type Reporter struct {
	Client      *github.Client
	Records     Records
	Owner, Repo string
	// CreateSettle is how long a create whose answer was lost may still land on GitHub
	// (store.Effect.Settle); zero means store.DefaultCreateSettle.
	CreateSettle time.Duration
	// ConfigProblem, when set, is shown above the sections: the repository's configuration
	// could not be used.
	ConfigProblem string
}

// Lease is how long one execution may hold a pull request's report (a crashed holder blocks the
// others that long); LeaseMargin is kept free of GitHub calls at its end. LeaseWait is how long
// an execution waits for a lease (this one or a run's): longer than a lease, so that one left by
// a dead holder is taken over in place, and enough for the many executions of a busy pull
// request to take turns. A job with less time left snoozes instead (store.BusyError).
const (
	Lease       = 30 * time.Second
	LeaseMargin = 10 * time.Second
	LeaseWait   = 2 * time.Minute
)

// UpdateComment puts sec into the sticky comment of pull request number, under the pull
// request's lease, and returns the comment's id. A section of an older run (or attempt) than
// the one shown leaves the comment as it is. With onlyIfReported the comment is written only
// when it has a section under sec.Key already (a pass is news only after a reported failure);
// otherwise the answer is zero.
func (r Reporter) UpdateComment(ctx context.Context, number int, sec Section, onlyIfReported bool) (int64, error) {
	// The lease covers read, GitHub write and save: a minute is far more than that takes.
	release, err := r.Records.LockPRReport(ctx, r.Owner, r.Repo, number, Lease, LeaseWait)
	if err != nil {
		return 0, err
	}
	defer release()
	// Once the lease expires another execution may take it: this one must be done by then, or
	// a slow GitHub answer would land after the other's and drop its section. Stopping short
	// leaves at worst a comment whose id was not saved, which the retry finds by its marker.
	ctx, cancel := context.WithTimeout(ctx, Lease-LeaseMargin)
	defer cancel()
	rec, err := r.Records.PRReport(ctx, r.Owner, r.Repo, number)
	if err != nil {
		return 0, err
	}
	sections := map[string]Section{}
	if err := json.Unmarshal([]byte(rec.Sections), &sections); err != nil {
		sections = map[string]Section{}
	}
	if _, ok := sections[sec.Key]; !ok && onlyIfReported {
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
		if err := r.Records.SavePRReport(ctx, rec); err != nil {
			return 0, err
		}
	}
	body := Render(sections, r.ConfigProblem)
	id, err := r.writeComment(ctx, number, rec.CommentID, !reported, body)
	if err != nil {
		return 0, err
	}
	rec.CommentID = id
	return id, r.Records.SavePRReport(ctx, rec)
}

// writeComment edits the known sticky comment, or finds it by its marker (unless the bot never
// commented: fresh), or creates it, once: a create whose answer was lost is looked up before
// another is made (store.Store.CreateOnce).
func (r Reporter) writeComment(ctx context.Context, number int, knownID int64, fresh bool, body string) (int64, error) {
	comment := &github.IssueComment{Body: &body}
	key := fmt.Sprintf("comment:%s/%s#%d", r.Owner, r.Repo, number)
	edit := func(id int64) error {
		// PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}
		// https://docs.github.com/en/rest/issues/comments#update-an-issue-comment
		if _, _, err := r.Client.Issues.EditComment(ctx, r.Owner, r.Repo, id, comment); err != nil {
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
		if err := r.Records.ForgetEffect(ctx, key, knownID); err != nil {
			return 0, err
		}
		fresh = false
	}
	id, created, err := r.Records.CreateOnce(ctx, store.Effect{
		Key: key, FindFirst: !fresh, Settle: r.CreateSettle,
		Find: func(ctx context.Context) (int64, error) { return r.findStickyComment(ctx, number) },
		Create: func(ctx context.Context) (int64, error) {
			// POST /repos/{owner}/{repo}/issues/{issue_number}/comments
			// https://docs.github.com/en/rest/issues/comments#create-an-issue-comment
			c, _, err := r.Client.Issues.CreateComment(ctx, r.Owner, r.Repo, number, comment)
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
			err = errors.Join(err, r.Records.ForgetEffect(ctx, key, id))
		}
		return 0, err
	}
	return id, nil
}

// findStickyComment looks for the bot's marker among the pull request's comments, as GitHub
// has them now (not as the HTTP cache does).
func (r Reporter) findStickyComment(ctx context.Context, number int) (int64, error) {
	var id int64
	// GET /repos/{owner}/{repo}/issues/{issue_number}/comments
	// https://docs.github.com/en/rest/issues/comments#list-issue-comments
	path := fmt.Sprintf("repos/%s/%s/issues/%d/comments", url.PathEscape(r.Owner), url.PathEscape(r.Repo), number)
	err := ghapp.EachFresh(ctx, r.Client, path, nil, 0, func(comments []*github.IssueComment) bool {
		for _, c := range comments {
			if c.GetUser().GetType() == "Bot" && strings.Contains(c.GetBody(), Marker) {
				id = c.GetID()
				return true
			}
		}
		return false
	})
	if err != nil {
		return 0, fmt.Errorf("failed to list comments of #%d: %w", number, err)
	}
	return id, nil
}
