package alerting

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/contexten/autonomous/integrations/linear"
	"github.com/contexten/autonomous/store"
)

// Record is one alert as the dashboard, `autonomous status` and GET /api/alerts show it.
type Record struct {
	Fingerprint string   `json:"fingerprint"`
	Severity    Severity `json:"severity"`
	Title       string   `json:"title"`
	Text        string   `json:"text,omitempty"`
	Fields      []Field  `json:"fields,omitempty"`
	Links       []Link   `json:"links,omitempty"`
	Source      string   `json:"source,omitempty"`
	Repo        string   `json:"repo,omitempty"`
	// State is open or resolved.
	State string `json:"state"`
	// Occurrences counts the raises since the alert (re)opened.
	Occurrences int64      `json:"occurrences"`
	FirstSeen   time.Time  `json:"first_seen"`
	LastSeen    time.Time  `json:"last_seen"`
	LastSentAt  *time.Time `json:"last_sent_at,omitempty"`
	Escalated   bool       `json:"escalated"`
	// LinearIssueID and LinearIssueURL name the escalation's Linear issue, once filed.
	LinearIssueID  string     `json:"linear_issue_id,omitempty"`
	LinearIssueURL string     `json:"linear_issue_url,omitempty"`
	ResolvedAt     *time.Time `json:"resolved_at,omitempty"`
	// Delivery is what became of the last delivery: "queued", each step's outcome ("slack:
	// sent; linear issue: sent (created ENG-12)"), a retry's reason, or NotSentNoChannel.
	Delivery string `json:"delivery"`
}

// Recent returns the limit (default 20, at most 500) most recently seen alerts.
func (s *Service) Recent(ctx context.Context, limit int) ([]Record, error) {
	return Recent(ctx, s.st, limit)
}

