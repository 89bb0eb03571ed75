package loganalysis

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMatchBodyCutsToolPrefixes(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"45.02 Type error: x", "Type error: x"},
		{"0.512 > next build", "> next build"},
		{"#11 45.02 Type error: x", "Type error: x"},
		{"              +check | FAILURE: Build failed", "FAILURE: Build failed"},
		{"+build *failed* | error: boom", "error: boom"},
		{"              +check | \tat org.x.Y(Y.java:1)", "\tat org.x.Y(Y.java:1)"},
		{"| Error: Cannot find module 'x'", "Error: Cannot find module 'x'"},
		{"\u2502 Error: Error acquiring the state lock", "Error: Error acquiring the state lock"},
		// Not prefixes: a version, a plain number, a sum, an indented line, a table cell.
		{"3.12.2 x64", "3.12.2 x64"},
		{"1.5 seconds", "1.5 seconds"},
		{"123456.78 total", "123456.78 total"},
		{"  + echo done | tee out", "  + echo done | tee out"},
		{"   Compiling serde v1.0.80", "   Compiling serde v1.0.80"},
		{"|name|value|", "|name|value|"},
	}
	for _, c := range cases {
		got, _ := matchBody([]byte(c.in))
		require.Equal(t, c.want, string(got), "input %q", c.in)
	}
}

// The cause behind a tool's prefix is found by its own rule, not by a
// summary line after it.
func TestPrefixedCausesWin(t *testing.T) {
	t.Parallel()
	recap := gha("##[group]Run ./scripts/image.sh", "./scripts/image.sh", "##[endgroup]",
		"------", " > [web 5/6] RUN npm run build:", "45.02 Failed to compile.", "45.02 ./a.tsx:4:1",
		"45.02 Type error: Cannot find name 'x'.", "------",
		`ERROR: failed to solve: process "/bin/sh -c npm run build" did not complete successfully: exit code: 1`,
		"##[error]Process completed with exit code 1.")
	res := AnalyzeText(recap, Options{})
	require.Equal(t, ClassBuildError, res.Classification)
	require.True(t, strings.HasPrefix(res.Evidence[0], "next-type-error:"), "evidence: %v", res.Evidence)

	earthly := gha("##[group]Run earthly +check", "earthly +check", "##[endgroup]",
		"              +check | * Exception is:",
		"              +check | org.gradle.api.tasks.TaskExecutionException: Execution failed for task ':app:test'.",
		"              +check | \tat org.gradle.internal.Try$Failure.ifSuccessfulOrElse(Try.java:293)",
		"              +check | BUILD FAILED in 12s",
		"##[error]Process completed with exit code 1.")
	res = AnalyzeText(earthly, Options{})
	require.Equal(t, ClassTestFailure, res.Classification, "evidence: %v", res.Evidence)
	require.True(t, strings.HasPrefix(res.Evidence[0], "gradle-execution-failed:"), "evidence: %v", res.Evidence)

	// Maven -e without a step naming Maven: the wrapped goal failure is a test failure.
	mvn := "[ERROR] Failed to execute goal org.apache.maven.plugins:maven-surefire-plugin:3.2.5:test (default-test) on project core: There are test failures.\n" +
		"[ERROR] -> [Help 1]\n" +
		"org.apache.maven.lifecycle.LifecycleExecutionException: Failed to execute goal org.apache.maven.plugins:maven-surefire-plugin:3.2.5:test (default-test) on project core: There are test failures.\n" +
		"    at org.apache.maven.lifecycle.internal.MojoExecutor.execute (MojoExecutor.java:212)\n"
	res = AnalyzeText(mvn, Options{})
	require.Equal(t, ClassTestFailure, res.Classification, "evidence: %v", res.Evidence)
}

// @actions/exec's "The process 'git' failed with exit code 128" is the
// runner's side only for git's fatal exit; other tools and codes stay
// unexplained, and a cause printed before it still wins.
func TestActionsExecFailure(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		line string
		want Class
	}{
		{"##[error]The process '/usr/bin/git' failed with exit code 128", ClassInfrastructure},
		{`Error: The process 'C:\Program Files\Git\bin\git.exe' failed with exit code 128`, ClassInfrastructure},
		{"##[error]The process '/usr/bin/git' failed with exit code 1", ClassUnknown},
		{"##[error]The process '/usr/bin/docker' failed with exit code 128", ClassUnknown},
	} {
		log := gha("##[group]Run some/action@v1", "##[endgroup]", "Fetching the repository", c.line)
		res := AnalyzeText(log, Options{})
		require.Equal(t, c.want, res.Classification, "line %q evidence: %v", c.line, res.Evidence)
	}
	log := gha("##[group]Run some/action@v1", "##[endgroup]",
		"fatal: couldn't find remote ref refs/heads/gh-pages",
		"##[error]The process '/usr/bin/git' failed with exit code 128")
	res := AnalyzeText(log, Options{})
	require.Equal(t, ClassConfigError, res.Classification, "evidence: %v", res.Evidence)
}

// A tsc diagnostic wrapped in another tool's "Error: " (nx, a build script)
// or reported by rollup-plugin-typescript2 as a "semantic error" is still a
// TypeScript compile error, not the summary around it.
func TestWrappedTypeScriptErrors(t *testing.T) {
	t.Parallel()
	for _, line := range []string{
		"  Error: src/server.ts(27,14): error TS2345: Argument of type 'string | undefined' is not assignable to parameter of type 'string'.",
		"[!] (plugin rpt2) Error: /w/src/Chart.tsx(14,8): semantic error TS2322: Type 'number' is not assignable to type 'string'.",
		"Error: /w/src/a.ts(2,23): syntactic error TS1005: ';' expected.",
	} {
		log := gha("##[group]Run ./ci/pipeline.sh", "./ci/pipeline.sh", "##[endgroup]", line,
			"error Command failed with exit code 1.", "##[error]Process completed with exit code 1.")
		res := AnalyzeText(log, Options{})
		require.Equal(t, ClassBuildError, res.Classification, "line %q evidence: %v", line, res.Evidence)
		require.True(t, strings.HasPrefix(res.Evidence[0], "typescript-error:"), "line %q evidence: %v", line, res.Evidence)
	}
}

// Assertion and summary lines that name no test still make a test failure.
func TestBareTestFailureLines(t *testing.T) {
	t.Parallel()
	for _, line := range []string{
		"Error: expect(received).toHaveText(expected)",
		"    Error: Timed out 300000ms waiting for expect(locator).toHaveText(expected)",
		"Tests: 7013, Assertions: 38763, Failures: 9, Skipped: 85, Risky: 5.",
		"Tests: 12, Assertions: 40, Errors: 2.",
	} {
		log := gha("##[group]Run ./ci/run.sh", "./ci/run.sh", "##[endgroup]", line, "##[error]Process completed with exit code 1.")
		res := AnalyzeText(log, Options{})
		require.Equal(t, ClassTestFailure, res.Classification, "line %q evidence: %v", line, res.Evidence)
	}
	// A passing PHPUnit summary is not a failure.
	log := gha("##[group]Run ./ci/run.sh", "./ci/run.sh", "##[endgroup]", "Tests: 12, Assertions: 40, Failures: 0.",
		"##[error]Process completed with exit code 1.")
	require.NotEqual(t, ClassTestFailure, AnalyzeText(log, Options{}).Classification)
}
