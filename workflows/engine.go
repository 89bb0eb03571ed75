// Package workflows is the workflow engine: River over the database of package store, the
// registry of the workflow kinds, batched durable enqueueing for webhooks, and the orchestrator
// API (Trigger, Status, List, Metrics) that the CLI and HTTP endpoints use.
package workflows

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"
	"github.com/rs/zerolog"

	"github.com/contexten/autonomous/store"
)

// Options configures the engine. Zero values take the defaults noted on each field.
type Options struct {
	// Workers are the registered workers; nil makes an insert-only engine (the CLI's execute).
	Workers *river.Workers
	// PeriodicJobs run on the elected leader only, so once per interval across replicas.
	PeriodicJobs []*river.PeriodicJob
	// MaxWorkers is the default queue's concurrency (MAX_CONCURRENT_WORKFLOWS), default 10.
	MaxWorkers int
	// JobTimeout bounds one execution attempt (WORKFLOW_DEFAULT_TIMEOUT), default 30 minutes.
	JobTimeout time.Duration
	// RetryDelay is the first retry's delay (WORKFLOW_RETRY_DELAY); it doubles per attempt.
	RetryDelay time.Duration
	// FetchPollInterval is how often idle workers look for new jobs, default 20 ms. This
	// process's own inserts wake its workers at once (batch.go insert); the poll picks up jobs
	// inserted by other processes, retries and scheduled jobs.
	FetchPollInterval time.Duration
	// RescueStuckJobsAfter is when River's own rescuer makes a running job available again,
	// default one hour past JobTimeout. It is the last resort: the worker lease (lease.go)
	// rescues a dead process's jobs within LeaseTTL plus LeaseInterval.
	RescueStuckJobsAfter time.Duration
	// LeaseTTL is how long a process's worker lease outlives its last renewal, default 20 s:
	// after a crash its running jobs resume elsewhere (or after a restart) that much later.
	LeaseTTL time.Duration
	// LeaseInterval is how often the lease is renewed and dead processes' jobs are looked
	// for, default a quarter of LeaseTTL.
	LeaseInterval time.Duration
	// SoftStopTimeout bounds how long a graceful stop waits for running jobs, default 30 s.
	SoftStopTimeout time.Duration
	// ID names this client (River's client id); default is unique per process start (host,
	// pid, start time). Two live processes must never share an id: a process rescues the jobs
	// its id attempted before it started.
	ID string
	// Logger receives River's own logs.
	Logger zerolog.Logger
	// Middleware wraps every job after the engine's own (the job's logger and the engine are
	// already in the context): the recovery manager, applied to every worker in one place.
	Middleware []rivertype.Middleware
}

// Repo identifies a repository and, when known, the app installation that can act on it.
type Repo struct {
	Owner          string `json:"owner"`
	Name           string `json:"name"`
	InstallationID int64  `json:"installation_id,omitempty"`
}

// FullName returns "owner/name".
func (r Repo) FullName() string { return r.Owner + "/" + r.Name }

// Builder turns validated parameters into a job for one workflow kind.
type Builder func(repo Repo, params Params) (river.JobArgs, *river.InsertOpts, error)

// Engine runs and records workflow executions.
type Engine struct {
	store    *store.Store
	client   *river.Client[*sql.Tx]
	builders map[Kind]Builder
	batches  chan *insertRequest
	wg       sync.WaitGroup
	stop     chan struct{}
	// loopsDone is closed once the insert loops have exited.
	loopsDone chan struct{}
	stopOnce  sync.Once
	started   bool
	// stopping is set by Stop: a restart must not start River again.
	stopping bool
	// startCtx is the context Start gave River, which a restart gives it again.
	startCtx context.Context
	mu       sync.Mutex
	// restartMu serialises restarts.
	restartMu sync.Mutex
	// restarts counts River client restarts.
	restarts atomic.Int64
	// hasWorkers is false for an insert-only engine, which holds no lease.
	hasWorkers bool
	// lease announces this process alive and rescues dead processes' jobs.
	lease *leaseKeeper

	// batchCount and batchJobs count group commits and the jobs in them.
	batchCount, batchJobs atomic.Int64
	// yield is the inbox feeding this engine, whose congestion throttles the workers.
	yield atomic.Pointer[Inbox]
	// jobsStarted and jobsEnded count the jobs this process began and finished working.
	jobsStarted, jobsEnded atomic.Int64
}

