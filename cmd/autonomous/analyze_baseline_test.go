package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCLIAnalyzeBaselineLog(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stamp := func(ts string, lines ...string) string {
		var b strings.Builder
		for _, l := range lines {
			b.WriteString(ts + " " + l + "\n")
		}
		return b.String()
	}
	// The passing run prints the same DNS error (a telemetry ping); the failing one also
	// fails its coverage gate.
	fail := stamp("2026-11-27T06:41:00.1000000Z", "##[group]Run npm test", "curl: (6) Could not resolve host: telemetry.acme.internal (0.31s)",
		"Coverage failure: total of 71 is less than fail-under=80", "##[error]Process completed with exit code 1.")
	pass := stamp("2026-11-26T18:02:11.9000000Z", "##[group]Run npm test", "curl: (6) Could not resolve host: telemetry.acme.internal (1.02s)",
		"Coverage: total of 84")
	failPath, passPath := filepath.Join(dir, "fail.log"), filepath.Join(dir, "pass.log")
	require.NoError(t, os.WriteFile(failPath, []byte(fail), 0o600))
	require.NoError(t, os.WriteFile(passPath, []byte(pass), 0o600))

	class := func(args ...string) string {
		code, out, errOut := runCLI(t, "", append([]string{"analyze", "--log", failPath, "--format", "json"}, args...)...)
		require.Equal(t, 0, code, errOut)
		var res struct{ Classification string }
		require.NoError(t, json.Unmarshal([]byte(out), &res))
		return res.Classification
	}
	require.Equal(t, "network_error", class())
	require.Equal(t, "test_failure", class("--baseline-log", passPath))

	code, _, errOut := runCLI(t, "", "analyze", "--log", failPath, "--baseline-log", filepath.Join(dir, "missing.log"))
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "failed to open the baseline log")
	code, _, errOut = runCLI(t, "", "analyze", "--log", failPath, "--baseline-log", dir)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "is a directory")
}
