package linear

import (
	"context"
	"fmt"
	"strings"
)

// WithFingerprint appends the fingerprint's section to a description: the
// fingerprint in readable form and its [FingerprintMarker] line.
func WithFingerprint(description, fingerprint string) string {
	section := "---\nFingerprint: `" + strings.ReplaceAll(fingerprint, "`", "'") + "`\n\n" + FingerprintMarker(fingerprint)
	if strings.TrimSpace(description) == "" {
		return section
	}
	return strings.TrimRight(description, "\n") + "\n\n" + section
}

// EnsureIssue files at most one open issue per fingerprint: it looks before
// it writes. If the team has an open issue with the fingerprint's marker, it
// comments commentIfExists on it (nothing if empty) and returns it with
// created false; otherwise it creates in (TeamID set to teamID, the marker
// appended to the description) and returns it with created true.
//
// A retry after a create that failed on the way back (timeout, 5xx after
// the write) finds the issue it made and comments instead of duplicating.
//
// Race: Linear has no uniqueness constraint, so two EnsureIssue calls for
// the same fingerprint running at the same time can both find nothing and
// both create. Callers must serialise per fingerprint — run each escalation
// as one durable job keyed by its fingerprint (e.g. a River job unique by
// fingerprint), never several in parallel for one fingerprint.
func (c *Client) EnsureIssue(ctx context.Context, teamID, fingerprint string, in IssueInput, commentIfExists string) (issue Issue, created bool, err error) {
	existing, found, err := c.FindOpenIssueByFingerprint(ctx, teamID, fingerprint)
	if err != nil {
		return Issue{}, false, fmt.Errorf("failed to ensure Linear issue: %w", err)
	}
	if found {
		if strings.TrimSpace(commentIfExists) != "" {
			if _, err := c.CreateComment(ctx, existing.ID, commentIfExists); err != nil {
				return existing, false, fmt.Errorf("failed to ensure Linear issue: %w", err)
			}
		}
		return existing, false, nil
	}
	in.TeamID = teamID
	in.Description = WithFingerprint(in.Description, fingerprint)
	issue, err = c.CreateIssue(ctx, in)
	if err != nil {
		return Issue{}, false, fmt.Errorf("failed to ensure Linear issue: %w", err)
	}
	return issue, true, nil
}
