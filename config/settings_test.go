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
	typ := reflect.TypeOf(Config{})
	fields := 0
	for i := range typ.NumField() {
		tag := typ.Field(i).Tag.Get("yaml")
		if tag == "" {
			continue
		}
		fields++
		require.True(t, rows[strings.ToUpper(tag)], "field %s has no setting", typ.Field(i).Name)
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
