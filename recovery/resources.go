package recovery

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/mem"
)

// Resources is one sample of the host's memory and the data directory's disk, in percent used.
type Resources struct {
	MemoryPercent float64 `json:"memory_percent"`
	DiskPercent   float64 `json:"disk_percent"`
}

// Probe samples the resources.
type Probe interface {
	Sample(ctx context.Context) (Resources, error)
}

// HostProbe samples the host's virtual memory and the disk holding DataDir (the current
// directory when empty), with gopsutil.
type HostProbe struct{ DataDir string }

// Sample implements Probe.
func (p HostProbe) Sample(ctx context.Context) (Resources, error) {
	var r Resources
	vm, err := mem.VirtualMemoryWithContext(ctx)
	if err != nil {
		return r, fmt.Errorf("failed to read memory usage: %w", err)
	}
	dir := p.DataDir
	if dir == "" {
		dir = "."
	}
	du, err := disk.UsageWithContext(ctx, dir)
	if err != nil {
		return r, fmt.Errorf("failed to read disk usage of %s: %w", dir, err)
	}
	return Resources{MemoryPercent: vm.UsedPercent, DiskPercent: du.UsedPercent}, nil
}

// IdleCloser is a client whose idle connections a cleanup closes (*http.Transport,
// *http.Client).
type IdleCloser interface{ CloseIdleConnections() }

// TempFiles names leftover temporary files: files in Dir whose base name matches Pattern
// (filepath.Match).
type TempFiles struct{ Dir, Pattern string }

// Cleanup is what a resource cleanup removes and closes.
type Cleanup struct {
	// DataDir is the bot's data directory (the SQLite file's folder): its disk is watched, and
	// files in it named "*.tmp" or ".*.tmp-*" (interrupted atomic writes) are removed.
	DataDir string
	// Temp lists more leftover temporary files, e.g. {os.TempDir(), "gomod-*.zip"}.
	Temp []TempFiles
	// MaxAge is how old a temporary file must be to be removed (no job still writes it),
	// default an hour.
	MaxAge time.Duration
	// Idle are the HTTP clients and transports whose idle connections are closed;
	// http.DefaultTransport always is.
	Idle []IdleCloser
	// DB is the database pool whose idle connections are closed; it keeps DBIdle idle
	// connections afterwards. Nil (SQLite, one connection) leaves it alone.
	DB     *sql.DB
	DBIdle int
}

// patterns are the temp files a cleanup removes.
func (c Cleanup) patterns() []TempFiles {
	var out []TempFiles
	if c.DataDir != "" {
		out = append(out, TempFiles{c.DataDir, "*.tmp"}, TempFiles{c.DataDir, ".*.tmp-*"})
	}
	return append(out, c.Temp...)
}

// run removes old temp files, closes idle connections and returns freed memory to the OS; it
// reports what it did.
func (c Cleanup) run(now time.Time) (string, error) {
	removed, freed := 0, int64(0)
	var errs []error
	for _, t := range c.patterns() {
		entries, err := os.ReadDir(t.Dir)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("failed to list %s: %w", t.Dir, err))
			}
			continue
		}
		for _, e := range entries {
			if ok, _ := filepath.Match(t.Pattern, e.Name()); !ok || !e.Type().IsRegular() {
				continue
			}
			info, err := e.Info()
			if err != nil || now.Sub(info.ModTime()) < c.MaxAge {
				continue
			}
			if err := os.Remove(filepath.Join(t.Dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("failed to remove a temp file: %w", err))
				continue
			}
			removed++
			freed += info.Size()
		}
	}
	if t, ok := http.DefaultTransport.(IdleCloser); ok {
		t.CloseIdleConnections()
	}
	for _, ic := range c.Idle {
		ic.CloseIdleConnections()
	}
	if c.DB != nil {
		c.DB.SetMaxIdleConns(0)
		c.DB.SetMaxIdleConns(max(c.DBIdle, 1))
	}
	debug.FreeOSMemory()
	summary := fmt.Sprintf("removed %d temp files (%d bytes), closed idle connections, returned free memory", removed, freed)
	return summary, errors.Join(errs...)
}

// resourceState caches the last sample and whether the workers are throttled.
type resourceState struct {
	mu        sync.Mutex
	sampled   time.Time
	last      Resources
	short     bool
	reason    string
	throttled bool
	cleaned   time.Time
}

