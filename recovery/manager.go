package recovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rcrowley/go-metrics"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/rs/zerolog"

	"github.com/contexten/autonomous/alerting"
	"github.com/contexten/autonomous/store"
)

// MetricActions is the go-metrics counter of recovery actions; "recovery.actions.<action>"
// counts each action.
const MetricActions = "recovery.actions"

// Alerter is what the manager needs of alerting: raise an escalation, resolve it.
type Alerter interface {
	Raise(ctx context.Context, a alerting.Alert) error
	Resolve(ctx context.Context, fingerprint, text string) error
}

// Engine is what the manager needs of the workflow engine (*workflows.Engine).
type Engine interface {
	Running() bool
	Backlog(ctx context.Context) (depth int, oldest time.Duration, err error)
	Restart(ctx context.Context) error
}

// Options configure a Manager. Zero values take the defaults noted on each field.
type Options struct {
	// Alerts receives escalations and their resolutions; nil escalates nothing (the attempt is
	// recorded as skipped). Pass a nil interface, not a typed nil pointer.
	Alerts Alerter
	// Enabled turns the strategies on (RECOVERY_ENABLED); off, errors are still classified and
	// recorded, and the worker's own decision stands.
	Enabled bool
	// EscalationThreshold is how many consecutive failures of one fingerprint escalate
	// (ESCALATION_THRESHOLD), default 3.
	EscalationThreshold int
	// MaxConcurrent bounds the recovery actions run at a time (MAX_CONCURRENT_RECOVERIES),
	// default 3.
	MaxConcurrent int
	// AutoRestart lets the manager restart River's client when the engine is stuck
	// (AUTO_RESTART_ENABLED).
	AutoRestart bool
	// RetryDelay is WORKFLOW_RETRY_DELAY, the first retry's delay (the engine's retry policy
	// doubles it per attempt, with jitter); it is the base of the recorded backoff.
	RetryDelay time.Duration
	// MaxWorkers is the queue's concurrency (MAX_CONCURRENT_WORKFLOWS), default 10; while
	// resources are short at most LowWorkers (default half, at least 1) jobs work at a time.
	MaxWorkers, LowWorkers int
	// MemoryPercent and DiskPercent are the resource thresholds (ALERT_MEMORY_PERCENT,
	// ALERT_DISK_PERCENT), 85 and 90 when zero; a negative one turns that check off.
	MemoryPercent, DiskPercent float64
	// Probe samples memory and disk; default the host's memory and the disk of Cleanup.DataDir.
	Probe Probe
	// SampleEvery is how long a resource sample is reused, default 5 s.
	SampleEvery time.Duration
	// Cleanup is what a cleanup removes and closes.
	Cleanup Cleanup
	// StuckAfter is how long available jobs may wait with none started before the engine
	// counts as stuck, default 2 minutes; CheckEvery is how often Watch looks, default 30 s.
	StuckAfter, CheckEvery time.Duration
	// Quiet kinds are classified and recorded but never escalated: the alert delivery job,
	// whose failures would otherwise raise alerts about alerts. Default {"alert_delivery"}.
	Quiet []string
	// Registry receives the recovery.actions counters; nil keeps none.
	Registry metrics.Registry
	// Logger is used outside a job's context.
	Logger zerolog.Logger
}

// Manager applies the recovery strategies to every job: it is River worker middleware
// (rivertype.WorkerMiddleware), installed once for all workers through the engine's
// Options.Middleware. Each failed attempt is classified (Classify) and handled by its class:
//
//	rate_limit           snooze until the reset (RetryAfter); the attempt is not spent
//	auth_error           escalate at once; River retries with backoff
//	timeout              restart once with fresh state when the attempt hit the job's own
//	                     deadline; otherwise retry with backoff
//	resource_exhaustion  cleanup, lowered worker concurrency while short; retry with backoff
//	integration_failure  retry with backoff
//	network_error        retry with backoff
//	not_found, invalid   cancel: retrying cannot help (not_found counts no streak)
//	unknown              retry with backoff; escalate once the retries are spent
//
// and every class escalates after EscalationThreshold consecutive failures of one fingerprint
// "escalation:<kind>:<repo>:<class>"; a success of the kind on the repository clears its
// streaks and resolves what was escalated. Every action is recorded (Records).
type Manager struct {
	river.MiddlewareDefaults

	opts    Options
	records *Records
	alerts  Alerter
	quiet   map[string]bool
	// slots bounds the recovery actions running at a time.
	slots chan struct{}
	// running is the number of recovery actions in progress, maxRunning the most seen at once.
	running, maxRunning atomic.Int64

	gate      gate
	resources resourceState

	mu     sync.Mutex
	engine Engine
	// lastStart is when a job last started; inFlight counts jobs inside the middleware.
	lastStart   time.Time
	inFlight    int
	lastRestart time.Time
	now         func() time.Time
}

