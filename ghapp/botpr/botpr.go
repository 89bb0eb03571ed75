// Package botpr is the bot's own pull requests, written through GitHub's Git Data API without a
// clone: Ensure puts one commit on top of the base branch's head on a branch the bot owns and
// opens (or updates) the pull request from it; Find, Close, ChecksGreen and Merge act on it.
//
// Every call looks before it writes, so a retried job never doubles an effect: the branch is read
// before a commit is made, a tree equal to the branch's tree makes no commit, and an open pull
// request from the branch is found before one is created (also when an earlier create timed out
// but succeeded).
//
// # Which commits are the bot's
//
// A branch belongs to the bot while its head commit is one the bot made: the commit has exactly
// one parent, its message ends with the trailer line "Autonomous-CI: <branch>" (see Trailer),
// and its author and committer both carry the bot's e-mail address (Request.AuthorEmail,
// DefaultAuthorEmail when empty). A person who pushes to the branch (a new commit, an amend, a
// merge of the base from GitHub's "Update branch" button) makes a head commit that fails one of
// these, and Ensure then answers *HumanEditedError and writes nothing: the person's work is never
// force-pushed away.
package botpr

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/ghapp"
)

// The identity the bot's commits carry when the Request names none.
const (
	DefaultAuthorName  = "autonomous-ci[bot]"
	DefaultAuthorEmail = "autonomous-ci[bot]@users.noreply.github.com"
)

// TrailerKey is the commit message trailer that marks the bot's commits; its value is the branch.
const TrailerKey = "Autonomous-CI"

// Trailer is the trailer line of the bot's commits on branch.
func Trailer(branch string) string { return TrailerKey + ": " + branch }

// File is one change of the commit: Content at Path (Mode "" means a regular file, "100644"),
// or, with Delete, the path removed.
type File struct {
	Path    string
	Content []byte
	Mode    string
	Delete  bool
}

// Request is the pull request Ensure makes sure of.
type Request struct {
	Owner, Repo string
	// Base is the branch the pull request merges into; Branch is the bot-owned head branch.
	Base, Branch string
	Title, Body  string
	// CommitMessage is the commit's message; Ensure appends the trailer (Trailer).
	CommitMessage string
	Files         []File
	// Labels are added when missing; Reviewers are requested when the pull request is created.
	Labels, Reviewers []string
	// AuthorName and AuthorEmail are the commits' author and committer; empty means
	// DefaultAuthorName and DefaultAuthorEmail.
	AuthorName, AuthorEmail string
}

// Action is what Ensure did.
type Action string

// The actions.
const (
	// Created: the pull request was opened by this call.
	Created Action = "created"
	// Updated: an open pull request got a new commit or a new title or body.
	Updated Action = "updated"
	// Unchanged: the open pull request already had this content, title and body.
	Unchanged Action = "unchanged"
)

// Result is the pull request after Ensure.
type Result struct {
	Number  int
	URL     string
	HeadSHA string
	Branch  string
	Action  Action
}

// ErrNoChanges means the files already read as they do on the base branch: there is nothing
// to propose, and Ensure wrote nothing.
var ErrNoChanges = errors.New("botpr: the files already match the base branch")

// ErrNoBase means the base branch does not exist.
var ErrNoBase = errors.New("botpr: no such base branch")

// HumanEditedError means a person pushed to the bot's branch (its head commit is not the bot's);
// nothing was written.
type HumanEditedError struct {
	Owner, Repo, Branch string
	// SHA is the branch's head commit; Author its author's e-mail address.
	SHA, Author string
}

func (e *HumanEditedError) Error() string {
	return fmt.Sprintf("branch %s of %s/%s has a commit the bot did not make (%s by %s); leaving it alone",
		e.Branch, e.Owner, e.Repo, shortSHA(e.SHA), e.Author)
}

// RecoveryClass is "invalid": retrying cannot make the branch the bot's again.
func (e *HumanEditedError) RecoveryClass() string { return "invalid" }

// BlockedError means GitHub refused to merge the pull request: 405 (not mergeable: checks,
// reviews, conflicts, or it is closed) or 409 (its head moved from the SHA given).
type BlockedError struct {
	Number  int
	Status  int
	Message string
	Err     error
}

