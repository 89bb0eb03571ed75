package alerting_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/rcrowley/go-metrics"
	"github.com/riverqueue/river"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/alerting"
	"github.com/contexten/autonomous/alerting/alertingtest"
	"github.com/contexten/autonomous/ghapp/ghapptest"
	"github.com/contexten/autonomous/integrations/linear"
	"github.com/contexten/autonomous/integrations/slack"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// env is a Service over a real engine and database with fake Slack and Linear on loopback.
type env struct {
	t      *testing.T
	st     *store.Store
	svc    *alerting.Service
	engine *workflows.Engine
	slack  *alertingtest.Slack
	linear *alertingtest.Linear
	reg    metrics.Registry
	clock  *clock
}

type envOptions struct {
	dbURL          string
	noSlack        bool
	withLinear     bool
	linearKey      string
	cooldown       time.Duration
	workers        func(w *river.Workers, svc *alerting.Service)
	dontStart      bool
	slackTimeoutMS int
}

// clock is a settable time, starting now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var clientSeq atomic.Int64

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	if o.dbURL == "" {
		o.dbURL = workflowstest.SQLiteURL(t)
	}
	e := &env{t: t, st: workflowstest.OpenStore(t, o.dbURL), reg: metrics.NewRegistry(), clock: &clock{now: time.Now()}}
	d := alerting.Deps{Store: e.st, Cooldown: o.cooldown, Metrics: e.reg, Now: e.clock.Now}
	if !o.noSlack {
		e.slack = alertingtest.NewSlack(t)
		hc := &http.Client{Timeout: 5 * time.Second}
		if o.slackTimeoutMS > 0 {
			hc.Timeout = time.Duration(o.slackTimeoutMS) * time.Millisecond
		}
		c, err := slack.New(e.slack.URL(), slack.WithHTTPClient(hc))
		require.NoError(t, err)
		d.Slack = c
	}
	if o.withLinear {
		e.linear = alertingtest.NewLinear(t)
		key := o.linearKey
		if key == "" {
			key = "lin_api_test"
		}
		c, err := linear.New(key, linear.WithURL(e.linear.URL()))
		require.NoError(t, err)
		d.Linear, d.LinearTeamID = c, alertingtest.Team
	}
	e.svc = alerting.New(d)
	workers := river.NewWorkers()
	river.AddWorker(workers, e.svc.Worker())
	if o.workers != nil {
		o.workers(workers, e.svc)
	}
	engine, err := workflows.NewEngine(e.st, workflows.Options{
		Workers: workers, RetryDelay: 20 * time.Millisecond, FetchPollInterval: 10 * time.Millisecond,
		ID: fmt.Sprintf("alerting-test-%d", clientSeq.Add(1)), Logger: zerolog.Nop(),
	})
	require.NoError(t, err)
	e.engine = engine
	e.svc.SetClient(engine.Client())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = engine.Stop(ctx)
	})
	if !o.dontStart {
		e.start()
	}
	return e
}

func (e *env) start() {
	require.NoError(e.t, e.engine.Start(context.Background()))
}

// settle waits until no job is pending (every job completed, cancelled or discarded).
func (e *env) settle() {
	e.t.Helper()
	require.Eventually(e.t, func() bool {
		var n int
		require.NoError(e.t, e.st.DB.QueryRow(`SELECT COUNT(*) FROM river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded')`).Scan(&n))
		return n == 0
	}, 30*time.Second, 10*time.Millisecond)
}

// jobs counts the delivery jobs by state.
func (e *env) jobs() map[string]int {
	e.t.Helper()
	rows, err := e.st.DB.Query(`SELECT state, COUNT(*) FROM river_job WHERE kind = ? GROUP BY state`, alerting.Kind)
	require.NoError(e.t, err)
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		require.NoError(e.t, rows.Scan(&s, &n))
		out[s] = n
	}
	return out
}

