package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAutoFixDefaultsAndValidation(t *testing.T) {
	t.Parallel()
	cfg := DefaultRepoConfig()
	require.False(t, cfg.AutoFix.Enabled)
	require.Equal(t, 3, cfg.AutoFix.Attempts())
	require.Equal(t, 10, cfg.AutoFix.Daily())
	require.Equal(t, FixableClasses, cfg.AutoFix.Classes)
	require.Contains(t, cfg.AutoFix.AgentAuthors, "codegen-sh[bot]")

	cfg, err := ParseRepoConfig([]byte("auto_fix:\n  enabled: true\n  max_attempts_per_pr: 2\n  daily_budget: 4\n  classes: [test_failure]\n"))
	require.NoError(t, err)
	require.True(t, cfg.AutoFix.Enabled)
	require.Equal(t, 2, cfg.AutoFix.Attempts())
	require.Equal(t, 4, cfg.AutoFix.Daily())
	require.Equal(t, []string{"test_failure"}, cfg.AutoFix.Classes)
	require.Equal(t, []string{"codegen-bot/", "codegen/"}, cfg.AutoFix.AgentBranchPrefixes, "unset keys keep their defaults")

	for _, bad := range []string{
		"auto_fix:\n  max_attempts_per_pr: 11\n",
		"auto_fix:\n  daily_budget: -1\n",
		"auto_fix:\n  classes: [network_error]\n",
		"auto_fix:\n  enabeld: true\n",
	} {
		_, err := ParseRepoConfig([]byte(bad))
		require.Error(t, err, bad)
		require.Regexp(t, `auto_fix|AutoFixConfig`, err.Error(), bad)
	}
}
