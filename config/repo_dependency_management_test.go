package config_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/config"
)

func TestDependencyManagementSection(t *testing.T) {
	def := config.DefaultRepoConfig().DependencyManagement
	require.Equal(t, "daily", def.Schedule)
	require.Equal(t, "smart", def.UpdateStrategy)
	require.Equal(t, config.SecurityLevel("high"), def.SecurityPriority)
	require.Equal(t, 5, def.MaxOpenPRs)
	require.True(t, def.TestBeforeMerge)

	cfg, err := config.ParseRepoConfig([]byte(`
dependency_management:
  schedule: weekly
  security_priority: false
  max_open_prs: 2
  labels: [deps]
  reviewers: [octocat]
  groups:
    - name: actions
      ecosystems: ["GitHub Actions"]
    - name: dev
      dev_only: true
      patterns: ["@types/*"]
  ignore:
    - dependency: "golang.org/x/*"
      update_types: [major]
`))
	require.NoError(t, err)
	dm := cfg.DependencyManagement
	require.Equal(t, "weekly", dm.Schedule)
	require.Equal(t, config.SecurityLevel("normal"), dm.SecurityPriority, "false is accepted as normal")
	require.Equal(t, 2, dm.MaxOpenPRs)
	require.Len(t, dm.Groups, 2)
	require.Equal(t, []string{"major"}, dm.Ignore[0].UpdateTypes)

	for _, bad := range []struct{ yaml, want string }{
		{"schedule: hourly", `schedule must be one of daily, weekly, off, got "hourly"`},
		{"update_strategy: reckless", "update_strategy must be one of"},
		{"security_priority: urgent", "security_priority must be one of high, normal, low"},
		{"max_open_prs: 99", "max_open_prs must be between 0 and 50"},
		{"groups: [{name: 'a b'}]", "groups[0].name must be a short word"},
		{"groups: [{name: a}, {name: a}]", `groups[1].name "a" is used twice`},
		{"groups: [{name: a, ecosystems: [maven]}]", "groups[0].ecosystems must be one of"},
		{"ignore: [{dependency: '[x'}]", "ignore[0].dependency: bad pattern"},
		{"ignore: [{dependency: x, update_types: [huge]}]", "ignore[0].update_types must be one of patch, minor, major"},
	} {
		_, err := config.ParseRepoConfig([]byte("dependency_management:\n  " + strings.ReplaceAll(bad.yaml, "\n", "\n  ") + "\n"))
		require.Error(t, err, bad.yaml)
		require.Contains(t, err.Error(), bad.want)
	}
}