// JobActivity is how many jobs this process began and finished working since it started; equal
// counts mean none is working now.
func (e *Engine) JobActivity() (started, ended int64) {
	return e.jobsStarted.Load(), e.jobsEnded.Load()
}

// inProcessWake is the store's River driver reporting no listener. River wakes its own
// producer after a non-transactional insert only for drivers without one; riversqlite reports
// a listener, which the engine never uses (PollOnly), so without this SQLite inserts waited for
// the next fetch poll. Postgres through database/sql (riverdatabasesql) reports none already.
type inProcessWake struct{ riverdriver.Driver[*sql.Tx] }

// SupportsListener reports false: the engine runs River poll-only.
func (inProcessWake) SupportsListener() bool { return false }

// fetchCooldown is River's minimum time between two fetches (river.FetchCooldownMin).
const fetchCooldown = time.Millisecond

// ErrNoWorker is returned by Trigger for a kind whose workflow is not part of this build.
var ErrNoWorker = errors.New("workflow kind has no worker in this version")

// NewEngine creates the engine over db. Migrations must have been applied (store.Store.Migrate).
func NewEngine(db *store.Store, opts Options) (*Engine, error) {
	if opts.MaxWorkers <= 0 {
		opts.MaxWorkers = 10
	}
	if opts.JobTimeout <= 0 {
		opts.JobTimeout = 30 * time.Minute
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = 30 * time.Second
	}
	if opts.FetchPollInterval <= 0 {
		opts.FetchPollInterval = 20 * time.Millisecond
	}
	if opts.RescueStuckJobsAfter <= 0 {
		opts.RescueStuckJobsAfter = opts.JobTimeout + time.Hour
	}
	if opts.SoftStopTimeout <= 0 {
		opts.SoftStopTimeout = 30 * time.Second
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = 20 * time.Second
	}
	if opts.LeaseInterval <= 0 || opts.LeaseInterval >= opts.LeaseTTL {
		opts.LeaseInterval = opts.LeaseTTL / 4
	}
	if opts.ID == "" {
		opts.ID = defaultClientID(time.Now())
	}
	// The middleware carries the engine into every job's context (FromContext); it is set once
	// the engine exists, before any job runs.
	middleware := &jobLogger{logger: opts.Logger}
	cfg := &river.Config{
		ID:                   opts.ID,
		JobTimeout:           opts.JobTimeout,
		RescueStuckJobsAfter: opts.RescueStuckJobsAfter,
		RetryPolicy:          &backoffPolicy{base: opts.RetryDelay},
		Logger:               slog.New(zerolog.NewSlogHandler(opts.Logger.Level(max(opts.Logger.GetLevel(), zerolog.WarnLevel)))),
		MaxAttempts:          5,
		// Poll-only: SQLite's notification table is itself polled, and Postgres through
		// database/sql has no LISTEN; the engine's inserts wake the producer directly.
		PollOnly:          true,
		FetchPollInterval: opts.FetchPollInterval,
		// An insert wakes the producer (batch.go insert); the cooldown is the most a wake-up
		// waits after the previous fetch. River only fetches with a free worker slot, so a
		// short one costs nothing while the workers are busy.
		FetchCooldown:   fetchCooldown,
		SoftStopTimeout: opts.SoftStopTimeout,
		PeriodicJobs:    opts.PeriodicJobs,
		Middleware:      append([]rivertype.Middleware{middleware}, opts.Middleware...),
		// Completed executions are the bot's history (status, dashboards): keep them a while.
		CompletedJobRetentionPeriod: 14 * 24 * time.Hour,
		CancelledJobRetentionPeriod: 14 * 24 * time.Hour,
		DiscardedJobRetentionPeriod: 30 * 24 * time.Hour,
	}
	if opts.Workers != nil {
		cfg.Workers = opts.Workers
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: opts.MaxWorkers}}
	}
	client, err := river.NewClient[*sql.Tx](inProcessWake{db.Driver}, cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to create river client: %w", err)
	}
	e := &Engine{
		store:      db,
		hasWorkers: opts.Workers != nil,
		lease: &leaseKeeper{
			store: db, exec: db.Driver.GetExecutor(), clientID: opts.ID, ttl: opts.LeaseTTL,
			interval: opts.LeaseInterval, jobTimeout: opts.JobTimeout, logger: opts.Logger,
		},
		client:    client,
		builders:  map[Kind]Builder{},
		batches:   make(chan *insertRequest, 4096),
		stop:      make(chan struct{}),
		loopsDone: make(chan struct{}),
	}
	middleware.engine = e
	loops := 1 // SQLite has one writer; more loops would only queue on the connection.
	if db.Dialect == store.Postgres {
		loops = 4
	}
	refuse := func(r *insertRequest) { r.done <- insertResult{err: ErrStopped} }
	for range loops {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			groupCommit(e.batches, e.stop, e.flush, refuse)
		}()
	}
	return e, nil
}

