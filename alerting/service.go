package alerting

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rcrowley/go-metrics"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	slackgo "github.com/slack-go/slack"

	"github.com/contexten/autonomous/integrations/linear"
	"github.com/contexten/autonomous/store"
)

// ErrInvalidAlert is returned, before anything is written, for an alert or fingerprint that
// cannot be recorded: a fingerprint with characters outside "a-z0-9.:_/-@#" or of the wrong
// length, an unknown severity, a missing title.
var ErrInvalidAlert = errors.New("invalid alert")

// ErrNoEngine is returned by Raise and Resolve when a delivery is due but there is no River
// client: neither the caller's context (a worker's) nor SetClient gave one.
var ErrNoEngine = errors.New("alerting has no River client: call SetClient once the engine exists, or raise from a worker")

// NotSentNoChannel is the delivery status of an alert recorded while neither Slack nor Linear
// is configured.
const NotSentNoChannel = "not sent: no channel configured"

// maxFingerprint bounds a fingerprint's length: room for "escalation:<kind>:<owner>/<repo>:<class>"
// with GitHub's longest names (Linear's own limit is 512).
const maxFingerprint = 300

// SlackSender posts one webhook message; *slack.Client implements it.
type SlackSender interface {
	Send(ctx context.Context, msg *slackgo.WebhookMessage) error
}

// LinearIssues files, comments on and closes escalation issues; *linear.Client implements it.
type LinearIssues interface {
	EnsureIssue(ctx context.Context, teamID, fingerprint string, in linear.IssueInput, commentIfExists string) (linear.Issue, bool, error)
	CreateComment(ctx context.Context, issueID, body string) (linear.Comment, error)
	CloseIssue(ctx context.Context, teamID, issueID string) (linear.Issue, error)
}