// over reports whether r crosses a threshold, and which.
func (m *Manager) over(r Resources) (bool, string) {
	var parts []string
	if m.opts.MemoryPercent > 0 && r.MemoryPercent >= m.opts.MemoryPercent {
		parts = append(parts, fmt.Sprintf("memory %.0f%% ≥ %.0f%%", r.MemoryPercent, m.opts.MemoryPercent))
	}
	if m.opts.DiskPercent > 0 && r.DiskPercent >= m.opts.DiskPercent {
		parts = append(parts, fmt.Sprintf("disk %.0f%% ≥ %.0f%%", r.DiskPercent, m.opts.DiskPercent))
	}
	return len(parts) > 0, strings.Join(parts, ", ")
}

// pressure samples the resources at most every SampleEvery and reports whether they are short.
// A change of state is an action: throttle (with a cleanup) or unthrottle.
func (m *Manager) pressure(ctx context.Context) bool {
	rs := &m.resources
	rs.mu.Lock()
	if now := m.now(); now.Sub(rs.sampled) < m.opts.SampleEvery && !rs.sampled.IsZero() {
		short := rs.short
		rs.mu.Unlock()
		return short
	}
	rs.sampled = m.now()
	rs.mu.Unlock()

	r, err := m.opts.Probe.Sample(ctx)
	if err != nil {
		m.logger(ctx).Warn().Err(err).Msg("Failed to sample resources")
		rs.mu.Lock()
		defer rs.mu.Unlock()
		return rs.short
	}
	short, reason := m.over(r)
	rs.mu.Lock()
	rs.last, rs.short, rs.reason = r, short, reason
	changed := short != rs.throttled
	rs.throttled = short
	rs.mu.Unlock()
	if changed {
		if short {
			m.record(ctx, jobInfo{}, Action{Class: ResourceExhaustion, Action: ActionThrottle, Outcome: OutcomeOK,
				Reason: fmt.Sprintf("%s: at most %d of %d workers", reason, m.opts.LowWorkers, m.opts.MaxWorkers)})
			m.cleanupOnce(ctx, reason)
		} else {
			m.record(ctx, jobInfo{}, Action{Class: ResourceExhaustion, Action: ActionUnthrottle, Outcome: OutcomeOK,
				Reason: fmt.Sprintf("memory %.0f%%, disk %.0f%%: back to %d workers", r.MemoryPercent, r.DiskPercent, m.opts.MaxWorkers)})
			m.gate.broadcast()
		}
	}
	return short
}

// cleanupOnce runs a cleanup unless one ran within the last minute, and records it.
func (m *Manager) cleanupOnce(ctx context.Context, reason string) {
	rs := &m.resources
	rs.mu.Lock()
	if !rs.cleaned.IsZero() && m.now().Sub(rs.cleaned) < time.Minute {
		rs.mu.Unlock()
		return
	}
	rs.cleaned = m.now()
	rs.mu.Unlock()
	outcome := m.withSlot(ctx, func() string { return m.cleanup(ctx, reason) })
	m.record(ctx, jobInfo{}, Action{Class: ResourceExhaustion, Action: ActionCleanup, Reason: reason, Outcome: outcome})
}

// cleanup runs the cleanup and returns its outcome.
func (m *Manager) cleanup(ctx context.Context, reason string) string {
	summary, err := m.opts.Cleanup.run(m.now())
	if err != nil {
		m.logger(ctx).Warn().Err(err).Str("reason", reason).Msg("Cleanup was incomplete")
		return "failed: " + summary + ": " + err.Error()
	}
	return OutcomeOK + ": " + summary
}

// acquireWorkSlot lets the job work: at once while resources suffice, else when fewer than
// LowWorkers jobs work. The release must be called when the job ends.
func (m *Manager) acquireWorkSlot(ctx context.Context) (func(), error) {
	for {
		limit := m.opts.MaxWorkers
		if m.pressure(ctx) {
			limit = m.opts.LowWorkers
		}
		if m.gate.tryAcquire(limit) {
			return m.gate.release, nil
		}
		wake := m.gate.waiter()
		select {
		case <-wake:
		case <-time.After(max(m.opts.SampleEvery, time.Second)):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// gate counts the jobs working under the manager.
type gate struct {
	mu     sync.Mutex
	active int
	wake   chan struct{}
}

func (g *gate) tryAcquire(limit int) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.active >= limit {
		return false
	}
	g.active++
	return true
}

func (g *gate) waiter() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.wake
}

func (g *gate) release() {
	g.mu.Lock()
	g.active--
	g.mu.Unlock()
	g.broadcast()
}

func (g *gate) broadcast() {
	g.mu.Lock()
	defer g.mu.Unlock()
	close(g.wake)
	g.wake = make(chan struct{})
}

// Active is how many jobs work under the manager now (waiting for a slot not included).
func (m *Manager) Active() int {
	m.gate.mu.Lock()
	defer m.gate.mu.Unlock()
	return m.gate.active
}
