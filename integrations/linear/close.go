package linear

import (
	"context"
	"fmt"
	"strings"
)

const completedStatesQuery = `query CompletedStates($team: ID!) {
  workflowStates(filter: {team: {id: {eq: $team}}, type: {eq: "completed"}}) { nodes { id name position } }
}`

const issueCloseMutation = `mutation IssueClose($id: String!, $stateId: String!) {
  issueUpdate(id: $id, input: {stateId: $stateId}) { success issue { id identifier url title state { type } } }
}`

// CloseIssue moves the issue to the team's first workflow state of type
// "completed" (lowest position, usually "Done") with issueUpdate. Closing a
// closed issue is harmless, so a retry is safe. It fails with
// [ErrNoCompletedState] if the team has none.
func (c *Client) CloseIssue(ctx context.Context, teamID, issueID string) (Issue, error) {
	if strings.TrimSpace(teamID) == "" || strings.TrimSpace(issueID) == "" {
		return Issue{}, fmt.Errorf("failed to close Linear issue: %w: team and issue are required", ErrInvalidInput)
	}
	var states struct {
		WorkflowStates struct {
			Nodes []struct {
				ID       string  `json:"id"`
				Name     string  `json:"name"`
				Position float64 `json:"position"`
			} `json:"nodes"`
		} `json:"workflowStates"`
	}
	if err := c.do(ctx, completedStatesQuery, map[string]any{"team": teamID}, &states); err != nil {
		return Issue{}, fmt.Errorf("failed to list Linear completed states: %w", err)
	}
	stateID, best := "", 0.0
	for _, s := range states.WorkflowStates.Nodes {
		if s.ID != "" && (stateID == "" || s.Position < best) {
			stateID, best = s.ID, s.Position
		}
	}
	if stateID == "" {
		return Issue{}, fmt.Errorf("failed to close Linear issue: %w", ErrNoCompletedState)
	}
	var out struct {
		IssueUpdate struct {
			Success bool      `json:"success"`
			Issue   issueNode `json:"issue"`
		} `json:"issueUpdate"`
	}
	if err := c.do(ctx, issueCloseMutation, map[string]any{"id": issueID, "stateId": stateID}, &out); err != nil {
		return Issue{}, fmt.Errorf("failed to close Linear issue: %w", err)
	}
	if !out.IssueUpdate.Success {
		return Issue{}, fmt.Errorf("failed to close Linear issue: %w", ErrUnsuccessful)
	}
	return out.IssueUpdate.Issue.issue(), nil
}
