package config

import (
	"fmt"
	"math"
	"strings"
)

// PerformanceMonitoringConfig configures the performance_monitoring workflow: CI durations of
// pull requests (and of the baseline branch's latest runs) against the baseline branch's recent
// successful runs.
type PerformanceMonitoringConfig struct {
	Enabled bool `yaml:"enabled" json:"enabled"`
	// BaselineBranch is the branch pull requests are compared with; empty means the
	// repository's default branch.
	BaselineBranch string `yaml:"baseline_branch" json:"baseline_branch"`
	// BaselineRuns is how many successful runs of each workflow on the baseline branch make the
	// baseline. Zero in this section (and in AlertThresholdPercent and MinSamples) means the
	// default.
	BaselineRuns int `yaml:"baseline_runs" json:"baseline_runs"`
	// AlertThresholdPercent is the smallest slowdown (or speed-up) reported, in percent of the
	// baseline's median.
	AlertThresholdPercent float64 `yaml:"alert_threshold_percent" json:"alert_threshold_percent"`
	// MinSamples is the fewest baseline runs a verdict is given on.
	MinSamples int `yaml:"min_samples" json:"min_samples"`
	// AutoOptimize adds suggestions drawn from the data: slowest steps, queue-bound jobs,
	// caches that do not pay.
	AutoOptimize bool `yaml:"auto_optimize" json:"auto_optimize"`
	// Comment writes the pull request's section of the sticky comment.
	Comment bool `yaml:"comment" json:"comment"`
}

func defaultPerformanceMonitoring() PerformanceMonitoringConfig {
	return PerformanceMonitoringConfig{Enabled: true, BaselineRuns: 20, AlertThresholdPercent: 20, MinSamples: 5, Comment: true}
}

func (c *PerformanceMonitoringConfig) setDefaults() { *c = defaultPerformanceMonitoring() }

// problems lists what is wrong with the performance_monitoring section.
func (c *PerformanceMonitoringConfig) problems() []string {
	var problems []string
	if b := c.BaselineBranch; b != "" && (strings.ContainsAny(b, " \t\n~^:?*[\\") || strings.HasPrefix(b, "-") || len(b) > 255) {
		problems = append(problems, fmt.Sprintf("performance_monitoring.baseline_branch must be a branch name, got %q", b))
	}
	if c.BaselineRuns < 0 || c.BaselineRuns > 200 {
		problems = append(problems, fmt.Sprintf("performance_monitoring.baseline_runs must be between 1 and 200, got %d", c.BaselineRuns))
	}
	if p := c.AlertThresholdPercent; math.IsNaN(p) || p < 0 || p > 1000 {
		problems = append(problems, fmt.Sprintf("performance_monitoring.alert_threshold_percent must be between 0 and 1000, got %v", p))
	}
	if c.MinSamples == 1 || c.MinSamples < 0 || c.MinSamples > 200 {
		problems = append(problems, fmt.Sprintf("performance_monitoring.min_samples must be between 2 and 200, got %d", c.MinSamples))
	}
	return problems
}
