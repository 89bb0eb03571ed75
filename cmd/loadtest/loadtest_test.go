package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

func TestTemplate(t *testing.T) {
	t.Parallel()
	tmpl, err := newTemplate(23040)
	require.NoError(t, err)
	require.InDelta(t, 23040, len(tmpl.body), 100)
	require.GreaterOrEqual(t, len(tmpl.offsets), 8, "the id and the run's URLs")
	body := make([]byte, len(tmpl.body))
	tmpl.render(body, 123456789012)
	require.True(t, json.Valid(body))
	require.Equal(t, int64(123456789012), gjson.GetBytes(body, "workflow_run.id").Int())
	require.Equal(t, "https://api.github.com/repos/octo-org/load-app/actions/runs/123456789012/jobs", gjson.GetBytes(body, "workflow_run.jobs_url").String())
	require.NotContains(t, string(body), runIDPlaceholder)
	require.Equal(t, "failure", gjson.GetBytes(body, "workflow_run.conclusion").String())
	require.Equal(t, int64(4242), gjson.GetBytes(body, "installation.id").Int())
}

func TestPercentiles(t *testing.T) {
	t.Parallel()
	var l []time.Duration
	for i := 100; i >= 1; i-- {
		l = append(l, time.Duration(i)*time.Millisecond)
	}
	p50, p90, p99, m := percentiles(l)
	require.Equal(t, []time.Duration{50, 90, 99, 100}, []time.Duration{p50 / time.Millisecond, p90 / time.Millisecond, p99 / time.Millisecond, m / time.Millisecond})
	p50, _, _, _ = percentiles(nil)
	require.Zero(t, p50)
}

func TestParseFlags(t *testing.T) {
	t.Parallel()
	o, err := parseFlags([]string{"--rate", "200/s", "--env", "GITHUB_HTTP_CACHE_BYTES=0"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 200.0, o.Rate)
	require.Equal(t, []string{"GITHUB_HTTP_CACHE_BYTES=0"}, o.Env)
	o, err = parseFlags([]string{"--soak", "1h"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 100.0, o.Rate, "a soak is open loop, 100/s unless told")
	for _, bad := range [][]string{{"--rate", "fast"}, {"--rate", "-1"}, {"--connections", "0"}, {"--env", "NOVALUE"}, {"extra"}} {
		_, err := parseFlags(bad, io.Discard)
		require.Error(t, err, bad)
	}
}

func TestGCLine(t *testing.T) {
	t.Parallel()
	m := gcLine.FindStringSubmatch("gc 12 @3.104s 2%: 0.011+1.2+0.004 ms clock, 0.022+0.4/1.1/0+0.008 ms cpu, 14->16->9 MB, 16 MB goal, 0 MB stacks, 0 MB globals, 2 P")
	require.Equal(t, []string{"14", "16", "9", "16"}, m[1:])
}

// TestLoadTestCommand runs the command's core against the built binary for about two seconds
// each way: closed loop with a graceful stop, and open loop with a SIGKILL under load. Every
// acknowledged delivery must be in the database afterwards.
func TestLoadTestCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	bin, err := buildBinary(context.Background(), t.TempDir())
	require.NoError(t, err)
	for _, o := range []options{
		{Connections: 4, Duration: 2 * time.Second, Idle: 200 * time.Millisecond},
		{Connections: 4, Duration: 2 * time.Second, Rate: 100, MaxInFlight: 64, Kill: true},
	} {
		o.Bin, o.LogLevel, o.PayloadBytes, o.ReportEvery, o.DrainTimeout = bin, "warn", 23040, time.Minute, time.Minute
		if url := os.Getenv("TEST_DATABASE_URL"); url != "" && o.Kill {
			o.DatabaseURL = url // the crash case on Postgres too when it is available
		}
		var out bytes.Buffer
		res, err := run(context.Background(), o, &out)
		require.NoError(t, err, out.String())
		t.Log("\n" + out.String())
		require.Positive(t, res.Acked)
		require.Zero(t, res.Durability.Missing, out.String())
		require.Zero(t, res.Durability.Duplicates)
		require.GreaterOrEqual(t, res.Durability.Stored, res.Acked)
		require.Contains(t, out.String(), "durability: OK")
		for status := range res.Statuses {
			if !o.Kill {
				require.Equal(t, "200", status, "only acknowledgements without a crash")
			}
		}
		require.Positive(t, res.Heap.GCs, "the server's gctrace was read")
		if !o.Kill {
			require.Positive(t, res.RSSPeak)
			require.Positive(t, res.RSSIdle)
			require.Less(t, res.Drain, time.Minute, "the workers finished against the stand-in")
		}
		require.NotContains(t, out.String(), "data directory kept")
	}
}
