package loganalysis

import "strings"

// testRules cover failing tests of Go, pytest, Jest, Vitest, JUnit (Gradle
// and Maven surefire), cargo, RSpec and dotnet, and markers telling that a
// step runs tests.
var testRules = []rule{
	// Markers: a step with these lines runs tests (used to tell a hanging
	// test from an infrastructure timeout).
	{name: "test-marker", testMarker: true,
		kw: kw("\n=== run", "\ncollected ", "\nruns ", "\nrunning ", "\n> task :", "tests run:", "\n[info] running ", "test session starts"),
		re: rx(`^(?:=== RUN|collected \d+ items?|running \d+ tests?|> Task :\S*[tT]est|Tests run:|\[INFO\] Running |=+ test session starts|RUNS )`)},

	{name: "go-test-timeout", class: ClassTimeout, weight: 92, hang: true, kw: kw("\npanic: test timed out"), before: 4, after: 6,
		afterTest: rx(`^\s+(Test\S*) \(`), tool: "Go", label: "Go test timed out (hanging test)"},
	{name: "go-test-fail", class: ClassTestFailure, weight: 80, kw: kw("--- fail: "), re: rx(`^\s*--- FAIL: (\S+)`), testGroup: 1,
		before: 6, beforeMode: beforeIndented, after: 8, contMode: contIndented, tool: "Go", label: "Go test failed"},
	{name: "go-panic", class: ClassTestFailure, weight: 75, kw: kw("\npanic: "), after: 5, before: 1,
		tool: "Go", label: "Go panic"},
	{name: "go-data-race", class: ClassTestFailure, weight: 70, kw: kw("warning: data race", "race detected during execution of test"), after: 4,
		tool: "Go", label: "Go data race detected"},
	{name: "go-fail-package", class: ClassTestFailure, weight: 25, kw: kw("\nfail\t", "\nfail "), re: rx(`^FAIL\s+\S+\s+(?:\d|\(cached\)|\[setup failed\])`),
		tool: "Go", label: "Go package failed"},
	{name: "go-build-failed-package", class: ClassBuildError, weight: 30, kw: kw("[build failed]"), re: rx(`^FAIL\s+\S+ \[build failed\]`),
		label: "Go package failed to build"},

	{name: "pytest-failed", class: ClassTestFailure, weight: 80, kw: kw("\nfailed "), re: rx(`^FAILED(?: CONSISTENTLY:)? (?:\[[\d.]+m?s\] )?(\S+::\S+)`), testGroup: 1,
		tool: "pytest", label: "pytest test failed"},
	{name: "pytest-error", class: ClassTestFailure, weight: 70, kw: kw("\nerror ", "error collecting"), re: rx(`^ERROR (?:collecting )?(\S+\.py\S*)`),
		testFmt: func(sub []string) string {
			if strings.Contains(sub[1], "::") {
				return sub[1]
			}
			return ""
		},
		after: 2, tool: "pytest", label: "pytest error"},
	{name: "pytest-assertion", class: ClassTestFailure, weight: 60, kw: kw("\ne   "), lit: "E ", re: rx(`^E {3}`),
		before: 3, after: 4, tool: "pytest", label: "pytest assertion failed"},

	{name: "jest-failure", class: ClassTestFailure, weight: 80, kw: kw("● "), re: rx(`^\s*● (\S.*?)\s*$`),
		not: rx(`● (?:Console|Test suite failed to run)`), testGroup: 1,
		after: 9, tool: "Jest", label: "Jest test failed"},
	{name: "jest-suite-failed", class: ClassTestFailure, weight: 70, kw: kw("● test suite failed to run"), after: 6,
		tool: "Jest", label: "Jest test suite failed to run"},
	{name: "vitest-failure", class: ClassTestFailure, weight: 80, kw: kw("fail ", "×"),
		re: rx(`^\s*(?:FAIL|×)\s+(\S+\.(?:test|spec)\.[cm]?[jt]sx?\s+>\s+.+?)(?:\s+\d+m?s)?\s*$`), testGroup: 1,
		after: 5, tool: "Vitest", label: "Vitest test failed"},
	{name: "jest-fail-file", class: ClassTestFailure, weight: 45, kw: kw("fail "), re: rx(`^\s*FAIL\s+\S+\.[cm]?[jt]sx?\s*(?:\(|$)`),
		tool: "Jest", label: "Test file failed"},

	{name: "junit-test-failed", class: ClassTestFailure, weight: 80, kw: kw(" failed"), re: rx(`^(\S+(?: > .+?)? > .+) FAILED\s*$`), testGroup: 1,
		after: 3, contMode: contIndented, tool: "Gradle", label: "JUnit test failed"},
	{name: "surefire-test", class: ClassTestFailure, weight: 80, kw: kw("<<< failure!", "<<< error!"),
		re:      rx(`^\[ERROR\] ([\w.$\[\]-]+?)(?:\(([\w.$]+)\))?\s+(?:--\s+)?Time elapsed:.*<<< (?:FAILURE|ERROR)!`),
		testFmt: surefireName, after: 2, tool: "Maven", label: "JUnit test failed"},
	{name: "surefire-summary-entry", class: ClassTestFailure, weight: 78, kw: kw("[error]   "),
		re: rx(`^\[ERROR\]\s{2,}([A-Za-z_][\w$]*(?:\.[\w$]+)*\.[\w$]+)(?::\d+)?(?:\s|$)`), testGroup: 1,
		tool: "Maven", label: "JUnit test failed"},
	{name: "surefire-tests-run", class: ClassTestFailure, weight: 55, kw: kw("<<< failure!", "<<< error!"), re: rx(`Tests run: .*<<< (?:FAILURE|ERROR)!`),
		tool: "Maven", label: "JUnit test class failed"},

	{name: "cargo-test-failed", class: ClassTestFailure, weight: 80, kw: kw("\ntest "), re: rx(`^test (\S+) \.\.\. FAILED`), testGroup: 1,
		tool: "cargo", label: "Rust test failed"},
	{name: "rust-panic", class: ClassTestFailure, weight: 75, kw: kw("panicked at"), re: rx(`thread '([^']*)' panicked at`),
		after: 3, contMode: contUntilBlank, tool: "cargo", label: "Rust panic"},

	{name: "rspec-rerun", class: ClassTestFailure, weight: 80, kw: kw("\nrspec ./"), re: rx(`^rspec (\./\S+) # `), testGroup: 1,
		tool: "RSpec", label: "RSpec example failed"},
	// Cucumber's rerun list after "Failing Scenarios:"; an RSpec matcher failing in a step
	// ends with "(RSpec::Expectations::ExpectationNotMetError)".
	{name: "cucumber-scenario", class: ClassTestFailure, weight: 78, kw: kw("\ncucumber "), re: rx(`^cucumber (\S+\.feature:\d+)`), testGroup: 1,
		tool: "Cucumber", label: "Cucumber scenario failed"},
	{name: "rspec-expectation", class: ClassTestFailure, weight: 70, kw: kw("(rspec::expectations::expectationnotmeterror)"), before: 8,
		tool: "RSpec", label: "Expectation not met"},
	// An expect() matcher failing: Playwright's "expect(locator).toHaveText(expected)"
	// (also after "Timed out 5000ms waiting for") and Jest's "expect(received).toBe(expected)".
	{name: "expect-matcher", class: ClassTestFailure, weight: 70, kw: kw("expect(received).", "expect(locator).", "expect(page)."),
		re: rx(`expect\((?:received|locator|page)\)\.(?:not\.)?\w+\(`), before: 2, after: 6,
		label: "Test assertion failed"},
	// PHPUnit's result line after "FAILURES!" (the failure details may be cut).
	{name: "phpunit-summary", class: ClassTestFailure, weight: 58, kw: kw("\ntests: "),
		re: rx(`^Tests: \d+, Assertions: \d+, (?:Errors: \d+, )?(?:Failures|Errors): [1-9]`), before: 1,
		tool: "PHPUnit", label: "PHPUnit tests failed"},
	{name: "rspec-failure", class: ClassTestFailure, weight: 68, kw: kw("failure/error:"), before: 1, after: 4, contMode: contUntilBlank,
		tool: "RSpec", label: "RSpec example failed"},

	{name: "xctest-failure", class: ClassTestFailure, weight: 82, kw: kw(": error: -["),
		re: rx(`^\S+\.(?:swift|mm?):\d+: error: -\[([\w.]+) (\w+)\] : `), testFmt: xctestName,
		after: 2, tool: "XCTest", label: "XCTest test failed"},
	{name: "xctest-case-failed", class: ClassTestFailure, weight: 70, kw: kw("test case '"),
		re: rx(`^Test [Cc]ase '(?:-\[)?([\w.]+)[ .](\w+)(?:\(\))?\]?' failed`), testFmt: xctestName,
		tool: "XCTest", label: "XCTest test failed"},

	{name: "dotnet-test-failed", class: ClassTestFailure, weight: 80, kw: kw("failed "), re: rx(`^\s*Failed (\S+) \[[\d.<> ]+m?s\]`), testGroup: 1,
		after: 4, tool: "dotnet", label: ".NET test failed"},
}

// surefireName builds "package.Class.method" from a surefire result line in
// either the Surefire 2 ("method(package.Class)") or 3 ("package.Class.method")
// form.
func surefireName(sub []string) string {
	if len(sub) > 2 && sub[2] != "" {
		return sub[2] + "." + sub[1]
	}
	return sub[1]
}

// xctestName builds "Module.Class.method" from an XCTest failure line.
func xctestName(sub []string) string {
	return sub[1] + "." + sub[2]
}
