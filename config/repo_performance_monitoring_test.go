package config_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/config"
)

func TestPerformanceMonitoringConfig(t *testing.T) {
	t.Parallel()
	d := config.DefaultRepoConfig().PerformanceMonitoring
	require.Equal(t, config.PerformanceMonitoringConfig{Enabled: true, BaselineRuns: 20, AlertThresholdPercent: 20, MinSamples: 5, Comment: true}, d,
		"baseline_branch is empty: the repository's default branch")

	cfg, err := config.ParseRepoConfig([]byte("performance_monitoring:\n  baseline_branch: develop\n  baseline_runs: 30\n  alert_threshold_percent: 12.5\n  min_samples: 8\n  auto_optimize: true\n"))
	require.NoError(t, err)
	pm := cfg.PerformanceMonitoring
	require.Equal(t, "develop", pm.BaselineBranch)
	require.Equal(t, 30, pm.BaselineRuns)
	require.InDelta(t, 12.5, pm.AlertThresholdPercent, 0)
	require.Equal(t, 8, pm.MinSamples)
	require.True(t, pm.AutoOptimize)
	require.True(t, pm.Enabled, "unset keys keep their defaults")

	for content, want := range map[string]string{
		"performance_monitoring:\n  baseline_runs: 500\n":            "baseline_runs must be between 1 and 200",
		"performance_monitoring:\n  baseline_runs: -1\n":             "baseline_runs must be between 1 and 200",
		"performance_monitoring:\n  min_samples: 1\n":                "min_samples must be between 2 and 200",
		"performance_monitoring:\n  alert_threshold_percent: -5\n":   "alert_threshold_percent must be between 0 and 1000",
		"performance_monitoring:\n  baseline_branch: \"a b\"\n":      "baseline_branch must be a branch name",
		"performance_monitoring:\n  baseline_runs: many\n":           "cannot unmarshal",
		"performance_monitoring:\n  baseline_window: 3\n":            "field baseline_window not found",
		"performance_monitoring:\n  alert_threshold_percent: .nan\n": "alert_threshold_percent must be between 0 and 1000",
	} {
		got, err := config.ParseRepoConfig([]byte(content))
		require.ErrorContains(t, err, want, content)
		require.Equal(t, config.DefaultRepoConfig(), got, "a bad file yields the defaults")
	}
}
