package dependencymanagement

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/ghapp"
)

// PRFile is one file of an update commit.
type PRFile struct {
	Path    string
	Content []byte
}

// PRRequest is the update PR a group wants (botpr.Request).
type PRRequest struct {
	Owner, Repo, Base, Branch, Title, Body, CommitMessage string
	Files                                                 []PRFile
	Labels, Reviewers                                     []string
}

// PR actions reported by Ensure.
const (
	PRCreated   = "created"
	PRUpdated   = "updated"
	PRUnchanged = "unchanged"
)

// PRResult is the PR after Ensure.
type PRResult struct {
	Number       int
	URL, HeadSHA string
	Action       string
}

// Checks is the state of a commit's checks.
type Checks struct {
	Green, Pending, Failed bool
	Details                []string
}

// HumanEditedError is returned by Ensure for a branch a person pushed to: nothing is written.
type HumanEditedError struct{ Err error }

func (e *HumanEditedError) Error() string {
	return "a person pushed to the update branch: " + e.Err.Error()
}
func (e *HumanEditedError) Unwrap() error { return e.Err }

// MergeBlockedError is returned by Merge when GitHub refuses the merge (405/409: branch
// protection, a conflict, a changed head).
type MergeBlockedError struct{ Err error }

func (e *MergeBlockedError) Error() string { return "merge blocked: " + e.Err.Error() }
func (e *MergeBlockedError) Unwrap() error { return e.Err }

// PullRequests is the bot's PR machinery (package ghapp/botpr through BotPR).
type PullRequests interface {
	// Ensure makes the branch one bot commit on top of Base with Files and opens or updates
	// its PR; idempotent.
	Ensure(ctx context.Context, gh *github.Client, req PRRequest) (PRResult, error)
	// Close comments and closes a PR; idempotent.
	Close(ctx context.Context, gh *github.Client, owner, repo string, number int, comment string) error
	// ChecksGreen reads every check run and the combined status of sha.
	ChecksGreen(ctx context.Context, gh *github.Client, owner, repo, sha string) (Checks, error)
	// Merge squash-merges the PR at headSHA.
	Merge(ctx context.Context, gh *github.Client, owner, repo string, number int, headSHA string) error
}

// openPR is one of the bot's open update PRs.
type openPR struct {
	Number      int
	Branch, SHA string
	Body, URL   string
	Title       string
}

// listOpenPRs pages GET /repos/{owner}/{repo}/pulls?state=open
// (https://docs.github.com/en/rest/pulls/pulls#list-pull-requests), uncached, keeping PRs
// from the bot's update branches of this repository.
func listOpenPRs(ctx context.Context, gh *github.Client, owner, repo string) (map[string]openPR, error) {
	out := map[string]openPR{}
	err := ghapp.EachFresh(ctx, gh, fmt.Sprintf("repos/%s/%s/pulls", url.PathEscape(owner), url.PathEscape(repo)),
		url.Values{"state": {"open"}}, 20, func(page []*github.PullRequest) bool {
			for _, p := range page {
				ref := p.GetHead().GetRef()
				if !strings.HasPrefix(ref, BranchPrefix) || !strings.EqualFold(p.GetHead().GetRepo().GetFullName(), owner+"/"+repo) {
					continue
				}
				out[ref] = openPR{Number: p.GetNumber(), Branch: ref, SHA: p.GetHead().GetSHA(), Body: p.GetBody(), URL: p.GetHTMLURL(), Title: p.GetTitle()}
			}
			return false
		})
	if err != nil {
		return nil, fmt.Errorf("failed to list open pull requests: %w", err)
	}
	return out, nil
}

// isHumanEdited reports whether err is Ensure refusing a branch a person pushed to.
func isHumanEdited(err error) bool {
	var he *HumanEditedError
	return errors.As(err, &he)
}
