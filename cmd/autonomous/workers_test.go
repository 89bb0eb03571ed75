package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows"
)

// TestKindsListEveryRegisteredKind: every kind in workers.go is declared in the registry, once,
// and every kind with a builder there is triggerable through the engine.
func TestKindsListEveryRegisteredKind(t *testing.T) {
	t.Parallel()
	seen := map[workflows.Kind]bool{}
	for _, k := range kinds {
		if k.internal {
			require.Nil(t, k.build, "%s is internal: nobody triggers it", k.kind)
			require.NotNil(t, k.worker, k.kind)
			continue
		}
		_, ok := workflows.SpecFor(k.kind)
		require.True(t, ok, "%s has no spec in workflows/registry.go", k.kind)
		require.False(t, seen[k.kind], "%s listed twice", k.kind)
		require.NotNil(t, k.worker, k.kind)
		seen[k.kind] = true
	}
	require.True(t, seen[workflows.SlashCommand])
}
