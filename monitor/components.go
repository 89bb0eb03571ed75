package monitor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/integrations/codegen"
	"github.com/contexten/autonomous/integrations/linear"
	"github.com/contexten/autonomous/integrations/slack"
)

// CodegenProbe is what the codegen check needs of the Codegen client (*codegen.Client): an
// authenticated read.
type CodegenProbe interface {
	ListRepos(ctx context.Context) ([]codegen.Repo, error)
}

// SlackProbe is what the slack check needs of the Slack client (*slack.Client): an incoming
// webhook cannot be probed without posting, so Slack is judged by the last send.
type SlackProbe interface {
	LastSend() (slack.SendResult, bool)
}

// LinearProbe is what the linear check needs of the Linear client (*linear.Client).
type LinearProbe interface {
	Viewer(ctx context.Context) (linear.Viewer, error)
}

// Thresholds of the backlog: River is degraded when the oldest available job waited longer
// than staleQueue, down after stuckQueue.
const (
	staleQueue = 10 * time.Minute
	stuckQueue = time.Hour
)

// minFinishedForDown is how many finished executions the workflows component needs before a
// low success rate makes it down rather than degraded.
const minFinishedForDown = 10

func down(format string, args ...any) Component {
	return Component{Status: Down, Message: fmt.Sprintf(format, args...)}
}

func (c *Checker) checkDatabase(ctx context.Context) Component {
	st := c.Engine.Store()
	values := map[string]any{"dialect": string(st.Dialect)}
	if err := Database(ctx, st); err != nil {
		comp := down("%v", err)
		comp.Values = values
		return comp
	}
	return Component{Status: Healthy, Message: string(st.Dialect) + ", migrated", Values: values}
}

// checkRiver fills the report's backlog figures and returns the kinds River knows.
func (c *Checker) checkRiver(ctx context.Context, r *Report) (Component, []string) {
	m, err := c.Engine.Metrics(ctx)
	if err != nil {
		return down("failed to read River's jobs: %v", err), nil
	}
	kinds := make([]string, 0, len(m.Counts))
	for kind, states := range m.Counts {
		kinds = append(kinds, kind)
		if n := states["available"]; n > 0 {
			r.QueueDepthByKind[kind] = n
		}
	}
	sort.Strings(kinds)
	r.QueueDepth, r.OldestAvailableSeconds = m.QueueDepth, m.OldestAvailableSec
	discarded, err := c.Engine.DiscardedSince(ctx, time.Now().Add(-time.Hour))
	if err != nil {
		return down("failed to count discarded jobs: %v", err), kinds
	}
	r.DiscardedLastHour = discarded
	values := map[string]any{
		"queue_depth": m.QueueDepth, "queue_depth_by_kind": r.QueueDepthByKind,
		"oldest_available_seconds": m.OldestAvailableSec, "discarded_last_hour": discarded,
		"running": c.Engine.Running(),
	}
	summary := fmt.Sprintf("%d jobs waiting, oldest %.1f s, %d discarded in the last hour", m.QueueDepth, m.OldestAvailableSec, discarded)
	comp := Component{Status: Healthy, Message: summary, Values: values}
	oldest := time.Duration(m.OldestAvailableSec * float64(time.Second))
	switch {
	case c.RequireRunning && River(c.Engine) != nil:
		comp.Status, comp.Message = Down, ErrNotRunning.Error()+"; "+summary
	case oldest > stuckQueue:
		comp.Status, comp.Message = Down, fmt.Sprintf("backlog stuck: %s", summary)
	case oldest > staleQueue:
		comp.Status, comp.Message = Degraded, fmt.Sprintf("backlog waiting over %s: %s", staleQueue, summary)
	}
	return comp, kinds
}

func (c *Checker) checkGitHub(ctx context.Context, th Thresholds, r *Report) Component {
	if c.GitHub == nil {
		return down("no GitHub App credentials: open the setup page")
	}
	app, err := c.GitHub.App()
	if err != nil {
		return down("failed to create the app's client: %v", err)
	}
	start := time.Now()
	// GET /app — https://docs.github.com/en/rest/apps/apps#get-the-authenticated-app
	me, resp, err := app.Apps.Get(ctx, "")
	elapsed := time.Since(start)
	values := map[string]any{"api_latency_ms": float64(elapsed.Microseconds()) / 1000}
	if err != nil {
		var ghErr *github.ErrorResponse
		if errors.As(err, &ghErr) && ghErr.Response != nil {
			values["http_status"] = ghErr.Response.StatusCode
			if s := ghErr.Response.StatusCode; s == http.StatusUnauthorized || s == http.StatusForbidden {
				comp := down("failed to authenticate as the app (HTTP %d): check GITHUB_APP_ID and the private key", s)
				comp.Values = values
				return comp
			}
		}
		comp := down("failed to authenticate as the app: %v", err)
		comp.Values = values
		return comp
	}
	values["app"] = me.GetSlug()
	comp := Component{Status: Healthy, Message: "app " + me.GetSlug(), Values: values}
	if resp != nil && resp.Rate.Limit > 0 {
		r.RateLimitRemaining = resp.Rate.Remaining
		values["rate_limit"], values["rate_limit_remaining"] = resp.Rate.Limit, resp.Rate.Remaining
		comp.Message += fmt.Sprintf(", rate limit %d/%d", resp.Rate.Remaining, resp.Rate.Limit)
		switch {
		case resp.Rate.Remaining == 0:
			comp.Status, comp.Message = Down, fmt.Sprintf("rate limit exhausted until %s", resp.Rate.Reset.UTC().Format(time.RFC3339))
			return comp
		case resp.Rate.Remaining < resp.Rate.Limit/20:
			comp.Status, comp.Message = Degraded, fmt.Sprintf("rate limit nearly exhausted: %d left", resp.Rate.Remaining)
			return comp
		}
	}
	return slow(comp, elapsed, th, "GitHub")
}