// Register makes kind triggerable through Trigger, using build to create its job.
func (e *Engine) Register(kind Kind, build Builder) { e.builders[kind] = build }

// Available reports whether kind has a worker in this build.
func (e *Engine) Available(kind Kind) bool { _, ok := e.builders[kind]; return ok }

// Client returns the River client, for workers that enqueue follow-up jobs.
func (e *Engine) Client() *river.Client[*sql.Tx] { return e.client }

// Store returns the database.
func (e *Engine) Store() *store.Store { return e.store }

// Start starts working jobs. ctx is River's fetch context; cancelling it starts a soft stop.
// A working engine first takes its worker lease, then rescues the jobs dead processes left
// running and keeps doing so.
func (e *Engine) Start(ctx context.Context) error {
	if e.hasWorkers {
		if err := e.lease.take(ctx); err != nil {
			return err
		}
	}
	if err := e.client.Start(ctx); err != nil {
		releaseCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return errors.Join(fmt.Errorf("failed to start river: %w", err), e.lease.release(releaseCtx, true))
	}
	e.mu.Lock()
	e.started = true
	e.startCtx = ctx
	e.mu.Unlock()
	return nil
}

// ErrNotStarted is returned by Restart for an engine that was never started or is stopping.
var ErrNotStarted = errors.New("the workflow engine is not running: nothing to restart")

// Restart stops River's client and starts it again with the context Start gave it, for the
// recovery manager when the engine is stuck (jobs available, none worked, no fetching). It never
// restarts the process: the worker lease, the insert loops and the HTTP server carry on. Running
// jobs get the soft stop; if River has not stopped when ctx ends, their contexts are cancelled
// and the stop is waited for a few more seconds. Restarts are serialised.
func (e *Engine) Restart(ctx context.Context) error {
	e.restartMu.Lock()
	defer e.restartMu.Unlock()
	e.mu.Lock()
	startCtx, ok := e.startCtx, e.started && !e.stopping
	e.mu.Unlock()
	if !ok {
		return ErrNotStarted
	}
	if err := e.client.Stop(ctx); err != nil {
		hardCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		hardErr := e.client.StopAndCancel(hardCtx)
		cancel()
		if hardErr != nil {
			return fmt.Errorf("failed to stop river for a restart: %w", errors.Join(err, hardErr))
		}
	}
	e.mu.Lock()
	stopping := e.stopping
	e.mu.Unlock()
	if stopping {
		return ErrNotStarted
	}
	if err := e.client.Start(startCtx); err != nil {
		return fmt.Errorf("failed to start river again: %w", err)
	}
	e.restarts.Add(1)
	return nil
}

// Restarts counts the River client restarts since the engine was created.
func (e *Engine) Restarts() int64 { return e.restarts.Load() }

// Backlog is how many executions are available to run now and how long the oldest has waited
// (zero when none): the recovery manager's view of whether River is working its queue.
func (e *Engine) Backlog(ctx context.Context) (depth int, oldest time.Duration, err error) {
	row := e.store.DB.QueryRowContext(ctx, e.store.Rebind(`SELECT count(*) FROM river_job WHERE state = ?`),
		string(rivertype.JobStateAvailable))
	if err := row.Scan(&depth); err != nil {
		return 0, 0, fmt.Errorf("failed to count available executions: %w", err)
	}
	if depth == 0 {
		return 0, 0, nil
	}
	first, err := e.client.JobList(ctx, river.NewJobListParams().States(rivertype.JobStateAvailable).
		OrderBy(river.JobListOrderByScheduledAt, river.SortOrderAsc).First(1))
	if err != nil {
		return depth, 0, fmt.Errorf("failed to find the oldest available execution: %w", err)
	}
	if len(first.Jobs) == 1 {
		oldest = max(0, time.Since(first.Jobs[0].ScheduledAt))
	}
	return depth, oldest, nil
}

