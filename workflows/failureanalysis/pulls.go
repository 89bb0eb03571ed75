package failureanalysis

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-github/v62/github"
)

// pullRequests returns the open pull requests whose head is the run's head commit. A fork's
// pull request is not listed in the run (GitHub leaves pull_requests empty when the head
// repository is another), so it is looked up by the fork's owner and branch, one request, and
// only when there is a comment to write.
func (s *session) pullRequests(ctx context.Context, run *github.WorkflowRun) ([]int, error) {
	if prs := currentPullRequests(run); len(prs) > 0 || !s.cfg.Comment || !fromFork(run) {
		return prs, nil
	}
	head := run.GetHeadRepository()
	// GET /repos/{owner}/{repo}/pulls?head={fork owner}:{branch}&state=open
	// https://docs.github.com/en/rest/pulls/pulls#list-pull-requests
	list, _, err := s.client.PullRequests.List(ctx, s.args.Owner, s.args.Repo, &github.PullRequestListOptions{
		State: "open", Head: head.GetOwner().GetLogin() + ":" + run.GetHeadBranch(), ListOptions: github.ListOptions{PerPage: 10},
	})
	if err != nil {
		return nil, fmt.Errorf("failed to list pull requests from %s: %w", head.GetFullName(), err)
	}
	var out []int
	for _, pr := range list {
		if pr.GetHead().GetSHA() == run.GetHeadSHA() && pr.GetHead().GetRepo().GetID() == head.GetID() && pr.GetNumber() > 0 {
			out = append(out, pr.GetNumber())
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// fromFork reports whether a run is of a pull request from another repository.
func fromFork(run *github.WorkflowRun) bool {
	head, base := run.GetHeadRepository().GetID(), run.GetRepository().GetID()
	return strings.HasPrefix(run.GetEvent(), "pull_request") && head != 0 && base != 0 && head != base &&
		run.GetHeadRepository().GetOwner().GetLogin() != "" && run.GetHeadBranch() != ""
}

// currentPullRequests returns the pull requests of the run whose head is still the run's head
// commit: a report about an outdated commit would only mislead.
func currentPullRequests(run *github.WorkflowRun) []int {
	var out []int
	for _, pr := range run.PullRequests {
		if pr.GetHead().GetSHA() == run.GetHeadSHA() && pr.GetNumber() > 0 {
			out = append(out, pr.GetNumber())
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// pullRequestsWithHead returns the open pull requests whose head commit is sha, forks included.
func (s *session) pullRequestsWithHead(ctx context.Context, sha string) ([]int, error) {
	// GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls
	// https://docs.github.com/en/rest/commits/commits#list-pull-requests-associated-with-a-commit
	list, _, err := s.client.PullRequests.ListPullRequestsWithCommit(ctx, s.args.Owner, s.args.Repo, sha, &github.ListOptions{PerPage: 10})
	if err != nil {
		return nil, fmt.Errorf("failed to list pull requests of commit %s: %w", sha, err)
	}
	var out []int
	for _, pr := range list {
		if pr.GetState() == "open" && pr.GetHead().GetSHA() == sha && pr.GetNumber() > 0 {
			out = append(out, pr.GetNumber())
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
