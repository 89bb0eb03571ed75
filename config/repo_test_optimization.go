package config

import "fmt"

// TestOptimizationConfig configures the test_optimization workflow: which tests are flaky or
// slow, from the test results of the runs the bot sees.
type TestOptimizationConfig struct {
	Enabled bool `yaml:"enabled" json:"enabled"`
	// LookbackRuns is how many of the repository's most recent run attempts are judged.
	LookbackRuns int `yaml:"lookback_runs" json:"lookback_runs"`
	// FlakyThreshold is the flake rate at or above which a flaky test is quarantined: an issue
	// is filed and its failures are re-run whatever the repository's re-run classes say.
	FlakyThreshold float64 `yaml:"flaky_threshold" json:"flaky_threshold"`
	// RecoveredAfter is how many clean runs after its last flip mark a flaky test recovered.
	RecoveredAfter int `yaml:"recovered_after" json:"recovered_after"`
	// ArtifactMaxBytes bounds one downloaded test-report artifact; larger ones are skipped
	// with a note.
	ArtifactMaxBytes int64 `yaml:"artifact_max_bytes" json:"artifact_max_bytes"`
	// SlowestTests is how many of the slowest tests the report lists.
	SlowestTests int `yaml:"slowest_tests" json:"slowest_tests"`
	// HealthIssue keeps one "CI health" issue in the repository, edited in place.
	HealthIssue bool `yaml:"health_issue" json:"health_issue"`
}

func (c *TestOptimizationConfig) setDefaults() {
	*c = TestOptimizationConfig{
		Enabled: true, LookbackRuns: 50, FlakyThreshold: 0.05, RecoveredAfter: 20,
		ArtifactMaxBytes: 50 << 20, SlowestTests: 10, HealthIssue: true,
	}
}

// WithDefaults returns the section with its unset (zero) numbers at their defaults.
func (c TestOptimizationConfig) WithDefaults() TestOptimizationConfig {
	var d TestOptimizationConfig
	d.setDefaults()
	if c.LookbackRuns == 0 {
		c.LookbackRuns = d.LookbackRuns
	}
	if c.RecoveredAfter == 0 {
		c.RecoveredAfter = d.RecoveredAfter
	}
	if c.ArtifactMaxBytes == 0 {
		c.ArtifactMaxBytes = d.ArtifactMaxBytes
	}
	return c
}

func (c *TestOptimizationConfig) problems() []string {
	var problems []string
	// Zero is unset: the default applies (WithDefaults).
	if c.LookbackRuns < 0 || c.LookbackRuns > 1000 {
		problems = append(problems, fmt.Sprintf("test_optimization.lookback_runs must be between 1 and 1000, got %d", c.LookbackRuns))
	}
	if c.FlakyThreshold < 0 || c.FlakyThreshold > 1 {
		problems = append(problems, fmt.Sprintf("test_optimization.flaky_threshold must be between 0 and 1, got %g", c.FlakyThreshold))
	}
	if c.RecoveredAfter < 0 || c.RecoveredAfter > 1000 {
		problems = append(problems, fmt.Sprintf("test_optimization.recovered_after must be between 1 and 1000, got %d", c.RecoveredAfter))
	}
	if c.ArtifactMaxBytes != 0 && (c.ArtifactMaxBytes < 1<<10 || c.ArtifactMaxBytes > 1<<30) {
		problems = append(problems, fmt.Sprintf("test_optimization.artifact_max_bytes must be between 1 KiB and 1 GiB, got %d", c.ArtifactMaxBytes))
	}
	if c.SlowestTests < 0 || c.SlowestTests > 100 {
		problems = append(problems, fmt.Sprintf("test_optimization.slowest_tests must be between 0 and 100, got %d", c.SlowestTests))
	}
	return problems
}
