package workflows

import (
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"
)

func TestRescueState(t *testing.T) {
	t.Parallel()
	now := time.Now()
	cases := []struct {
		name string
		job  rivertype.JobRow
		want rivertype.JobState
	}{
		{"attempts left", rivertype.JobRow{Attempt: 2, MaxAttempts: 5, Metadata: []byte(`{}`)}, rivertype.JobStateAvailable},
		{"last attempt", rivertype.JobRow{Attempt: 5, MaxAttempts: 5, Metadata: []byte(`{}`)}, rivertype.JobStateDiscarded},
		{"cancel requested", rivertype.JobRow{Attempt: 1, MaxAttempts: 5,
			Metadata: []byte(`{"cancel_attempted_at":"2026-12-01T10:00:00Z"}`)}, rivertype.JobStateCancelled},
	}
	for _, tc := range cases {
		state, finalized := rescueState(&tc.job, now)
		require.Equal(t, tc.want, state, tc.name)
		require.Equal(t, state != rivertype.JobStateAvailable, finalized != nil, tc.name)
	}
}

func TestDefaultClientIDIsUniquePerStart(t *testing.T) {
	t.Parallel()
	start := time.Now()
	a, b := defaultClientID(start), defaultClientID(start.Add(time.Nanosecond))
	require.NotEqual(t, a, b)
	require.LessOrEqual(t, len(a), 100, "River limits client ids to 100 characters")
	require.False(t, strings.ContainsAny(a, ".-"))
}
