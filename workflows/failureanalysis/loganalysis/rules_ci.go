package loganalysis

import "bytes"

// ciRules cover messages of the CI machinery itself and of quality gates:
// git checkout errors, action and artifact downloads, cancellation by
// signal, cloud permission denials, harness timeouts, self-hosted runner
// pods, dirty checkouts, vulnerability scanners, coverage and Lighthouse
// thresholds, and linters run through lintrunner.
var ciRules = []rule{
	{name: "git-fatal", class: ClassConfigError, weight: 85,
		kw: kw("couldn't find remote ref", "unsafe repository", "dubious ownership", "not a git repository", "reference is not a tree",
			"did not match any file(s) known to git", "could not find remote branch", "not our ref", "pathspec '"),
		re:    rx(`(?i)^(?:fatal|error): .*(?:couldn't find remote ref|unsafe repository|dubious ownership|not a git repository|reference is not a tree|did not match any file\(s\) known to git|could not find remote branch|not our ref)`),
		after: 3, label: "Git error"},
	// @actions/exec's error when a command an action runs fails ("The process
	// '/usr/bin/git' failed with exit code 128"): generic, classed by the tool.
	{name: "actions-exec-failed", class: ClassUnknown, weight: 13, kw: kw("failed with exit code"),
		re: rx(`^(?:Error: )?The process '([^']*)' failed with exit code (\d+)`), generic: true, before: 6,
		classify: execToolClass, label: "A command run by an action failed"},
	// A Terraform state lock held by another run (or left by a killed one).
	{name: "terraform-state-lock", class: ClassInfrastructure, weight: 82,
		kw: kw("error acquiring the state lock"), after: 3, label: "Terraform state is locked"},
	// A push the remote refused because the branch moved on since checkout: the
	// workflow pushes a stale head; re-running the same commit fails again.
	{name: "git-push-rejected", class: ClassConfigError, weight: 78,
		kw: kw("failed to push some refs", "(non-fast-forward)", "(fetch first)"),
		re: rx(`failed to push some refs|\[rejected\].*\((?:non-fast-forward|fetch first)\)`), before: 2, after: 2,
		label: "git push rejected"},
	{name: "action-download", class: ClassNetworkError, weight: 86,
		kw: kw("failed to download archive", "failed to download action", "download has timed out"), before: 1,
		label: "Action download failed"},
	// A missing artifact is the workflow's mistake or an expired upload: a re-run finds
	// it missing again.
	{name: "artifact-missing", class: ClassConfigError, weight: 84,
		kw:    kw("unable to download artifact", "artifact not found for name", "unable to find any artifacts", "no artifacts found"),
		after: 2, label: "Artifact not found"},
	{name: "sigint", class: ClassCancelled, weight: 88,
		kw: kw("received sigint", "step cancelled by github actions", "received signal: interrupt", "received sigterm"), before: 1,
		label: "Step cancelled by a signal"},
	{name: "cloud-denied", class: ClassAuthError, weight: 86,
		kw:     kw("is not authorized to perform", "accessdenied", "access denied", "does not have permission", "permission denied on resource", "the caller does not have permission"),
		re:     rx(`(?i)is not authorized to perform|AccessDenied|Access Denied|does not have (?:the )?permission|permission denied on resource|caller does not have permission`),
		before: 1, label: "Cloud permission denied"},
	{name: "fetch-failed", class: ClassNetworkError, weight: 80,
		kw:    kw("error sending request for url", "client error (connect)", "dns error", "failed to lookup address", "error while fetching", "failed to fetch"),
		re:    rx(`(?i)error sending request for url|client error \(Connect\)|dns error|failed to lookup address|error while fetching .*(?:https?://|remote)|^error: failed to fetch\b`),
		after: 3, contMode: contUntilBlank, label: "Network error (request failed)"},
	{name: "runner-pod", class: ClassInfrastructure, weight: 90,
		kw: kw("failed to come online", "is unhealthy with phase status", "pod failed to start", "failed to create the pod"), before: 1,
		label: "Runner pod failed"},
	{name: "harness-timeout", class: ClassTimeout, weight: 78, hang: true,
		kw: kw("returning 124", "command took >"), re: rx(`(?i)took >?\s*\d+\s*(?:min|minutes|m|s|seconds)\b.*returning 124|returning 124`), before: 2, after: 1,
		label: "Test command timed out"},
	{name: "pytest-interrupted", class: ClassTimeout, weight: 70, hang: true, kw: kw("keyboardinterrupt"),
		re: rx(`^!{3,} KeyboardInterrupt !{3,}`), after: 2, tool: "pytest", label: "Test run interrupted (timeout)"},
	{name: "timed-out-after", class: ClassTimeout, weight: 62, kw: kw("timed out after "),
		re: rx(`timed out after \d+(?:\.\d+)? ?(?:s|sec|seconds|m|min|minutes)\b`), testInTestStep: true, label: "Command timed out"},
	{name: "checkstyle-error", class: ClassLintError, weight: 74, kw: kw("checkstyle] [error]"),
		re: rx(`\[(?:ant:)?checkstyle\] \[ERROR\] \S+:\d+(?::\d+)?: `), label: "Checkstyle error"},
	{name: "dirty-checkout", class: ClassConfigError, weight: 70,
		kw: kw("dirty", "uncommitted changes"),
		re: rx(`(?i)(?:checkout|working (?:tree|directory|copy)|repository|worktree|git tree) (?:is )?dirty\b|left .*dirty\b|uncommitted changes (?:after|detected|found)`), before: 1, after: 3,
		label: "Build left the checkout dirty"},
	// Scanners that fail the job on findings: trivy's summary line, grype's threshold.
	// (npm's install summary "N vulnerabilities (...)" is printed by passing installs too.)
	{name: "vulnerability-scan", class: ClassLintError, weight: 74,
		kw: kw("critical:", "vulnerabilities at or above"),
		re: rx(`^Total: \d+ \(.*CRITICAL: \d+\)|discovered vulnerabilities at or above the severity threshold`), after: 8,
		label: "Vulnerability scan found issues"},
	{name: "coverage-gate", class: ClassTestFailure, weight: 75,
		kw:    kw("coverage threshold", "coverage failure", "fail-under", "fail_under", "required test coverage", "coverage is below", "coverage below"),
		re:    rx(`(?i)coverage threshold for \w+ \(\d+(?:\.\d+)?%\) not met|coverage failure|fail[-_]under|required test coverage of [\d.]+% not reached|coverage (?:is )?below`),
		label: "Coverage below the threshold"},
	{name: "lighthouse-assertion", class: ClassTestFailure, weight: 75, kw: kw("failure for ", "assertions failed", "assertion failed for"),
		re: rx(`failure for \w+ assertion|(?i)assertions? failed for`), after: 3, label: "Quality gate assertion failed"},
	{name: "benchmark-regression", class: ClassTestFailure, weight: 60, kw: kw("regression"),
		re: rx(`^(?:MISSING )?REGRESSION(?: TEST)?: \S|(?i)performance regression detected`), label: "Benchmark regression check failed"},
	{name: "size-policy", class: ClassLintError, weight: 60, kw: kw("more than the", "exceeds the maximum"),
		re:    rx(`(?i)\bis \d+ (?:LOC|lines|files|bytes)\b.* more than the \d+ maximum|exceeds the maximum (?:allowed )?(?:size|number of (?:lines|files))`),
		after: 2, label: "Size policy check failed"},
	{name: "lintrunner-file", class: ClassLintError, weight: 72, kw: kw(">>> lint for ", ">>> general linter failure"),
		re: rx(`^>>> (?:Lint for \S+:|General linter failure)`), after: 4, label: "Lint error"},
	{name: "lintrunner-message", class: ClassLintError, weight: 66, kw: kw("error (", "warning (", "advice ("),
		re: rx(`^\s+(?:Error|Warning|Advice) \([A-Z][A-Z0-9_]*\) \S`), before: 1, after: 2, label: "Lint error"},
	{name: "linter-failed", class: ClassLintError, weight: 70, kw: kw("linter failed"), label: "Linter failed"},
	{name: "pip-wheel", class: ClassDependencyError, weight: 80,
		kw:     kw("failed building wheel for", "failed to build one or more wheels", "could not build wheels for"),
		before: 1, after: 1, label: "Python package build failed"},
	{name: "next-type-error", class: ClassBuildError, weight: 80, kw: kw("type error: "), re: rx(`^(?:\S+:\d+:\d+\s+)?Type error: \S`),
		before: 1, after: 3, contMode: contUntilBlank, label: "TypeScript type error"},
	{name: "gradle-execution-failed", class: ClassBuildError, weight: 50, kw: kw("execution failed for task"),
		re: rx(`^(?:[\w.]*TaskExecutionException: )?Execution failed for task '(\S+)'`), classify: gradleTaskClass, after: 2, label: "Gradle task failed"},
	{name: "xunit-fail", class: ClassTestFailure, weight: 80, kw: kw("[fail]"), re: rx(`^\s*(?:\[xUnit\.net [\d:.]+\]\s+)?(\S+) \[FAIL\]\s*$`), testGroup: 1,
		after: 4, tool: "xUnit", label: ".NET test failed"},
	{name: "pytest-failure-header", class: ClassTestFailure, weight: 66, kw: kw("\n___"), re: rx(`^_{3,} (\S.*?) _{3,}\s*$`),
		after: 6, tool: "pytest", label: "pytest test failed"},
	{name: "result-table-fail", class: ClassTestFailure, weight: 60, kw: kw("  fail"), re: rx(`^\S+\s{2,}FAIL(?:ED)?:?(?:\s|$)`),
		label: "Check failed"},
}

// gradleTaskClass classifies a failed Gradle task by its name: test tasks
// are test failures, checkstyle/lint/format tasks lint errors.
func gradleTaskClass(c *candidate, body []byte) {
	l := bytes.ToLower(body)
	switch {
	case containsAny(l, "checkstyle", "lint", "spotless", "ktlint", "detekt", "pmd", "spotbugs", "format"):
		c.class = ClassLintError
	case bytes.Contains(l, []byte("test")):
		c.class = ClassTestFailure
	}
}

// execToolClass classifies an action's failed command by its tool: git
// exits with 128 on a fatal error, which during an action's checkout or
// fetch without a more specific line is the runner's or GitHub's side.
func execToolClass(c *candidate, body []byte) {
	m := execFailedRe.FindSubmatch(body)
	if m == nil {
		return
	}
	tool := m[1]
	if i := bytes.LastIndexAny(tool, `/\`); i >= 0 {
		tool = tool[i+1:]
	}
	tool = bytes.TrimSuffix(bytes.ToLower(tool), []byte(".exe"))
	if string(tool) == "git" && string(m[2]) == "128" {
		c.class = ClassInfrastructure
	}
}

var execFailedRe = rx(`The process '([^']*)' failed with exit code (\d+)`)
