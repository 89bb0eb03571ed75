package monitor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/mem"

	"github.com/contexten/autonomous/config"
)

// ResourceSample is one measurement of the machine, in percent.
type ResourceSample struct {
	CPUPercent    float64
	MemoryPercent float64
	DiskPercent   float64
	// DiskFreeBytes is what is left on the data directory's file system.
	DiskFreeBytes uint64
}

// ResourceSampler measures the machine; dir is the data directory whose disk is measured.
type ResourceSampler interface {
	Sample(ctx context.Context, dir string) (ResourceSample, error)
}

// Disk thresholds of the data directory's file system: degraded above diskDegraded percent
// used, down above diskDown (the database can no longer grow).
const (
	diskDegraded = 90
	diskDown     = 98
)

// SystemResources samples this host with gopsutil: CPU busy percent of the whole machine
// since the previous sample (the first sample measures over cpuWindow), virtual memory used
// percent and the disk usage of dir.
type SystemResources struct {
	mu      sync.Mutex
	sampled bool
}

// cpuWindow is how long the first sample measures the CPU over (later samples compare with
// the previous one and do not wait).
const cpuWindow = 250 * time.Millisecond

// Sample implements ResourceSampler.
func (s *SystemResources) Sample(ctx context.Context, dir string) (ResourceSample, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out ResourceSample
	// An interval of 0 compares with the previous call, so a check does not block to measure.
	window := time.Duration(0)
	if !s.sampled {
		window = cpuWindow
	}
	pct, err := cpu.PercentWithContext(ctx, window, false)
	if err != nil {
		return out, fmt.Errorf("failed to measure CPU: %w", err)
	}
	s.sampled = true
	if len(pct) > 0 {
		out.CPUPercent = pct[0]
	}
	vm, err := mem.VirtualMemoryWithContext(ctx)
	if err != nil {
		return out, fmt.Errorf("failed to measure memory: %w", err)
	}
	out.MemoryPercent = vm.UsedPercent
	usage, err := disk.UsageWithContext(ctx, existingDir(dir))
	if err != nil {
		return out, fmt.Errorf("failed to measure the disk of %s: %w", dir, err)
	}
	out.DiskPercent, out.DiskFreeBytes = usage.UsedPercent, usage.Free
	return out, nil
}

// existingDir is dir or its nearest existing parent (the data directory may not exist yet).
func existingDir(dir string) string {
	if dir == "" {
		dir = "."
	}
	for d := dir; ; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
		if parent := filepath.Dir(d); parent == d {
			return d
		}
	}
}

// DataDir is the directory of the SQLite file DATABASE_URL names, else the working directory
// (Postgres keeps no data here; the working directory holds the logs and the env file).
func DataDir(databaseURL string) string {
	driver, dsn, err := config.ParseDatabaseURL(databaseURL)
	if err != nil || driver != "sqlite" {
		return "."
	}
	file := strings.TrimPrefix(dsn, "file:")
	if i := strings.IndexByte(file, '?'); i >= 0 {
		file = file[:i]
	}
	if file == "" || file == ":memory:" {
		return "."
	}
	return filepath.Dir(file)
}

func (c *Checker) checkResources(ctx context.Context, th Thresholds) Component {
	sampler := c.Resources
	if sampler == nil {
		c.mu.Lock()
		if c.sys == nil {
			c.sys = &SystemResources{}
		}
		sampler = c.sys
		c.mu.Unlock()
	}
	dir := c.DataDir
	if dir == "" {
		dir = "."
	}
	s, err := sampler.Sample(ctx, dir)
	if err != nil {
		return Component{Status: Degraded, Message: err.Error()}
	}
	values := map[string]any{
		"cpu_percent": s.CPUPercent, "memory_percent": s.MemoryPercent, "disk_percent": s.DiskPercent,
		"disk_free_bytes": s.DiskFreeBytes, "data_dir": dir,
		"cpu_threshold": th.CPUPercent, "memory_threshold": th.MemoryPercent,
	}
	msg := fmt.Sprintf("CPU %.0f%%, memory %.0f%%, disk %.0f%% of %s", s.CPUPercent, s.MemoryPercent, s.DiskPercent, dir)
	var over []string
	status := Healthy
	if s.CPUPercent > th.CPUPercent {
		over = append(over, fmt.Sprintf("CPU over ALERT_CPU_PERCENT=%g", th.CPUPercent))
	}
	if s.MemoryPercent > th.MemoryPercent {
		over = append(over, fmt.Sprintf("memory over ALERT_MEMORY_PERCENT=%g", th.MemoryPercent))
	}
	if s.DiskPercent > diskDegraded {
		over = append(over, fmt.Sprintf("disk over %d%%", diskDegraded))
	}
	if len(over) > 0 {
		status = Degraded
		msg = strings.Join(over, ", ") + ": " + msg
	}
	if s.DiskPercent > diskDown {
		status = Down
	}
	return Component{Status: status, Message: msg, Values: values}
}
