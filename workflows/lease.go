package workflows

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"
	"github.com/rs/zerolog"

	"github.com/contexten/autonomous/store"
)

// A worker lease tells the processes sharing a database which River clients are alive. Every
// engine that works jobs renews its lease (autonomous_worker_lease) every LeaseInterval and
// looks, as often, for running jobs whose last attempt belongs to a client that is gone: one
// whose lease expired, this process's own previous incarnation (a restart with the same client
// id), or a client without a lease whose attempt is older than the job timeout. Those jobs are
// made available again at once, so a restarted or surviving replica resumes a crashed one's
// work within seconds, where River's own rescuer (kept as the last resort) waits an hour past
// the job timeout. A job of a live client is never rescued, however long it runs.

// leaseCleanupAge is how long an expired lease is kept before it is deleted.
const leaseCleanupAge = 24 * time.Hour

// rescueBatch bounds one page of running jobs read by the rescue scan.
const rescueBatch = 500

// leaseKeeper renews one client's lease and rescues the jobs of dead clients.
type leaseKeeper struct {
	store      *store.Store
	exec       riverdriver.Executor
	clientID   string
	ttl        time.Duration
	interval   time.Duration
	jobTimeout time.Duration
	logger     zerolog.Logger
	// startedMs is when this incarnation took its lease, on the database's clock.
	startedMs int64
	stop      chan struct{}
	done      chan struct{}
}

// take writes the lease before River starts working, so that every job this process attempts
// is attempted under a live lease, and records this incarnation's start.
func (k *leaseKeeper) take(ctx context.Context) error {
	started, err := k.store.TakeWorkerLease(ctx, k.clientID, k.ttl)
	if err != nil {
		return err
	}
	k.startedMs = started
	k.stop, k.done = make(chan struct{}), make(chan struct{})
	go k.loop()
	return nil
}

func (k *leaseKeeper) loop() {
	defer close(k.done)
	ticker := time.NewTicker(k.interval)
	defer ticker.Stop()
	lastRenewed := time.Now()
	lastCleanup := time.Now()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), k.ttl)
		if err := k.renew(ctx); err != nil {
			level := zerolog.WarnLevel
			if time.Since(lastRenewed) > k.ttl {
				level = zerolog.ErrorLevel // other processes may now rescue this one's jobs
			}
			k.logger.WithLevel(level).Err(err).Str("client_id", k.clientID).Msg("Failed to renew the worker lease")
		} else {
			lastRenewed = time.Now()
		}
		if err := k.rescueOrphans(ctx); err != nil {
			k.logger.Warn().Err(err).Msg("Failed to rescue the jobs of dead workers")
		}
		if time.Since(lastCleanup) > time.Hour {
			lastCleanup = time.Now()
			if err := k.store.DeleteWorkerLeases(ctx, leaseCleanupAge); err != nil {
				k.logger.Warn().Err(err).Msg("Failed to delete old worker leases")
			}
		}
		cancel()
		select {
		case <-k.stop:
			return
		case <-ticker.C:
		}
	}
}

// renew extends the lease by the TTL; it recreates a lease that was deleted.
func (k *leaseKeeper) renew(ctx context.Context) error {
	return k.store.RenewWorkerLease(ctx, k.clientID, k.startedMs, k.ttl)
}

// release stops renewing the lease and, when expire is set (River stopped with no job left
// running), expires it at once, so that the next process need not wait for the TTL.
func (k *leaseKeeper) release(ctx context.Context, expire bool) error {
	if k.stop == nil {
		return nil
	}
	close(k.stop)
	<-k.done
	k.stop = nil
	if !expire {
		return nil
	}
	return k.store.ExpireWorkerLease(ctx, k.clientID)
}

// rescueOrphans makes the running jobs of dead clients available again.
func (k *leaseKeeper) rescueOrphans(ctx context.Context) error {
	leases, nowMs, err := k.store.WorkerLeases(ctx)
	if err != nil {
		return err
	}
	j := judge{self: k.clientID, selfStartedMs: k.startedMs, leases: leases, nowMs: nowMs, jobTimeout: k.jobTimeout}
	var afterID int64
	for {
		jobs, err := k.exec.JobGetStuck(ctx, &riverdriver.JobGetStuckParams{
			AfterID: afterID, Max: rescueBatch, StuckHorizon: time.Now().Add(24 * time.Hour),
		})
		if err != nil {
			return fmt.Errorf("failed to list running jobs: %w", err)
		}
		for _, job := range jobs {
			afterID = job.ID
			reason, dead := j.orphaned(job)
			if !dead {
				continue
			}
			if err := k.rescue(ctx, job, reason, time.UnixMilli(nowMs).UTC()); err != nil {
				return err
			}
		}
		if len(jobs) < rescueBatch {
			return nil
		}
	}
}

