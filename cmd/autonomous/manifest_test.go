package main

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/contexten/autonomous"
)

// alwaysDelivered are events GitHub sends every app without a subscription.
var alwaysDelivered = []string{"installation", "installation_repositories", "ping"}

func TestManifestSubscribesToEveryHandledEvent(t *testing.T) {
	t.Parallel()
	var manifest struct {
		DefaultEvents      []string          `yaml:"default_events"`
		DefaultPermissions map[string]string `yaml:"default_permissions"`
		HookAttributes     map[string]any    `yaml:"hook_attributes"`
	}
	require.NoError(t, yaml.Unmarshal(autonomous.AppManifest, &manifest))
	for _, h := range webhookHandlers(nil, nil, "", 0) {
		for _, event := range h.Handles() {
			if slices.Contains(alwaysDelivered, event) {
				continue
			}
			require.Contains(t, manifest.DefaultEvents, event, "app.yml must subscribe to %s", event)
		}
	}
	for _, event := range manifest.DefaultEvents {
		handled := false
		for _, h := range webhookHandlers(nil, nil, "", 0) {
			handled = handled || slices.Contains(h.Handles(), event)
		}
		require.True(t, handled, "app.yml subscribes to %s but nothing handles it", event)
	}
	require.Equal(t, "write", manifest.DefaultPermissions["checks"])
	// The security audit's fix pull requests: branches and commits (contents), the pull request,
	// and edits under .github/workflows/, which GitHub refuses an app without workflows: write.
	require.Equal(t, "write", manifest.DefaultPermissions["contents"])
	require.Equal(t, "write", manifest.DefaultPermissions["pull_requests"])
	require.Equal(t, "write", manifest.DefaultPermissions["workflows"])
	// dependency_management: the combined status of an update PR's head, the dashboard issue.
	require.Equal(t, "read", manifest.DefaultPermissions["statuses"])
	require.Equal(t, "write", manifest.DefaultPermissions["issues"])
}