// slow degrades a healthy component whose answer took longer than ALERT_RESPONSE_TIME_MS.
func slow(comp Component, elapsed time.Duration, th Thresholds, who string) Component {
	if comp.Status == Healthy && elapsed > th.ResponseTime {
		comp.Status = Degraded
		comp.Message = fmt.Sprintf("%s answered in %d ms, over ALERT_RESPONSE_TIME_MS=%d; %s", who, elapsed.Milliseconds(), th.ResponseTime.Milliseconds(), comp.Message)
	}
	return comp
}

func (c *Checker) checkWorkflows(ctx context.Context, th Thresholds, kinds []string, r *Report) Component {
	stats, err := c.Engine.KindStats(ctx, kinds, th.HistorySize)
	if err != nil {
		return down("failed to read finished executions: %v", err)
	}
	r.Workflows = stats
	var finished, completed, failed int
	perKind := map[string]any{}
	for _, s := range stats {
		finished += s.Finished
		completed += s.Completed
		failed += s.FailedAttempts
		if s.Finished > 0 {
			perKind[s.Kind] = map[string]any{
				"success_rate": s.SuccessRate, "error_rate_percent": s.ErrorRatePercent,
				"duration_p50_ms": s.DurationP50MS, "duration_p95_ms": s.DurationP95MS, "finished": s.Finished,
			}
		}
	}
	if finished == 0 {
		return Component{Status: Healthy, Message: "no finished executions yet", Values: map[string]any{"finished": 0}}
	}
	successRate := float64(completed) / float64(finished)
	errorRate := 100 * float64(failed) / float64(max(completed+failed, 1))
	values := map[string]any{
		"finished": finished, "success_rate": successRate, "error_rate_percent": errorRate,
		"history_size": th.HistorySize, "kinds": perKind,
	}
	msg := fmt.Sprintf("%d finished, success rate %.0f%%, error rate %.1f%%", finished, 100*successRate, errorRate)
	var worst []string
	for _, s := range stats {
		if s.Finished > 0 && s.ErrorRatePercent > th.ErrorRatePercent {
			worst = append(worst, fmt.Sprintf("%s %.1f%%", s.Kind, s.ErrorRatePercent))
		}
	}
	comp := Component{Status: Healthy, Message: msg, Values: values}
	switch {
	case finished >= minFinishedForDown && successRate < 0.5:
		comp.Status = Down
		comp.Message = "most executions fail: " + msg
	case errorRate > th.ErrorRatePercent || len(worst) > 0:
		comp.Status = Degraded
		comp.Message = fmt.Sprintf("error rate over ALERT_ERROR_RATE_PERCENT=%g: %s", th.ErrorRatePercent, msg)
	}
	if len(worst) > 0 {
		comp.Message += " (" + strings.Join(worst, ", ") + ")"
	}
	return comp
}

func (c *Checker) checkCodegen(ctx context.Context, th Thresholds) Component {
	if c.Codegen == nil {
		return Component{Status: NotConfigured, Message: "CODEGEN_TOKEN and CODEGEN_ORG_ID are not set"}
	}
	start := time.Now()
	repos, err := c.Codegen.ListRepos(ctx)
	elapsed := time.Since(start)
	values := map[string]any{"api_latency_ms": float64(elapsed.Microseconds()) / 1000}
	if err != nil {
		comp := down("failed to reach Codegen: %v", err)
		if codegen.IsAuth(err) {
			comp.Message = "Codegen refused the credentials (CODEGEN_TOKEN, CODEGEN_ORG_ID): " + err.Error()
		}
		comp.Values = values
		return comp
	}
	values["repositories"] = len(repos)
	return slow(Component{Status: Healthy, Message: fmt.Sprintf("%d repositories", len(repos)), Values: values}, elapsed, th, "Codegen")
}

func (c *Checker) checkSlack() Component {
	if c.Slack == nil {
		return Component{Status: NotConfigured, Message: "SLACK_WEBHOOK_URL is not set"}
	}
	last, ok := c.Slack.LastSend()
	if !ok {
		return Component{Status: Healthy, Message: "configured, nothing sent yet", Values: map[string]any{"sent": false}}
	}
	values := map[string]any{"sent": true, "last_send_at": last.At.UTC().Format(time.RFC3339), "last_send_ok": last.Err == nil}
	switch {
	case last.Err == nil:
		return Component{Status: Healthy, Message: "last message delivered at " + last.At.UTC().Format(time.RFC3339), Values: values}
	case slack.IsPermanent(last.Err):
		return Component{Status: Down, Message: "Slack refused the last message (check SLACK_WEBHOOK_URL): " + last.Err.Error(), Values: values}
	default:
		return Component{Status: Degraded, Message: "the last message failed and is retried: " + last.Err.Error(), Values: values}
	}
}

func (c *Checker) checkLinear(ctx context.Context, th Thresholds) Component {
	if c.Linear == nil {
		return Component{Status: NotConfigured, Message: "LINEAR_API_KEY is not set"}
	}
	start := time.Now()
	viewer, err := c.Linear.Viewer(ctx)
	elapsed := time.Since(start)
	values := map[string]any{"api_latency_ms": float64(elapsed.Microseconds()) / 1000}
	if err != nil {
		comp := down("failed to reach Linear: %v", err)
		if linear.IsAuth(err) {
			comp.Message = "Linear refused LINEAR_API_KEY: " + err.Error()
		}
		comp.Values = values
		return comp
	}
	values["viewer"] = viewer.Name
	return slow(Component{Status: Healthy, Message: "authenticated as " + viewer.Name, Values: values}, elapsed, th, "Linear")
}
