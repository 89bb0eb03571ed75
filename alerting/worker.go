package alerting

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/contexten/autonomous/integrations/linear"
	"github.com/contexten/autonomous/integrations/slack"
)

// Kind is the River kind of the delivery jobs. It is internal: not a workflow kind of the
// registry, so it cannot be triggered from the CLI or a slash command.
const Kind = "alert_delivery"

// maxAttempts bounds the retries of one delivery: with River's doubling backoff (capped at six
// hours) they span well over a day of Slack or Linear outage.
const maxAttempts = 25

// jobTimeout bounds one delivery attempt: a Slack post and a few Linear calls.
const jobTimeout = 2 * time.Minute

// leaseTTL is how long a delivery holds its fingerprint: longer than one attempt may run.
const leaseTTL = jobTimeout + 30*time.Second

// defaultRateLimitWait is the snooze after a 429 without Retry-After.
const defaultRateLimitWait = 30 * time.Second

// DeliveryArgs is one delivery: an event of one fingerprint, numbered by the fingerprint's
// sequence, with a snapshot of the alert as it was raised.
type DeliveryArgs struct {
	Fingerprint string `json:"fingerprint" river:"unique"`
	Seq         int64  `json:"seq" river:"unique"`
	// Event is open, escalate, repeat, remind or resolve.
	Event string `json:"event"`
	Alert Alert  `json:"alert"`
	// Text is the resolution's text.
	Text        string    `json:"text,omitempty"`
	Occurrences int64     `json:"occurrences"`
	FirstSeen   time.Time `json:"first_seen"`
}

// Kind implements river.JobArgs.
func (DeliveryArgs) Kind() string { return Kind }

