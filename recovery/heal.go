package recovery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/contexten/autonomous/monitor"
	"github.com/contexten/autonomous/workflows"
)

// Heal is the health_check workflow's auto_recovery: a cleanup when memory or disk is over its
// threshold, and, with AutoRestart, a restart of River's client when the engine is stuck. The
// report's score is named in the records; the manager measures resources and the queue itself.
// With the strategies off (RECOVERY_ENABLED=false) what it would do is recorded as disabled.
// Called from a job, the restart runs beside it (a restart waits for running jobs to stop).
func (m *Manager) Heal(ctx context.Context, r monitor.Report) error {
	var errs []error
	res, err := m.opts.Probe.Sample(ctx)
	if err != nil {
		errs = append(errs, err)
	} else if short, reason := m.over(res); short {
		reason = fmt.Sprintf("health check (score %d): %s", r.Score, reason)
		a := Action{Class: ResourceExhaustion, Action: ActionCleanup, Reason: reason, Outcome: OutcomeDisabled}
		if m.opts.Enabled {
			a.Outcome = m.withSlot(ctx, func() string { return m.cleanup(ctx, reason) })
		}
		m.record(ctx, jobInfo{}, a)
	}
	trigger := fmt.Sprintf("health check (score %d)", r.Score)
	// Called from a job (health_check's auto_recovery), a restart waits for running jobs to stop,
	// this one included: it runs beside the job, which finishes meanwhile.
	_, errNotInJob := workflows.FromContext(ctx)
	inJob := errNotInJob == nil
	if _, err := m.restartIfStuck(ctx, trigger, inJob); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Watch looks every CheckEvery whether the engine is stuck and, with AutoRestart, restarts
// River's client; it deletes actions older than Retention once an hour. It returns when ctx
// ends.
func (m *Manager) Watch(ctx context.Context) {
	t := time.NewTicker(m.opts.CheckEvery)
	defer t.Stop()
	var pruned time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if m.opts.AutoRestart {
			if _, err := m.restartIfStuck(ctx, "watchdog", false); err != nil && ctx.Err() == nil {
				m.opts.Logger.Warn().Err(err).Msg("Failed to check whether the engine is stuck")
			}
		}
		if now := m.now(); now.Sub(pruned) >= time.Hour {
			pruned = now
			if _, err := m.records.Prune(ctx, now.Add(-Retention)); err != nil && ctx.Err() == nil {
				m.opts.Logger.Warn().Err(err).Msg("Failed to prune recovery actions")
			}
		}
	}
}

// Stuck reports whether the engine is stuck, and why: River's client stopped on its own, or
// jobs have been available for StuckAfter while none started and workers were free.
func (m *Manager) Stuck(ctx context.Context) (bool, string, error) {
	m.mu.Lock()
	e, lastStart, inFlight := m.engine, m.lastStart, m.inFlight
	m.mu.Unlock()
	if e == nil {
		return false, "", nil
	}
	if !e.Running() {
		return true, "River's client is not running", nil
	}
	depth, oldest, err := e.Backlog(ctx)
	if err != nil {
		return false, "", err
	}
	idle := m.now().Sub(lastStart)
	if depth > 0 && oldest >= m.opts.StuckAfter && idle >= m.opts.StuckAfter && inFlight < m.opts.MaxWorkers {
		return true, fmt.Sprintf("%d jobs available, the oldest for %s, none started for %s with %d of %d workers busy",
			depth, oldest.Round(time.Second), idle.Round(time.Second), inFlight, m.opts.MaxWorkers), nil
	}
	return false, "", nil
}

// restartIfStuck restarts River's client when the engine is stuck, at most once per StuckAfter,
// and records it; it reports whether it restarted. With background the restart runs in its own
// goroutine (recorded when it ends) and the report is whether it was started.
func (m *Manager) restartIfStuck(ctx context.Context, trigger string, background bool) (bool, error) {
	stuck, why, err := m.Stuck(ctx)
	if err != nil || !stuck {
		return false, err
	}
	a := Action{Action: ActionRestartEngine, Reason: trigger + ": " + why}
	switch {
	case !m.opts.Enabled:
		a.Outcome = OutcomeDisabled
	case !m.opts.AutoRestart:
		a.Outcome = "skipped: AUTO_RESTART_ENABLED is false"
	}
	m.mu.Lock()
	recent := !m.lastRestart.IsZero() && m.now().Sub(m.lastRestart) < m.opts.StuckAfter
	if a.Outcome == "" && !recent {
		m.lastRestart = m.now()
	}
	e := m.engine
	m.mu.Unlock()
	if a.Outcome == "" && recent {
		return false, nil // restarted moments ago: give it time
	}
	if a.Outcome != "" {
		m.record(ctx, jobInfo{}, a)
		return false, nil
	}
	restart := func(ctx context.Context) error {
		var restartErr error
		a.Outcome = m.withSlot(ctx, func() string {
			stopCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			if restartErr = e.Restart(stopCtx); restartErr != nil {
				return "failed: " + restartErr.Error()
			}
			m.mu.Lock()
			m.lastStart = m.now() // a fresh client gets StuckAfter to start working
			m.mu.Unlock()
			return OutcomeOK
		})
		m.record(ctx, jobInfo{}, a)
		m.opts.Logger.Warn().Str("reason", a.Reason).Str("outcome", a.Outcome).Msg("Restarted River's client")
		return restartErr
	}
	if background {
		go func() { _ = restart(context.WithoutCancel(ctx)) }()
		return true, nil
	}
	err = restart(ctx)
	return err == nil, err
}
