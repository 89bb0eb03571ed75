package recovery

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/contexten/autonomous/store"
)

// The tables autonomous_recovery_action (what the manager did) and autonomous_recovery_streak
// (consecutive failures per escalation fingerprint); store/migrate.go creates them.

// The actions a record names.
const (
	ActionRetry         = "retry"          // River retries with backoff from WORKFLOW_RETRY_DELAY
	ActionSnooze        = "snooze"         // the job waits for the rate limit's reset
	ActionCancel        = "cancel"         // retrying cannot help (gone, invalid)
	ActionRestart       = "restart"        // the workflow starts over with fresh state
	ActionCleanup       = "cleanup"        // temp files, idle connections, memory returned
	ActionThrottle      = "throttle"       // worker concurrency lowered while resources are short
	ActionUnthrottle    = "unthrottle"     // worker concurrency back to normal
	ActionEscalate      = "escalate"       // a person is told (Slack + Linear)
	ActionResolve       = "resolve"        // the escalated condition cleared
	ActionRestartEngine = "restart_engine" // River's client restarted
	ActionDiscard       = "discard"        // the retries are spent: River discards the job
)

// The outcomes a record ends with, besides "failed: <reason>" and "skipped: <reason>".
const (
	OutcomeOK       = "ok"
	OutcomeDisabled = "disabled" // RECOVERY_ENABLED=false: classified and recorded only
)

// Action is one recorded recovery action.
type Action struct {
	At      time.Time `json:"at"`
	Kind    string    `json:"kind,omitempty"`
	JobID   int64     `json:"job_id,omitempty"`
	Attempt int       `json:"attempt,omitempty"`
	Repo    string    `json:"repo,omitempty"`
	Class   Class     `json:"class,omitempty"`
	Action  string    `json:"action"`
	Reason  string    `json:"reason"`
	Outcome string    `json:"outcome"`
	// Delay is the wait the action gave the job (a snooze or a retry's backoff), if any.
	Delay time.Duration `json:"delay_ns,omitempty"`
	// key identifies the action so a repeat of the same job attempt's action overwrites it.
	key string
}

// Records reads and writes the recovery tables.
type Records struct{ st *store.Store }

// NewRecords returns the recovery records of st (migrated).
func NewRecords(st *store.Store) *Records { return &Records{st: st} }

// maxText bounds the reason and error text kept.
const maxText = 500

func clip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= maxText {
		return s
	}
	cut := maxText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Save records a, replacing the record of the same job attempt's same action.
func (r *Records) Save(ctx context.Context, a Action) error {
	if a.At.IsZero() {
		a.At = time.Now()
	}
	if a.key == "" {
		a.key = fmt.Sprintf("at:%d:%s:%d", a.At.UnixNano(), a.Action, a.JobID)
	}
	_, err := r.st.DB.ExecContext(ctx, r.st.Rebind(`INSERT INTO autonomous_recovery_action
		(action_key, at_ms, kind, job_id, attempt, repo, class, action, reason, outcome, delay_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (action_key) DO UPDATE SET at_ms = excluded.at_ms, class = excluded.class,
			reason = excluded.reason, outcome = excluded.outcome, delay_ms = excluded.delay_ms`),
		a.key, a.At.UnixMilli(), a.Kind, a.JobID, a.Attempt, a.Repo, string(a.Class), a.Action,
		clip(a.Reason), clip(a.Outcome), a.Delay.Milliseconds())
	if err != nil {
		return fmt.Errorf("failed to record recovery action %s: %w", a.Action, err)
	}
	return nil
}