var _ rivertype.WorkerMiddleware = (*Manager)(nil)

// NewManager creates the manager over the migrated st.
func NewManager(st *store.Store, opts Options) *Manager {
	if opts.EscalationThreshold <= 0 {
		opts.EscalationThreshold = 3
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = 3
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = 30 * time.Second
	}
	if opts.MaxWorkers <= 0 {
		opts.MaxWorkers = 10
	}
	if opts.LowWorkers <= 0 || opts.LowWorkers > opts.MaxWorkers {
		opts.LowWorkers = max(1, opts.MaxWorkers/2)
	}
	if opts.MemoryPercent == 0 {
		opts.MemoryPercent = 85
	}
	if opts.DiskPercent == 0 {
		opts.DiskPercent = 90
	}
	if opts.Probe == nil {
		opts.Probe = HostProbe{DataDir: opts.Cleanup.DataDir}
	}
	if opts.SampleEvery <= 0 {
		opts.SampleEvery = 5 * time.Second
	}
	if opts.StuckAfter <= 0 {
		opts.StuckAfter = 2 * time.Minute
	}
	if opts.CheckEvery <= 0 {
		opts.CheckEvery = 30 * time.Second
	}
	if opts.Quiet == nil {
		opts.Quiet = []string{"alert_delivery"}
	}
	if opts.Cleanup.MaxAge <= 0 {
		opts.Cleanup.MaxAge = time.Hour
	}
	m := &Manager{
		opts: opts, records: NewRecords(st), alerts: opts.Alerts, quiet: map[string]bool{},
		slots: make(chan struct{}, opts.MaxConcurrent), now: time.Now,
	}
	for _, k := range opts.Quiet {
		m.quiet[k] = true
	}
	m.gate.wake = make(chan struct{})
	m.lastStart = m.now()
	return m
}

// Attach gives the manager the engine it restarts when stuck; set once the engine exists.
func (m *Manager) Attach(e Engine) {
	m.mu.Lock()
	m.engine = e
	m.mu.Unlock()
}

// Records returns the manager's records (Recent, Streaks).
func (m *Manager) Records() *Records { return m.records }

// Recent returns the last limit recovery actions, newest first.
func (m *Manager) Recent(ctx context.Context, limit int) ([]Action, error) {
	return m.records.Recent(ctx, limit)
}

// MaxConcurrentSeen is the most recovery actions that ran at once since the manager started.
func (m *Manager) MaxConcurrentSeen() int { return int(m.maxRunning.Load()) }

// jobInfo is what the manager knows of a job: its identity and repository.
type jobInfo struct {
	id                int64
	kind, repo        string
	attempt, attempts int
	deadlinePassed    bool
	// stopped is a job whose context was cancelled (a shutdown, a restart, an operator's
	// cancel): not a failure of the workflow, so it counts towards no streak.
	stopped bool
}

// repoOf reads "owner/name" from a job's args: {"owner","repo"} as the workflow kinds carry it,
// or {"repo":"owner/name"}.
func repoOf(args []byte) string {
	var flat struct {
		Owner string `json:"owner"`
		Repo  any    `json:"repo"`
	}
	if json.Unmarshal(args, &flat) != nil {
		return ""
	}
	name, _ := flat.Repo.(string)
	switch {
	case flat.Owner != "" && name != "":
		return flat.Owner + "/" + name
	case strings.Count(name, "/") == 1:
		return name
	}
	return ""
}

