package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCLIAnalyzeRedactsEveryField: the step name and the failed test names come from the log
// and are shown as they are unless redacted like the excerpt.
func TestCLIAnalyzeRedactsEveryField(t *testing.T) {
	t.Parallel()
	password := "u8jzPde0" + "IgxLd6GncfBAepfJ"
	token := "gh" + "p_" + "ox9yimTcfipZGnzPbDFDyFKm51zfFoWbSrHA"
	log := "2026-11-27T06:41:00.0000000Z ##[group]Run docker login -u ci -p " + password + " ghcr.io && go test ./...\n" +
		"2026-11-27T06:41:01.0000000Z --- FAIL: TestLogin/" + token + " (0.00s)\n" +
		"2026-11-27T06:41:01.0000000Z     login_test.go:12: got 401\n" +
		"2026-11-27T06:41:01.0000000Z FAIL\n" +
		"2026-11-27T06:41:02.0000000Z ##[error]Process completed with exit code 1.\n"
	logPath := filepath.Join(t.TempDir(), "job.log")
	require.NoError(t, os.WriteFile(logPath, []byte(log), 0o600))
	for _, format := range []string{"text", "json"} {
		code, out, errOut := runCLI(t, "", "analyze", "--log", logPath, "--format", format)
		require.Equal(t, 0, code, errOut)
		require.Contains(t, out, "TestLogin/", format)
		require.Contains(t, out, "docker login -u ci -p [REDACTED]", format)
		require.False(t, strings.Contains(out, password) || strings.Contains(out, token), "%s output leaks a secret:\n%s", format, out)
	}
}
