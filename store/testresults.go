package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The autonomous_test_run and autonomous_test_result tables: the test results of every
// collected run attempt (test optimization), bounded per repository.

// TestRun is one collected run attempt and where its results came from.
type TestRun struct {
	Owner, Repo string
	RunID       int64
	Attempt     int
	Workflow    string
	HeadSHA     string
	Branch      string
	Event       string
	Conclusion  string
	HTMLURL     string
	// StartedAt orders the runs; the attempt's own start time.
	StartedAt time.Time
	// Source is "artifacts" (JUnit or go test -json files), "log" (the failed tests the log
	// analyzer found) or "none".
	Source string
	// Note says what was skipped (an artifact over the size limit, an unparseable file).
	Note string
}

// TestResult is one test's outcome in one job of a run attempt.
type TestResult struct {
	Job      string
	Suite    string
	TestID   string
	Outcome  string
	Duration time.Duration
}

// StoredTestResult is a TestResult with its run attempt.
type StoredTestResult struct {
	TestResult
	Run TestRun
}

// SaveTestRun records a run attempt's test results once: a second save of the same attempt
// changes nothing and reports false. Afterwards only the keepRuns most recent run attempts of
// the repository keep their results (keepRuns <= 0 keeps everything).
func (s *Store) SaveTestRun(ctx context.Context, run TestRun, results []TestResult, keepRuns int) (saved bool, err error) {
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("failed to begin saving test results: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	res, err := tx.ExecContext(ctx, s.Rebind(`INSERT INTO autonomous_test_run
		(owner, repo, run_id, attempt, workflow, head_sha, branch, event, conclusion, html_url, started_at, source, note, collected_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (owner, repo, run_id, attempt) DO NOTHING`),
		run.Owner, run.Repo, run.RunID, run.Attempt, run.Workflow, run.HeadSHA, run.Branch, run.Event,
		run.Conclusion, run.HTMLURL, run.StartedAt.UTC(), run.Source, run.Note, time.Now().UTC())
	if err != nil {
		return false, fmt.Errorf("failed to record test run %d attempt %d: %w", run.RunID, run.Attempt, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err != nil {
			return false, fmt.Errorf("failed to record test run %d attempt %d: %w", run.RunID, run.Attempt, err)
		}
		return false, tx.Commit()
	}
	stmt, err := tx.PrepareContext(ctx, s.Rebind(`INSERT INTO autonomous_test_result
		(owner, repo, run_id, attempt, job, suite, test_id, outcome, duration_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (owner, repo, run_id, attempt, job, test_id) DO NOTHING`))
	if err != nil {
		return false, fmt.Errorf("failed to prepare test results: %w", err)
	}
	defer stmt.Close()
	for _, r := range results {
		if _, err := stmt.ExecContext(ctx, run.Owner, run.Repo, run.RunID, run.Attempt, r.Job, r.Suite, r.TestID,
			r.Outcome, r.Duration.Milliseconds()); err != nil {
			return false, fmt.Errorf("failed to record the result of %s: %w", r.TestID, err)
		}
	}
	if keepRuns > 0 {
		if err := s.pruneTestRuns(ctx, tx, run.Owner, run.Repo, keepRuns); err != nil {
			return false, err
		}
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("failed to commit test results: %w", err)
	}
	return true, nil
}

// pruneTestRuns drops the results of all but the keep most recent run attempts of a
// repository; the run rows stay (small), so a pruned attempt is never collected again.
func (s *Store) pruneTestRuns(ctx context.Context, tx *sql.Tx, owner, repo string, keep int) error {
	var cutoff time.Time
	err := tx.QueryRowContext(ctx, s.Rebind(`SELECT started_at FROM autonomous_test_run
		WHERE owner = ? AND repo = ? ORDER BY started_at DESC, run_id DESC, attempt DESC LIMIT 1 OFFSET ?`),
		owner, repo, keep).Scan(&cutoff)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to find old test runs: %w", err)
	}
	if _, err := tx.ExecContext(ctx, s.Rebind(`DELETE FROM autonomous_test_result WHERE owner = ? AND repo = ?
		AND (run_id, attempt) IN (SELECT run_id, attempt FROM autonomous_test_run
			WHERE owner = ? AND repo = ? AND started_at <= ?)`), owner, repo, owner, repo, cutoff); err != nil {
		return fmt.Errorf("failed to prune old test results: %w", err)
	}
	return nil
}

// TestRunCollected reports whether a run attempt's results were recorded.
func (s *Store) TestRunCollected(ctx context.Context, owner, repo string, runID int64, attempt int) (bool, error) {
	var one int
	err := s.DB.QueryRowContext(ctx, s.Rebind(`SELECT 1 FROM autonomous_test_run
		WHERE owner = ? AND repo = ? AND run_id = ? AND attempt = ?`), owner, repo, runID, attempt).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("failed to look up test run %d attempt %d: %w", runID, attempt, err)
	}
	return true, nil
}

// TestRuns returns the repository's most recent collected run attempts, newest first.
func (s *Store) TestRuns(ctx context.Context, owner, repo string, limit int) ([]TestRun, error) {
	rows, err := s.DB.QueryContext(ctx, s.Rebind(`SELECT `+testRunColumns+` FROM autonomous_test_run r
		WHERE owner = ? AND repo = ? ORDER BY started_at DESC, run_id DESC, attempt DESC LIMIT ?`), owner, repo, limit)
	if err != nil {
		return nil, fmt.Errorf("failed to read test runs: %w", err)
	}
	defer rows.Close()
	var out []TestRun
	for rows.Next() {
		var r TestRun
		if err := rows.Scan(testRunDest(&r)...); err != nil {
			return nil, fmt.Errorf("failed to read test run: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("failed to read test runs: %w", err)
	}
	return out, nil
}

const testRunColumns = `r.owner, r.repo, r.run_id, r.attempt, r.workflow, r.head_sha, r.branch, r.event,
	r.conclusion, r.html_url, r.started_at, r.source, r.note`

func testRunDest(r *TestRun) []any {
	return []any{&r.Owner, &r.Repo, &r.RunID, &r.Attempt, &r.Workflow, &r.HeadSHA, &r.Branch, &r.Event,
		&r.Conclusion, &r.HTMLURL, &r.StartedAt, &r.Source, &r.Note}
}

// TestResults returns the results of the repository's lastRuns most recent collected run
// attempts, oldest first.
func (s *Store) TestResults(ctx context.Context, owner, repo string, lastRuns int) ([]StoredTestResult, error) {
	runs, err := s.TestRuns(ctx, owner, repo, lastRuns)
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	oldest := runs[len(runs)-1].StartedAt
	rows, err := s.DB.QueryContext(ctx, s.Rebind(`SELECT `+testRunColumns+`, t.job, t.suite, t.test_id, t.outcome, t.duration_ms
		FROM autonomous_test_result t JOIN autonomous_test_run r
			ON r.owner = t.owner AND r.repo = t.repo AND r.run_id = t.run_id AND r.attempt = t.attempt
		WHERE t.owner = ? AND t.repo = ? AND r.started_at >= ?
		ORDER BY r.started_at, r.run_id, r.attempt, t.job, t.test_id`), owner, repo, oldest)
	if err != nil {
		return nil, fmt.Errorf("failed to read test results: %w", err)
	}
	defer rows.Close()
	var out []StoredTestResult
	for rows.Next() {
		var r StoredTestResult
		var ms int64
		dest := append(testRunDest(&r.Run), &r.Job, &r.Suite, &r.TestID, &r.Outcome, &ms)
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("failed to read test result: %w", err)
		}
		r.Duration = time.Duration(ms) * time.Millisecond
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("failed to read test results: %w", err)
	}
	return out, nil
}

// FlakyTest is the remembered state of one test that has been flaky: what the quarantine
// lifecycle acts on when the state changes.
type FlakyTest struct {
	Owner, Repo string
	TestID      string
	// Status is flakiness.Status: flaky, quarantined or recovered.
	Status    string
	Rate      float64
	Runs      int
	FlakyRuns int
	FirstSeen time.Time
	LastSeen  time.Time
	// Evidence is the JSON of the runs that prove it.
	Evidence  string
	UpdatedAt time.Time
}

// SaveFlakyTest records (or replaces) a test's flakiness state.
func (s *Store) SaveFlakyTest(ctx context.Context, f FlakyTest) error {
	_, err := s.DB.ExecContext(ctx, s.Rebind(`INSERT INTO autonomous_flaky_test
		(owner, repo, test_id, status, rate, runs, flaky_runs, first_seen, last_seen, evidence, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (owner, repo, test_id) DO UPDATE SET status = excluded.status, rate = excluded.rate,
			runs = excluded.runs, flaky_runs = excluded.flaky_runs, first_seen = excluded.first_seen,
			last_seen = excluded.last_seen, evidence = excluded.evidence, updated_at = excluded.updated_at`),
		f.Owner, f.Repo, f.TestID, f.Status, f.Rate, f.Runs, f.FlakyRuns, f.FirstSeen.UTC(), f.LastSeen.UTC(),
		f.Evidence, time.Now().UTC())
	if err != nil {
		return fmt.Errorf("failed to save the flakiness of %s: %w", f.TestID, err)
	}
	return nil
}

// FlakyTests returns the repository's remembered flaky tests (of the given statuses, or all),
// by test id. With testIDs, only those tests.
func (s *Store) FlakyTests(ctx context.Context, owner, repo string, testIDs ...string) (map[string]FlakyTest, error) {
	query := `SELECT owner, repo, test_id, status, rate, runs, flaky_runs, first_seen, last_seen, evidence, updated_at
		FROM autonomous_flaky_test WHERE owner = ? AND repo = ?`
	args := []any{owner, repo}
	if len(testIDs) > 0 {
		query += ` AND test_id IN (?` + strings.Repeat(", ?", len(testIDs)-1) + `)`
		for _, id := range testIDs {
			args = append(args, id)
		}
	}
	rows, err := s.DB.QueryContext(ctx, s.Rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("failed to read flaky tests: %w", err)
	}
	defer rows.Close()
	out := map[string]FlakyTest{}
	for rows.Next() {
		var f FlakyTest
		if err := rows.Scan(&f.Owner, &f.Repo, &f.TestID, &f.Status, &f.Rate, &f.Runs, &f.FlakyRuns,
			&f.FirstSeen, &f.LastSeen, &f.Evidence, &f.UpdatedAt); err != nil {
			return nil, fmt.Errorf("failed to read flaky test: %w", err)
		}
		out[f.TestID] = f
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("failed to read flaky tests: %w", err)
	}
	return out, nil
}

// SaveLogFailedTests records the failed tests the log analyzer found in the failed jobs of a
// run attempt (job name → test ids): test optimization's evidence where a run uploads no test
// report. Saving the same attempt again adds only what is new.
func (s *Store) SaveLogFailedTests(ctx context.Context, owner, repo string, runID int64, attempt int, byJob map[string][]string) error {
	for job, tests := range byJob {
		for _, test := range tests {
			if _, err := s.DB.ExecContext(ctx, s.Rebind(`INSERT INTO autonomous_log_failed_test
				(owner, repo, run_id, attempt, job, test_id, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (owner, repo, run_id, attempt, job, test_id) DO NOTHING`),
				owner, repo, runID, attempt, job, test, time.Now().UTC()); err != nil {
				return fmt.Errorf("failed to record failed test %s of run %d: %w", test, runID, err)
			}
		}
	}
	return nil
}

// LogFailedTests returns the failed tests recorded for a run attempt's jobs, by job name.
func (s *Store) LogFailedTests(ctx context.Context, owner, repo string, runID int64, attempt int) (map[string][]string, error) {
	return s.queryLogFailedTests(ctx, `WHERE owner = ? AND repo = ? AND run_id = ? AND attempt = ?`, owner, repo, runID, attempt)
}

// LogFailedTestsOfJobs returns every test recorded as failed in the repository's jobs of these
// names, by job name: what a later passing job is known to have passed.
func (s *Store) LogFailedTestsOfJobs(ctx context.Context, owner, repo string, jobs []string) (map[string][]string, error) {
	if len(jobs) == 0 {
		return map[string][]string{}, nil
	}
	args := []any{owner, repo}
	for _, j := range jobs {
		args = append(args, j)
	}
	return s.queryLogFailedTests(ctx, `WHERE owner = ? AND repo = ? AND job IN (?`+strings.Repeat(", ?", len(jobs)-1)+`)`, args...)
}

func (s *Store) queryLogFailedTests(ctx context.Context, where string, args ...any) (map[string][]string, error) {
	rows, err := s.DB.QueryContext(ctx, s.Rebind(`SELECT DISTINCT job, test_id FROM autonomous_log_failed_test `+where+` ORDER BY job, test_id`), args...)
	if err != nil {
		return nil, fmt.Errorf("failed to read failed tests: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var job, test string
		if err := rows.Scan(&job, &test); err != nil {
			return nil, fmt.Errorf("failed to read failed test: %w", err)
		}
		out[job] = append(out[job], test)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("failed to read failed tests: %w", err)
	}
	return out, nil
}
