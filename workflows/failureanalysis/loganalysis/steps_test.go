package loganalysis

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSplitGHColumns(t *testing.T) {
	t.Parallel()
	job, step, rest, ok := splitGHColumns([]byte("test (ubuntu, 3.12)\tRun pytest\t" + ts + "collected 3 items"))
	require.True(t, ok)
	require.Equal(t, "test (ubuntu, 3.12)", string(job))
	require.Equal(t, "Run pytest", string(step))
	require.Equal(t, ts+"collected 3 items", string(rest))
	for _, line := range []string{
		"ok  \tgithub.com/acme/widgets\t0.412s",                       // go test output has tabs too
		"FAIL\tgithub.com/acme/widgets\t(cached)",                     // no timestamp after the tabs
		strings.Repeat("j", maxGHColumn+1) + "\tstep\t" + ts + "line", // a column too long
		"\tstep\t" + ts + "line",                                      // no job name
		"job\tstep",
	} {
		_, _, _, ok := splitGHColumns([]byte(line))
		require.False(t, ok, line)
	}
}

// Post-job steps run after the failure and print errors of their own; they never explain it.
func TestPostStepsAreNotTheCause(t *testing.T) {
	t.Parallel()
	log := gha(
		"##[group]Run make all", "make all", "##[endgroup]",
		"cc -c widget.c", "make: *** [Makefile:3: all] Error 2",
		"##[error]Process completed with exit code 2.",
		"Post job cleanup.",
		"fatal: not a git repository (or any of the parent directories): .git",
		"##[error]The process '/usr/bin/git' failed with exit code 128",
		"Cleaning up orphan processes",
	)
	res := AnalyzeText(log, Options{})
	require.Equal(t, ClassBuildError, res.Classification, "summary: %s evidence: %v", res.Summary, res.Evidence)
	require.Equal(t, "Run make all", res.FailedStep)
	require.True(t, excerptHas(res.Excerpt, []int{5}))

	gh := ghView("build", "Run make all", "##[group]Run make all", "make all", "##[endgroup]", "make: *** [Makefile:3: all] Error 2",
		"##[error]Process completed with exit code 2.") +
		ghView("build", "Post Run actions/checkout@v4", "Post job cleanup.", "fatal: not a git repository (or any of the parent directories): .git",
			"##[error]The process '/usr/bin/git' failed with exit code 128")
	res = AnalyzeText(gh, Options{})
	require.Equal(t, ClassBuildError, res.Classification, "evidence: %v", res.Evidence)
	require.Equal(t, "Run make all", res.FailedStep)
}

// With nothing recognisable the excerpt is the failing step's last lines, not cleanup.
func TestFallbackExcerptIsTheFailingStepsEnd(t *testing.T) {
	t.Parallel()
	var lines []string
	lines = append(lines, "##[group]Run ./check.sh", "./check.sh", "##[endgroup]")
	for i := range 20 {
		lines = append(lines, "checking part "+string(rune('a'+i)))
	}
	lines = append(lines, "part t is over its budget", "Post job cleanup.", "[command]/usr/bin/git version", "git version 2.48.1", "Cleaning up orphan processes")
	res := AnalyzeText(gha(lines...), Options{})
	require.Equal(t, ClassUnknown, res.Classification)
	require.Len(t, res.Excerpt, tailSize)
	require.Equal(t, "part t is over its budget", res.Excerpt[len(res.Excerpt)-1].Text)
	require.Contains(t, res.Summary, "last lines of the failing step")
	require.Equal(t, "Run ./check.sh", res.FailedStep)
}

