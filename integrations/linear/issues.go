package linear

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode"
)

// Issue is the part of a Linear issue this package reads.
type Issue struct {
	ID         string `json:"id"`
	Identifier string `json:"identifier"`
	URL        string `json:"url"`
	Title      string `json:"title"`
	// StateType is the workflow state's type: triage, backlog, unstarted,
	// started, completed or canceled; empty when not asked for.
	StateType string `json:"-"`
}

// Viewer is the user the API key belongs to.
type Viewer struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// IssueInput is what CreateIssue files.
type IssueInput struct {
	TeamID      string
	Title       string
	Description string
	// Priority is Linear's 0 (none), 1 (urgent), 2 (high), 3 (medium), 4
	// (low); see [PriorityFromSeverity].
	Priority int
}

// PriorityFromSeverity maps a severity to Linear's priority: critical → 1
// (urgent), high → 2, medium → 3, low → 4; anything else → 0 (none).
func PriorityFromSeverity(severity string) int {
	switch strings.ToLower(strings.TrimSpace(severity)) {
	case "critical":
		return 1
	case "high":
		return 2
	case "medium":
		return 3
	case "low":
		return 4
	default:
		return 0
	}
}

// markerPrefix starts the line that ties an issue to a fingerprint.
const markerPrefix = "autonomous-ci-fingerprint: "

// FingerprintMarker is the line EnsureIssue puts in a description and
// FindOpenIssueByFingerprint searches for: the prefix and a SHA-256 digest
// of the fingerprint. A digest, not the fingerprint itself, so that Linear's
// Markdown normalisation cannot alter it (it escapes _ and *) and so that
// one fingerprint is never a prefix of another's marker.
func FingerprintMarker(fingerprint string) string {
	sum := sha256.Sum256([]byte(fingerprint))
	return markerPrefix + "sha256-" + hex.EncodeToString(sum[:16])
}

func validFingerprint(fp string) error {
	if fp == "" || len(fp) > 512 || strings.IndexFunc(fp, unicode.IsSpace) >= 0 {
		return fmt.Errorf("%w: fingerprint must be 1-512 bytes without whitespace", ErrInvalidInput)
	}
	return nil
}

// Viewer returns the key's user; it is the credentials check
// (https://linear.app/developers/graphql#authentication).
func (c *Client) Viewer(ctx context.Context) (Viewer, error) {
	var out struct {
		Viewer Viewer `json:"viewer"`
	}
	if err := c.do(ctx, `query Viewer { viewer { id name } }`, nil, &out); err != nil {
		return Viewer{}, fmt.Errorf("failed to query Linear viewer: %w", err)
	}
	return out.Viewer, nil
}

const openIssuesQuery = `query OpenIssuesByFingerprint($team: ID!, $marker: String!) {
  issues(first: 10, filter: {team: {id: {eq: $team}}, description: {contains: $marker}, state: {type: {nin: ["completed", "canceled"]}}}) {
    nodes { id identifier url title description state { type } }
  }
}`

type issueNode struct {
	Issue
	Description string `json:"description"`
	State       struct {
		Type string `json:"type"`
	} `json:"state"`
}

func (n issueNode) issue() Issue {
	i := n.Issue
	i.StateType = n.State.Type
	return i
}

// FindOpenIssueByFingerprint returns the team's open issue (state type
// neither completed nor canceled) whose description holds the fingerprint's
// [FingerprintMarker]; found is false if there is none.
func (c *Client) FindOpenIssueByFingerprint(ctx context.Context, teamID, fingerprint string) (issue Issue, found bool, err error) {
	if strings.TrimSpace(teamID) == "" {
		return Issue{}, false, fmt.Errorf("failed to find Linear issue: %w: empty team", ErrInvalidInput)
	}
	if err := validFingerprint(fingerprint); err != nil {
		return Issue{}, false, fmt.Errorf("failed to find Linear issue: %w", err)
	}
	marker := FingerprintMarker(fingerprint)
	var out struct {
		Issues struct {
			Nodes []issueNode `json:"nodes"`
		} `json:"issues"`
	}
	if err := c.do(ctx, openIssuesQuery, map[string]any{"team": teamID, "marker": marker}, &out); err != nil {
		return Issue{}, false, fmt.Errorf("failed to find Linear issue: %w", err)
	}
	for _, n := range out.Issues.Nodes {
		// The server filtered; check again, as a defence against a loose match.
		if strings.Contains(n.Description, marker) && n.State.Type != "completed" && n.State.Type != "canceled" {
			return n.issue(), true, nil
		}
	}
	return Issue{}, false, nil
}

const issueCreateMutation = `mutation IssueCreate($input: IssueCreateInput!) {
  issueCreate(input: $input) { success issue { id identifier url title state { type } } }
}`

// CreateIssue files an issue with issueCreate
// (https://linear.app/developers/graphql#creating-and-editing-issues). It
// does not look for duplicates; [Client.EnsureIssue] does.
func (c *Client) CreateIssue(ctx context.Context, in IssueInput) (Issue, error) {
	title := strings.TrimSpace(in.Title)
	if strings.TrimSpace(in.TeamID) == "" || title == "" {
		return Issue{}, fmt.Errorf("failed to create Linear issue: %w: team and title are required", ErrInvalidInput)
	}
	if in.Priority < 0 || in.Priority > 4 {
		return Issue{}, fmt.Errorf("failed to create Linear issue: %w: priority must be 0-4", ErrInvalidInput)
	}
	input := map[string]any{"teamId": in.TeamID, "title": title, "priority": in.Priority}
	if in.Description != "" {
		input["description"] = in.Description
	}
	var out struct {
		IssueCreate struct {
			Success bool      `json:"success"`
			Issue   issueNode `json:"issue"`
		} `json:"issueCreate"`
	}
	if err := c.do(ctx, issueCreateMutation, map[string]any{"input": input}, &out); err != nil {
		return Issue{}, fmt.Errorf("failed to create Linear issue: %w", err)
	}
	if !out.IssueCreate.Success || out.IssueCreate.Issue.ID == "" {
		return Issue{}, fmt.Errorf("failed to create Linear issue: %w", ErrUnsuccessful)
	}
	return out.IssueCreate.Issue.issue(), nil
}

// Comment is a created comment.
type Comment struct {
	ID  string `json:"id"`
	URL string `json:"url"`
}

const commentCreateMutation = `mutation CommentCreate($input: CommentCreateInput!) {
  commentCreate(input: $input) { success comment { id url } }
}`

// CreateComment adds a Markdown comment to an issue with commentCreate.
func (c *Client) CreateComment(ctx context.Context, issueID, body string) (Comment, error) {
	if strings.TrimSpace(issueID) == "" || strings.TrimSpace(body) == "" {
		return Comment{}, fmt.Errorf("failed to create Linear comment: %w: issue and body are required", ErrInvalidInput)
	}
	var out struct {
		CommentCreate struct {
			Success bool    `json:"success"`
			Comment Comment `json:"comment"`
		} `json:"commentCreate"`
	}
	vars := map[string]any{"input": map[string]any{"issueId": issueID, "body": body}}
	if err := c.do(ctx, commentCreateMutation, vars, &out); err != nil {
		return Comment{}, fmt.Errorf("failed to create Linear comment: %w", err)
	}
	if !out.CommentCreate.Success || out.CommentCreate.Comment.ID == "" {
		return Comment{}, fmt.Errorf("failed to create Linear comment: %w", ErrUnsuccessful)
	}
	return out.CommentCreate.Comment, nil
}
