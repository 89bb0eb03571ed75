package prreport

import (
	"context"
	"fmt"
	"net/url"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/markdown"
	"github.com/contexten/autonomous/store"
)

// MaxAnnotations is GitHub's limit of annotations per check-run request; more are sent in
// further updates of the check run, which GitHub appends.
const MaxAnnotations = 50

// maxCheckRunPages bounds the pages of a commit's check runs read to find one of the bot's.
const maxCheckRunPages = 10

// CheckRun is a completed check run the bot writes on a commit.
type CheckRun struct {
	// Name is the check run's name ("Autonomous CI / failure analysis").
	Name    string
	HeadSHA string
	// ExternalID identifies it among the commit's check runs, by which a create whose answer was
	// lost (a timeout, a crash before the id was saved) is found again.
	ExternalID string
	// Key names the create in the effect records (store.Effect.Key): one per check run.
	Key string
	// ExistingID is its id when known (saved by an earlier execution), else zero.
	ExistingID int64
	// Conclusion is GitHub's conclusion; empty means "neutral".
	Conclusion string
	// Title is one line of plain text (markdown.OneLine); Summary is Markdown, cut to
	// MaxCommentBytes.
	Title, Summary string
	Annotations    []*github.CheckRunAnnotation
}

// UpsertCheckRun creates the check run on the head commit, or updates the one created before (a
// retried job must not add a second), and returns its id.
func (r Reporter) UpsertCheckRun(ctx context.Context, cr CheckRun) (int64, error) {
	title := cr.Title
	summary := cr.Summary
	if len(summary) > MaxCommentBytes { // GitHub caps the summary at 65535 characters
		summary = markdown.Truncate(summary, MaxCommentBytes)
	}
	conclusion := cr.Conclusion
	if conclusion == "" {
		conclusion = "neutral"
	}
	first, rest := cr.Annotations, [][]*github.CheckRunAnnotation(nil)
	if len(first) > MaxAnnotations {
		for i := MaxAnnotations; i < len(first); i += MaxAnnotations {
			rest = append(rest, first[i:min(i+MaxAnnotations, len(first))])
		}
		first = first[:MaxAnnotations]
	}
	output := func(anns []*github.CheckRunAnnotation) *github.CheckRunOutput {
		return &github.CheckRunOutput{Title: &title, Summary: &summary, Annotations: anns}
	}
	update := func(id int64, anns []*github.CheckRunAnnotation) error {
		// PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}
		// https://docs.github.com/en/rest/checks/runs#update-a-check-run
		_, _, err := r.Client.Checks.UpdateCheckRun(ctx, r.Owner, r.Repo, id, github.UpdateCheckRunOptions{
			Name: cr.Name, Status: github.String("completed"), Conclusion: &conclusion, Output: output(anns),
		})
		if err != nil {
			return fmt.Errorf("failed to update check run %d: %w", id, err)
		}
		return nil
	}
	more := func(id int64) (int64, error) {
		for _, page := range rest {
			if err := update(id, page); err != nil {
				return id, err
			}
		}
		return id, nil
	}
	if cr.ExistingID != 0 {
		err := update(cr.ExistingID, first)
		if err == nil {
			return more(cr.ExistingID)
		}
		if !ghapp.IsNotFound(err) {
			return cr.ExistingID, err
		}
		// Gone (GitHub drops check runs of old commits): create another.
		if err := r.Records.ForgetEffect(ctx, cr.Key, cr.ExistingID); err != nil {
			return 0, err
		}
	}
	externalID := cr.ExternalID
	id, created, err := r.Records.CreateOnce(ctx, store.Effect{
		Key: cr.Key, Settle: r.CreateSettle,
		Find: func(ctx context.Context) (int64, error) { return r.findCheckRun(ctx, cr.Name, cr.HeadSHA, externalID) },
		Create: func(ctx context.Context) (int64, error) {
			// POST /repos/{owner}/{repo}/check-runs
			// https://docs.github.com/en/rest/checks/runs#create-a-check-run
			run, _, err := r.Client.Checks.CreateCheckRun(ctx, r.Owner, r.Repo, github.CreateCheckRunOptions{
				Name: cr.Name, HeadSHA: cr.HeadSHA, ExternalID: &externalID,
				Status: github.String("completed"), Conclusion: &conclusion, Output: output(first),
			})
			if err != nil {
				return 0, fmt.Errorf("failed to create check run: %w", err)
			}
			return run.GetID(), nil
		},
	})
	if err != nil {
		return id, err
	}
	if !created {
		// An earlier execution created it: give it this execution's report.
		if err := update(id, first); err != nil {
			return id, err
		}
	}
	return more(id)
}

// findCheckRun looks up the bot's check run on the head commit by its name and external id.
func (r Reporter) findCheckRun(ctx context.Context, name, headSHA, externalID string) (int64, error) {
	var id int64
	// GET /repos/{owner}/{repo}/commits/{ref}/check-runs
	// https://docs.github.com/en/rest/checks/runs#list-check-runs-for-a-git-reference
	path := fmt.Sprintf("repos/%s/%s/commits/%s/check-runs", url.PathEscape(r.Owner), url.PathEscape(r.Repo), url.PathEscape(headSHA))
	query := url.Values{"check_name": {name}, "filter": {"all"}}
	err := ghapp.EachFresh(ctx, r.Client, path, query, maxCheckRunPages, func(list github.ListCheckRunsResults) bool {
		for _, c := range list.CheckRuns {
			if c.GetExternalID() == externalID && c.GetName() == name {
				id = c.GetID()
				return true
			}
		}
		return false
	})
	if ghapp.IsNotFound(err) {
		return 0, nil // no such commit (any more): no check run on it either
	}
	if err != nil {
		return 0, fmt.Errorf("failed to list check runs of %s: %w", headSHA, err)
	}
	return id, nil
}
