package store

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river/rivermigrate"
)

// migration is one step of the schema, applied in order and idempotent.
type migration struct {
	name  string
	apply func(ctx context.Context, s *Store) error
}

// migrations is the one ordered list of the schema: River's tables, then the bot's own, each in
// the SQL both SQLite and Postgres accept. A new table or column is a new entry at the end.
var migrations = []migration{
	{"river", migrateRiver},
	{"autonomous_installation", execSQL(`CREATE TABLE IF NOT EXISTS autonomous_installation (
		id BIGINT PRIMARY KEY,
		account TEXT NOT NULL,
		account_type TEXT NOT NULL DEFAULT '',
		repository_selection TEXT NOT NULL DEFAULT '',
		repositories TEXT NOT NULL DEFAULT '',
		suspended BOOLEAN NOT NULL DEFAULT FALSE,
		updated_at TIMESTAMP NOT NULL
	)`)},
	// One row per pull request the bot reports on: the sticky comment and its sections.
	{"autonomous_pr_report", execSQL(`CREATE TABLE IF NOT EXISTS autonomous_pr_report (
		owner TEXT NOT NULL,
		repo TEXT NOT NULL,
		number BIGINT NOT NULL,
		comment_id BIGINT NOT NULL DEFAULT 0,
		sections TEXT NOT NULL DEFAULT '{}',
		lease_until_ms BIGINT NOT NULL DEFAULT 0,
		updated_at TIMESTAMP NOT NULL,
		PRIMARY KEY (owner, repo, number)
	)`)},
	// One row per analyzed run attempt: what failed (fingerprints), for flakiness evidence and
	// re-run decisions, and the check run the bot created for it.
	{"autonomous_run_result", execSQL(`CREATE TABLE IF NOT EXISTS autonomous_run_result (
		owner TEXT NOT NULL,
		repo TEXT NOT NULL,
		run_id BIGINT NOT NULL,
		attempt BIGINT NOT NULL,
		head_sha TEXT NOT NULL,
		workflow TEXT NOT NULL,
		conclusion TEXT NOT NULL,
		fingerprints TEXT NOT NULL DEFAULT '',
		html_url TEXT NOT NULL DEFAULT '',
		check_run_id BIGINT NOT NULL DEFAULT 0,
		rerun_requested BOOLEAN NOT NULL DEFAULT FALSE,
		updated_at TIMESTAMP NOT NULL,
		PRIMARY KEY (owner, repo, run_id, attempt)
	)`)},
	// One row per River client that works jobs (workerlease.go).
	{"autonomous_worker_lease", execSQL(`CREATE TABLE IF NOT EXISTS autonomous_worker_lease (
		client_id TEXT PRIMARY KEY,
		started_at_ms BIGINT NOT NULL,
		heartbeat_at_ms BIGINT NOT NULL,
		expires_at_ms BIGINT NOT NULL
	)`)},
	// Creates on GitHub, recorded before they are sent (effects.go).
	{"autonomous_effect", execSQL(`CREATE TABLE IF NOT EXISTS autonomous_effect (
		effect_key TEXT PRIMARY KEY,
		started_ms BIGINT NOT NULL,
		created_id BIGINT NOT NULL DEFAULT 0
	)`, `CREATE INDEX IF NOT EXISTS autonomous_effect_started_idx ON autonomous_effect (started_ms)`)},
	// The per-run lease that serialises the executions reporting one run (runlease.go).
	{"autonomous_run_lease", execSQL(`CREATE TABLE IF NOT EXISTS autonomous_run_lease (
		owner TEXT NOT NULL,
		repo TEXT NOT NULL,
		run_id BIGINT NOT NULL,
		lease_until_ms BIGINT NOT NULL DEFAULT 0,
		PRIMARY KEY (owner, repo, run_id)
	)`)},
	// The slash-command ledger (workflows/commands): one row per command of a comment, with its
	// outcome, so a retried job never acts twice.
	{"autonomous_command_run", execSQL(`CREATE TABLE IF NOT EXISTS autonomous_command_run (
		comment_id BIGINT NOT NULL,
		line INTEGER NOT NULL,
		command TEXT NOT NULL,
		repo_id BIGINT NOT NULL,
		pr_number INTEGER NOT NULL,
		counted BOOLEAN NOT NULL DEFAULT FALSE,
		finished BOOLEAN NOT NULL DEFAULT FALSE,
		status TEXT NOT NULL DEFAULT '',
		result TEXT NOT NULL DEFAULT '',
		created_unix BIGINT NOT NULL,
		PRIMARY KEY (comment_id, line, command)
	)`, `CREATE INDEX IF NOT EXISTS autonomous_command_run_repo_idx ON autonomous_command_run (repo_id, created_unix)`)},
	// The budgets' uses (package budget), one row per counted use of a kind.
	{"autonomous_budget_use", execSQL(`CREATE TABLE IF NOT EXISTS autonomous_budget_use (
		kind TEXT NOT NULL,
		use_key TEXT NOT NULL,
		repo_id BIGINT NOT NULL,
		pr_number INTEGER NOT NULL,
		created_unix BIGINT NOT NULL,
		PRIMARY KEY (kind, use_key)
	)`, `CREATE INDEX IF NOT EXISTS autonomous_budget_use_repo_idx ON autonomous_budget_use (kind, repo_id, created_unix)`)},
	// Commands counted by the ledger before the budgets had their own table keep counting.
	{"autonomous_budget_use from autonomous_command_run", copyCountedCommands},
	// Webhook deliveries the bot asked GitHub to redeliver, one row per delivery GUID, and how
	// far back the deliveries list was read completely (redeliveries.go).
	{"autonomous_redelivery", execSQL(`CREATE TABLE IF NOT EXISTS autonomous_redelivery (
		guid TEXT PRIMARY KEY,
		delivery_id BIGINT NOT NULL,
		event TEXT NOT NULL DEFAULT '',
		action TEXT NOT NULL DEFAULT '',
		state TEXT NOT NULL,
		status_code BIGINT NOT NULL DEFAULT 0,
		message TEXT NOT NULL DEFAULT '',
		started_ms BIGINT NOT NULL,
		updated_ms BIGINT NOT NULL
	)`, `CREATE INDEX IF NOT EXISTS autonomous_redelivery_started_idx ON autonomous_redelivery (started_ms)`,
		`CREATE TABLE IF NOT EXISTS autonomous_redelivery_scan (
		name TEXT PRIMARY KEY,
		until_ms BIGINT NOT NULL
	)`)},
	// Alerts (package alerting): one row per fingerprint, its state and delivery, and one row per
	// delivery step already done, so a retried delivery job never sends a step twice.
	{"autonomous_alert", execSQL(`CREATE TABLE IF NOT EXISTS autonomous_alert (
		fingerprint TEXT PRIMARY KEY,
		severity TEXT NOT NULL,
		title TEXT NOT NULL,
		text TEXT NOT NULL DEFAULT '',
		detail TEXT NOT NULL DEFAULT '{}',
		source TEXT NOT NULL DEFAULT '',
		repo TEXT NOT NULL DEFAULT '',
		state TEXT NOT NULL,
		occurrences BIGINT NOT NULL DEFAULT 0,
		first_seen_ms BIGINT NOT NULL,
		last_seen_ms BIGINT NOT NULL,
		last_sent_ms BIGINT NOT NULL DEFAULT 0,
		escalated BOOLEAN NOT NULL DEFAULT FALSE,
		linear_issue_id TEXT NOT NULL DEFAULT '',
		linear_issue_url TEXT NOT NULL DEFAULT '',
		resolved_ms BIGINT NOT NULL DEFAULT 0,
		seq BIGINT NOT NULL DEFAULT 0,
		opened_seq BIGINT NOT NULL DEFAULT 0,
		resolved_seq BIGINT NOT NULL DEFAULT 0,
		pending_seq BIGINT NOT NULL DEFAULT 0,
		pending_job_id BIGINT NOT NULL DEFAULT 0,
		announced BOOLEAN NOT NULL DEFAULT FALSE,
		delivery TEXT NOT NULL DEFAULT '',
		lease_until_ms BIGINT NOT NULL DEFAULT 0
	)`, `CREATE INDEX IF NOT EXISTS autonomous_alert_last_seen_idx ON autonomous_alert (last_seen_ms)`,
		`CREATE TABLE IF NOT EXISTS autonomous_alert_delivery (
		fingerprint TEXT NOT NULL,
		seq BIGINT NOT NULL,
		step TEXT NOT NULL,
		outcome TEXT NOT NULL,
		detail TEXT NOT NULL DEFAULT '',
		at_ms BIGINT NOT NULL,
		PRIMARY KEY (fingerprint, seq, step)
	)`, `CREATE INDEX IF NOT EXISTS autonomous_alert_delivery_at_idx ON autonomous_alert_delivery (at_ms)`)},
	// Performance monitoring's history (perfhistory.go): one row per workflow run attempt with
	// its timings and its jobs', so a check does not fetch again what it has.
	{"autonomous_perf_run", execSQL(`CREATE TABLE IF NOT EXISTS autonomous_perf_run (
		owner TEXT NOT NULL,
		repo TEXT NOT NULL,
		run_id BIGINT NOT NULL,
		attempt BIGINT NOT NULL,
		workflow_id BIGINT NOT NULL,
		workflow TEXT NOT NULL,
		branch TEXT NOT NULL,
		head_sha TEXT NOT NULL,
		event TEXT NOT NULL DEFAULT '',
		conclusion TEXT NOT NULL,
		started_unix_ms BIGINT NOT NULL,
		queue_ms BIGINT NOT NULL,
		duration_ms BIGINT NOT NULL,
		jobs TEXT NOT NULL DEFAULT '[]',
		html_url TEXT NOT NULL DEFAULT '',
		recorded_unix_ms BIGINT NOT NULL,
		PRIMARY KEY (owner, repo, run_id, attempt)
	)`, `CREATE INDEX IF NOT EXISTS autonomous_perf_run_branch_idx ON autonomous_perf_run (owner, repo, branch, started_unix_ms)`,
		`CREATE INDEX IF NOT EXISTS autonomous_perf_run_sha_idx ON autonomous_perf_run (owner, repo, head_sha)`)},
	// The recovery manager's actions (package recovery, records.go): what it did to which job
	// and why, for status, /api/recoveries and the dashboard.
	{"autonomous_recovery_action", execSQL(`CREATE TABLE IF NOT EXISTS autonomous_recovery_action (
		action_key TEXT PRIMARY KEY,
		at_ms BIGINT NOT NULL,
		kind TEXT NOT NULL DEFAULT '',
		job_id BIGINT NOT NULL DEFAULT 0,
		attempt INTEGER NOT NULL DEFAULT 0,
		repo TEXT NOT NULL DEFAULT '',
		class TEXT NOT NULL DEFAULT '',
		action TEXT NOT NULL,
		reason TEXT NOT NULL DEFAULT '',
		outcome TEXT NOT NULL DEFAULT '',
		delay_ms BIGINT NOT NULL DEFAULT 0
	)`, `CREATE INDEX IF NOT EXISTS autonomous_recovery_action_at_idx ON autonomous_recovery_action (at_ms)`)},
	// The recovery manager's failure streaks, one per escalation fingerprint (package recovery).
	{"autonomous_recovery_streak", execSQL(`CREATE TABLE IF NOT EXISTS autonomous_recovery_streak (
		fingerprint TEXT PRIMARY KEY,
		kind TEXT NOT NULL,
		repo TEXT NOT NULL DEFAULT '',
		class TEXT NOT NULL,
		failures INTEGER NOT NULL DEFAULT 0,
		escalated BOOLEAN NOT NULL DEFAULT FALSE,
		last_error TEXT NOT NULL DEFAULT '',
		updated_at_ms BIGINT NOT NULL
	)`, `CREATE INDEX IF NOT EXISTS autonomous_recovery_streak_kind_idx ON autonomous_recovery_streak (kind, repo)`)},
	// Test optimization: collected run attempts, their test results (bounded per repository),
	// and the remembered state of every test that has been flaky.
	{"autonomous_test_run", execSQL(`CREATE TABLE IF NOT EXISTS autonomous_test_run (
		owner TEXT NOT NULL,
		repo TEXT NOT NULL,
		run_id BIGINT NOT NULL,
		attempt INTEGER NOT NULL,
		workflow TEXT NOT NULL DEFAULT '',
		head_sha TEXT NOT NULL DEFAULT '',
		branch TEXT NOT NULL DEFAULT '',
		event TEXT NOT NULL DEFAULT '',
		conclusion TEXT NOT NULL DEFAULT '',
		html_url TEXT NOT NULL DEFAULT '',
		started_at TIMESTAMP NOT NULL,
		source TEXT NOT NULL DEFAULT '',
		note TEXT NOT NULL DEFAULT '',
		collected_at TIMESTAMP NOT NULL,
		PRIMARY KEY (owner, repo, run_id, attempt)
	)`)},
	{"autonomous_test_result", execSQL(`CREATE TABLE IF NOT EXISTS autonomous_test_result (
		owner TEXT NOT NULL,
		repo TEXT NOT NULL,
		run_id BIGINT NOT NULL,
		attempt INTEGER NOT NULL,
		job TEXT NOT NULL,
		suite TEXT NOT NULL DEFAULT '',
		test_id TEXT NOT NULL,
		outcome TEXT NOT NULL,
		duration_ms BIGINT NOT NULL DEFAULT 0,
		PRIMARY KEY (owner, repo, run_id, attempt, job, test_id)
	)`)},
	{"autonomous_flaky_test", execSQL(`CREATE TABLE IF NOT EXISTS autonomous_flaky_test (
		owner TEXT NOT NULL,
		repo TEXT NOT NULL,
		test_id TEXT NOT NULL,
		status TEXT NOT NULL,
		rate DOUBLE PRECISION NOT NULL DEFAULT 0,
		runs INTEGER NOT NULL DEFAULT 0,
		flaky_runs INTEGER NOT NULL DEFAULT 0,
		first_seen TIMESTAMP NOT NULL,
		last_seen TIMESTAMP NOT NULL,
		evidence TEXT NOT NULL DEFAULT '',
		updated_at TIMESTAMP NOT NULL,
		PRIMARY KEY (owner, repo, test_id)
	)`)},
	{"autonomous_log_failed_test", execSQL(`CREATE TABLE IF NOT EXISTS autonomous_log_failed_test (
		owner TEXT NOT NULL,
		repo TEXT NOT NULL,
		run_id BIGINT NOT NULL,
		attempt INTEGER NOT NULL,
		job TEXT NOT NULL,
		test_id TEXT NOT NULL,
		recorded_at TIMESTAMP NOT NULL,
		PRIMARY KEY (owner, repo, run_id, attempt, job, test_id)
	)`)},
	// AI fixes (aifix.go): one row per (repository, pull request, head commit, failure
	// fingerprint) handed to the agent, and the agent-wide pause after a plan limit.
	{"autonomous_ai_fix", execSQL(`CREATE TABLE IF NOT EXISTS autonomous_ai_fix (
		fix_key TEXT PRIMARY KEY,
		owner TEXT NOT NULL,
		repo TEXT NOT NULL,
		number BIGINT NOT NULL,
		state TEXT NOT NULL,
		fix_branch TEXT NOT NULL DEFAULT '',
		attempts BIGINT NOT NULL DEFAULT 0,
		data TEXT NOT NULL DEFAULT '{}',
		created_ms BIGINT NOT NULL,
		updated_ms BIGINT NOT NULL
	)`, `CREATE INDEX IF NOT EXISTS autonomous_ai_fix_pr_idx ON autonomous_ai_fix (owner, repo, number)`,
		`CREATE INDEX IF NOT EXISTS autonomous_ai_fix_branch_idx ON autonomous_ai_fix (owner, repo, fix_branch)`,
		`CREATE TABLE IF NOT EXISTS autonomous_ai_fix_pause (
		scope TEXT PRIMARY KEY,
		until_ms BIGINT NOT NULL,
		notified_ms BIGINT NOT NULL DEFAULT 0
	)`)},
	// Acknowledged webhook work waiting for River (inbox.go); SQLite keeps it in its own file.
	{"autonomous_inbox", migrateInbox},
}