func (e *BlockedError) Error() string {
	return fmt.Sprintf("pull request #%d cannot be merged (%d): %s", e.Number, e.Status, e.Message)
}

// Unwrap returns GitHub's error answer, if any.
func (e *BlockedError) Unwrap() error { return e.Err }

// RecoveryClass is "invalid": the same merge retried is refused the same way.
func (e *BlockedError) RecoveryClass() string { return "invalid" }

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func (r Request) validate() error {
	var missing []string
	for name, v := range map[string]string{"owner": r.Owner, "repo": r.Repo, "base": r.Base, "branch": r.Branch, "title": r.Title} {
		if strings.TrimSpace(v) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("botpr: the request has no %s", strings.Join(missing, ", "))
	}
	if r.Base == r.Branch {
		return fmt.Errorf("botpr: the head branch %q is the base branch", r.Branch)
	}
	if len(r.Files) == 0 {
		return errors.New("botpr: the request changes no files")
	}
	seen := map[string]bool{}
	for _, f := range r.Files {
		switch {
		case f.Path == "" || strings.HasPrefix(f.Path, "/") || strings.HasSuffix(f.Path, "/") ||
			slices.Contains(strings.Split(f.Path, "/"), "..") || slices.Contains(strings.Split(f.Path, "/"), "."):
			return fmt.Errorf("botpr: %q is not a repository path", f.Path)
		case seen[f.Path]:
			return fmt.Errorf("botpr: %q is changed twice", f.Path)
		case f.Mode != "" && f.Mode != "100644" && f.Mode != "100755":
			return fmt.Errorf("botpr: %q has mode %q; only 100644 and 100755 are written", f.Path, f.Mode)
		}
		seen[f.Path] = true
	}
	return nil
}

func (r Request) author() *github.CommitAuthor {
	name, email := r.AuthorName, r.AuthorEmail
	if name == "" {
		name = DefaultAuthorName
	}
	if email == "" {
		email = DefaultAuthorEmail
	}
	return &github.CommitAuthor{Name: &name, Email: &email}
}

func (r Request) message() string {
	msg := strings.TrimRight(r.CommitMessage, "\n")
	if msg == "" {
		msg = r.Title
	}
	return msg + "\n\n" + Trailer(r.Branch) + "\n"
}