func (e *env) record(fp string) alerting.Record {
	e.t.Helper()
	recs, err := e.svc.Recent(context.Background(), 100)
	require.NoError(e.t, err)
	for _, r := range recs {
		if r.Fingerprint == fp {
			return r
		}
	}
	e.t.Fatalf("alert %s not recorded", fp)
	return alerting.Record{}
}

func (e *env) sent(channel string) int64 {
	return metrics.GetOrRegisterCounter(alerting.SentMetric(channel), e.reg).Count()
}

func alertOf(fp string) alerting.Alert {
	return alerting.Alert{Fingerprint: fp, Severity: alerting.High, Title: "GitHub is unreachable", Text: "GET /app answered 502 *three* times",
		Source: "monitor", Repo: "octo/app", Fields: []alerting.Field{{Name: "Latency", Value: "5 s"}},
		Links: []alerting.Link{{Label: "Run", URL: "https://github.com/octo/app/actions/runs/1"}, {Label: "bad", URL: "javascript:alert(1)"}}}
}

func TestSlack500IsRetriedAndDeliveredExactlyOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.slack.Fail(alertingtest.Fault{Status: 500, Body: "internal_error"}, alertingtest.Fault{Status: 503})
	require.NoError(t, e.svc.Raise(context.Background(), alertOf("health:github")))
	e.settle()

	posts := e.slack.Posts()
	require.Len(t, posts, 1)
	require.Equal(t, 3, e.slack.Tries())
	require.Contains(t, posts[0].Text, "GitHub is unreachable")
	require.Contains(t, string(posts[0].Raw), "https://github.com/octo/app/actions/runs/1")
	require.NotContains(t, string(posts[0].Raw), "javascript:")
	require.Equal(t, map[string]int{"completed": 1}, e.jobs())
	rec := e.record("health:github")
	require.Equal(t, "open", rec.State)
	require.Equal(t, "slack: sent", rec.Delivery)
	require.NotNil(t, rec.LastSentAt)
	require.Equal(t, int64(1), e.sent(alerting.ChannelSlack))
}

func TestRepeatsWithinTheCooldownAreCountedNotSent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{cooldown: time.Hour})
	ctx := context.Background()
	for range 3 {
		require.NoError(t, e.svc.Raise(ctx, alertOf("health:github")))
		e.settle()
		e.clock.Add(10 * time.Minute)
	}
	require.Len(t, e.slack.Posts(), 1)
	rec := e.record("health:github")
	require.Equal(t, int64(3), rec.Occurrences)

	// Past the cooldown (30 minutes + 31 more since the message): one reminder.
	e.clock.Add(31 * time.Minute)
	require.NoError(t, e.svc.Raise(ctx, alertOf("health:github")))
	e.settle()
	posts := e.slack.Posts()
	require.Len(t, posts, 2)
	require.Contains(t, posts[1].Text, "Still happening")
	require.Contains(t, string(posts[1].Raw), "4 occurrences")
	require.Equal(t, map[string]int{"completed": 2}, e.jobs())
}

func TestResolutionIsSentOnceAndReopenAnnouncesAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{cooldown: time.Hour})
	ctx := context.Background()
	require.NoError(t, e.svc.Raise(ctx, alertOf("health:github")))
	e.settle()
	require.NoError(t, e.svc.Resolve(ctx, "health:github", "GitHub answers again"))
	require.NoError(t, e.svc.Resolve(ctx, "health:github", "GitHub answers again"))
	e.settle()
	require.NoError(t, e.svc.Resolve(ctx, "health:github", "still fine"))
	require.NoError(t, e.svc.Resolve(ctx, "health:never-raised", "nothing"))
	e.settle()

	posts := e.slack.Posts()
	require.Len(t, posts, 2)
	require.Contains(t, posts[1].Text, "Resolved: GitHub is unreachable")
	require.Contains(t, string(posts[1].Raw), "GitHub answers again")
	rec := e.record("health:github")
	require.Equal(t, "resolved", rec.State)
	require.NotNil(t, rec.ResolvedAt)
	require.Contains(t, rec.Delivery, "resolved; slack: sent")

	// The same condition again, within what would have been the cooldown: a new alert.
	require.NoError(t, e.svc.Raise(ctx, alertOf("health:github")))
	e.settle()
	require.Len(t, e.slack.Posts(), 3)
	rec = e.record("health:github")
	require.Equal(t, "open", rec.State)
	require.Equal(t, int64(1), rec.Occurrences)
	require.Nil(t, rec.ResolvedAt)
}