// Work implements rivertype.WorkerMiddleware: it lowers concurrency while resources are short,
// runs the job, and handles its error.
func (m *Manager) Work(ctx context.Context, job *rivertype.JobRow, doInner func(ctx context.Context) error) error {
	m.mu.Lock()
	m.lastStart = m.now()
	m.inFlight++
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.inFlight--
		m.mu.Unlock()
	}()
	if m.opts.Enabled {
		release, err := m.acquireWorkSlot(ctx)
		if err != nil {
			return river.JobSnooze(m.opts.SampleEvery)
		}
		defer release()
	}
	err := doInner(ctx)
	info := jobInfo{
		id: job.ID, kind: job.Kind, repo: repoOf(job.EncodedArgs), attempt: job.Attempt,
		attempts:       job.MaxAttempts,
		deadlinePassed: errors.Is(ctx.Err(), context.DeadlineExceeded),
		stopped:        errors.Is(ctx.Err(), context.Canceled),
	}
	// The job's outcome is its own; recording it must outlive a job context that timed out.
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return m.handle(hctx, info, err)
}

// handle applies the strategy of err's class and returns what River should do.
func (m *Manager) handle(ctx context.Context, job jobInfo, err error) error {
	logger := zerolog.Ctx(ctx)
	if logger.GetLevel() == zerolog.Disabled {
		logger = &m.opts.Logger
	}
	if err == nil {
		m.succeeded(ctx, job)
		return nil
	}
	var snooze *river.JobSnoozeError
	if errors.As(err, &snooze) {
		// The worker decided (recovery.Decide): a rate limit, waited out without spending an attempt.
		m.record(ctx, job, Action{Class: RateLimit, Action: ActionSnooze, Delay: snooze.Duration,
			Reason: fmt.Sprintf("rate limited: snoozed %s until the reset", snooze.Duration.Round(time.Second)), Outcome: OutcomeOK})
		return err
	}
	cause := err
	var cancelErr *river.JobCancelError
	cancelled := errors.As(err, &cancelErr)
	if cancelled && cancelErr.Unwrap() != nil {
		cause = cancelErr.Unwrap()
	}
	class := Classify(cause)
	if job.deadlinePassed && class != RateLimit {
		class = Timeout
	}
	if !m.opts.Enabled {
		m.record(ctx, job, Action{Class: class, Action: m.plannedAction(job, class, cancelled), Reason: reasonOf(cause), Outcome: OutcomeDisabled})
		return err
	}

	decided := err
	action := Action{Class: class, Reason: reasonOf(cause), Outcome: OutcomeOK}
	if job.stopped && !cancelled {
		action.Action, action.Reason = ActionRetry, "the job was stopped (shutdown or restart): "+action.Reason
		m.record(ctx, job, action)
		return err
	}
	switch {
	case cancelled || class == NotFound || class == Invalid:
		action.Action = ActionCancel
		if !cancelled {
			decided = river.JobCancel(err)
		}
	case class == RateLimit:
		wait, ok := RetryAfter(cause, m.now())
		if !ok {
			wait = time.Minute
		}
		action.Action, action.Delay = ActionSnooze, wait
		action.Reason = fmt.Sprintf("rate limited: snoozed %s until the reset: %s", wait.Round(time.Second), reasonOf(cause))
		m.record(ctx, job, action)
		return river.JobSnooze(wait)
	case class == Timeout && job.deadlinePassed:
		n, rerr := m.records.restarts(ctx, job.id)
		if rerr == nil && n == 0 {
			action.Action = ActionRestart
			action.Reason = "the attempt ran out of time: restarted once with fresh state: " + reasonOf(cause)
			m.record(ctx, job, action)
			m.countFailure(ctx, logger, job, class, cause)
			return river.JobSnooze(0)
		}
		action.Action, action.Delay = ActionRetry, m.backoff(job.attempt)
	case class == ResourceExhaustion:
		action.Action = ActionCleanup
		action.Outcome = m.withSlot(ctx, func() string { return m.cleanup(ctx, "the job ran out of a resource: "+reasonOf(cause)) })
	default:
		action.Action, action.Delay = ActionRetry, m.backoff(job.attempt)
	}
	if action.Action == ActionRetry && job.attempt >= job.attempts {
		action.Action, action.Delay = ActionDiscard, 0
		action.Reason = fmt.Sprintf("retries spent (%d attempts): %s", job.attempt, action.Reason)
	}
	m.record(ctx, job, action)
	m.countFailure(ctx, logger, job, class, cause)
	return decided
}