// refPath is the API path of a branch's ref, each segment escaped.
func refPath(owner, repo, branch string) string {
	segs := strings.Split(branch, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return fmt.Sprintf("repos/%s/%s/git/ref/heads/%s", url.PathEscape(owner), url.PathEscape(repo), strings.Join(segs, "/"))
}

// headOf reads a branch's head commit SHA bypassing the HTTP cache; found is false when there
// is no such branch.
//
// GET /repos/{owner}/{repo}/git/ref/{ref}
// https://docs.github.com/en/rest/git/refs#get-a-reference
func headOf(ctx context.Context, gh *github.Client, owner, repo, branch string) (sha string, found bool, err error) {
	var ref github.Reference
	if _, err := ghapp.GetFresh(ctx, gh, refPath(owner, repo, branch), nil, &ref); err != nil {
		if ghapp.IsNotFound(err) {
			return "", false, nil
		}
		return "", false, fmt.Errorf("failed to read branch %s of %s/%s: %w", branch, owner, repo, err)
	}
	if ref.GetObject().GetSHA() == "" {
		return "", false, fmt.Errorf("branch %s of %s/%s: GitHub named no commit", branch, owner, repo)
	}
	return ref.GetObject().GetSHA(), true, nil
}

// IsBotCommit reports whether c is a commit the bot made on branch (see the package doc), with
// email the bot's address ("" for DefaultAuthorEmail).
func IsBotCommit(c *github.Commit, branch, email string) bool {
	if email == "" {
		email = DefaultAuthorEmail
	}
	if c == nil || len(c.Parents) != 1 {
		return false
	}
	if !strings.EqualFold(c.GetAuthor().GetEmail(), email) || !strings.EqualFold(c.GetCommitter().GetEmail(), email) {
		return false
	}
	lines := strings.Split(strings.TrimRight(c.GetMessage(), "\n"), "\n")
	return strings.TrimSpace(lines[len(lines)-1]) == Trailer(branch)
}

// Ensure makes sure an open pull request from req.Branch into req.Base proposes exactly
// req.Files on top of the base's head, creating or force-updating the branch (one bot commit)
// and opening the pull request or updating its title and body. It answers *HumanEditedError
// when a person pushed to the branch and ErrNoChanges when the files match the base; in both
// cases it wrote nothing.
func Ensure(ctx context.Context, gh *github.Client, req Request) (Result, error) {
	if err := req.validate(); err != nil {
		return Result{}, err
	}
	owner, repo := req.Owner, req.Repo
	baseSHA, found, err := headOf(ctx, gh, owner, repo, req.Base)
	if err != nil {
		return Result{}, err
	}
	if !found {
		return Result{}, fmt.Errorf("botpr: %s/%s has no branch %s: %w", owner, repo, req.Base, ErrNoBase)
	}
	// GET /repos/{owner}/{repo}/git/commits/{commit_sha}
	// https://docs.github.com/en/rest/git/commits#get-a-commit-object
	baseCommit, _, err := gh.Git.GetCommit(ctx, owner, repo, baseSHA)
	if err != nil {
		return Result{}, fmt.Errorf("failed to read commit %s of %s/%s: %w", shortSHA(baseSHA), owner, repo, err)
	}
	headSHA, exists, err := headOf(ctx, gh, owner, repo, req.Branch)
	if err != nil {
		return Result{}, err
	}
	var head *github.Commit
	if exists {
		if head, _, err = gh.Git.GetCommit(ctx, owner, repo, headSHA); err != nil {
			return Result{}, fmt.Errorf("failed to read commit %s of %s/%s: %w", shortSHA(headSHA), owner, repo, err)
		}
		if !IsBotCommit(head, req.Branch, req.AuthorEmail) {
			return Result{}, &HumanEditedError{Owner: owner, Repo: repo, Branch: req.Branch, SHA: headSHA, Author: head.GetAuthor().GetEmail()}
		}
	}
	tree, err := createTree(ctx, gh, req, baseCommit.GetTree().GetSHA())
	if err != nil {
		return Result{}, err
	}
	if tree == baseCommit.GetTree().GetSHA() {
		return Result{}, ErrNoChanges
	}
	changed := false
	if !exists || head.Parents[0].GetSHA() != baseSHA || head.GetTree().GetSHA() != tree {
		if headSHA, err = commitAndPoint(ctx, gh, req, baseSHA, tree, exists); err != nil {
			return Result{}, err
		}
		changed = true
	}
	pr, action, err := ensurePull(ctx, gh, req)
	if err != nil {
		return Result{}, err
	}
	if action == Unchanged && changed {
		action = Updated
	}
	return Result{Number: pr.GetNumber(), URL: pr.GetHTMLURL(), HeadSHA: headSHA, Branch: req.Branch, Action: action}, nil
}

// createTree writes the files' blobs and the tree of the base tree with them; blobs and trees
// are content-addressed, so writing them again changes nothing.
//
// POST /repos/{owner}/{repo}/git/blobs
// https://docs.github.com/en/rest/git/blobs#create-a-blob
// POST /repos/{owner}/{repo}/git/trees
// https://docs.github.com/en/rest/git/trees#create-a-tree
func createTree(ctx context.Context, gh *github.Client, req Request, baseTree string) (string, error) {
	entries := make([]*github.TreeEntry, 0, len(req.Files))
	for _, f := range req.Files {
		mode := f.Mode
		if mode == "" {
			mode = "100644"
		}
		entry := &github.TreeEntry{Path: github.String(f.Path), Mode: github.String(mode), Type: github.String("blob")}
		if !f.Delete {
			blob, _, err := gh.Git.CreateBlob(ctx, req.Owner, req.Repo, &github.Blob{
				Content:  github.String(base64.StdEncoding.EncodeToString(f.Content)),
				Encoding: github.String("base64"),
			})
			if err != nil {
				return "", fmt.Errorf("failed to write %s to %s/%s: %w", f.Path, req.Owner, req.Repo, err)
			}
			entry.SHA = blob.SHA
		}
		entries = append(entries, entry)
	}
	tree, _, err := gh.Git.CreateTree(ctx, req.Owner, req.Repo, baseTree, entries)
	if err != nil {
		return "", fmt.Errorf("failed to write the tree of %s/%s: %w", req.Owner, req.Repo, err)
	}
	if tree.GetSHA() == "" {
		return "", fmt.Errorf("the tree of %s/%s: GitHub named no SHA", req.Owner, req.Repo)
	}
	return tree.GetSHA(), nil
}

// commitAndPoint writes the bot's commit and points the branch at it (creating the branch, or
// force-updating the bot's own branch onto the new commit).
//
// POST /repos/{owner}/{repo}/git/commits
// https://docs.github.com/en/rest/git/commits#create-a-commit
// POST /repos/{owner}/{repo}/git/refs
// https://docs.github.com/en/rest/git/refs#create-a-reference
// PATCH /repos/{owner}/{repo}/git/refs/{ref}
// https://docs.github.com/en/rest/git/refs#update-a-reference
func commitAndPoint(ctx context.Context, gh *github.Client, req Request, baseSHA, tree string, exists bool) (string, error) {
	author := req.author()
	commit, _, err := gh.Git.CreateCommit(ctx, req.Owner, req.Repo, &github.Commit{
		Message: github.String(req.message()),
		Tree:    &github.Tree{SHA: github.String(tree)},
		Parents: []*github.Commit{{SHA: github.String(baseSHA)}},
		Author:  author,
		// The committer is the author too (GitHub's default when omitted, stated for clarity).
		Committer: author,
	}, nil)
	if err != nil {
		return "", fmt.Errorf("failed to write the commit on %s of %s/%s: %w", req.Branch, req.Owner, req.Repo, err)
	}
	sha := commit.GetSHA()
	ref := &github.Reference{Ref: github.String("refs/heads/" + req.Branch), Object: &github.GitObject{SHA: github.String(sha)}}
	if !exists {
		_, _, err = gh.Git.CreateRef(ctx, req.Owner, req.Repo, ref)
		if err == nil {
			return sha, nil
		}
		if !ghapp.HasStatus(err, http.StatusUnprocessableEntity) {
			return "", fmt.Errorf("failed to create branch %s of %s/%s: %w", req.Branch, req.Owner, req.Repo, err)
		}
		// 422: the branch appeared since it was read (a concurrent run). Take it over only if
		// its head is the bot's.
		now, found, err := headOf(ctx, gh, req.Owner, req.Repo, req.Branch)
		if err != nil {
			return "", err
		}
		if !found {
			return "", fmt.Errorf("failed to create branch %s of %s/%s: GitHub refused it and it does not exist", req.Branch, req.Owner, req.Repo)
		}
		c, _, err := gh.Git.GetCommit(ctx, req.Owner, req.Repo, now)
		if err != nil {
			return "", fmt.Errorf("failed to read commit %s of %s/%s: %w", shortSHA(now), req.Owner, req.Repo, err)
		}
		if !IsBotCommit(c, req.Branch, req.AuthorEmail) {
			return "", &HumanEditedError{Owner: req.Owner, Repo: req.Repo, Branch: req.Branch, SHA: now, Author: c.GetAuthor().GetEmail()}
		}
	}
	if _, _, err := gh.Git.UpdateRef(ctx, req.Owner, req.Repo, ref, true); err != nil {
		return "", fmt.Errorf("failed to update branch %s of %s/%s: %w", req.Branch, req.Owner, req.Repo, err)
	}
	return sha, nil
}

// ensurePull finds the open pull request from the branch and brings its title, body and base
// up to date, or opens it.
//
// POST /repos/{owner}/{repo}/pulls
// https://docs.github.com/en/rest/pulls/pulls#create-a-pull-request
// PATCH /repos/{owner}/{repo}/pulls/{pull_number}
// https://docs.github.com/en/rest/pulls/pulls#update-a-pull-request
func ensurePull(ctx context.Context, gh *github.Client, req Request) (*github.PullRequest, Action, error) {
	pr, found, err := Find(ctx, gh, req.Owner, req.Repo, req.Branch)
	if err != nil {
		return nil, "", err
	}
	action := Unchanged
	if !found {
		pr, _, err = gh.PullRequests.Create(ctx, req.Owner, req.Repo, &github.NewPullRequest{
			Title:               github.String(req.Title),
			Head:                github.String(req.Branch),
			Base:                github.String(req.Base),
			Body:                github.String(req.Body),
			MaintainerCanModify: github.Bool(false),
		})
		switch {
		case err == nil:
			if err := requestReviewers(ctx, gh, req, pr.GetNumber()); err != nil {
				return nil, "", err
			}
			action = Created
		case ghapp.HasStatus(err, http.StatusUnprocessableEntity):
			// "A pull request already exists": one appeared since Find (a concurrent run).
			if pr, found, err = Find(ctx, gh, req.Owner, req.Repo, req.Branch); err != nil {
				return nil, "", err
			} else if !found {
				return nil, "", fmt.Errorf("GitHub refused the pull request from %s into %s of %s/%s and none is open", req.Branch, req.Base, req.Owner, req.Repo)
			}
		default:
			return nil, "", fmt.Errorf("failed to open the pull request from %s of %s/%s: %w", req.Branch, req.Owner, req.Repo, err)
		}
	}
	if action != Created && (pr.GetTitle() != req.Title || pr.GetBody() != req.Body || pr.GetBase().GetRef() != req.Base) {
		edit := &github.PullRequest{Title: github.String(req.Title), Body: github.String(req.Body)}
		if pr.GetBase().GetRef() != req.Base {
			edit.Base = &github.PullRequestBranch{Ref: github.String(req.Base)}
		}
		if pr, _, err = gh.PullRequests.Edit(ctx, req.Owner, req.Repo, pr.GetNumber(), edit); err != nil {
			return nil, "", fmt.Errorf("failed to update pull request of %s/%s: %w", req.Owner, req.Repo, err)
		}
		action = Updated
	}
	if err := addLabels(ctx, gh, req, pr); err != nil {
		return nil, "", err
	}
	return pr, action, nil
}

// addLabels adds the request's labels the pull request lacks.
//
// POST /repos/{owner}/{repo}/issues/{issue_number}/labels
// https://docs.github.com/en/rest/issues/labels#add-labels-to-an-issue
func addLabels(ctx context.Context, gh *github.Client, req Request, pr *github.PullRequest) error {
	var missing []string
	for _, l := range req.Labels {
		if !slices.ContainsFunc(pr.Labels, func(have *github.Label) bool { return strings.EqualFold(have.GetName(), l) }) {
			missing = append(missing, l)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if _, _, err := gh.Issues.AddLabelsToIssue(ctx, req.Owner, req.Repo, pr.GetNumber(), missing); err != nil {
		return fmt.Errorf("failed to label pull request #%d of %s/%s: %w", pr.GetNumber(), req.Owner, req.Repo, err)
	}
	return nil
}

// requestReviewers asks the request's reviewers (a name with a slash, "org/team", is a team).
//
// POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers
// https://docs.github.com/en/rest/pulls/review-requests#request-reviewers-for-a-pull-request
func requestReviewers(ctx context.Context, gh *github.Client, req Request, number int) error {
	if len(req.Reviewers) == 0 {
		return nil
	}
	var rr github.ReviewersRequest
	for _, r := range req.Reviewers {
		if _, team, ok := strings.Cut(r, "/"); ok {
			rr.TeamReviewers = append(rr.TeamReviewers, team)
		} else {
			rr.Reviewers = append(rr.Reviewers, r)
		}
	}
	if _, _, err := gh.PullRequests.RequestReviewers(ctx, req.Owner, req.Repo, number, rr); err != nil {
		return fmt.Errorf("failed to request reviewers on pull request #%d of %s/%s: %w", number, req.Owner, req.Repo, err)
	}
	return nil
}

// Find returns the open pull request from owner's branch in owner/repo, read bypassing the
// HTTP cache.
//
// GET /repos/{owner}/{repo}/pulls?head={owner}:{branch}&state=open
// https://docs.github.com/en/rest/pulls/pulls#list-pull-requests
func Find(ctx context.Context, gh *github.Client, owner, repo, branch string) (*github.PullRequest, bool, error) {
	var pulls []*github.PullRequest
	q := url.Values{"head": {owner + ":" + branch}, "state": {"open"}}
	if _, err := ghapp.GetFresh(ctx, gh, fmt.Sprintf("repos/%s/%s/pulls", url.PathEscape(owner), url.PathEscape(repo)), q, &pulls); err != nil {
		return nil, false, fmt.Errorf("failed to list the pull requests from %s of %s/%s: %w", branch, owner, repo, err)
	}
	for _, pr := range pulls {
		if pr.GetHead().GetRef() == branch && pr.GetState() == "open" {
			return pr, true, nil
		}
	}
	return nil, false, nil
}

// pull reads a pull request bypassing the HTTP cache.
//
// GET /repos/{owner}/{repo}/pulls/{pull_number}
// https://docs.github.com/en/rest/pulls/pulls#get-a-pull-request
func pull(ctx context.Context, gh *github.Client, owner, repo string, number int) (*github.PullRequest, error) {
	var pr github.PullRequest
	if _, err := ghapp.GetFresh(ctx, gh, fmt.Sprintf("repos/%s/%s/pulls/%d", url.PathEscape(owner), url.PathEscape(repo), number), nil, &pr); err != nil {
		return nil, fmt.Errorf("failed to read pull request #%d of %s/%s: %w", number, owner, repo, err)
	}
	return &pr, nil
}

// Close comments on the pull request (unless the same comment is there) and closes it; a
// closed pull request is left as it is.
//
// POST /repos/{owner}/{repo}/issues/{issue_number}/comments
// https://docs.github.com/en/rest/issues/comments#create-an-issue-comment
// PATCH /repos/{owner}/{repo}/pulls/{pull_number}
// https://docs.github.com/en/rest/pulls/pulls#update-a-pull-request
func Close(ctx context.Context, gh *github.Client, owner, repo string, number int, comment string) error {
	if number <= 0 {
		return fmt.Errorf("botpr: %d is not a pull request number", number)
	}
	pr, err := pull(ctx, gh, owner, repo, number)
	if err != nil {
		return err
	}
	if pr.GetState() == "closed" {
		return nil
	}
	if strings.TrimSpace(comment) != "" {
		there := false
		path := fmt.Sprintf("repos/%s/%s/issues/%d/comments", url.PathEscape(owner), url.PathEscape(repo), number)
		// GET /repos/{owner}/{repo}/issues/{issue_number}/comments
		// https://docs.github.com/en/rest/issues/comments#list-issue-comments
		err := ghapp.EachFresh(ctx, gh, path, nil, 10, func(page []*github.IssueComment) bool {
			there = slices.ContainsFunc(page, func(c *github.IssueComment) bool { return c.GetBody() == comment })
			return there
		})
		if err != nil {
			return fmt.Errorf("failed to read the comments of pull request #%d of %s/%s: %w", number, owner, repo, err)
		}
		if !there {
			if _, _, err := gh.Issues.CreateComment(ctx, owner, repo, number, &github.IssueComment{Body: github.String(comment)}); err != nil {
				return fmt.Errorf("failed to comment on pull request #%d of %s/%s: %w", number, owner, repo, err)
			}
		}
	}
	if _, _, err := gh.PullRequests.Edit(ctx, owner, repo, number, &github.PullRequest{State: github.String("closed")}); err != nil {
		return fmt.Errorf("failed to close pull request #%d of %s/%s: %w", number, owner, repo, err)
	}
	return nil
}

// Checks is the state of a commit's checks.
type Checks struct {
	// Green: every check run completed with success, neutral or skipped, and the combined
	// status is success or there are no statuses.
	Green bool
	// Pending: a check run has not completed, or a status is pending.
	Pending bool
	// Failed: a check run concluded otherwise (failure, cancelled, timed_out, action_required,
	// stale), or the combined status is failure or error.
	Failed bool
	// Details names each check run and status that is not green ("lint: failure").
	Details []string
}

// ChecksGreen reads the check runs and the combined status of sha, bypassing the HTTP cache.
// GitHub answers "pending" as the combined state of a commit with no statuses at all; that
// counts as green here.
//
// GET /repos/{owner}/{repo}/commits/{ref}/check-runs
// https://docs.github.com/en/rest/checks/runs#list-check-runs-for-a-git-reference
// GET /repos/{owner}/{repo}/commits/{ref}/status
// https://docs.github.com/en/rest/commits/statuses#get-the-combined-status-for-a-specific-reference
func ChecksGreen(ctx context.Context, gh *github.Client, owner, repo, sha string) (Checks, error) {
	if sha == "" {
		return Checks{}, errors.New("botpr: no commit to read the checks of")
	}
	var c Checks
	base := fmt.Sprintf("repos/%s/%s/commits/%s", url.PathEscape(owner), url.PathEscape(repo), url.PathEscape(sha))
	err := ghapp.EachFresh(ctx, gh, base+"/check-runs", nil, 10, func(page *github.ListCheckRunsResults) bool {
		for _, run := range page.CheckRuns {
			switch {
			case run.GetStatus() != "completed":
				c.Pending = true
				c.Details = append(c.Details, run.GetName()+": "+run.GetStatus())
			case run.GetConclusion() == "success" || run.GetConclusion() == "neutral" || run.GetConclusion() == "skipped":
			default:
				c.Failed = true
				c.Details = append(c.Details, run.GetName()+": "+run.GetConclusion())
			}
		}
		return false
	})
	if err != nil {
		return Checks{}, fmt.Errorf("failed to read the check runs of %s in %s/%s: %w", shortSHA(sha), owner, repo, err)
	}
	var status github.CombinedStatus
	if _, err := ghapp.GetFresh(ctx, gh, base+"/status", nil, &status); err != nil {
		return Checks{}, fmt.Errorf("failed to read the status of %s in %s/%s: %w", shortSHA(sha), owner, repo, err)
	}
	if status.GetTotalCount() > 0 || len(status.Statuses) > 0 {
		switch status.GetState() {
		case "success":
		case "pending":
			c.Pending = true
		default:
			c.Failed = true
		}
		for _, s := range status.Statuses {
			if s.GetState() != "success" {
				c.Details = append(c.Details, s.GetContext()+": "+s.GetState())
			}
		}
	}
	c.Green = !c.Pending && !c.Failed
	return c, nil
}

// Merge squash-merges the pull request if its head is still headSHA. A merged pull request is
// left as it is (a retry after a merge whose answer was lost); GitHub's 405 (not mergeable) and
// 409 (the head moved), and a closed pull request, are *BlockedError.
//
// PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge
// https://docs.github.com/en/rest/pulls/pulls#merge-a-pull-request
func Merge(ctx context.Context, gh *github.Client, owner, repo string, number int, headSHA string) error {
	if number <= 0 || headSHA == "" {
		return fmt.Errorf("botpr: merge needs a pull request number and its head SHA (got #%d, %q)", number, headSHA)
	}
	pr, err := pull(ctx, gh, owner, repo, number)
	if err != nil {
		return err
	}
	if pr.GetMerged() {
		return nil
	}
	if pr.GetState() == "closed" {
		return &BlockedError{Number: number, Status: http.StatusMethodNotAllowed, Message: "the pull request is closed"}
	}
	_, _, err = gh.PullRequests.Merge(ctx, owner, repo, number, "", &github.PullRequestOptions{SHA: headSHA, MergeMethod: "squash"})
	if err == nil {
		return nil
	}
	if code := ghapp.StatusCode(err); code == http.StatusMethodNotAllowed || code == http.StatusConflict {
		msg := err.Error()
		var resp *github.ErrorResponse
		if errors.As(err, &resp) && resp.Message != "" {
			msg = resp.Message
		}
		return &BlockedError{Number: number, Status: code, Message: msg, Err: err}
	}
	return fmt.Errorf("failed to merge pull request #%d of %s/%s: %w", number, owner, repo, err)
}