// Running reports whether River was started and has not stopped.
func (e *Engine) Running() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.started {
		return false
	}
	select {
	case <-e.client.Stopped():
		return false
	default:
		return true
	}
}

// Stop stops accepting inserts and softly stops River: running jobs get SoftStopTimeout to
// finish, then their contexts are cancelled; ctx bounds the whole wait.
func (e *Engine) Stop(ctx context.Context) error {
	e.stopOnce.Do(func() {
		close(e.stop)
		e.wg.Wait()
		close(e.loopsDone)
	})
	e.mu.Lock()
	started := e.started
	e.stopping = true
	e.mu.Unlock()
	if !started {
		return nil
	}
	// A restart in progress finishes first, so River is not started again behind this stop.
	e.restartMu.Lock()
	defer e.restartMu.Unlock()
	stopErr := e.client.Stop(ctx)
	if stopErr != nil {
		stopErr = fmt.Errorf("failed to stop river: %w", stopErr)
	}
	releaseCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	// Jobs still finishing after a failed stop keep the lease until it expires on its own.
	return errors.Join(stopErr, e.lease.release(releaseCtx, stopErr == nil))
}

// TriggerOption adjusts one Trigger call.
type TriggerOption func(*triggerOptions)

type triggerOptions struct {
	origin string
	tags   []string
}

// By names who asked (Params.Origin), e.g. "comment:<id>"; without it the origin is
// "cli:<nanos>".
func By(origin string) TriggerOption { return func(o *triggerOptions) { o.origin = origin } }

// Tagged adds River tags to the job (a pull request's tag, so its status and cancel find it).
func Tagged(tags ...string) TriggerOption {
	return func(o *triggerOptions) { o.tags = append(o.tags, tags...) }
}

// Trigger validates params for kind and enqueues an execution for repo (zero for kinds that need
// none). Only the parameters given reach the builder as given (Params.Has); the others are left
// to the spec's default or the worker's per-repository configuration. It returns the execution
// id; a duplicate of an identical pending execution returns the existing id. A request that
// cannot run as given is an *InvalidRequestError; any other error is the engine's.
func (e *Engine) Trigger(ctx context.Context, kind Kind, repo Repo, raw map[string]any, opts ...TriggerOption) (Inserted, error) {
	var to triggerOptions
	for _, opt := range opts {
		opt(&to)
	}
	if to.origin == "" {
		to.origin = fmt.Sprintf("cli:%d", time.Now().UnixNano())
	}
	spec, ok := SpecFor(kind)
	if !ok {
		_, err := ParseParams(kind, nil)
		return Inserted{}, invalid(err)
	}
	build, ok := e.builders[kind]
	if !ok {
		return Inserted{}, invalid(fmt.Errorf("%s: %w", kind, ErrNoWorker))
	}
	if spec.NeedsRepo && (repo.Owner == "" || repo.Name == "") {
		return Inserted{}, invalid(fmt.Errorf("%s needs a repository (owner/name)", kind))
	}
	params, err := ParseParams(kind, raw)
	if err != nil {
		return Inserted{}, invalid(err)
	}
	params.origin = to.origin
	args, insertOpts, err := build(repo, params)
	if err != nil {
		return Inserted{}, invalid(err)
	}
	if len(to.tags) > 0 {
		if insertOpts == nil {
			insertOpts = &river.InsertOpts{}
		}
		insertOpts.Tags = append(insertOpts.Tags, to.tags...)
	}
	return e.Enqueue(ctx, args, insertOpts)
}

// backoffPolicy retries after base, 2·base, 4·base, … capped at six hours, with ±10% jitter so
// jobs that failed together do not retry together.
type backoffPolicy struct{ base time.Duration }

// NextRetry implements river.ClientRetryPolicy.
func (p *backoffPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	attempt := max(len(job.Errors), 1)
	delay := p.base << min(attempt-1, 20)
	if limit := 6 * time.Hour; delay > limit || delay <= 0 {
		delay = limit
	}
	jitter := time.Duration((rand.Float64()*0.2 - 0.1) * float64(delay))
	return time.Now().UTC().Add(delay + jitter)
}
