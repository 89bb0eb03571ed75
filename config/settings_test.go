package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSettingsCoverEveryField: every field of Config is one row of settings, named by its YAML
// key, and every row's default parses.
func TestSettingsCoverEveryField(t *testing.T) {
	t.Parallel()
	rows := map[string]bool{}
	for _, st := range settings {
		require.False(t, rows[st.env], "%s is listed twice", st.env)
		rows[st.env] = true
		var c Config
		if st.def != "" {
			require.Empty(t, c.set(st.env, st.def), st.env)
		}
	}
	fields := 0
	for _, f := range reflect.VisibleFields(reflect.TypeOf(Config{})) {
		tag := f.Tag.Get("yaml")
		if f.Anonymous {
			require.Equal(t, reflect.Struct, f.Type.Kind(), "section %s", f.Name)
			continue
		}
		if tag == "" {
			continue
		}
		fields++
		require.True(t, rows[strings.ToUpper(tag)], "field %s has no setting", f.Name)
	}
	require.Equal(t, fields, len(settings))
}

func TestDefaultValues(t *testing.T) {
	t.Parallel()
	c := Default()
	require.Equal(t, "https://api.github.com/", c.GitHubAPIURL)
	require.Equal(t, 8080, c.Port)
	require.True(t, c.MonitoringEnabled)
	require.False(t, c.Debug)
	require.Equal(t, 300*time.Second, c.HealthCheckInterval)
	require.Equal(t, int64(64<<20), c.LogBytesLimit)
	require.InDelta(t, 85, c.AlertMemoryPercent, 0)
	require.Zero(t, c.GitHubAppID)
	require.Empty(t, c.parseErrors)
}

// TestGitHubAppConfig: the GitHub section becomes go-githubapp's Config, with GraphQL beside
// REST on github.com and under /api/graphql on GitHub Enterprise Server.
func TestGitHubAppConfig(t *testing.T) {
	t.Parallel()
	const pem = "-----BEGIN RSA PRIVATE KEY-----\\nabc\\n-----END RSA PRIVATE KEY-----"
	c := Default()
	c.GitHubAppID, c.GitHubWebhookSecret, c.GitHubPrivateKey = 7, "s3cret", pem
	gc, err := c.GitHubApp()
	require.NoError(t, err)
	require.Equal(t, "https://api.github.com/", gc.V3APIURL)
	require.Equal(t, "https://api.github.com/graphql", gc.V4APIURL)
	require.Equal(t, "https://github.com", gc.WebURL)
	require.Equal(t, int64(7), gc.App.IntegrationID)
	require.Equal(t, "s3cret", gc.App.WebhookSecret)
	require.Equal(t, strings.ReplaceAll(pem, `\n`, "\n"), gc.App.PrivateKey)

	c.GitHubAPIURL = "https://ghe.example.com/api/v3"
	gc, err = c.GitHubApp()
	require.NoError(t, err)
	require.Equal(t, "https://ghe.example.com/api/v3/", gc.V3APIURL)
	require.Equal(t, "https://ghe.example.com/api/graphql", gc.V4APIURL)

	c.GitHubPrivateKey = "not a key"
	_, err = c.GitHubApp()
	require.ErrorContains(t, err, "GITHUB_PRIVATE_KEY is not a PEM private key")
}