// plannedAction is the action an enabled manager would take, for the records of a disabled one.
func (m *Manager) plannedAction(job jobInfo, class Class, cancelled bool) string {
	switch {
	case cancelled || class == NotFound || class == Invalid:
		return ActionCancel
	case class == RateLimit:
		return ActionSnooze
	case class == Timeout && job.deadlinePassed:
		return ActionRestart
	case class == ResourceExhaustion:
		return ActionCleanup
	}
	return ActionRetry
}

// backoff is the engine's retry delay for attempt (before jitter): RetryDelay doubled per
// attempt, capped at six hours.
func (m *Manager) backoff(attempt int) time.Duration {
	delay := m.opts.RetryDelay << min(max(attempt, 1)-1, 20)
	if limit := 6 * time.Hour; delay > limit || delay <= 0 {
		delay = limit
	}
	return delay
}

// reasonOf is the error's text, bounded.
func reasonOf(err error) string { return clip(err.Error()) }

// record saves a, logging a failure to save (a record never changes the job's outcome).
func (m *Manager) record(ctx context.Context, job jobInfo, a Action) {
	a.Kind, a.JobID, a.Attempt, a.Repo = job.kind, job.id, job.attempt, job.repo
	if job.id != 0 {
		a.key = fmt.Sprintf("job:%d:%d:%s", job.id, job.attempt, a.Action)
	}
	m.count(a.Action)
	if err := m.records.Save(ctx, a); err != nil {
		m.logger(ctx).Warn().Err(err).Str("action", a.Action).Msg("Failed to record a recovery action")
	}
}

func (m *Manager) logger(ctx context.Context) *zerolog.Logger {
	if l := zerolog.Ctx(ctx); l.GetLevel() != zerolog.Disabled {
		return l
	}
	return &m.opts.Logger
}

// count adds one to the recovery.actions counters.
func (m *Manager) count(action string) {
	if m.opts.Registry == nil {
		return
	}
	metrics.GetOrRegisterCounter(MetricActions, m.opts.Registry).Inc(1)
	metrics.GetOrRegisterCounter(MetricActions+"."+action, m.opts.Registry).Inc(1)
}

// withSlot runs an action within MaxConcurrent and returns its outcome; it waits for a slot as
// long as ctx allows.
func (m *Manager) withSlot(ctx context.Context, action func() string) string {
	select {
	case m.slots <- struct{}{}:
	case <-ctx.Done():
		return fmt.Sprintf("skipped: %d recovery actions already running", m.opts.MaxConcurrent)
	}
	n := m.running.Add(1)
	for {
		seen := m.maxRunning.Load()
		if n <= seen || m.maxRunning.CompareAndSwap(seen, n) {
			break
		}
	}
	defer func() {
		m.running.Add(-1)
		<-m.slots
	}()
	return action()
}

// Fingerprint is the escalation fingerprint of kind on repo failing with class:
// "escalation:<kind>:<repo>:<class>", lower case, other characters than alerting allows
// replaced by '-' ("-" for no repository).
func Fingerprint(kind, repo string, class Class) string {
	if repo == "" {
		repo = "-"
	}
	return "escalation:" + fingerprintPart(kind) + ":" + fingerprintPart(repo) + ":" + fingerprintPart(string(class))
}

func fingerprintPart(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', strings.ContainsRune("._/-@#", r):
			return r
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return '-'
	}, s)
}

// countFailure adds the failure to its fingerprint's streak and escalates: at the threshold, at
// once for auth_error, and for unknown once the job's retries are spent. What is gone
// (not_found: a deleted run or repository) is nothing a person can fix and counts no streak.
func (m *Manager) countFailure(ctx context.Context, logger *zerolog.Logger, job jobInfo, class Class, cause error) {
	if m.quiet[job.kind] || class == NotFound {
		return
	}
	fp := Fingerprint(job.kind, job.repo, class)
	streak, err := m.records.fail(ctx, Streak{Fingerprint: fp, Kind: job.kind, Repo: job.repo, Class: class, LastError: cause.Error()})
	if err != nil {
		logger.Warn().Err(err).Msg("Failed to count a failure streak")
		return
	}
	var why string
	switch {
	case streak.Escalated:
		// A repeat of an escalated streak: alerting comments on its Linear issue and sends no
		// new Slack message. Once per ESCALATION_THRESHOLD further failures (the 4th, 7th, … at
		// the default 3), so a long outage does not comment on every retry.
		if t := max(m.opts.EscalationThreshold, 1); (streak.Failures-1)%t == 0 {
			m.escalate(ctx, job, streak, fmt.Sprintf("still failing: %d consecutive failures", streak.Failures), true)
		}
		return
	case class == AuthError:
		why = "authentication failed: a person must fix the credentials"
	case streak.Failures >= m.opts.EscalationThreshold:
		why = fmt.Sprintf("%d consecutive failures", streak.Failures)
	case class == Unknown && job.attempt >= job.attempts:
		why = fmt.Sprintf("an unknown error and the retries are spent (%d attempts)", job.attempt)
	default:
		return
	}
	m.escalate(ctx, job, streak, why, false)
}