// copyCountedCommands copies the commands the ledger counted in the last two days (the longest
// budget window is one) into the budgets' table; a use already there is left alone.
func copyCountedCommands(ctx context.Context, s *Store) error {
	_, err := s.DB.ExecContext(ctx, s.Rebind(`INSERT INTO autonomous_budget_use (kind, use_key, repo_id, pr_number, created_unix)
		SELECT 'commands', CAST(comment_id AS TEXT) || ':' || CAST(line AS TEXT) || ':' || command, repo_id, pr_number, created_unix
		FROM autonomous_command_run WHERE counted = ? AND created_unix > ?
		ON CONFLICT (kind, use_key) DO NOTHING`), true, time.Now().Add(-48*time.Hour).Unix())
	if err != nil {
		return fmt.Errorf("failed to copy counted commands: %w", err)
	}
	return nil
}

// Migrate applies every migration in order. It is idempotent.
func (s *Store) Migrate(ctx context.Context) error {
	for _, m := range migrations {
		if err := m.apply(ctx, s); err != nil {
			return fmt.Errorf("failed to migrate %s: %w", m.name, err)
		}
	}
	return nil
}

// MigrationsApplied reports whether River's schema is fully migrated.
func (s *Store) MigrationsApplied(ctx context.Context) (bool, error) {
	migrator, err := rivermigrate.New(s.Driver, nil)
	if err != nil {
		return false, fmt.Errorf("failed to create migrator: %w", err)
	}
	res, err := migrator.Validate(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("failed to validate migrations: %w", err)
	}
	return res.OK, nil
}

// migrateRiver applies River's own migrations.
func migrateRiver(ctx context.Context, s *Store) error {
	migrator, err := rivermigrate.New(s.Driver, nil)
	if err != nil {
		return fmt.Errorf("failed to create migrator: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("failed to migrate river tables: %w", err)
	}
	return nil
}

// execSQL is a migration of statements run one after the other.
func execSQL(stmts ...string) func(ctx context.Context, s *Store) error {
	return func(ctx context.Context, s *Store) error {
		for _, stmt := range stmts {
			if _, err := s.DB.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("failed to create table: %w", err)
			}
		}
		return nil
	}
}