// rescue puts one orphaned job back: available now, or discarded when it had its last
// attempt, or cancelled when a cancel was requested. The update applies only if the job is
// still running the attempt that was judged (attempted_at unchanged), so two processes that
// rescue at once, or a job that finished meanwhile, are left alone.
func (k *leaseKeeper) rescue(ctx context.Context, job *rivertype.JobRow, reason string, now time.Time) error {
	state, finalized := rescueState(job, now)
	msg := fmt.Sprintf("rescued: the process running it (%s) is gone: %s", lastAttempter(job), reason)
	encoded, err := json.Marshal(rivertype.AttemptError{At: now, Attempt: max(job.Attempt, 0), Error: msg})
	if err != nil {
		return fmt.Errorf("failed to encode the rescue error: %w", err)
	}
	if _, err := k.exec.JobRescueMany(ctx, &riverdriver.JobRescueManyParams{
		ID: []int64{job.ID}, Error: [][]byte{encoded}, FinalizedAt: []*time.Time{finalized},
		ScheduledAt: []time.Time{now}, State: []string{string(state)},
		StuckHorizon: job.AttemptedAt.Add(time.Millisecond),
	}); err != nil {
		return fmt.Errorf("failed to rescue job %d: %w", job.ID, err)
	}
	after, err := k.exec.JobGetByID(ctx, &riverdriver.JobGetByIDParams{ID: job.ID})
	if err != nil {
		return fmt.Errorf("failed to read rescued job %d: %w", job.ID, err)
	}
	if !slices.ContainsFunc(after.Errors, func(e rivertype.AttemptError) bool { return e.At.Equal(now) && e.Error == msg }) {
		return nil // finished meanwhile, or another process rescued it first
	}
	k.logger.Warn().Int64(LogKeyJobID, job.ID).Str(LogKeyKind, job.Kind).Int(LogKeyJobAttempt, job.Attempt).
		Str("client_id", lastAttempter(job)).Str("reason", reason).Str("state", string(state)).
		Msg("Rescued a job whose process is gone")
	return nil
}

// rescueState is where an orphaned job goes: cancelled if a cancel was requested, discarded
// after its last attempt, otherwise available at once (the crash was not the job's failure, so
// no backoff).
func rescueState(job *rivertype.JobRow, now time.Time) (rivertype.JobState, *time.Time) {
	var meta struct {
		CancelAttemptedAt time.Time `json:"cancel_attempted_at"`
	}
	if json.Unmarshal(job.Metadata, &meta) == nil && !meta.CancelAttemptedAt.IsZero() {
		return rivertype.JobStateCancelled, &now
	}
	if job.Attempt >= max(job.MaxAttempts, 1) {
		return rivertype.JobStateDiscarded, &now
	}
	return rivertype.JobStateAvailable, nil
}

// judge decides whether a running job's process is gone.
type judge struct {
	self          string
	selfStartedMs int64
	leases        map[string]int64
	nowMs         int64
	jobTimeout    time.Duration
}

// orphaned reports whether job's last attempt belongs to a client that is gone, and why.
func (j judge) orphaned(job *rivertype.JobRow) (string, bool) {
	client := lastAttempter(job)
	if client == "" || job.AttemptedAt == nil {
		return "", false // not ours to judge: River's rescuer handles it
	}
	attemptedMs := job.AttemptedAt.UnixMilli()
	if client == j.self {
		// Attempted under this client id before this process took its lease: a previous
		// incarnation. Every attempt of this process comes after.
		return "a previous run of this process", attemptedMs < j.selfStartedMs
	}
	expires, ok := j.leases[client]
	if ok {
		return "its lease expired", expires < j.nowMs
	}
	// No lease: a process of a version without leases, or one whose lease was cleaned up. Its
	// attempt has outlived the job timeout, which River would have cancelled.
	return "no lease and older than the job timeout", j.nowMs-attemptedMs > j.jobTimeout.Milliseconds()
}

// lastAttempter is the client id of the job's last attempt.
func lastAttempter(job *rivertype.JobRow) string {
	if len(job.AttemptedBy) == 0 {
		return ""
	}
	return job.AttemptedBy[len(job.AttemptedBy)-1]
}

// defaultClientID names this process's River client uniquely per start: host, process id and
// start time, so a restarted process is told apart from the one that died.
func defaultClientID(start time.Time) string {
	host, _ := os.Hostname()
	host = strings.NewReplacer(".", "_", "-", "_").Replace(host)
	if host == "" {
		host = "unknown_host"
	}
	if len(host) > 60 {
		host = host[:60]
	}
	return fmt.Sprintf("%s_%d_%d", host, os.Getpid(), start.UnixNano())
}
