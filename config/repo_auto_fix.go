package config

import (
	"fmt"
	"slices"
)

// AutoFixConfig configures AI fixes: failures handed to the Codegen agent, which opens a fix
// pull request that the bot follows, verifies and, after max_attempts_per_pr failed tries,
// escalates to people.
type AutoFixConfig struct {
	// Enabled hands fixable failures to the agent without a command (failure_analysis's
	// auto_fix_enabled does the same); `/ci fix` works either way.
	Enabled bool `yaml:"enabled" json:"enabled"`
	// MaxAttemptsPerPR bounds the agent runs and resumes one pull request gets; the next
	// failure of the fix is escalated.
	MaxAttemptsPerPR int `yaml:"max_attempts_per_pr" json:"max_attempts_per_pr"`
	// DailyBudget bounds the agent runs the repository starts in any 24 hours.
	DailyBudget int `yaml:"daily_budget" json:"daily_budget"`
	// Classes are the failure classes fixed automatically.
	Classes []string `yaml:"classes" json:"classes"`
	// AgentAuthors are the logins of the agent's bot: their pull requests are never fixed,
	// so two bots do not fight.
	AgentAuthors []string `yaml:"agent_authors" json:"agent_authors"`
	// AgentBranchPrefixes are the prefixes of the agent's branches, treated the same way.
	AgentBranchPrefixes []string `yaml:"agent_branch_prefixes" json:"agent_branch_prefixes"`
}

// Attempts is max_attempts_per_pr, its default when zero.
func (c AutoFixConfig) Attempts() int {
	if c.MaxAttemptsPerPR <= 0 {
		return 3
	}
	return c.MaxAttemptsPerPR
}

// Daily is daily_budget, its default when zero.
func (c AutoFixConfig) Daily() int {
	if c.DailyBudget <= 0 {
		return 10
	}
	return c.DailyBudget
}

// FixableClasses are the failure classes an agent can fix in the code by default.
var FixableClasses = []string{"test_failure", "build_error", "lint_error", "dependency_error", "config_error"}

func defaultAutoFix() AutoFixConfig {
	return AutoFixConfig{
		MaxAttemptsPerPR: 3, DailyBudget: 10,
		Classes:             slices.Clone(FixableClasses),
		AgentAuthors:        []string{"codegen-sh[bot]", "codegen-sh"},
		AgentBranchPrefixes: []string{"codegen-bot/", "codegen/"},
	}
}

func (c *AutoFixConfig) setDefaults() { *c = defaultAutoFix() }

// problems lists what is wrong with the auto_fix section.
func (c *AutoFixConfig) problems() []string {
	var problems []string
	if c.MaxAttemptsPerPR < 0 || c.MaxAttemptsPerPR > 10 {
		problems = append(problems, fmt.Sprintf("auto_fix.max_attempts_per_pr must be between 1 and 10, got %d", c.MaxAttemptsPerPR))
	}
	if c.DailyBudget < 0 || c.DailyBudget > 1000 {
		problems = append(problems, fmt.Sprintf("auto_fix.daily_budget must be between 1 and 1000, got %d", c.DailyBudget))
	}
	for _, class := range c.Classes {
		if !slices.Contains(FixableClasses, class) {
			problems = append(problems, fmt.Sprintf("auto_fix.classes: %q is not a fixable class (%v)", class, FixableClasses))
		}
	}
	return problems
}
