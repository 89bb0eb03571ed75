package codegen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// ErrNoRunID is returned when a 2xx answer carries no run id.
var ErrNoRunID = errors.New("codegen answer has no agent run id")

// Status is an agent run's status as Codegen reports it (e.g. "PENDING",
// "RUNNING", "COMPLETE"); compare it only through its methods.
type Status string

// Succeeded reports COMPLETE or COMPLETED, in any case.
func (s Status) Succeeded() bool {
	switch strings.ToUpper(strings.TrimSpace(string(s))) {
	case "COMPLETE", "COMPLETED":
		return true
	}
	return false
}

// Failed reports a terminal failure: FAILED, ERROR, CANCELLED (or
// CANCELED) or STOPPED, in any case.
func (s Status) Failed() bool {
	switch strings.ToUpper(strings.TrimSpace(string(s))) {
	case "FAILED", "ERROR", "CANCELLED", "CANCELED", "STOPPED":
		return true
	}
	return false
}

// Done reports a terminal status; anything else, an unknown or empty status
// included, means the run is still going and is polled again.
func (s Status) Done() bool { return s.Succeeded() || s.Failed() }

// PullRequest is a pull request the agent opened.
type PullRequest struct {
	ID             int64  `json:"id"`
	Title          string `json:"title"`
	URL            string `json:"url"`
	HeadBranchName string `json:"head_branch_name"`
}

// Run is an agent run, with the fields Autonomous CI uses.
type Run struct {
	ID     int64  `json:"id"`
	Status Status `json:"status"`
	// WebURL is the run's page in Codegen's web app.
	WebURL  string `json:"web_url"`
	Result  string `json:"result"`
	Summary string `json:"summary"`
	// PullRequests are the pull requests the agent opened, oldest first.
	PullRequests []PullRequest `json:"github_pull_requests"`
}

// CreateRunRequest is the body of a run creation.
type CreateRunRequest struct {
	Prompt string `json:"prompt"`
	// RepoID is Codegen's repository id (see [Client.RepoID]); nil lets the
	// agent pick from the prompt.
	RepoID *int64 `json:"repo_id,omitempty"`
	// Metadata is kept with the run (e.g. the failure's fingerprint).
	Metadata map[string]any `json:"metadata,omitempty"`
}

// CreateRun starts an agent run, after waiting for the create limiter.
// A transport error or timeout does not prove that no run was created:
// callers record their intent first and look for the run by its metadata
// before creating again.
//
// API: POST /v1/organizations/{org_id}/agent/run
// (https://docs.codegen.com/api-reference/agents/create-agent-run).
func (c *Client) CreateRun(ctx context.Context, in CreateRunRequest) (*Run, error) {
	if strings.TrimSpace(in.Prompt) == "" {
		return nil, fmt.Errorf("failed to create agent run: %w: empty prompt", ErrInvalidInput)
	}
	if err := c.waitCreate(ctx); err != nil {
		return nil, fmt.Errorf("failed to create agent run: %w", err)
	}
	var run Run
	if err := c.do(ctx, http.MethodPost, c.orgPath("/agent/run"), nil, in, &run); err != nil {
		c.noteRateLimit(err)
		return nil, fmt.Errorf("failed to create agent run: %w", err)
	}
	if run.ID <= 0 {
		return nil, fmt.Errorf("failed to create agent run: %w", ErrNoRunID)
	}
	return &run, nil
}

// GetRun reads an agent run.
//
// API: GET /v1/organizations/{org_id}/agent/run/{agent_run_id}
// (https://docs.codegen.com/api-reference/agents/get-agent-run).
func (c *Client) GetRun(ctx context.Context, id int64) (*Run, error) {
	if id <= 0 {
		return nil, fmt.Errorf("failed to get agent run: %w: run id %d", ErrInvalidInput, id)
	}
	var run Run
	if err := c.do(ctx, http.MethodGet, c.orgPath("/agent/run/"+strconv.FormatInt(id, 10)), nil, nil, &run); err != nil {
		return nil, fmt.Errorf("failed to get agent run %d: %w", id, err)
	}
	if run.ID <= 0 {
		return nil, fmt.Errorf("failed to get agent run %d: %w", id, ErrNoRunID)
	}
	return &run, nil
}

// ResumeRun continues agent run id with a new prompt (e.g. the excerpt of
// the fix PR's failure), after waiting for the create limiter.
//
// API: POST /v1/organizations/{org_id}/agent/run/resume
// (https://docs.codegen.com/api-reference/agents/resume-agent-run).
func (c *Client) ResumeRun(ctx context.Context, id int64, prompt string) (*Run, error) {
	if id <= 0 || strings.TrimSpace(prompt) == "" {
		return nil, fmt.Errorf("failed to resume agent run: %w: run id and prompt are required", ErrInvalidInput)
	}
	if err := c.waitCreate(ctx); err != nil {
		return nil, fmt.Errorf("failed to resume agent run %d: %w", id, err)
	}
	body := struct {
		AgentRunID int64  `json:"agent_run_id"`
		Prompt     string `json:"prompt"`
	}{id, prompt}
	var run Run
	if err := c.do(ctx, http.MethodPost, c.orgPath("/agent/run/resume"), nil, body, &run); err != nil {
		c.noteRateLimit(err)
		return nil, fmt.Errorf("failed to resume agent run %d: %w", id, err)
	}
	if run.ID <= 0 {
		run.ID = id // the resume answer may be an acknowledgement without the run
	}
	return &run, nil
}

func (c *Client) waitCreate(ctx context.Context) error {
	if c.create == nil {
		return nil
	}
	return c.create.Wait(ctx)
}

// noteRateLimit holds further creations back for a 429's Retry-After.
func (c *Client) noteRateLimit(err error) {
	if c.create != nil && IsRateLimited(err) {
		c.create.Pause(RetryAfterOf(err))
	}
}