// Recent returns the limit (default 20, at most 500) most recently seen alerts in st; it needs
// no Service, for the CLI.
func Recent(ctx context.Context, st *store.Store, limit int) ([]Record, error) {
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, 500)
	rows, err := st.DB.QueryContext(ctx, st.Rebind(`SELECT fingerprint, severity, title, text, detail, source, repo, state,
		occurrences, first_seen_ms, last_seen_ms, last_sent_ms, escalated, linear_issue_id, linear_issue_url, resolved_ms, delivery
		FROM autonomous_alert WHERE state <> 'new' ORDER BY last_seen_ms DESC, fingerprint LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("failed to list alerts: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := []Record{}
	for rows.Next() {
		var r Record
		var raw string
		var first, last, sent, resolved int64
		if err := rows.Scan(&r.Fingerprint, &r.Severity, &r.Title, &r.Text, &raw, &r.Source, &r.Repo, &r.State, &r.Occurrences,
			&first, &last, &sent, &r.Escalated, &r.LinearIssueID, &r.LinearIssueURL, &resolved, &r.Delivery); err != nil {
			return nil, fmt.Errorf("failed to read alert: %w", err)
		}
		var d detail
		if json.Unmarshal([]byte(raw), &d) == nil {
			r.Fields, r.Links = d.Fields, d.Links
		}
		r.FirstSeen, r.LastSeen = time.UnixMilli(first).UTC(), time.UnixMilli(last).UTC()
		r.LastSentAt, r.ResolvedAt = optionalTime(sent), optionalTime(resolved)
		if r.State != "resolved" {
			r.ResolvedAt = nil
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("failed to list alerts: %w", err)
	}
	return out, nil
}

func optionalTime(ms int64) *time.Time {
	if ms == 0 {
		return nil
	}
	t := time.UnixMilli(ms).UTC()
	return &t
}

// stepRecord is a delivery step that is done.
type stepRecord struct{ Outcome, Detail string }

// doneSteps returns the recorded steps of one delivery.
func (s *Service) doneSteps(ctx context.Context, fp string, seq int64) (map[string]stepRecord, error) {
	rows, err := s.st.DB.QueryContext(ctx, s.st.Rebind(`SELECT step, outcome, detail FROM autonomous_alert_delivery
		WHERE fingerprint = ? AND seq = ?`), fp, seq)
	if err != nil {
		return nil, fmt.Errorf("failed to read the delivery of alert %s: %w", fp, err)
	}
	defer func() { _ = rows.Close() }()
	out := map[string]stepRecord{}
	for rows.Next() {
		var step string
		var rec stepRecord
		if err := rows.Scan(&step, &rec.Outcome, &rec.Detail); err != nil {
			return nil, fmt.Errorf("failed to read the delivery of alert %s: %w", fp, err)
		}
		out[step] = rec
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("failed to read the delivery of alert %s: %w", fp, err)
	}
	return out, nil
}

// deliveryRetention is how long step records are kept: far beyond the last retry of a job.
const deliveryRetention = 30 * 24 * time.Hour

// recordStep records a step as done (sent, or failed for good).
func (s *Service) recordStep(ctx context.Context, fp string, seq int64, step, outcome, detail string) error {
	ctx = context.WithoutCancel(ctx) // a send that went through is recorded even as the job stops
	now := s.now()
	if _, err := s.st.DB.ExecContext(ctx, s.st.Rebind(`INSERT INTO autonomous_alert_delivery (fingerprint, seq, step, outcome, detail, at_ms)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (fingerprint, seq, step) DO UPDATE SET outcome = excluded.outcome,
		detail = excluded.detail, at_ms = excluded.at_ms`), fp, seq, step, outcome, truncate(detail, 500), now.UnixMilli()); err != nil {
		return fmt.Errorf("failed to record the delivery of alert %s: %w", fp, err)
	}
	_, _ = s.st.DB.ExecContext(ctx, s.st.Rebind(`DELETE FROM autonomous_alert_delivery WHERE at_ms < ?`),
		now.Add(-deliveryRetention).UnixMilli())
	return nil
}

// markAnnounced notes that the current open period's message went out, so its resolution is
// told too.
func (s *Service) markAnnounced(ctx context.Context, a DeliveryArgs) error {
	_, err := s.st.DB.ExecContext(context.WithoutCancel(ctx), s.st.Rebind(`UPDATE autonomous_alert SET announced = ?
		WHERE fingerprint = ? AND opened_seq <= ? AND resolved_seq < ?`), true, a.Fingerprint, a.Seq, a.Seq)
	if err != nil {
		return fmt.Errorf("failed to record the delivery of alert %s: %w", a.Fingerprint, err)
	}
	return nil
}

// saveIssue keeps the escalation's Linear issue on the alert.
func (s *Service) saveIssue(ctx context.Context, a DeliveryArgs, issue linear.Issue) error {
	_, err := s.st.DB.ExecContext(context.WithoutCancel(ctx), s.st.Rebind(`UPDATE autonomous_alert SET linear_issue_id = ?,
		linear_issue_url = ? WHERE fingerprint = ? AND opened_seq <= ?`), issue.ID, issue.URL, a.Fingerprint, a.Seq)
	if err != nil {
		return fmt.Errorf("failed to save the Linear issue of alert %s: %w", a.Fingerprint, err)
	}
	return nil
}

// finish writes the delivery's status on the alert and, once every step is done, lets the
// next repeat enqueue a delivery of its own.
func (s *Service) finish(ctx context.Context, a DeliveryArgs, summary string, final bool) error {
	ctx = context.WithoutCancel(ctx)
	var err error
	if final {
		_, err = s.st.DB.ExecContext(ctx, s.st.Rebind(`UPDATE autonomous_alert SET delivery = CASE WHEN seq = ? THEN ? ELSE delivery END,
			pending_seq = CASE WHEN pending_seq = ? THEN 0 ELSE pending_seq END WHERE fingerprint = ?`), a.Seq, summary, a.Seq, a.Fingerprint)
	} else {
		_, err = s.st.DB.ExecContext(ctx, s.st.Rebind(`UPDATE autonomous_alert SET delivery = ? WHERE fingerprint = ? AND seq = ?`),
			summary, a.Fingerprint, a.Seq)
	}
	if err != nil {
		return fmt.Errorf("failed to record the delivery of alert %s: %w", a.Fingerprint, err)
	}
	return nil
}

// lock takes the fingerprint's delivery lease: an UPDATE that succeeds only while it is free or
// expired (atomic on SQLite and on Postgres under READ COMMITTED). ok is false when another
// delivery holds it.
func (s *Service) lock(ctx context.Context, fp string) (release func(), ok bool, err error) {
	now := s.now()
	until := now.Add(leaseTTL).UnixMilli()
	res, err := s.st.DB.ExecContext(ctx, s.st.Rebind(`UPDATE autonomous_alert SET lease_until_ms = ?
		WHERE fingerprint = ? AND lease_until_ms < ?`), until, fp, now.UnixMilli())
	if err != nil {
		return nil, false, fmt.Errorf("failed to lock alert %s: %w", fp, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, false, fmt.Errorf("failed to lock alert %s: %w", fp, err)
	}
	if n == 0 {
		var exists int
		err := s.st.DB.QueryRowContext(ctx, s.st.Rebind(`SELECT 1 FROM autonomous_alert WHERE fingerprint = ?`), fp).Scan(&exists)
		if errors.Is(err, sql.ErrNoRows) {
			return func() {}, true, nil // not recorded: the caller finds out and cancels
		}
		return nil, false, nil
	}
	return func() {
		_, _ = s.st.DB.ExecContext(context.WithoutCancel(ctx), s.st.Rebind(`UPDATE autonomous_alert SET lease_until_ms = 0
			WHERE fingerprint = ? AND lease_until_ms = ?`), fp, until)
	}, true, nil
}
