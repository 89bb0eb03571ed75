package config

import "fmt"

// FailureAnalysisConfig configures the failure_analysis workflow.
type FailureAnalysisConfig struct {
	Enabled  bool `yaml:"enabled" json:"enabled"`
	Comment  bool `yaml:"comment" json:"comment"`
	CheckRun bool `yaml:"check_run" json:"check_run"`
	// AutoFixEnabled hands fixable failures to the AI agent; CreatePRForFixes lets it open a PR.
	AutoFixEnabled   bool            `yaml:"auto_fix_enabled" json:"auto_fix_enabled"`
	CreatePRForFixes bool            `yaml:"create_pr_for_fixes" json:"create_pr_for_fixes"`
	AutoRetry        AutoRetryConfig `yaml:"auto_retry" json:"auto_retry"`
	// IgnoreWorkflows names workflows (by name or file path) never analyzed.
	IgnoreWorkflows []string `yaml:"ignore_workflows" json:"ignore_workflows"`
	// LogBytesLimit caps the bytes read from one job log.
	LogBytesLimit int64 `yaml:"log_bytes_limit" json:"log_bytes_limit"`
}

// AutoRetryConfig bounds automatic re-runs of failed jobs.
type AutoRetryConfig struct {
	Enabled bool `yaml:"enabled" json:"enabled"`
	// MaxAttempts is how many automatic re-runs one workflow run may get.
	MaxAttempts int `yaml:"max_attempts" json:"max_attempts"`
	// Classes are the failure classes that may be re-run; all must be retryable.
	Classes []string `yaml:"classes" json:"classes"`
}

func defaultFailureAnalysis() FailureAnalysisConfig {
	return FailureAnalysisConfig{
		Enabled: true, Comment: true, CheckRun: true, CreatePRForFixes: true,
		AutoRetry: AutoRetryConfig{
			Enabled: true, MaxAttempts: 1,
			Classes: []string{"network_error", "rate_limit", "infrastructure", "timeout"},
		},
		LogBytesLimit: 64 << 20,
	}
}

// problems lists what is wrong with the failure_analysis section.
func (c *FailureAnalysisConfig) setDefaults() { *c = defaultFailureAnalysis() }

func (c *FailureAnalysisConfig) problems() []string {
	var problems []string
	if c.AutoRetry.MaxAttempts < 0 || c.AutoRetry.MaxAttempts > 5 {
		problems = append(problems, fmt.Sprintf("failure_analysis.auto_retry.max_attempts must be between 0 and 5, got %d", c.AutoRetry.MaxAttempts))
	}
	if l := c.LogBytesLimit; l != 0 && (l < 1024 || l > 1<<30) {
		problems = append(problems, fmt.Sprintf("failure_analysis.log_bytes_limit must be between 1024 and 1073741824, got %d", l))
	}
	return problems
}
