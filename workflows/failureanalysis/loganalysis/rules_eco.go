package loganalysis

import (
	"bytes"
	"strings"
)

// ecoRules cover test runners, linters and package managers of further
// ecosystems: Playwright, PHPUnit, Minitest, Mocha, unittest, Bazel, CTest,
// ExUnit, RuboCop, Composer, Bundler, PHP, Maven goals, Android lint, npm
// scripts and the Gradle daemon.
var ecoRules = []rule{
	{name: "playwright-failure", class: ClassTestFailure, weight: 80, kw: kw("] › "),
		re:      rx(`^\s*\d+\) \[[^\]]+\] › (\S+:\d+:\d+ › .+?)\s*─*\s*$`),
		testFmt: func(sub []string) string { return sub[1] }, after: 6, contMode: contAny, tool: "Playwright", label: "Playwright test failed"},
	{name: "playwright-browser-missing", class: ClassDependencyError, weight: 82, kw: kw("executable doesn't exist at"),
		after: 3, label: "Playwright browsers are not installed"},
	{name: "phpunit-failure", class: ClassTestFailure, weight: 80, kw: kw("::test"),
		re: rx(`^\d+\) ([A-Za-z_][\w\\]*::test\w*)`), testGroup: 1, after: 3, contMode: contUntilBlank, tool: "PHPUnit", label: "PHPUnit test failed"},
	{name: "phpunit-header", class: ClassTestFailure, weight: 50, kw: kw("there was 1 failure", "there were ", "there was 1 error"),
		re: rx(`^There (?:was 1|were \d+) (?:failure|error)s?:`), after: 4, label: "PHPUnit tests failed"},
	{name: "minitest-failure", class: ClassTestFailure, weight: 78, kw: kw(") failure:", ") error:"),
		re: rx(`^\s*\d+\) (?:Failure|Error):\s*$`), afterTest: rx(`^([A-Z]\w*(?:::\w+)*#\w+) \[`), after: 4, contMode: contUntilBlank,
		tool: "Minitest", label: "Minitest test failed"},
	{name: "rubocop-offense", class: ClassLintError, weight: 72, kw: kw(".rb:"), re: rx(`^\S+\.rb:\d+:\d+: [CWEF]: `), after: 1,
		label: "RuboCop offense"},
	{name: "ruby-resolution", class: ClassDependencyError, weight: 86,
		kw:    kw("could not find gem '", "could not find compatible versions", "your requirements could not be resolved"),
		after: 4, label: "Package resolution failed"},
	{name: "php-fatal", class: ClassBuildError, weight: 75, kw: kw("php fatal error:", "php parse error:"), re: rx(`PHP (?:Fatal|Parse) error:`),
		after: 2, label: "PHP fatal error"},
	{name: "maven-goal-failed", class: ClassBuildError, weight: 30, kw: kw("failed to execute goal"),
		re: rx(`^\[ERROR\] Failed to execute goal \S+`), generic: true, classify: mavenGoalClass, label: "Maven goal failed"},
	{name: "android-lint", class: ClassLintError, weight: 72, kw: kw("lint found errors in the project", "lint found fatal errors"),
		before: 2, label: "Android lint found errors"},
	{name: "npm-missing-script", class: ClassConfigError, weight: 82, kw: kw("missing script:"), label: "npm script missing"},
	{name: "mocha-failing", class: ClassTestFailure, weight: 62, kw: kw(" failing"), re: rx(`^\s*\d+ failing\s*$`), after: 8,
		tool: "Mocha", label: "Mocha tests failed"},
	{name: "unittest-failure", class: ClassTestFailure, weight: 78, kw: kw("\nfail: ", "\nerror: "),
		re: rx(`^(?:FAIL|ERROR): (\w+) \(([\w.]+)\)`), testFmt: unittestName, after: 6, tool: "unittest", label: "unittest test failed"},
	{name: "bazel-test-failed", class: ClassTestFailure, weight: 75, kw: kw(" failed in "), re: rx(`^(//\S+)\s+FAILED in `), testGroup: 1,
		tool: "Bazel", label: "Bazel test failed"},
	{name: "ctest-failed", class: ClassTestFailure, weight: 76, kw: kw("(failed)", "(timeout)", "(segfault)", "(subprocess aborted)"),
		re: rx(`^\s*\d+ - (\S+) \((?:Failed|Timeout|SEGFAULT|Subprocess aborted)\)`), testGroup: 1, before: 1, tool: "CTest", label: "CTest test failed"},
	{name: "exunit-failure", class: ClassTestFailure, weight: 78, kw: kw(") test "), re: rx(`^\s+\d+\) test (.+) \(([\w.]+)\)\s*$`),
		testFmt: func(sub []string) string { return sub[2] + ": " + sub[1] }, after: 4, tool: "ExUnit", label: "ExUnit test failed"},
	{name: "gradle-daemon-gone", class: ClassResourceExhaustion, weight: 80, kw: kw("daemon disappeared unexpectedly"), before: 1,
		label: "Gradle daemon died (likely out of memory)"},
}

// unittestName builds "module.Class.test" from a unittest result line; the
// parenthesis holds "module.Class" or, since Python 3.11, "module.Class.test".
func unittestName(sub []string) string {
	if strings.HasSuffix(sub[2], "."+sub[1]) {
		return sub[2]
	}
	return sub[2] + "." + sub[1]
}

// mavenGoalClass classifies "Failed to execute goal" by its plugin: test
// runners are test failures, style and enforcement plugins lint errors,
// dependency resolution dependency errors.
func mavenGoalClass(c *candidate, body []byte) {
	l := bytes.ToLower(body)
	switch {
	case containsAny(l, "could not resolve dependencies", "dependencyresolutionexception"):
		c.class = ClassDependencyError
	case containsAny(l, "surefire", "failsafe", "there are test failures"):
		c.class = ClassTestFailure
	case containsAny(l, "checkstyle", "spotless", "pmd", "spotbugs", "enforcer", "rat-plugin", "license", "formatter"):
		c.class = ClassLintError
	}
}