func escalation(fp string) alerting.Alert {
	a := alertOf(fp)
	a.Severity, a.Title, a.Escalate, a.Source = alerting.Critical, "failure_analysis keeps failing", true, "recovery"
	return a
}

func TestEscalationsOneSlackOneIssueThenComments(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) { testEscalations(t, db.URL) })
	}
}

func testEscalations(t *testing.T, dbURL string) {
	e := newEnv(t, envOptions{dbURL: dbURL, withLinear: true, dontStart: true, cooldown: time.Hour})
	ctx := context.Background()
	fp := "escalation:failure_analysis:octo/app:auth_error"
	// Three escalations before any delivery ran: one delivery speaks for them.
	for range 3 {
		require.NoError(t, e.svc.Raise(ctx, escalation(fp)))
	}
	e.start()
	e.settle()
	require.Len(t, e.slack.Posts(), 1)
	require.Contains(t, e.slack.Posts()[0].Text, "Escalated: failure_analysis keeps failing")
	issues := e.linear.Issues()
	require.Len(t, issues, 1)
	require.Equal(t, 1, issues[0].Priority) // critical → urgent
	require.Contains(t, issues[0].Description, linear.FingerprintMarker(fp))
	require.Contains(t, issues[0].Description, "[Run](https://github.com/octo/app/actions/runs/1)")
	require.Contains(t, issues[0].Description, `\*three\*`)
	require.Empty(t, e.linear.Comments())
	rec := e.record(fp)
	require.Equal(t, int64(3), rec.Occurrences)
	require.True(t, rec.Escalated)
	require.Equal(t, "issue-1", rec.LinearIssueID)
	require.Equal(t, "https://linear.test/issue/ENG-1", rec.LinearIssueURL)

	// A fourth: one Linear comment, no new Slack message.
	require.NoError(t, e.svc.Raise(ctx, escalation(fp)))
	e.settle()
	require.Len(t, e.slack.Posts(), 1)
	require.Len(t, e.linear.Issues(), 1)
	comments := e.linear.Comments()
	require.Len(t, comments, 1)
	require.Equal(t, "issue-1", comments[0].IssueID)
	require.Contains(t, comments[0].Body, "4 occurrences")

	// Cleared: one resolution message, the issue commented and closed.
	require.NoError(t, e.svc.Resolve(ctx, fp, "the token works again"))
	e.settle()
	require.Len(t, e.slack.Posts(), 2)
	require.Contains(t, e.slack.Posts()[1].Text, "Resolved")
	comments = e.linear.Comments()
	require.Len(t, comments, 2)
	require.Contains(t, comments[1].Body, "Resolved")
	require.Equal(t, "completed", e.linear.Issues()[0].StateType)
	require.Equal(t, int64(2), e.sent(alerting.ChannelSlack))
	require.Equal(t, int64(4), e.sent(alerting.ChannelLinear)) // issue, comment, resolution comment, close
}

