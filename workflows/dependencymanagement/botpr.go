package dependencymanagement

import (
	"context"
	"errors"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/ghapp/botpr"
)

// BotPR is PullRequests over package botpr (the Git Data API).
type BotPR struct{}

var _ PullRequests = BotPR{}

// errNoChanges is an update whose files already read so on the base branch.
var errNoChanges = botpr.ErrNoChanges

// Ensure implements PullRequests with botpr.Ensure; a branch a person pushed to is a
// *HumanEditedError.
func (BotPR) Ensure(ctx context.Context, gh *github.Client, req PRRequest) (PRResult, error) {
	files := make([]botpr.File, 0, len(req.Files))
	for _, f := range req.Files {
		files = append(files, botpr.File{Path: f.Path, Content: f.Content})
	}
	res, err := botpr.Ensure(ctx, gh, botpr.Request{Owner: req.Owner, Repo: req.Repo, Base: req.Base, Branch: req.Branch,
		Title: req.Title, Body: req.Body, CommitMessage: req.CommitMessage, Files: files, Labels: req.Labels, Reviewers: req.Reviewers})
	var he *botpr.HumanEditedError
	if errors.As(err, &he) {
		return PRResult{}, &HumanEditedError{Err: err}
	}
	if err != nil {
		return PRResult{}, err
	}
	return PRResult{Number: res.Number, URL: res.URL, HeadSHA: res.HeadSHA, Action: string(res.Action)}, nil
}

// Close implements PullRequests with botpr.Close.
func (BotPR) Close(ctx context.Context, gh *github.Client, owner, repo string, number int, comment string) error {
	return botpr.Close(ctx, gh, owner, repo, number, comment)
}

// ChecksGreen implements PullRequests with botpr.ChecksGreen.
func (BotPR) ChecksGreen(ctx context.Context, gh *github.Client, owner, repo, sha string) (Checks, error) {
	c, err := botpr.ChecksGreen(ctx, gh, owner, repo, sha)
	return Checks{Green: c.Green, Pending: c.Pending, Failed: c.Failed, Details: c.Details}, err
}

// Merge implements PullRequests with botpr.Merge; a refused merge is a *MergeBlockedError.
func (BotPR) Merge(ctx context.Context, gh *github.Client, owner, repo string, number int, headSHA string) error {
	err := botpr.Merge(ctx, gh, owner, repo, number, headSHA)
	var be *botpr.BlockedError
	if errors.As(err, &be) {
		return &MergeBlockedError{Err: err}
	}
	return err
}
