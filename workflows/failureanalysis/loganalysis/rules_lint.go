package loganalysis

// lintRules cover linters and formatters: golangci-lint, flake8/ruff, mypy,
// ESLint, Prettier, black and shellcheck.
var lintRules = []rule{
	{name: "golangci-lint", class: ClassLintError, weight: 74, kw: kw(".go:"), re: rx(`^(?:\.{0,2}/)?[^\s:]+\.go:\d+:\d+: .+ \(\w[\w-]*\)\s*$`), flush: true,
		after: 3, contMode: contUntilBlank, label: "Lint error"},
	{name: "python-lint", class: ClassLintError, weight: 72, kw: kw(".py:"), re: rx(`^(?:\./)?[^\s:]+\.pyi?:\d+:\d+: [A-Z]{1,3}\d{2,4}\b`),
		label: "Python lint error"},
	{name: "mypy-error", class: ClassLintError, weight: 72, kw: kw(".py:", ".pyi:"), re: rx(`^[^\s:]+\.pyi?:\d+: error: `),
		label: "Type check error"},
	{name: "ruff-summary", class: ClassLintError, weight: 40, kw: kw("\nfound "), re: rx(`^Found \d+ errors?\.`),
		label: "Lint errors found"},
	{name: "eslint-error", class: ClassLintError, weight: 68, kw: kw("error  "), re: rx(`^\s+\d+:\d+\s+error\s+.+`), before: 1,
		label: "ESLint error"},
	{name: "eslint-summary", class: ClassLintError, weight: 50, kw: kw("problem"), re: rx(`^✖ \d+ problems? \(\d+ errors?`), not: rx(`\(0 errors`),
		label: "ESLint errors found"},
	{name: "prettier-check", class: ClassLintError, weight: 66, kw: kw("code style issues"), before: 3,
		label: "Formatting check failed"},
	{name: "black-check", class: ClassLintError, weight: 66, kw: kw("\nwould reformat "), after: 1,
		label: "Formatting check failed"},
	{name: "shellcheck", class: ClassLintError, weight: 82, kw: kw("^-- sc", "^ sc", "[sc"), re: rx(`\^-*\^? SC\d{4} \(|\[SC\d{4}\]\s*$`), before: 2,
		label: "ShellCheck error"},
	{name: "gofmt-check", class: ClassLintError, weight: 60, kw: kw("not gofmt", "gofmt -l", "files are not formatted", "would be reformatted"),
		re: rx(`(?i)not gofmt|files? (?:are|is) not formatted|would be reformatted`), before: 2, after: 3,
		label: "Formatting check failed"},
}

// genericRules are terminal or unspecific error lines; they explain a
// failure only when nothing more specific is found.
var genericRules = []rule{
	{name: "msbuild-exited", class: ClassUnknown, weight: 6, kw: kw("error msb3073:", "error msb4181:"), generic: true, before: 8,
		label: "A command run by MSBuild exited with an error"},
	{name: "exit-code", class: ClassUnknown, weight: 5, kw: kw("process completed with exit code"), generic: true, before: 8,
		label: "Process exited with a non-zero exit code"},
	{name: "make-error", class: ClassBuildError, weight: 15, kw: kw("make: ***", "make["), re: rx(`^(?:g?make|mingw32-make)(?:\[\d+\])?: \*\*\* .*Error \d+`), generic: true,
		before: 3, label: "make failed"},
	{name: "ninja-stopped", class: ClassBuildError, weight: 15, kw: kw("ninja: build stopped"), generic: true, before: 3,
		label: "ninja build failed"},
	{name: "build-failed", class: ClassUnknown, weight: 14,
		kw:      kw("build failure", "build failed", "what went wrong", "error: could not compile", "there are test failures", "error: test failed", "tests failed", "test failed", "elifecycle", "lifecycle script"),
		re:      rx(`BUILD FAIL(?:URE|ED)|\* What went wrong|error: [Cc]ould not compile|There are test failures|error: test failed|[Tt]ests? failed|ELIFECYCLE|[Ll]ifecycle script`),
		generic: true, after: 2, classify: genericBuildFailed, label: "Build failed"},
	{name: "error-line", class: ClassUnknown, weight: 12, kw: kw("\nerror", "\nfatal", "\n[error]"),
		re:      rx(`^(?:Error|ERROR|error|FATAL|Fatal|fatal)(?:\[\w+\])?(?:: |! |:$)|^\[ERROR\] \S`),
		not:     rx(`^\[ERROR\] (?:-> \[Help|Re-run Maven|For more information|To see the full stack|\s*$|Help 1|After correcting)`),
		generic: true, before: 2, after: 2, contMode: contUntilBlank, label: "Error"},
}

// genericBuildFailed gives summary lines of build tools the class they
// imply, still with a low weight.
func genericBuildFailed(c *candidate, body []byte) {
	switch {
	case containsAny(body, "There are test failures", "test failed", "tests failed", "Tests failed"):
		c.class = ClassTestFailure
	case containsAny(body, "could not compile", "Could not compile", "BUILD FAIL"):
		c.class = ClassBuildError
	}
}