func TestLinearDownSendsSlackAndRetriesLinearOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{withLinear: true})
	ctx := context.Background()
	fp := "escalation:health_check::auth_error"
	e.linear.SetDown(true)
	require.NoError(t, e.svc.Raise(ctx, escalation(fp)))
	require.Eventually(t, func() bool { return len(e.linear.Ops()) >= 3 }, 30*time.Second, 5*time.Millisecond)
	require.Len(t, e.slack.Posts(), 1)
	require.Empty(t, e.linear.Issues())
	require.Contains(t, e.record(fp).Delivery, "linear issue: retrying")

	e.linear.SetDown(false)
	e.settle()
	require.Len(t, e.slack.Posts(), 1, "Slack is not sent again by the retries")
	require.Equal(t, 1, e.slack.Tries())
	require.Len(t, e.linear.Issues(), 1)
	rec := e.record(fp)
	require.Equal(t, "slack: sent; linear issue: sent (created ENG-1)", rec.Delivery)
	require.Equal(t, map[string]int{"completed": 1}, e.jobs())
}

func TestLinearAuthErrorIsRecordedNotRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{withLinear: true})
	e.linear.Fail(alertingtest.Fault{Status: 401, Body: `{"errors":[{"message":"Authentication required","extensions":{"code":"AUTHENTICATION_ERROR"}}]}`})
	fp := "escalation:x"
	require.NoError(t, e.svc.Raise(context.Background(), escalation(fp)))
	e.settle()
	require.Len(t, e.slack.Posts(), 1)
	require.Equal(t, []string{"OpenIssuesByFingerprint"}, e.linear.Ops())
	rec := e.record(fp)
	require.Contains(t, rec.Delivery, "linear issue: failed")
	require.Contains(t, rec.Delivery, "AUTHENTICATION_ERROR")
	require.Equal(t, map[string]int{"completed": 1}, e.jobs())
}

func TestSlackRateLimitIsSnoozedForRetryAfter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.slack.Fail(alertingtest.Fault{Status: 429, RetryAfter: "1", Body: "rate_limited"})
	require.NoError(t, e.svc.Raise(context.Background(), alertOf("health:slack")))
	require.Eventually(t, func() bool { return e.slack.Tries() == 1 }, 10*time.Second, 5*time.Millisecond)
	var state string
	require.Eventually(t, func() bool {
		require.NoError(t, e.st.DB.QueryRow(`SELECT state FROM river_job WHERE kind = ?`, alerting.Kind).Scan(&state))
		return state == "scheduled" || state == "completed"
	}, 10*time.Second, 5*time.Millisecond)
	e.settle()
	require.Len(t, e.slack.Posts(), 1)
	require.Equal(t, 2, e.slack.Tries())
	var errs string
	require.NoError(t, e.st.DB.QueryRow(`SELECT COALESCE(errors, '[]') FROM river_job WHERE kind = ?`, alerting.Kind).Scan(&errs))
	require.NotContains(t, errs, "429", "a snooze is not an error")
}

func TestSlackTimeoutIsRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{slackTimeoutMS: 200})
	e.slack.Fail(alertingtest.Fault{Status: 200, Delay: 5 * time.Second})
	require.NoError(t, e.svc.Raise(context.Background(), alertOf("health:github")))
	e.settle()
	require.Equal(t, 2, e.slack.Tries())
	require.Len(t, e.slack.Posts(), 1)
	require.Equal(t, "slack: sent", e.record("health:github").Delivery)
	var errs string
	require.NoError(t, e.st.DB.QueryRow(`SELECT errors FROM river_job WHERE kind = ?`, alerting.Kind).Scan(&errs))
	require.Contains(t, errs, "failed to post Slack webhook")
	require.NotContains(t, errs, "secret", "the webhook URL never shows")
}