// JobInserter inserts a job in the caller's transaction; *river.Client[*sql.Tx] implements it.
type JobInserter interface {
	InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Deps are what a Service is built from. Leave Slack or Linear nil (an untyped nil, not a nil
// *slack.Client) when the integration is not configured.
type Deps struct {
	Store *store.Store
	// Slack receives every new, reopened, escalated and reminded alert and every resolution.
	Slack SlackSender
	// Linear and LinearTeamID receive escalations; both are needed.
	Linear       LinearIssues
	LinearTeamID string
	// Cooldown (ALERT_COOLDOWN) is how long a repeat of an open alert is only counted; zero
	// sends a reminder on every repeat.
	Cooldown time.Duration
	// Metrics receives the alerts.sent counter by channel (SentMetric); nil: none.
	Metrics metrics.Registry
	// Now is the clock, time.Now by default.
	Now func() time.Time
}

// Service records alerts and delivers them through durable River jobs (kind alert_delivery).
// It implements Notifier. Raise and Resolve may be called from any worker (they use the River
// client in the job's context) and from code outside jobs once SetClient was called. They must
// not be called inside an open database transaction: on SQLite that would wait for itself.
type Service struct {
	st       *store.Store
	slack    SlackSender
	linear   LinearIssues
	team     string
	cooldown time.Duration
	now      func() time.Time
	sent     map[string]metrics.Counter
	client   JobInserter
}

var _ Notifier = (*Service)(nil)

// New returns a Service over d.
func New(d Deps) *Service {
	s := &Service{st: d.Store, slack: d.Slack, cooldown: max(d.Cooldown, 0), now: d.Now, sent: map[string]metrics.Counter{}}
	if d.Linear != nil && strings.TrimSpace(d.LinearTeamID) != "" {
		s.linear, s.team = d.Linear, strings.TrimSpace(d.LinearTeamID)
	}
	if s.now == nil {
		s.now = time.Now
	}
	for _, ch := range []string{ChannelSlack, ChannelLinear} {
		if d.Metrics != nil {
			s.sent[ch] = metrics.GetOrRegisterCounter(SentMetric(ch), d.Metrics)
		} else {
			s.sent[ch] = metrics.NilCounter{}
		}
	}
	return s
}

// The delivery channels, as labelled in the alerts.sent counter.
const (
	ChannelSlack  = "slack"
	ChannelLinear = "linear"
)

// SentMetric is the name of the counter of deliveries to channel (messages, issues, comments,
// closes that went through): "alerts.sent" labelled in go-githubapp's form,
// "alerts.sent[channel:slack]", which /metrics turns into a Prometheus label.
func SentMetric(channel string) string { return "alerts.sent[channel:" + channel + "]" }

// SetClient gives the Service the River client that inserts delivery jobs outside workers
// (buildApp calls it once the engine exists). Inside a worker the job's own client is used.
func (s *Service) SetClient(c JobInserter) { s.client = c }

// Configured reports which channels deliver: Slack, Linear (key and team).
func (s *Service) Configured() (slack, linear bool) { return s.slack != nil, s.linear != nil }

// inserter is the River client of the job whose context ctx is, else the one SetClient gave.
func (s *Service) inserter(ctx context.Context) (JobInserter, error) {
	if c, err := river.ClientFromContextSafely[*sql.Tx](ctx); err == nil && c != nil {
		return c, nil
	}
	if s.client != nil {
		return s.client, nil
	}
	return nil, ErrNoEngine
}

// ValidFingerprint reports, as an error wrapping ErrInvalidAlert, why fp cannot name an alert.
func ValidFingerprint(fp string) error {
	if fp == "" || len(fp) > maxFingerprint {
		return fmt.Errorf("%w: fingerprint must be 1-%d characters, got %d", ErrInvalidAlert, maxFingerprint, len(fp))
	}
	for i, r := range fp {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune(".:_/-@#", r)) {
			return fmt.Errorf("%w: fingerprint %q has %q at byte %d: only lower-case letters, digits and \".:_/-@#\" are allowed",
				ErrInvalidAlert, truncate(fp, 60), r, i)
		}
	}
	return nil
}

func validate(a *Alert) error {
	if err := ValidFingerprint(a.Fingerprint); err != nil {
		return err
	}
	switch a.Severity {
	case "":
		a.Severity = Medium
	case Critical, High, Medium, Low, Info:
	default:
		return fmt.Errorf("%w: severity %q is not one of critical, high, medium, low, info", ErrInvalidAlert, truncate(string(a.Severity), 40))
	}
	a.Title = strings.TrimSpace(a.Title)
	if a.Title == "" {
		return fmt.Errorf("%w: %s has no title", ErrInvalidAlert, a.Fingerprint)
	}
	// Bounded here so that the row and the job stay small; Slack and Linear bound further.
	a.Title, a.Text = truncate(a.Title, maxTitle), truncate(a.Text, maxText)
	a.Source, a.Repo = truncate(a.Source, 100), truncate(a.Repo, 200)
	if len(a.Fields) > maxFields {
		a.Fields = a.Fields[:maxFields]
	}
	if len(a.Links) > maxLinks {
		a.Links = a.Links[:maxLinks]
	}
	return nil
}

// The bounds of what an alert keeps.
const (
	maxTitle  = 300
	maxText   = 30000
	maxFields = 40
	maxLinks  = 20
)

// event is what a delivery job does.
type event string

const (
	// eventOpen announces a new or reopened alert (and files its Linear issue if it escalates).
	eventOpen event = "open"
	// eventEscalate announces the first escalation of an open alert: Slack and a Linear issue.
	eventEscalate event = "escalate"
	// eventRepeat comments on the Linear issue of an open escalation; no Slack message.
	eventRepeat event = "repeat"
	// eventRemind sends Slack a reminder of an open alert once its cooldown has passed.
	eventRemind event = "remind"
	// eventResolve sends one resolution message and comments on and closes the Linear issue.
	eventResolve event = "resolve"
)

// row is the part of an autonomous_alert row Raise and the worker decide on.
type row struct {
	State                                          string
	Occurrences                                    int64
	FirstSeenMS, LastSentMS                        int64
	Escalated, Announced                           bool
	Seq, OpenedSeq, ResolvedSeq, PendingSeq        int64
	PendingJobID                                   int64
	LinearIssueID, LinearIssueURL, Severity, Title string
}

func (s *Service) loadRow(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, fp string) (row, bool, error) {
	var r row
	err := q.QueryRowContext(ctx, s.st.Rebind(`SELECT state, occurrences, first_seen_ms, last_sent_ms, escalated, announced,
		seq, opened_seq, resolved_seq, pending_seq, pending_job_id, linear_issue_id, linear_issue_url, severity, title
		FROM autonomous_alert WHERE fingerprint = ?`), fp).Scan(&r.State, &r.Occurrences, &r.FirstSeenMS, &r.LastSentMS,
		&r.Escalated, &r.Announced, &r.Seq, &r.OpenedSeq, &r.ResolvedSeq, &r.PendingSeq, &r.PendingJobID, &r.LinearIssueID,
		&r.LinearIssueURL, &r.Severity, &r.Title)
	if errors.Is(err, sql.ErrNoRows) {
		return row{}, false, nil
	}
	if err != nil {
		return row{}, false, fmt.Errorf("failed to read alert %s: %w", fp, err)
	}
	return r, true, nil
}

// detail is the JSON of an alert's fields and links.
type detail struct {
	Fields []Field `json:"fields,omitempty"`
	Links  []Link  `json:"links,omitempty"`
}

// Raise records a and, when it is new or reopened, escalates for the first time, repeats an
// open escalation, or repeats an open alert past its cooldown, enqueues its delivery in the same
// transaction. A repeat while the fingerprint's last delivery has not run yet is only counted:
// that delivery speaks for it. It returns once the alert is durable. A nil Service raises
// nothing (alerting not wired).
func (s *Service) Raise(ctx context.Context, a Alert) error {
	if err := validate(&a); err != nil {
		return err
	}
	if s == nil {
		return nil
	}
	raw, err := json.Marshal(detail{Fields: a.Fields, Links: a.Links})
	if err != nil {
		return fmt.Errorf("failed to encode alert %s: %w", a.Fingerprint, err)
	}
	return s.inTx(ctx, a.Fingerprint, func(tx *sql.Tx) error {
		now := s.now().UnixMilli()
		// The first statement writes the row, so that Postgres holds its lock until commit and
		// concurrent raises of one fingerprint decide one after the other.
		if _, err := tx.ExecContext(ctx, s.st.Rebind(`INSERT INTO autonomous_alert
			(fingerprint, severity, title, state, first_seen_ms, last_seen_ms) VALUES (?, ?, ?, 'new', ?, ?)
			ON CONFLICT (fingerprint) DO UPDATE SET last_seen_ms = excluded.last_seen_ms`),
			a.Fingerprint, string(a.Severity), a.Title, now, now); err != nil {
			return fmt.Errorf("failed to record alert %s: %w", a.Fingerprint, err)
		}
		r, _, err := s.loadRow(ctx, tx, a.Fingerprint)
		if err != nil {
			return err
		}
		if r.PendingSeq != 0 {
			alive, err := s.jobAlive(ctx, tx, r.PendingJobID)
			if err != nil {
				return err
			}
			if !alive {
				r.PendingSeq = 0 // its job ended without finishing (cancelled in River UI, discarded)
			}
		}
		ev := s.decide(r, a, now)
		open := ev == eventOpen
		occurrences := r.Occurrences + 1
		firstSeen := r.FirstSeenMS
		if open {
			occurrences, firstSeen = 1, now
		}
		escalated := r.Escalated && !open || a.Escalate
		deliveryText, lastSent, seq, pending := "", r.LastSentMS, r.Seq, r.PendingSeq
		openedSeq, announced, issueID, issueURL := r.OpenedSeq, r.Announced, r.LinearIssueID, r.LinearIssueURL
		if open {
			announced, issueID, issueURL = false, "", ""
		}
		var job *DeliveryArgs
		switch {
		case ev == "":
		case s.slack == nil && s.linear == nil:
			deliveryText = NotSentNoChannel
		default:
			seq++
			pending, lastSent = seq, now
			if open {
				openedSeq = seq
			}
			job = &DeliveryArgs{Fingerprint: a.Fingerprint, Seq: seq, Event: string(ev), Alert: a, Occurrences: occurrences,
				FirstSeen: time.UnixMilli(firstSeen).UTC()}
			deliveryText = "queued"
		}
		if ev == "" {
			_, err = tx.ExecContext(ctx, s.st.Rebind(`UPDATE autonomous_alert SET occurrences = ?, last_seen_ms = ? WHERE fingerprint = ?`),
				occurrences, now, a.Fingerprint)
		} else {
			_, err = tx.ExecContext(ctx, s.st.Rebind(`UPDATE autonomous_alert SET severity = ?, title = ?, text = ?, detail = ?,
				source = ?, repo = ?, state = 'open', occurrences = ?, first_seen_ms = ?, last_seen_ms = ?, last_sent_ms = ?,
				escalated = ?, linear_issue_id = ?, linear_issue_url = ?, resolved_ms = 0, seq = ?, opened_seq = ?,
				pending_seq = ?, announced = ?, delivery = ? WHERE fingerprint = ?`),
				string(a.Severity), a.Title, a.Text, string(raw), a.Source, a.Repo, occurrences, firstSeen, now, lastSent,
				escalated, issueID, issueURL, seq, openedSeq, pending, announced, deliveryText, a.Fingerprint)
		}
		if err != nil {
			return fmt.Errorf("failed to record alert %s: %w", a.Fingerprint, err)
		}
		return s.insertJob(ctx, tx, job)
	})
}

// decide picks the delivery a raise needs, or "" when it is only counted.
func (s *Service) decide(r row, a Alert, nowMS int64) event {
	switch {
	case r.State != "open":
		return eventOpen
	case a.Escalate && !r.Escalated:
		return eventEscalate
	case r.PendingSeq != 0:
		return "" // the delivery on its way speaks for this repeat
	case a.Escalate && s.linear != nil:
		return eventRepeat
	case time.Duration(nowMS-r.LastSentMS)*time.Millisecond >= s.cooldown && r.LastSentMS != 0:
		return eventRemind
	case r.LastSentMS == 0 && (s.slack != nil || s.linear != nil):
		return eventRemind // recorded while no channel was configured: tell now
	}
	return ""
}

// Resolve clears an open fingerprint: it is marked resolved and, if a channel is configured,
// a delivery job sends one resolution message (only if the alert was announced) and comments on
// and closes its Linear issue. A fingerprint that is not open is left alone; a nil Service resolves nothing.
func (s *Service) Resolve(ctx context.Context, fingerprint, text string) error {
	if err := ValidFingerprint(fingerprint); err != nil {
		return err
	}
	if s == nil {
		return nil
	}
	return s.inTx(ctx, fingerprint, func(tx *sql.Tx) error {
		now := s.now().UnixMilli()
		// Writing first takes Postgres's row lock (see Raise); a row that is not open is untouched.
		res, err := tx.ExecContext(ctx, s.st.Rebind(`UPDATE autonomous_alert SET resolved_ms = ? WHERE fingerprint = ? AND state = 'open'`),
			now, fingerprint)
		if err != nil {
			return fmt.Errorf("failed to resolve alert %s: %w", fingerprint, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		r, _, err := s.loadRow(ctx, tx, fingerprint)
		if err != nil {
			return err
		}
		seq, pending, deliveryText := r.Seq+1, r.PendingSeq, "resolved"
		var job *DeliveryArgs
		if s.slack != nil || s.linear != nil {
			pending, deliveryText = seq, "resolved; resolution queued"
			job = &DeliveryArgs{Fingerprint: fingerprint, Seq: seq, Event: string(eventResolve), Text: text,
				Alert: Alert{Fingerprint: fingerprint, Severity: Severity(r.Severity), Title: r.Title}, Occurrences: r.Occurrences,
				FirstSeen: time.UnixMilli(r.FirstSeenMS).UTC()}
		}
		if _, err := tx.ExecContext(ctx, s.st.Rebind(`UPDATE autonomous_alert SET state = 'resolved', seq = ?, resolved_seq = ?,
			pending_seq = ?, delivery = ? WHERE fingerprint = ?`), seq, seq, pending, deliveryText, fingerprint); err != nil {
			return fmt.Errorf("failed to resolve alert %s: %w", fingerprint, err)
		}
		return s.insertJob(ctx, tx, job)
	})
}

// insertJob inserts the delivery in tx and notes its job as the fingerprint's pending one.
func (s *Service) insertJob(ctx context.Context, tx *sql.Tx, job *DeliveryArgs) error {
	if job == nil {
		return nil
	}
	c, err := s.inserter(ctx)
	if err != nil {
		return err
	}
	res, err := c.InsertTx(ctx, tx, *job, nil)
	if err != nil {
		return fmt.Errorf("failed to enqueue the delivery of alert %s: %w", job.Fingerprint, err)
	}
	if res != nil && res.Job != nil {
		if _, err := tx.ExecContext(ctx, s.st.Rebind(`UPDATE autonomous_alert SET pending_job_id = ? WHERE fingerprint = ?`),
			res.Job.ID, job.Fingerprint); err != nil {
			return fmt.Errorf("failed to record alert %s: %w", job.Fingerprint, err)
		}
	}
	return nil
}

// jobAlive reports whether the delivery job id may still run: it exists and has not ended.
func (s *Service) jobAlive(ctx context.Context, tx *sql.Tx, id int64) (bool, error) {
	if id == 0 {
		return false, nil // no job known: better a second message than none
	}
	var state string
	err := tx.QueryRowContext(ctx, s.st.Rebind(`SELECT state FROM river_job WHERE id = ?`), id).Scan(&state)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("failed to read the delivery job of an alert: %w", err)
	}
	switch rivertype.JobState(state) {
	case rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
		return false, nil
	}
	return true, nil
}

// inTx runs fn in one transaction, committed only if fn succeeds.
func (s *Service) inTx(ctx context.Context, fp string, fn func(tx *sql.Tx) error) error {
	if s.st == nil {
		return errors.New("alerting has no database")
	}
	tx, err := s.st.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("failed to record alert %s: %w", fp, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("failed to record alert %s: %w", fp, err)
	}
	return nil
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
