package securityaudit

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/workflows/dependencymanagement/inventory"
)

// Bounds of what one audit reads.
const (
	// maxFiles is the most workflow files and manifests read from one commit.
	maxFiles = 400
	// maxFileBytes skips larger files (GitHub's blob API serves up to 100 MB).
	maxFileBytes = 1 << 20
)

// snapshot is the files of one commit the audit reads: workflows and manifests.
type snapshot struct {
	SHA   string
	Files map[string][]byte
	// Skipped lists files not read (too large, over maxFiles) and why.
	Skipped []string
	// Truncated: GitHub's tree listing was cut short (a very large repository).
	Truncated bool
}

// audited reports whether the audit reads the file at p: workflow files and manifests.
func audited(p string) bool { return inventory.Kind(p) != "" }

// isWorkflow reports whether p is a workflow file (.github/workflows/*.yml at the root).
func isWorkflow(p string) bool {
	return strings.HasPrefix(p, ".github/workflows/") && !strings.Contains(strings.TrimPrefix(p, ".github/workflows/"), "/") &&
		(strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml"))
}

// read lists the commit's tree and reads its workflow files and manifests, except the paths
// ignore accepts.
//
// GET /repos/{owner}/{repo}/git/trees/{tree_sha}?recursive=1
// https://docs.github.com/en/rest/git/trees#get-a-tree
// GET /repos/{owner}/{repo}/git/blobs/{file_sha}
// https://docs.github.com/en/rest/git/blobs#get-a-blob
func read(ctx context.Context, gh *github.Client, owner, repo, sha string, ignore func(string) bool) (*snapshot, error) {
	tree, _, err := gh.Git.GetTree(ctx, owner, repo, sha, true)
	if err != nil {
		return nil, fmt.Errorf("failed to list the files of %s in %s/%s: %w", short(sha), owner, repo, err)
	}
	s := &snapshot{SHA: sha, Files: map[string][]byte{}, Truncated: tree.GetTruncated()}
	entries := append([]*github.TreeEntry(nil), tree.Entries...)
	sort.Slice(entries, func(i, j int) bool { return entries[i].GetPath() < entries[j].GetPath() })
	for _, e := range entries {
		p := e.GetPath()
		if e.GetType() != "blob" || !audited(p) || ignore(p) {
			continue
		}
		switch {
		case e.GetSize() > maxFileBytes:
			s.Skipped = append(s.Skipped, p+": larger than 1 MiB")
			continue
		case len(s.Files) == maxFiles:
			s.Skipped = append(s.Skipped, p+": over the limit of files read")
			continue
		}
		blob, _, err := gh.Git.GetBlob(ctx, owner, repo, e.GetSHA())
		if err != nil {
			return nil, fmt.Errorf("failed to read %s of %s/%s: %w", p, owner, repo, err)
		}
		content := []byte(blob.GetContent())
		if blob.GetEncoding() == "base64" {
			if content, err = base64.StdEncoding.DecodeString(strings.ReplaceAll(blob.GetContent(), "\n", "")); err != nil {
				return nil, fmt.Errorf("failed to decode %s of %s/%s: %w", p, owner, repo, err)
			}
		}
		s.Files[p] = content
	}
	return s, nil
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