func TestLinearRateLimitIsSnoozedAndIssueFiledOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{withLinear: true})
	e.linear.Fail(alertingtest.Fault{Status: 400, RetryAfter: "1",
		Body: `{"errors":[{"message":"Rate limit exceeded","extensions":{"code":"RATELIMITED"}}]}`})
	fp := "escalation:rate"
	require.NoError(t, e.svc.Raise(context.Background(), escalation(fp)))
	e.settle()
	require.Len(t, e.slack.Posts(), 1)
	require.Len(t, e.linear.Issues(), 1)
	require.Equal(t, []string{"OpenIssuesByFingerprint", "OpenIssuesByFingerprint", "IssueCreate"}, e.linear.Ops())
	var errs string
	require.NoError(t, e.st.DB.QueryRow(`SELECT COALESCE(errors, '[]') FROM river_job WHERE kind = ?`, alerting.Kind).Scan(&errs))
	require.NotContains(t, errs, "RATELIMITED", "a snooze is not an error")
}

func TestLinearCreateTimeoutIsFoundOnRetryNotDuplicated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{withLinear: true})
	fp := "escalation:slow"
	// The create lands while the client has given up: the retry finds it by its marker.
	e.linear.Fail(alertingtest.Fault{Op: "IssueCreate", Landed: true, Status: 504, Body: "gateway timeout"})
	require.NoError(t, e.svc.Raise(context.Background(), escalation(fp)))
	e.settle()
	require.Equal(t, []string{"OpenIssuesByFingerprint", "IssueCreate", "OpenIssuesByFingerprint"}, e.linear.Ops())
	require.Len(t, e.linear.Issues(), 1)
	require.Len(t, e.slack.Posts(), 1)
	require.Equal(t, "issue-1", e.record(fp).LinearIssueID)
	require.Equal(t, "slack: sent; linear issue: sent (found ENG-1)", e.record(fp).Delivery)
}

func TestARepeatAfterItsDeliveryWasCancelledIsDeliveredAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{dontStart: true})
	ctx := context.Background()
	require.NoError(t, e.svc.Raise(ctx, alertOf("health:github")))
	require.NoError(t, e.svc.Raise(ctx, alertOf("health:github")))
	require.Equal(t, map[string]int{"available": 1}, e.jobs(), "a repeat while the delivery is pending is counted")
	var id int64
	require.NoError(t, e.st.DB.QueryRow(`SELECT id FROM river_job WHERE kind = ?`, alerting.Kind).Scan(&id))
	_, err := e.engine.Client().JobCancel(ctx, id) // an operator cancels it in River UI
	require.NoError(t, err)
	require.NoError(t, e.svc.Raise(ctx, alertOf("health:github")))
	require.Equal(t, map[string]int{"available": 1, "cancelled": 1}, e.jobs())
	e.start()
	e.settle()
	require.Len(t, e.slack.Posts(), 1)
	require.Equal(t, int64(3), e.record("health:github").Occurrences)
}

func TestSlackPermanentErrorIsRecordedNotRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.slack.Fail(alertingtest.Fault{Status: 404, Body: "no_service"})
	require.NoError(t, e.svc.Raise(context.Background(), alertOf("health:slack")))
	e.settle()
	require.Equal(t, 1, e.slack.Tries())
	require.Empty(t, e.slack.Posts())
	rec := e.record("health:slack")
	require.Contains(t, rec.Delivery, "slack: failed")
	require.Contains(t, rec.Delivery, "no_service")
	require.NotContains(t, rec.Delivery, "secret", "the webhook URL never shows")
	require.Equal(t, int64(0), e.sent(alerting.ChannelSlack))
}

func TestNoChannelConfiguredStillRecords(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{noSlack: true})
	ctx := context.Background()
	require.NoError(t, e.svc.Raise(ctx, alertOf("health:github")))
	require.NoError(t, e.svc.Raise(ctx, escalation("escalation:x")))
	rec := e.record("health:github")
	require.Equal(t, alerting.NotSentNoChannel, rec.Delivery)
	require.Equal(t, "open", rec.State)
	require.Nil(t, rec.LastSentAt)
	require.Equal(t, []alerting.Field{{Name: "Latency", Value: "5 s"}}, rec.Fields)
	require.Equal(t, alerting.NotSentNoChannel, e.record("escalation:x").Delivery)
	require.Empty(t, e.jobs())
	require.NoError(t, e.svc.Resolve(ctx, "health:github", "ok"))
	require.Equal(t, "resolved", e.record("health:github").State)
	require.Empty(t, e.jobs())
}

