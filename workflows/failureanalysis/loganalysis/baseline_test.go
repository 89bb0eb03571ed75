package loganalysis

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// ghView turns lines into `gh run view --log` output of one job and step.
func ghView(job, step string, lines ...string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(job + "\t" + step + "\t" + ts + l + "\n")
	}
	return b.String()
}

func TestBaselineNormalizesVolatileParts(t *testing.T) {
	t.Parallel()
	pass := gha(
		"##[group]Run go test ./...",
		"2024/04/30 08:01:02 warning: dial tcp 10.1.0.7:5432: connect: connection refused (retry 1 after 250ms)",
		"error: cache /tmp/go-build3395112/b001 miss for 4f2d9c1e0b7a, took 1.25s",
		"ok  \tgithub.com/acme/widgets\t0.412s",
	)
	b, err := NewBaseline(strings.NewReader(pass))
	require.NoError(t, err)
	require.Equal(t, 2, b.Len(), "only lines a rule could pick are kept")
	for _, line := range []string{
		"2024/05/01 12:00:00 warning: dial tcp 10.1.0.9:5432: connect: connection refused (retry 1 after 1.5s)",
		"error: cache /tmp/go-build998877/b042 miss for 9a8b7c6d5e4f, took 0.3s",
	} {
		require.True(t, b.Has(line), line)
	}
	require.False(t, b.Has("error: cache miss for the module graph"))
	require.False(t, (*Baseline)(nil).Has("anything"))
	require.Zero(t, (*Baseline)(nil).Len())
}

func TestBaselineReadsBothShapesAndBadInput(t *testing.T) {
	t.Parallel()
	line := "npm ERR! code ECONNRESET"
	for name, in := range map[string]string{
		"raw":       "\ufeff" + gha("##[group]Run npm ci", line),
		"gh view":   ghView("build", "Run npm ci", "\ufeff"+line),
		"crlf ansi": strings.ReplaceAll(gha("\x1b[31m"+line+"\x1b[0m"), "\n", "\r\n"),
	} {
		b, err := NewBaseline(strings.NewReader(in))
		require.NoError(t, err, name)
		require.True(t, b.Has(line), name)
	}
	huge := strings.Repeat("error: x", 1<<20) + "\n" + line + "\n"
	b, err := NewBaseline(strings.NewReader(huge))
	require.NoError(t, err)
	require.True(t, b.Has(line), "a line longer than the read buffer is skipped, not fatal")

	_, err = NewBaseline(errReader{})
	require.ErrorIs(t, err, errRead)
}

var errRead = errors.New("disk gone")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errRead }

// The CiDiff idea: what the passing run printed too is not the cause.
func TestAnalyzeWithBaselineDropsSharedLines(t *testing.T) {
	t.Parallel()
	step := "##[group]Run ./gradlew check"
	fail := gha(step,
		"> Task :app:compileJava",
		"warning: [options] source value 8 is obsolete and will be removed in a future release",
		"Could not resolve com.acme:telemetry:1.2.3 (offline mode), continuing without it",
		"> Task :app:checkstyleMain",
		"[ant:checkstyle] [ERROR] /home/runner/work/app/app/src/main/java/Ledger.java:12:5: Missing a Javadoc comment. [MissingJavadocMethod]",
		"> Task :app:checkstyleMain FAILED",
		"##[error]Process completed with exit code 1.",
	)
	pass := strings.ReplaceAll(gha(step,
		"> Task :app:compileJava",
		"Could not resolve com.acme:telemetry:1.2.3 (offline mode), continuing without it",
		"> Task :app:checkstyleMain",
		"BUILD SUCCESSFUL in 31s",
	), "12:00:00", "08:15:42")

	without := AnalyzeText(fail, Options{})
	require.Equal(t, ClassDependencyError, without.Classification, "the decoy wins without the baseline")

	b, err := NewBaseline(strings.NewReader(pass))
	require.NoError(t, err)
	with := AnalyzeText(fail, Options{Baseline: b})
	require.Equal(t, ClassLintError, with.Classification, "summary: %s evidence: %v", with.Summary, with.Evidence)
	require.True(t, excerptHas(with.Excerpt, []int{6}), "the checkstyle error itself: %v", with.Excerpt)
	require.Contains(t, strings.Join(with.Evidence, "\n"), "baseline: 1 candidate lines")

	// Everything also in the passing log: still an excerpt, never empty.
	same, err := NewBaseline(strings.NewReader(fail))
	require.NoError(t, err)
	all := AnalyzeText(fail, Options{Baseline: same})
	require.Equal(t, ClassUnknown, all.Classification)
	require.NotEmpty(t, all.Excerpt)
	require.Contains(t, all.Summary, "no known error pattern")
}