// Recent returns the last limit actions (default 20, at most 500), newest first.
func (r *Records) Recent(ctx context.Context, limit int) ([]Action, error) {
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, 500)
	rows, err := r.st.DB.QueryContext(ctx, r.st.Rebind(`SELECT at_ms, kind, job_id, attempt, repo, class,
		action, reason, outcome, delay_ms FROM autonomous_recovery_action ORDER BY at_ms DESC, action_key DESC LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("failed to read recovery actions: %w", err)
	}
	defer rows.Close()
	out := []Action{}
	for rows.Next() {
		var a Action
		var atMS, delayMS int64
		var class string
		if err := rows.Scan(&atMS, &a.Kind, &a.JobID, &a.Attempt, &a.Repo, &class, &a.Action, &a.Reason, &a.Outcome, &delayMS); err != nil {
			return nil, fmt.Errorf("failed to read a recovery action: %w", err)
		}
		a.At, a.Class, a.Delay = time.UnixMilli(atMS).UTC(), Class(class), time.Duration(delayMS)*time.Millisecond
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("failed to read recovery actions: %w", err)
	}
	return out, nil
}

// Retention is how long recovery actions are kept (Prune).
const Retention = 30 * 24 * time.Hour

// Prune deletes the actions recorded before before and returns how many.
func (r *Records) Prune(ctx context.Context, before time.Time) (int64, error) {
	res, err := r.st.DB.ExecContext(ctx, r.st.Rebind(`DELETE FROM autonomous_recovery_action WHERE at_ms < ?`), before.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("failed to prune recovery actions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("failed to prune recovery actions: %w", err)
	}
	return n, nil
}

// Streak is the consecutive failures of one escalation fingerprint.
type Streak struct {
	Fingerprint string `json:"fingerprint"`
	Kind        string `json:"kind"`
	Repo        string `json:"repo"`
	Class       Class  `json:"class"`
	Failures    int    `json:"failures"`
	Escalated   bool   `json:"escalated"`
	LastError   string `json:"last_error"`
}

// fail counts one more failure of s's fingerprint and returns the streak as it now is.
func (r *Records) fail(ctx context.Context, s Streak) (Streak, error) {
	row := r.st.DB.QueryRowContext(ctx, r.st.Rebind(`INSERT INTO autonomous_recovery_streak
		(fingerprint, kind, repo, class, failures, escalated, last_error, updated_at_ms) VALUES (?, ?, ?, ?, 1, ?, ?, ?)
		ON CONFLICT (fingerprint) DO UPDATE SET failures = autonomous_recovery_streak.failures + 1,
			last_error = excluded.last_error, updated_at_ms = excluded.updated_at_ms
		RETURNING failures, escalated`),
		s.Fingerprint, s.Kind, s.Repo, string(s.Class), false, clip(s.LastError), time.Now().UnixMilli())
	if err := row.Scan(&s.Failures, &s.Escalated); err != nil {
		return s, fmt.Errorf("failed to count a failure of %s: %w", s.Fingerprint, err)
	}
	return s, nil
}

// claimEscalation marks fingerprint escalated and reports whether this call did it, so one
// streak escalates exactly once however many replicas see its failures.
func (r *Records) claimEscalation(ctx context.Context, fingerprint string) (bool, error) {
	res, err := r.st.DB.ExecContext(ctx, r.st.Rebind(`UPDATE autonomous_recovery_streak SET escalated = ?
		WHERE fingerprint = ? AND escalated = ?`), true, fingerprint, false)
	if err != nil {
		return false, fmt.Errorf("failed to mark %s escalated: %w", fingerprint, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("failed to mark %s escalated: %w", fingerprint, err)
	}
	return n == 1, nil
}

// unclaimEscalation undoes claimEscalation when the alert could not be raised, so the next
// failure tries again.
func (r *Records) unclaimEscalation(ctx context.Context, fingerprint string) error {
	_, err := r.st.DB.ExecContext(ctx, r.st.Rebind(`UPDATE autonomous_recovery_streak SET escalated = ? WHERE fingerprint = ?`),
		false, fingerprint)
	if err != nil {
		return fmt.Errorf("failed to unmark %s escalated: %w", fingerprint, err)
	}
	return nil
}

// streaks returns the open streaks of kind on repo.
func (r *Records) streaks(ctx context.Context, kind, repo string) ([]Streak, error) {
	rows, err := r.st.DB.QueryContext(ctx, r.st.Rebind(`SELECT fingerprint, class, failures, escalated, last_error
		FROM autonomous_recovery_streak WHERE kind = ? AND repo = ?`), kind, repo)
	if err != nil {
		return nil, fmt.Errorf("failed to read failure streaks: %w", err)
	}
	defer rows.Close()
	var out []Streak
	for rows.Next() {
		s := Streak{Kind: kind, Repo: repo}
		var class string
		if err := rows.Scan(&s.Fingerprint, &class, &s.Failures, &s.Escalated, &s.LastError); err != nil {
			return nil, fmt.Errorf("failed to read a failure streak: %w", err)
		}
		s.Class = Class(class)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("failed to read failure streaks: %w", err)
	}
	return out, nil
}

// Streaks returns every open failure streak, longest first.
func (r *Records) Streaks(ctx context.Context) ([]Streak, error) {
	rows, err := r.st.DB.QueryContext(ctx, `SELECT fingerprint, kind, repo, class, failures, escalated, last_error
		FROM autonomous_recovery_streak ORDER BY failures DESC, fingerprint`)
	if err != nil {
		return nil, fmt.Errorf("failed to read failure streaks: %w", err)
	}
	defer rows.Close()
	out := []Streak{}
	for rows.Next() {
		var s Streak
		var class string
		if err := rows.Scan(&s.Fingerprint, &s.Kind, &s.Repo, &class, &s.Failures, &s.Escalated, &s.LastError); err != nil {
			return nil, fmt.Errorf("failed to read a failure streak: %w", err)
		}
		s.Class = Class(class)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("failed to read failure streaks: %w", err)
	}
	return out, nil
}

// clear forgets the streak of fingerprint.
func (r *Records) clear(ctx context.Context, fingerprint string) error {
	if _, err := r.st.DB.ExecContext(ctx, r.st.Rebind(`DELETE FROM autonomous_recovery_streak WHERE fingerprint = ?`), fingerprint); err != nil {
		return fmt.Errorf("failed to clear the streak of %s: %w", fingerprint, err)
	}
	return nil
}

// restarts counts the workflow restarts recorded for a job.
func (r *Records) restarts(ctx context.Context, jobID int64) (int, error) {
	var n int
	err := r.st.DB.QueryRowContext(ctx, r.st.Rebind(`SELECT count(*) FROM autonomous_recovery_action
		WHERE job_id = ? AND action = ? AND outcome = ?`), jobID, ActionRestart, OutcomeOK).Scan(&n)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("failed to count the restarts of job %d: %w", jobID, err)
	}
	return n, nil
}