func TestBadInputIsRejectedClearly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	for name, a := range map[string]alerting.Alert{
		"upper case":       {Fingerprint: "Health:GitHub", Title: "t"},
		"space":            {Fingerprint: "health github", Title: "t"},
		"empty":            {Fingerprint: "", Title: "t"},
		"too long":         {Fingerprint: strings.Repeat("a", 301), Title: "t"},
		"newline":          {Fingerprint: "a\nb", Title: "t"},
		"unknown severity": {Fingerprint: "ok", Severity: "urgent", Title: "t"},
		"no title":         {Fingerprint: "ok", Title: "  "},
	} {
		err := e.svc.Raise(ctx, a)
		require.ErrorIs(t, err, alerting.ErrInvalidAlert, name)
	}
	err := e.svc.Raise(ctx, alerting.Alert{Fingerprint: "Bad FP", Title: "t"})
	require.EqualError(t, err, `invalid alert: fingerprint "Bad FP" has 'B' at byte 0: only lower-case letters, digits and ".:_/-@#" are allowed`)
	require.ErrorIs(t, e.svc.Resolve(ctx, "Bad FP", ""), alerting.ErrInvalidAlert)
	recs, err := e.svc.Recent(ctx, 10)
	require.NoError(t, err)
	require.Empty(t, recs)
	require.Empty(t, e.jobs())
}

func TestHugeAlertIsBoundedNotRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	a := alertOf("health:big")
	a.Title, a.Text = strings.Repeat("t", 5000), strings.Repeat("x", 200000)
	for i := range 100 {
		a.Fields = append(a.Fields, alerting.Field{Name: fmt.Sprint("f", i), Value: "v"})
	}
	require.NoError(t, e.svc.Raise(context.Background(), a))
	e.settle()
	rec := e.record("health:big")
	require.Len(t, []rune(rec.Title), 301)
	require.Len(t, rec.Fields, 40)
	posts := e.slack.Posts()
	require.Len(t, posts, 1)
	var msg struct {
		Blocks []json.RawMessage `json:"blocks"`
	}
	require.NoError(t, json.Unmarshal(posts[0].Raw, &msg))
	require.LessOrEqual(t, len(msg.Blocks), slack.MaxBlocks)
}

func TestNilServiceIsSafe(t *testing.T) {
	t.Parallel()
	var svc *alerting.Service
	var n alerting.Notifier = svc
	require.NoError(t, n.Raise(context.Background(), alertOf("x")))
	require.NoError(t, n.Resolve(context.Background(), "x", ""))
	require.ErrorIs(t, n.Raise(context.Background(), alerting.Alert{Fingerprint: "X"}), alerting.ErrInvalidAlert)
}

func TestRaiseWithoutEngineFailsAndRecordsNothing(t *testing.T) {
	t.Parallel()
	st := workflowstest.OpenStore(t, workflowstest.SQLiteURL(t))
	c, err := slack.New("http://127.0.0.1:1/x")
	require.NoError(t, err)
	svc := alerting.New(alerting.Deps{Store: st, Slack: c})
	require.ErrorIs(t, svc.Raise(context.Background(), alertOf("x")), alerting.ErrNoEngine)
	recs, err := svc.Recent(context.Background(), 10)
	require.NoError(t, err)
	require.Empty(t, recs, "the alert and its delivery are one transaction")
}

