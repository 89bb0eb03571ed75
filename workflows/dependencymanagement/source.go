package dependencymanagement

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/workflows/dependencymanagement/inventory"
)

// Snapshot is the default branch at one commit: its tree's paths and the manifests read.
type Snapshot struct {
	Branch, SHA string
	Paths       []string
	Truncated   bool // GitHub cut the recursive tree short; only the listed paths were scanned
	Inventory   *inventory.Result

	mu    sync.Mutex
	blobs map[string]string // path -> blob SHA
	files map[string][]byte // path -> content, as fetched
}

// File returns a fetched file's content (ok false when it was not fetched).
func (s *Snapshot) File(path string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.files[path]
	return b, ok
}

// Has reports whether the tree lists path.
func (s *Snapshot) Has(path string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.blobs[path]
	return ok
}

// treeFetcher reads blobs of one tree through the Git Data API.
type treeFetcher struct {
	gh          *github.Client
	owner, repo string
	snap        *Snapshot
}

// Fetch implements inventory.Fetcher with GET /repos/{owner}/{repo}/git/blobs/{sha}
// (https://docs.github.com/en/rest/git/blobs#get-a-blob), base64 content decoded.
func (f treeFetcher) Fetch(ctx context.Context, path string) ([]byte, error) {
	f.snap.mu.Lock()
	sha, ok := f.snap.blobs[path]
	f.snap.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("failed to read %s: not in the tree", path)
	}
	blob, _, err := f.gh.Git.GetBlob(ctx, f.owner, f.repo, sha)
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", path, err)
	}
	b := []byte(blob.GetContent())
	if blob.GetEncoding() == "base64" {
		if b, err = base64.StdEncoding.DecodeString(strings.ReplaceAll(blob.GetContent(), "\n", "")); err != nil {
			return nil, fmt.Errorf("failed to decode %s: %w", path, err)
		}
	}
	f.snap.mu.Lock()
	f.snap.files[path] = b
	f.snap.mu.Unlock()
	return b, nil
}

// TakeSnapshot reads the repository's default branch: GET /repos/{owner}/{repo}
// (https://docs.github.com/en/rest/repos/repos#get-a-repository), the branch's recursive tree
// (https://docs.github.com/en/rest/git/trees#get-a-tree) and every manifest in it, at any depth.
func TakeSnapshot(ctx context.Context, gh *github.Client, owner, repo string) (*Snapshot, treeFetcher, error) {
	r, _, err := gh.Repositories.Get(ctx, owner, repo)
	if err != nil {
		return nil, treeFetcher{}, fmt.Errorf("failed to read repository %s/%s: %w", owner, repo, err)
	}
	branch := r.GetDefaultBranch()
	if branch == "" {
		return nil, treeFetcher{}, fmt.Errorf("failed to read repository %s/%s: no default branch (empty repository?)", owner, repo)
	}
	ref, _, err := gh.Git.GetRef(ctx, owner, repo, "heads/"+branch)
	if err != nil {
		return nil, treeFetcher{}, fmt.Errorf("failed to read branch %s of %s/%s: %w", branch, owner, repo, err)
	}
	return snapshotAt(ctx, gh, owner, repo, branch, ref.GetObject().GetSHA())
}

// snapshotAt reads the manifests of one commit's tree.
func snapshotAt(ctx context.Context, gh *github.Client, owner, repo, branch, sha string) (*Snapshot, treeFetcher, error) {
	tree, _, err := gh.Git.GetTree(ctx, owner, repo, sha, true)
	if err != nil {
		return nil, treeFetcher{}, fmt.Errorf("failed to read the tree of %s/%s@%s: %w", owner, repo, sha, err)
	}
	snap := &Snapshot{Branch: branch, SHA: sha, Truncated: tree.GetTruncated(), blobs: map[string]string{}, files: map[string][]byte{}}
	for _, e := range tree.Entries {
		if e.GetType() == "blob" {
			snap.Paths = append(snap.Paths, e.GetPath())
			snap.blobs[e.GetPath()] = e.GetSHA()
		}
	}
	f := treeFetcher{gh: gh, owner: owner, repo: repo, snap: snap}
	inv, err := inventory.ScanTree(ctx, snap.Paths, f)
	if err != nil {
		return nil, f, err
	}
	snap.Inventory = inv
	return snap, f, nil
}
