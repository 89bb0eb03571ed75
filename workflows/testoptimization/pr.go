package testoptimization

import (
	"context"
	"fmt"
	"strings"

	"github.com/contexten/autonomous/markdown"
	"github.com/contexten/autonomous/prreport"
	"github.com/contexten/autonomous/workflows/testoptimization/testresults"
)

// PRFlaky is the /ci flaky answer: the pull request's failed tests at its head, and which of
// them are known flaky.
type PRFlaky struct {
	Number  int          `json:"number"`
	HeadSHA string       `json:"head_sha"`
	Failed  []string     `json:"failed"`
	Known   []KnownFlaky `json:"known_flaky"`
}

// sectionKey is test optimization's section of the sticky comment.
const sectionKey = "test_optimization"

// answerPR writes the /ci flaky answer into the pull request's sticky comment.
func (s *session) answerPR(ctx context.Context, rep *Report) error {
	a := s.args
	// GET /repos/{owner}/{repo}/pulls/{pull_number} — https://docs.github.com/en/rest/pulls/pulls#get-a-pull-request
	pr, _, err := s.client.PullRequests.Get(ctx, a.Owner, a.Repo, a.PR)
	if err != nil {
		return fmt.Errorf("failed to get pull request #%d: %w", a.PR, err)
	}
	head := pr.GetHead().GetSHA()
	ans := &PRFlaky{Number: a.PR, HeadSHA: head}
	stored, err := s.w.deps.Store.TestResults(ctx, a.Owner, a.Repo, keepRuns)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, r := range stored {
		if r.Run.HeadSHA == head && testresults.Outcome(r.Outcome).IsFailure() && !seen[r.TestID] {
			seen[r.TestID] = true
			ans.Failed = append(ans.Failed, r.TestID)
		}
	}
	known, err := lookupKnown(ctx, s.w.deps.Store, a.Owner, a.Repo, ans.Failed)
	if err != nil {
		return err
	}
	for _, id := range ans.Failed {
		if k, ok := known[id]; ok {
			ans.Known = append(ans.Known, k)
		}
	}
	rep.PR = ans
	sec := prSection(ans, rep)
	r := prreport.Reporter{Client: s.client, Records: s.w.deps.Store, Owner: a.Owner, Repo: a.Repo}
	_, err = r.UpdateComment(ctx, a.PR, sec, false)
	return err
}

func prSection(ans *PRFlaky, rep *Report) prreport.Section {
	var b strings.Builder
	switch {
	case len(ans.Failed) == 0:
		fmt.Fprintf(&b, "No failed test is recorded for %s.\n", markdown.Code(markdown.ShortSHA(ans.HeadSHA)))
	case len(ans.Known) == 0:
		fmt.Fprintf(&b, "None of the %d failed tests at %s is known flaky: treat them as real failures.\n", len(ans.Failed), markdown.Code(markdown.ShortSHA(ans.HeadSHA)))
	default:
		fmt.Fprintf(&b, "%d of the %d failed tests at %s are known flaky, not caused by this change:\n\n", len(ans.Known), len(ans.Failed), markdown.Code(markdown.ShortSHA(ans.HeadSHA)))
		for _, k := range ans.Known {
			fmt.Fprintf(&b, "- %s — %s\n", markdown.Code(k.TestID), k.Note())
		}
	}
	fmt.Fprintf(&b, "\n<sub>From %d collected run attempts.</sub>\n", rep.RunsAnalyzed)
	headline := "Test optimization: no known flaky failures"
	if len(ans.Known) > 0 {
		headline = fmt.Sprintf("Test optimization: %d known flaky test(s)", len(ans.Known))
	}
	return prreport.Section{Key: sectionKey, Workflow: "test optimization", Headline: headline, Title: headline, Body: b.String()}
}