func TestConcurrentRaisesOfOneFingerprintDeliverOnce(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newEnv(t, envOptions{dbURL: db.URL, withLinear: true, cooldown: time.Hour})
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for range 8 {
				wg.Add(1)
				go func() { defer wg.Done(); errs <- e.svc.Raise(context.Background(), alertOf("health:github")) }()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			e.settle()
			require.Len(t, e.slack.Posts(), 1)
			require.Equal(t, int64(8), e.record("health:github").Occurrences)
			require.Empty(t, e.linear.Ops(), "no escalation, no Linear")
		})
	}
}

// sideEffectArgs is a workflow job that comments on GitHub and then raises an alert.
type sideEffectArgs struct {
	Repo string `json:"repo"`
}

func (sideEffectArgs) Kind() string { return "test_side_effect" }

type sideEffectWorker struct {
	river.WorkerDefaults[sideEffectArgs]
	gh     *github.Client
	alerts interface {
		Raise(context.Context, alerting.Alert) error
	}
}

func (w *sideEffectWorker) Work(ctx context.Context, job *river.Job[sideEffectArgs]) error {
	if _, _, err := w.gh.Issues.CreateComment(ctx, "octo", "app", 7, &github.IssueComment{Body: github.String("report")}); err != nil {
		return err
	}
	return w.alerts.Raise(ctx, alerting.Alert{Fingerprint: "flaky:octo/app:pkg.testx", Severity: alerting.Medium, Title: "Flaky test", Source: job.Kind})
}

func TestAlertRaisedInAWorkerIsItsOwnJob(t *testing.T) {
	t.Parallel()
	gh := ghapptest.New(t)
	var comments atomic.Int32
	gh.HandleFunc("POST /repos/octo/app/issues/7/comments", func(w http.ResponseWriter, r *http.Request) {
		comments.Add(1)
		ghapptest.JSON(w, http.StatusCreated, map[string]any{"id": 1, "body": "report"})
	})
	e := newEnv(t, envOptions{workers: func(w *river.Workers, svc *alerting.Service) {
		river.AddWorker(w, &sideEffectWorker{gh: gh.Client(ghapptest.ClientOptions{}), alerts: svc})
	}})
	// The worker's engine client is the one in its context; this one would not be used.
	e.svc.SetClient(nil)
	e.slack.Fail(alertingtest.Fault{Status: 500}, alertingtest.Fault{Status: 502}, alertingtest.Fault{Status: 504})
	_, err := e.engine.Enqueue(context.Background(), sideEffectArgs{Repo: "octo/app"}, nil)
	require.NoError(t, err)
	e.settle()

	require.Equal(t, int32(1), comments.Load(), "the workflow's GitHub side effect happened once")
	var attempt int
	var state string
	require.NoError(t, e.st.DB.QueryRow(`SELECT attempt, state FROM river_job WHERE kind = 'test_side_effect'`).Scan(&attempt, &state))
	require.Equal(t, 1, attempt)
	require.Equal(t, "completed", state)
	var alertAttempts int
	require.NoError(t, e.st.DB.QueryRow(`SELECT attempt FROM river_job WHERE kind = ?`, alerting.Kind).Scan(&alertAttempts))
	require.Equal(t, 4, alertAttempts, "the alert's own job took the Slack outage")
	require.Len(t, e.slack.Posts(), 1)
}

func TestDeliveryArgsAreUniquePerFingerprintAndSequence(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{dontStart: true})
	ctx := context.Background()
	a := alerting.DeliveryArgs{Fingerprint: "x", Seq: 1, Event: "open", Alert: alerting.Alert{Fingerprint: "x", Title: "t"}}
	first, err := e.engine.Enqueue(ctx, a, nil)
	require.NoError(t, err)
	a.Occurrences = 5
	again, err := e.engine.Enqueue(ctx, a, nil)
	require.NoError(t, err)
	require.True(t, again.Duplicate)
	require.Equal(t, first.ID, again.ID)
	raw, err := json.Marshal(a)
	require.NoError(t, err)
	require.Contains(t, string(raw), `"seq":1`)
}
