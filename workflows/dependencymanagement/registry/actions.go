package registry

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/google/go-github/v62/github"
	"golang.org/x/mod/semver"
)

// Tag is a git tag of an action's repository and the commit it points at.
type Tag struct {
	Name, SHA string
}

// TagLister lists a repository's tags; GitHubTags adapts go-github.
type TagLister interface {
	ListTags(ctx context.Context, owner, repo string) ([]Tag, error)
}

// GitHubTags lists tags through the REST API with go-github.
type GitHubTags struct {
	Repos *github.RepositoriesService
	// MaxPages bounds the pages read (100 tags each); 0 means 10.
	MaxPages int
}

// ListTags pages through GET /repos/{owner}/{repo}/tags
// (https://docs.github.com/en/rest/repos/repos#list-repository-tags); the
// SHA is the commit the tag points at (annotated tags peeled).
func (g GitHubTags) ListTags(ctx context.Context, owner, repo string) ([]Tag, error) {
	pages := g.MaxPages
	if pages <= 0 {
		pages = 10
	}
	var out []Tag
	opts := &github.ListOptions{PerPage: 100}
	for i := 0; i < pages; i++ {
		tags, resp, err := g.Repos.ListTags(ctx, owner, repo, opts)
		if err != nil {
			return nil, fmt.Errorf("failed to list tags of %s/%s: %w", owner, repo, err)
		}
		for _, t := range tags {
			out = append(out, Tag{Name: t.GetName(), SHA: t.GetCommit().GetSHA()})
		}
		if resp == nil || resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}

// ActionReleases returns the semver tags of an action's repository
// ("owner/repo" or "owner/repo/path"), sorted ascending, with pre-release
// tags marked and each tag's commit SHA. Tags that are not semver ("main",
// "latest") are left out; "v4" and "v4.1" count as v4.0.0 and v4.1.0 and
// sort before the equal full tag.
func ActionReleases(ctx context.Context, tl TagLister, action string) ([]Release, error) {
	parts := strings.SplitN(action, "/", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return nil, fmt.Errorf("failed to list action tags: invalid action %q", action)
	}
	tags, err := tl.ListTags(ctx, parts[0], parts[1])
	if err != nil {
		return nil, err
	}
	var out []Release
	for _, t := range tags {
		v := t.Name
		if !strings.HasPrefix(v, "v") {
			v = "v" + v
		}
		if !semver.IsValid(v) {
			continue
		}
		out = append(out, Release{Version: t.Name, SHA: t.SHA, Prerelease: semver.Prerelease(v) != ""})
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := "v"+strings.TrimPrefix(out[i].Version, "v"), "v"+strings.TrimPrefix(out[j].Version, "v")
		if c := semver.Compare(a, b); c != 0 {
			return c < 0
		}
		return strings.Count(a, ".") < strings.Count(b, ".")
	})
	return out, nil
}
