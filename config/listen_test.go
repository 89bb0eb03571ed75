package config_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/config"
)

func TestListenAddr(t *testing.T) {
	t.Parallel()
	unconfigured := func(c *config.Config) { c.GitHubAppID, c.GitHubPrivateKey, c.GitHubWebhookSecret = 0, "", "" }
	for _, tc := range []struct {
		name   string
		mutate func(*config.Config)
		want   string
	}{
		{"configured: every interface", func(*config.Config) {}, ":8080"},
		{"unconfigured: loopback only", unconfigured, "127.0.0.1:8080"},
		{"unconfigured with PUBLIC_URL: every interface", func(c *config.Config) {
			unconfigured(c)
			c.PublicURL = "https://bot.example.com"
		}, ":8080"},
		{"unconfigured with BIND_ADDR", func(c *config.Config) { unconfigured(c); c.BindAddr = "0.0.0.0" }, "0.0.0.0:8080"},
		{"configured with BIND_ADDR", func(c *config.Config) { c.BindAddr = "10.0.0.5" }, "10.0.0.5:8080"},
		{"IPv6", func(c *config.Config) { c.BindAddr = "::1"; c.Port = 9000 }, "[::1]:9000"},
	} {
		cfg := validConfig()
		tc.mutate(&cfg)
		require.Equal(t, tc.want, cfg.ListenAddr(), tc.name)
	}
}

func TestBindAddrFromEnvironmentAndValidation(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load("", env(map[string]string{"BIND_ADDR": "127.0.0.2"}))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.2", cfg.BindAddr)

	for _, bad := range []string{"0.0.0.0:8080", "http://x", "a b", "-x"} {
		cfg := validConfig()
		cfg.BindAddr = bad
		require.Contains(t, strings.Join(fatals(cfg.Validate()), "\n"), "BIND_ADDR must be a host name or IP address without a port", bad)
	}
	for _, good := range []string{"0.0.0.0", "::", "localhost", "bot.internal"} {
		cfg := validConfig()
		cfg.BindAddr = good
		require.Empty(t, fatals(cfg.Validate()), good)
	}

	// Unconfigured and reachable from other hosts: a warning says so; on loopback it does not.
	cfg = validConfig()
	cfg.GitHubAppID, cfg.GitHubPrivateKey, cfg.GitHubWebhookSecret = 0, "", ""
	require.NotContains(t, strings.Join(cfg.Validate(), "\n"), "the setup page listens on")
	cfg.BindAddr = "0.0.0.0"
	require.Contains(t, strings.Join(cfg.Validate(), "\n"), "warning: the setup page listens on 0.0.0.0:8080")
}