// A warning never outweighs an error, and a cancelled sibling job never the failed one.
func TestWarningsAndCancelledSiblings(t *testing.T) {
	t.Parallel()
	log := gha("##[group]Run npm ci", "##[warning]npm ERR! code ETARGET while resolving optional dependency fsevents",
		"##[group]Run npm test", "FAIL src/a.test.js", "##[error]Process completed with exit code 1.")
	res := AnalyzeText(log, Options{})
	require.Equal(t, ClassTestFailure, res.Classification, "evidence: %v", res.Evidence)

	gh := ghView("test (1)", "Run go test ./...", "--- FAIL: TestA (0.00s)", "    a_test.go:9: boom", "FAIL", "##[error]Process completed with exit code 1.") +
		ghView("test (2)", "Run go test ./...", "ok  \tgithub.com/acme/a\t0.1s", "##[error]The operation was canceled.")
	res = AnalyzeText(gh, Options{})
	require.Equal(t, ClassTestFailure, res.Classification, "evidence: %v", res.Evidence)
	require.Equal(t, []string{"TestA"}, res.FailedTests)

	alone := AnalyzeText(ghView("test (2)", "Run go test ./...", "ok  \tgithub.com/acme/a\t0.1s", "##[error]The operation was canceled."), Options{})
	require.Equal(t, ClassCancelled, alone.Classification, "a job cancelled on its own is cancelled")
}

// Python exceptions are classified by their type and the step that raised them.
func TestPythonExceptionByTypeAndStep(t *testing.T) {
	t.Parallel()
	tb := func(step, exc string) Class {
		return AnalyzeText(gha("##[group]Run "+step, "##[endgroup]", "Traceback (most recent call last):",
			`  File "/home/runner/work/w/w/tools/x.py", line 3, in <module>`, "    main()", exc,
			"##[error]Process completed with exit code 1."), Options{}).Classification
	}
	require.Equal(t, ClassTestFailure, tb("pytest -x tests", "ValueError: bad fixture"))
	require.Equal(t, ClassBuildError, tb("python setup.py build", "ValueError: bad version"))
	require.Equal(t, ClassBuildError, tb("pytest -x tests", "SyntaxError: invalid syntax"))
	require.Equal(t, ClassDependencyError, tb("python tools/x.py", "ModuleNotFoundError: No module named 'yaml'"))
	require.Equal(t, ClassLintError, tb("make lint", "ValueError: bad config"))
	require.Equal(t, ClassUnknown, tb("python tools/x.py", "RuntimeError: step 3 failed"), "a bare RuntimeError says too little")
	ci := AnalyzeText(gha("##[group]Run python .github/scripts/merge.py", "##[endgroup]", "Traceback (most recent call last):",
		`  File "/home/runner/work/w/w/.github/scripts/merge.py", line 9, in <module>`, "RuntimeError: PR 12 is out of sync with its base branch",
		"##[error]Process completed with exit code 1."), Options{})
	require.Equal(t, ClassConfigError, ci.Classification, "the workflow's own script")
}

// Without a recognisable line the step's command still tells what kind of failure it is;
// unknown remains only when it names no known tool, and the summary says why.
func TestUnknownCauseClassFromStepCommand(t *testing.T) {
	t.Parallel()
	for step, want := range map[string]Class{
		"npm run lint":           ClassLintError,
		"pnpm install --frozen":  ClassDependencyError,
		"./gradlew test":         ClassTestFailure,
		"cmake --build build":    ClassBuildError,
		"./scripts/release.sh 3": ClassUnknown,
	} {
		res := AnalyzeText(gha("##[group]Run "+step, "##[endgroup]", "step output nobody recognises",
			"##[error]Process completed with exit code 1."), Options{})
		require.Equal(t, want, res.Classification, step)
		require.Contains(t, res.Summary, "no known error pattern matched", step)
		if want == ClassUnknown {
			require.Contains(t, res.Summary, "nor does the step's command name a known tool")
		}
		// The same without an error annotation: the fallback excerpt.
		res = AnalyzeText(gha("##[group]Run "+step, "##[endgroup]", "step output nobody recognises"), Options{})
		require.Equal(t, want, res.Classification, step)
		require.NotEmpty(t, res.Excerpt)
	}
}