// InsertOpts implements river.JobArgsWithInsertOpts: unique per fingerprint and sequence, and
// retried for long enough to outlast an outage.
func (DeliveryArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: maxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Worker delivers alerts. Each step (the Slack message, the Linear issue, comment or close) is
// recorded once it went through or failed for good, so a retry after a failure of a later step
// does not repeat an earlier one. Deliveries of one fingerprint run one at a time (a lease on
// its row), as Linear's look-before-create needs.
type Worker struct {
	river.WorkerDefaults[DeliveryArgs]
	s *Service
}

// Worker returns the delivery worker to add to River's workers.
func (s *Service) Worker() *Worker { return &Worker{s: s} }

// Timeout implements river.Worker.
func (w *Worker) Timeout(*river.Job[DeliveryArgs]) time.Duration { return jobTimeout }

// The steps of a delivery, as recorded in autonomous_alert_delivery.
const (
	stepSlack         = "slack"
	stepLinearIssue   = "linear_issue"
	stepLinearComment = "linear_comment"
	stepLinearClose   = "linear_close"
)

// The outcomes of a step.
const (
	outcomeSent   = "sent"
	outcomeFailed = "failed"
	// outcomeTried marks a step sent whose outcome is not known yet; it is not done.
	outcomeTried = "tried"
)

// stepResult is the outcome of one attempt at a step.
type stepResult struct {
	// final is set when the step is recorded (sent, or failed for good).
	final   bool
	retry   error
	snooze  time.Duration
	summary string
}

// Work implements river.Worker.
func (w *Worker) Work(ctx context.Context, job *river.Job[DeliveryArgs]) error {
	s, a := w.s, job.Args
	if err := ValidFingerprint(a.Fingerprint); err != nil {
		return river.JobCancel(err)
	}
	ev := event(a.Event)
	switch ev {
	case eventOpen, eventEscalate, eventRepeat, eventRemind, eventResolve:
	default:
		return river.JobCancel(fmt.Errorf("%w: unknown delivery event %q", ErrInvalidAlert, truncate(a.Event, 40)))
	}
	release, ok, err := s.lock(ctx, a.Fingerprint)
	if err != nil {
		return err
	}
	if !ok {
		return river.JobSnooze(time.Second) // another delivery of this fingerprint is running
	}
	defer release()

	r, found, err := s.loadRow(ctx, s.st.DB, a.Fingerprint)
	if err != nil {
		return err
	}
	if !found {
		return river.JobCancel(fmt.Errorf("alert %s is not recorded", a.Fingerprint))
	}
	if ev != eventResolve && r.ResolvedSeq > a.Seq {
		// Resolved before this delivery ran: telling it now would be news of the past.
		return s.finish(ctx, a, "superseded: resolved before it was delivered", true)
	}
	done, err := s.doneSteps(ctx, a.Fingerprint, a.Seq)
	if err != nil {
		return err
	}
	lastAttempt := job.Attempt >= job.MaxAttempts

	var results []stepResult
	if s.wantsSlack(ev, r) {
		results = append(results, s.runStep(ctx, a, stepSlack, done, lastAttempt, func(bool) (string, error) {
			return s.sendSlack(ctx, a, ev)
		}))
	}
	for _, step := range s.linearSteps(ev, a, r) {
		res := s.runStep(ctx, a, step, done, lastAttempt, func(tried bool) (string, error) { return s.linearStep(ctx, a, ev, step, tried) })
		results = append(results, res)
		if !res.final {
			break // a resolution's close waits for its comment
		}
	}

	var retry error
	var snooze time.Duration
	summaries := make([]string, 0, len(results))
	final := true
	for _, res := range results {
		summaries = append(summaries, res.summary)
		if !res.final {
			final = false
		}
		if res.retry != nil && retry == nil {
			retry = res.retry
		}
		snooze = max(snooze, res.snooze)
	}
	summary := strings.Join(summaries, "; ")
	if len(results) == 0 {
		summary = s.nothingToDo(ev)
	}
	if ev == eventResolve {
		summary = "resolved; " + summary
	}
	if err := s.finish(ctx, a, summary, final); err != nil {
		return err
	}
	_ = river.RecordOutput(ctx, map[string]string{"fingerprint": a.Fingerprint, "event": a.Event, "delivery": summary})
	switch {
	case retry != nil:
		return retry
	case snooze > 0:
		return river.JobSnooze(snooze)
	}
	return nil
}

// nothingToDo explains a delivery with no step.
func (s *Service) nothingToDo(ev event) string {
	switch {
	case s.slack == nil && s.linear == nil:
		return NotSentNoChannel
	case ev == eventResolve:
		return "nothing to tell: the alert was never announced"
	case s.slack == nil:
		return "not sent: Slack is not configured"
	}
	return "nothing to send"
}

// wantsSlack: every event but a repeat of an open escalation; a resolution only of an alert
// whose message went out.
func (s *Service) wantsSlack(ev event, r row) bool {
	if s.slack == nil {
		return false
	}
	switch ev {
	case eventRepeat:
		return false
	case eventResolve:
		return r.Announced
	}
	return true
}

// linearSteps are the Linear steps of ev, in order.
func (s *Service) linearSteps(ev event, a DeliveryArgs, r row) []string {
	if s.linear == nil {
		return nil
	}
	switch ev {
	case eventOpen:
		if a.Alert.Escalate {
			return []string{stepLinearIssue}
		}
	case eventEscalate:
		return []string{stepLinearIssue}
	case eventRepeat:
		return []string{stepLinearComment}
	case eventResolve:
		if r.LinearIssueID != "" {
			return []string{stepLinearComment, stepLinearClose}
		}
	}
	return nil
}

// runStep runs one step unless it is recorded as done, and records its outcome when final.
// do learns whether an earlier attempt of the step was sent (its outcome unknown).
func (s *Service) runStep(ctx context.Context, a DeliveryArgs, step string, done map[string]stepRecord, lastAttempt bool, do func(tried bool) (string, error)) stepResult {
	channel := ChannelLinear
	if step == stepSlack {
		channel = ChannelSlack
	}
	rec, tried := done[step]
	if tried && rec.Outcome != outcomeTried {
		return stepResult{final: true, summary: describe(step, rec.Outcome, rec.Detail)}
	}
	if !tried && step == stepLinearIssue {
		// Remember the attempt before sending: should its answer be lost, the retry knows
		// that an open issue it finds may be its own.
		if err := s.recordStep(ctx, a.Fingerprint, a.Seq, step, outcomeTried, ""); err != nil {
			return stepResult{retry: err, summary: describe(step, "retrying", err.Error())}
		}
	}
	detail, err := do(tried)
	if err == nil {
		s.sent[channel].Inc(1)
		return s.record(ctx, a, step, outcomeSent, detail)
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return stepResult{retry: err, summary: describe(step, "retrying", "stopped")}
	}
	permanent, wait := classify(step, err)
	if permanent || lastAttempt {
		return s.record(ctx, a, step, outcomeFailed, err.Error())
	}
	if wait > 0 {
		return stepResult{snooze: wait, summary: describe(step, "rate limited", fmt.Sprintf("retrying in %s", wait.Round(time.Second)))}
	}
	return stepResult{retry: fmt.Errorf("failed to deliver alert %s (%s): %w", a.Fingerprint, step, err), summary: describe(step, "retrying", err.Error())}
}

func (s *Service) record(ctx context.Context, a DeliveryArgs, step, outcome, detail string) stepResult {
	res := stepResult{final: true, summary: describe(step, outcome, detail)}
	if err := s.recordStep(ctx, a.Fingerprint, a.Seq, step, outcome, detail); err != nil {
		// Not recorded: the retry will try the step again (at least once, never lost).
		return stepResult{retry: err, summary: res.summary}
	}
	return res
}

// describe is one step's line in the delivery status.
func describe(step, outcome, detail string) string {
	name := strings.ReplaceAll(step, "_", " ")
	if detail == "" {
		return name + ": " + outcome
	}
	return name + ": " + outcome + " (" + truncate(detail, 200) + ")"
}

// classify says whether a step's error can never succeed, and how long a rate limit asks to
// wait. Anything else is retried with River's backoff.
func classify(step string, err error) (permanent bool, wait time.Duration) {
	if step == stepSlack {
		var herr *slack.HTTPError
		if errors.As(err, &herr) && herr.StatusCode == 429 {
			return false, rateLimitWait(herr.RetryAfter)
		}
		return slack.IsPermanent(err), 0
	}
	switch {
	case linear.IsRateLimited(err):
		var gerr *linear.GraphQLError
		var herr *linear.HTTPError
		switch {
		case errors.As(err, &gerr):
			return false, rateLimitWait(gerr.RetryAfter)
		case errors.As(err, &herr):
			return false, rateLimitWait(herr.RetryAfter)
		}
		return false, defaultRateLimitWait
	case linear.IsAuth(err), errors.Is(err, linear.ErrInvalidInput), errors.Is(err, linear.ErrNoCompletedState):
		return true, 0
	}
	return false, 0
}

func rateLimitWait(d time.Duration) time.Duration {
	if d <= 0 {
		return defaultRateLimitWait
	}
	return max(d, time.Second)
}

// sendSlack posts the event's message.
func (s *Service) sendSlack(ctx context.Context, a DeliveryArgs, ev event) (string, error) {
	if err := s.slack.Send(ctx, slackAlert(a, ev).Message()); err != nil {
		return "", err
	}
	if ev != eventResolve {
		if err := s.markAnnounced(ctx, a); err != nil {
			return "", err
		}
	}
	return "", nil
}

// linearStep runs one Linear step of ev.
func (s *Service) linearStep(ctx context.Context, a DeliveryArgs, ev event, step string, tried bool) (string, error) {
	switch step {
	case stepLinearIssue:
		comment := repeatComment(a)
		if tried {
			comment = "" // the open issue found may be the one the lost answer was about
		}
		return s.ensureIssue(ctx, a, comment)
	case stepLinearComment:
		r, _, err := s.loadRow(ctx, s.st.DB, a.Fingerprint)
		if err != nil {
			return "", err
		}
		body := repeatComment(a)
		if ev == eventResolve {
			body = resolveComment(a)
		}
		if r.LinearIssueID == "" {
			// The issue of this escalation is not known here (filed by hand, or its delivery
			// failed): look it up, or file it, commenting if it exists.
			return s.ensureIssue(ctx, a, body)
		}
		if _, err := s.linear.CreateComment(ctx, r.LinearIssueID, body); err != nil {
			return "", err
		}
		return "", nil
	case stepLinearClose:
		r, _, err := s.loadRow(ctx, s.st.DB, a.Fingerprint)
		if err != nil {
			return "", err
		}
		issue, err := s.linear.CloseIssue(ctx, s.team, r.LinearIssueID)
		if err != nil {
			return "", err
		}
		return "closed " + issue.Identifier, nil
	}
	return "", fmt.Errorf("unknown delivery step %q", step)
}

func (s *Service) ensureIssue(ctx context.Context, a DeliveryArgs, commentIfExists string) (string, error) {
	issue, created, err := s.linear.EnsureIssue(ctx, s.team, a.Fingerprint, issueInput(a), commentIfExists)
	if err != nil {
		return "", err
	}
	if err := s.saveIssue(ctx, a, issue); err != nil {
		return "", err
	}
	switch {
	case created:
		return "created " + issue.Identifier, nil
	case commentIfExists == "":
		return "found " + issue.Identifier, nil
	}
	return "commented on " + issue.Identifier, nil
}
