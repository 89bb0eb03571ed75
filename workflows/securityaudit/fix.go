package securityaudit

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/ghapp/botpr"
	"github.com/contexten/autonomous/markdown"
	"github.com/contexten/autonomous/workflows/securityaudit/workflowaudit"
)

// FixBranch is the bot's branch of the fix pull request: one per repository.
const FixBranch = "autonomous-ci/security-audit"

// maxInjectionFixes bounds the expressions moved to env: in one file.
const maxInjectionFixes = 100

// fixedFile is one workflow file the fix changes, with what was done to it.
type fixedFile struct {
	Path    string
	Content []byte
	Changes []string
}

// tagResolver finds the commit a tag of an action's repository names.
type tagResolver struct {
	gh    *github.Client
	cache map[string]string // "owner/repo@tag" → commit ("" when the ref is no tag)
}

// resolve returns the commit of owner/repo's tag, peeling annotated tags (a tag object that
// points at a commit, or at another tag); "" when the ref is no tag of that repository.
//
// GET /repos/{owner}/{repo}/git/ref/tags/{tag}
// https://docs.github.com/en/rest/git/refs#get-a-reference
// GET /repos/{owner}/{repo}/git/tags/{tag_sha}
// https://docs.github.com/en/rest/git/tags#get-a-tag
func (t *tagResolver) resolve(ctx context.Context, owner, repo, tag string) (string, error) {
	key := owner + "/" + repo + "@" + tag
	if sha, ok := t.cache[key]; ok {
		return sha, nil
	}
	segs := strings.Split(tag, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	var ref github.Reference
	_, err := ghapp.GetFresh(ctx, t.gh, fmt.Sprintf("repos/%s/%s/git/ref/tags/%s", url.PathEscape(owner), url.PathEscape(repo), strings.Join(segs, "/")), nil, &ref)
	if ghapp.IsNotFound(err) {
		t.cache[key] = ""
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("failed to resolve %s: %w", key, err)
	}
	obj := ref.GetObject()
	for range 5 {
		if obj.GetType() != "tag" {
			break
		}
		tagObj, _, err := t.gh.Git.GetTag(ctx, owner, repo, obj.GetSHA())
		if err != nil {
			return "", fmt.Errorf("failed to peel tag %s: %w", key, err)
		}
		obj = tagObj.GetObject()
	}
	if obj.GetType() != "commit" || len(obj.GetSHA()) != 40 {
		t.cache[key] = ""
		return "", nil
	}
	t.cache[key] = obj.GetSHA()
	return obj.GetSHA(), nil
}

// fixFile applies the mechanical fixes of one workflow file's findings, each a minimal edit:
// actions pinned to the commit of their tag (kept as a comment), untrusted expressions moved
// into env: variables, and top-level permissions added. It returns the file unchanged (and no
// changes) when nothing is mechanical.
func fixFile(ctx context.Context, tags *tagResolver, path string, src []byte, findings []Finding, opts workflowaudit.Options) (fixedFile, error) {
	out := fixedFile{Path: path, Content: src}
	byRule := map[string][]Finding{}
	for _, f := range findings {
		if f.File == path {
			byRule[f.RuleID] = append(byRule[f.RuleID], f)
		}
	}
	// 1. Pins: each edit stays on its line, so the findings' lines stay right.
	if len(byRule[workflowaudit.RuleUnpinnedAction]) > 0 {
		refs, err := workflowaudit.Uses(path, out.Content)
		if err != nil {
			return out, nil // not a workflow any more: nothing to fix
		}
		at := map[int]workflowaudit.ActionRef{}
		for _, r := range refs {
			at[r.Line] = r
		}
		for _, f := range byRule[workflowaudit.RuleUnpinnedAction] {
			r, ok := at[f.Line]
			if !ok || (r.Kind != workflowaudit.KindAction && r.Kind != workflowaudit.KindWorkflow) || r.Ref == "" {
				continue
			}
			sha, err := tags.resolve(ctx, r.Owner, r.Repo, r.Ref)
			if err != nil {
				return out, err
			}
			if sha == "" {
				continue // a branch, or a tag GitHub does not know: a person decides
			}
			edited := workflowaudit.PinAction(out.Content, f.Line, sha, r.Ref)
			if string(edited) != string(out.Content) {
				out.Content = edited
				out.Changes = append(out.Changes, fmt.Sprintf("pinned %s/%s@%s to %s (line %d)", r.Owner, r.Repo, r.Ref, sha, f.Line))
			}
		}
	}
	// 2. Expressions into env:, one at a time: each edit adds lines, so the file is audited
	// again for the next one's position.
	if len(byRule[workflowaudit.RuleTemplateInjection]) > 0 {
		failed := map[string]bool{}
		for range maxInjectionFixes {
			fs, err := workflowaudit.Audit(path, out.Content, opts)
			if err != nil {
				break
			}
			var next *workflowaudit.Finding
			for i := range fs {
				if fs[i].RuleID == workflowaudit.RuleTemplateInjection && !failed[fs[i].Message+"\x00"+lineText(out.Content, fs[i].Line)] {
					next = &fs[i]
					break
				}
			}
			if next == nil {
				break
			}
			edited, err := workflowaudit.MoveExpressionToEnv(out.Content, *next)
			if err != nil {
				if errors.Is(err, workflowaudit.ErrNotMechanical) || errors.Is(err, workflowaudit.ErrInvalidWorkflow) {
					failed[next.Message+"\x00"+lineText(out.Content, next.Line)] = true
					continue
				}
				return out, err
			}
			if string(edited) == string(out.Content) {
				failed[next.Message+"\x00"+lineText(out.Content, next.Line)] = true
				continue
			}
			out.Content = edited
			out.Changes = append(out.Changes, fmt.Sprintf("moved an untrusted expression into env: (%s)", markdown.OneLine(next.Message)))
		}
	}
	// 3. Permissions last (the block goes above jobs:).
	if len(byRule[workflowaudit.RuleMissingPermissions]) > 0 {
		if edited := workflowaudit.AddTopLevelPermissions(out.Content); string(edited) != string(out.Content) {
			out.Content = edited
			out.Changes = append(out.Changes, "added top-level permissions: contents: read")
		}
	}
	return out, nil
}

// fixRequest is the fix pull request's content, or ok false when nothing is mechanical.
func fixRequest(owner, repo, base string, fixed []fixedFile, remaining int) (botpr.Request, bool) {
	sort.Slice(fixed, func(i, j int) bool { return fixed[i].Path < fixed[j].Path })
	var files []botpr.File
	var b strings.Builder
	b.WriteString("The security audit found problems in this repository's workflow files that have a mechanical fix; this pull request applies them and changes nothing else.\n\n")
	for _, f := range fixed {
		if len(f.Changes) == 0 {
			continue
		}
		files = append(files, botpr.File{Path: f.Path, Content: f.Content})
		fmt.Fprintf(&b, "**%s**\n", markdown.Code(f.Path))
		for _, c := range f.Changes {
			fmt.Fprintf(&b, "- %s\n", markdown.Plain(c))
		}
		b.WriteString("\n")
	}
	if len(files) == 0 {
		return botpr.Request{}, false
	}
	if remaining > 0 {
		fmt.Fprintf(&b, "%d other findings need a person; see the check run %s on %s.\n\n", remaining, markdown.Code(CheckRunName), markdown.Code(base))
	}
	b.WriteString("Pinned actions keep their tag as a comment, so Dependabot and people can still read and update them. The bot updates this pull request in place on the next audit; a commit pushed here by a person makes it leave the branch alone.\n")
	return botpr.Request{
		Owner: owner, Repo: repo, Base: base, Branch: FixBranch,
		Title:         "Security audit: fix workflow findings",
		Body:          b.String(),
		CommitMessage: "ci: apply the security audit's mechanical fixes",
		Files:         files,
	}, true
}