// Install summaries of passing steps are not findings; a scanner that fails the job is.
func TestVulnerabilitySummaries(t *testing.T) {
	t.Parallel()
	res := AnalyzeText(gha("##[group]Run npm ci", "added 812 packages in 14s", "3 vulnerabilities (1 moderate, 2 high)", "",
		"To address all issues, run:", "  npm audit fix", "##[group]Run npm run build", "./src/a.tsx:3:1", "Type error: Cannot find name 'x'.",
		"##[error]Process completed with exit code 1."), Options{})
	require.Equal(t, ClassBuildError, res.Classification, "evidence: %v", res.Evidence)

	res = AnalyzeText(gha("##[group]Run anchore/scan-action@v6", "[0012] ERROR discovered vulnerabilities at or above the severity threshold",
		"##[error]Process completed with exit code 1."), Options{})
	require.Equal(t, ClassLintError, res.Classification, "evidence: %v", res.Evidence)
}

// Odd "gh run view --log" input never breaks the analysis: empty columns, missing text,
// thousands of jobs and steps (more than are remembered).
func TestGHViewBadInput(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := range 3000 {
		b.WriteString("job " + string(rune('a'+i%26)) + "\tstep " + strings.Repeat("x", i%400) + "\t" + ts + "ok\n")
	}
	b.WriteString("\t\t\n\t\t" + ts + "\nlast\tRun make\t" + ts + "make: *** [Makefile:3: all] Error 2\n")
	b.WriteString("last\tRun make\t" + ts + "##[error]Process completed with exit code 2.\n")
	res := AnalyzeText(b.String(), Options{})
	require.Equal(t, ClassBuildError, res.Classification, "evidence: %v", res.Evidence)
	require.True(t, excerptHas(res.Excerpt, []int{3003}), "excerpt %v", res.Excerpt)
	for _, l := range res.Excerpt {
		if l.Line == 3003 {
			require.Equal(t, "make: *** [Makefile:3: all] Error 2", l.Text, "the columns are removed")
		}
	}
	require.Equal(t, "Run make", res.FailedStep)
}

// Test runners' failure lines name the failed test.
func TestMoreTestRunners(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		lines []string
		tests []string
	}{
		{"mocha", []string{"  11 passing (2s)", "  1 failing", "", "  1) Cart", "       applies the discount:", "     AssertionError: expected 100 to equal 90"}, []string{}},
		{"unittest", []string{"======================================================================",
			"FAIL: test_total (tests.test_cart.CartTest.test_total)", "----------------------------------------------------------------------",
			"AssertionError: 100 != 90", "", "Ran 12 tests in 0.004s", "", "FAILED (failures=1)"}, []string{"tests.test_cart.CartTest.test_total"}},
		{"unittest before 3.11", []string{"ERROR: test_load (tests.test_io.ReaderTest)", "Traceback (most recent call last):",
			`  File "/w/tests/test_io.py", line 9, in test_load`, "OSError: gone"}, []string{"tests.test_io.ReaderTest.test_load"}},
		{"bazel", []string{"//pkg/cart:cart_test                                                      FAILED in 1.2s",
			"  /home/runner/.cache/bazel/_bazel_runner/execroot/_main/bazel-out/k8-fastbuild/testlogs/pkg/cart/cart_test/test.log"}, []string{"//pkg/cart:cart_test"}},
		{"ctest", []string{"90% tests passed, 1 tests failed out of 10", "", "The following tests FAILED:", "\t  3 - queue_test (Failed)",
			"Errors while running CTest"}, []string{"queue_test"}},
		{"exunit", []string{"  1) test applies the discount (CartTest)", "     test/cart_test.exs:5", "     Assertion with == failed"}, []string{"CartTest: applies the discount"}},
	} {
		lines := append([]string{"##[group]Run make ci", "##[endgroup]"}, tc.lines...)
		res := AnalyzeText(gha(append(lines, "##[error]Process completed with exit code 1.")...), Options{})
		require.Equal(t, ClassTestFailure, res.Classification, "%s: %v", tc.name, res.Evidence)
		require.Equal(t, tc.tests, res.FailedTests, tc.name)
	}
}