// escalate raises streak's escalation: once, claimed in the database, when it is first
// escalated; a repeat (of an escalated streak) raises it again, which alerting turns into a
// comment on the open Linear issue.
func (m *Manager) escalate(ctx context.Context, job jobInfo, streak Streak, why string, repeat bool) {
	action := Action{Class: streak.Class, Action: ActionEscalate, Reason: why + ": " + reasonOf(errors.New(streak.LastError))}
	if repeat {
		if m.alerts == nil {
			return
		}
	} else if claimed, err := m.records.claimEscalation(ctx, streak.Fingerprint); err != nil || !claimed {
		if err != nil {
			m.logger(ctx).Warn().Err(err).Msg("Failed to claim an escalation")
		}
		return
	}
	if m.alerts == nil {
		action.Outcome = "skipped: no alerting configured" // once per streak, like a raise
		m.record(ctx, job, action)
		return
	}
	severity := alerting.High
	if streak.Class == AuthError {
		severity = alerting.Critical
	}
	repo := job.repo
	what := job.kind
	if repo != "" {
		what += " on " + repo
	}
	alert := alerting.Alert{
		Fingerprint: streak.Fingerprint, Severity: severity, Escalate: true, Repo: repo, Source: "recovery",
		Title: fmt.Sprintf("%s keeps failing (%s)", what, streak.Class),
		Text:  why + ". Last error: " + clip(streak.LastError),
		Fields: []alerting.Field{
			{Name: "Kind", Value: job.kind}, {Name: "Class", Value: string(streak.Class)},
			{Name: "Consecutive failures", Value: fmt.Sprint(streak.Failures)},
			{Name: "Execution", Value: fmt.Sprint(job.id)}, {Name: "Attempt", Value: fmt.Sprintf("%d of %d", job.attempt, job.attempts)},
		},
	}
	action.Outcome = m.withSlot(ctx, func() string {
		if err := m.alerts.Raise(ctx, alert); err != nil {
			if repeat {
				return "failed: " + err.Error()
			}
			if uerr := m.records.unclaimEscalation(ctx, streak.Fingerprint); uerr != nil {
				m.logger(ctx).Warn().Err(uerr).Msg("Failed to unclaim an escalation")
			}
			return "failed: " + err.Error()
		}
		return OutcomeOK
	})
	m.record(ctx, job, action)
}

// succeeded clears the job's kind's streaks on its repository and resolves their escalations.
func (m *Manager) succeeded(ctx context.Context, job jobInfo) {
	if !m.opts.Enabled || m.quiet[job.kind] {
		return
	}
	streaks, err := m.records.streaks(ctx, job.kind, job.repo)
	if err != nil {
		m.logger(ctx).Warn().Err(err).Msg("Failed to read failure streaks")
		return
	}
	for _, s := range streaks {
		if !s.Escalated || m.alerts == nil {
			if err := m.records.clear(ctx, s.Fingerprint); err != nil {
				m.logger(ctx).Warn().Err(err).Msg("Failed to clear a failure streak")
			}
			continue
		}
		action := Action{Class: s.Class, Action: ActionResolve,
			Reason: fmt.Sprintf("succeeded again after %d consecutive failures", s.Failures)}
		action.Outcome = m.withSlot(ctx, func() string {
			if err := m.alerts.Resolve(ctx, s.Fingerprint, fmt.Sprintf("%s succeeded again (execution %d).", job.kind, job.id)); err != nil {
				return "failed: " + err.Error() // the streak stays, so the next success resolves it
			}
			if err := m.records.clear(ctx, s.Fingerprint); err != nil {
				return "failed: " + err.Error()
			}
			return OutcomeOK
		})
		m.record(ctx, job, action)
	}
}
