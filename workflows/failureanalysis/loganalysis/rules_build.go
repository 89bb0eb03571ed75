package loganalysis

import "bytes"

// buildRules cover compiler and build-tool errors: Go, TypeScript, Rust,
// Java/Kotlin (javac, kotlinc, Gradle, Maven), C/C++ (gcc, clang, MSVC,
// linkers, make, ninja, CMake), Python runtime errors and Docker builds.
var buildRules = []rule{
	{name: "go-compile-error", class: ClassBuildError, weight: 70, kw: kw(".go:"), re: rx(`^(?:[A-Za-z]:\\[^:]*|(?:\.{0,2}/)?[^\s:]+)\.go:\d+(?::\d+)?: \S`), flush: true,
		after: 4, contMode: contUntilBlank, classify: lintIfLintStep, label: "Go build error"},
	{name: "typescript-error", class: ClassBuildError, weight: 80, kw: kw("): error ts", " - error ts", "error ts"),
		re: rx(`^\s*\S.*?(?:\(\d+,\d+\): (?:semantic |syntactic )?error TS\d+:|:\d+:\d+ - error TS\d+:|^error TS\d+:)`), after: 2, contMode: contUntilBlank,
		label: "TypeScript compile error"},
	{name: "rust-compile-error", class: ClassBuildError, weight: 80, kw: kw("\nerror["), re: rx(`^error\[E\d{4}\]: `),
		after: 6, contMode: contUntilBlank, label: "Rust compile error"},
	{name: "c-compile-error", class: ClassBuildError, weight: 80, kw: kw(": error:", ": fatal error:"),
		re:    rx(`^(?:[A-Za-z]:)?[^\s:]+:\d+:(?:\d+:)? (?:fatal )?error: `),
		not:   rx(`^\S+\.pyi?:\d+: error:|Killed signal terminated program`),
		after: 3, contMode: contUntilBlank, label: "Compile error"},
	{name: "msvc-error", class: ClassBuildError, weight: 80, kw: kw("): error ", "): fatal error "),
		re: rx(`^\s*[^\s(][^(]*\(\d+(?:,\d+)?\): (?:fatal )?error [A-Z]+\d+:`), not: rx(`error TS\d+:|error MSB(?:3073|4181|3027):`), after: 1,
		label: "MSVC compile error"},
	{name: "kotlin-error", class: ClassBuildError, weight: 80, kw: kw("\ne: "), re: rx(`^e: (?:file://)?\S+\.kts?(?::\d+:\d+ |: \(\d+, \d+\): )`),
		label: "Kotlin compile error"},
	{name: "maven-compile-error", class: ClassBuildError, weight: 80, kw: kw("[error] "), re: rx(`^\[ERROR\] (?:/|[A-Za-z]:)?\S+\.(?:java|kt|scala|groovy):\[\d+,\d+\] `),
		label: "Java compile error"},
	{name: "maven-compilation-header", class: ClassBuildError, weight: 45, kw: kw("compilation error", "compilation failure"),
		re: rx(`^\[ERROR\] (?:COMPILATION ERROR|.*Compilation failure)`), after: 2,
		label: "Java compilation failed"},
	{name: "linker-error", class: ClassBuildError, weight: 75,
		kw: kw("undefined reference to", "undefined symbols for architecture", "unresolved external symbol", "multiple definition of"), before: 1, after: 2,
		label: "Linker error"},
	{name: "cmake-error", class: ClassBuildError, weight: 60, kw: kw("cmake error"), after: 3, contMode: contUntilBlank,
		label: "CMake error"},
	{name: "python-exception", class: ClassBuildError, weight: 45, kw: kw("error: ", "exception: "),
		re: rx(`^(?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception): \S`), before: 4, pyExc: true,
		label: "Exception"}, // Python tracebacks, and Java or Kotlin exceptions printed the same way
	{name: "python-frame", frame: true, kw: kw("\n  file \"", "traceback (most recent call last)")},
	{name: "rust-error", class: ClassUnknown, weight: 15, kw: kw("\nerror: "), re: rx(`^error: `),
		not:   rx(`^error: (?:[Cc]ould not compile|test failed|aborting due to|Recipe|failed to run custom build command for|process didn't exit successfully|\d+ (?:error|problem))`),
		after: 5, contMode: contUntilBlank, generic: true,
		upgrade: &upgrade{re: rx(`^\s*--> \S+:\d+:\d+`), class: ClassBuildError, weight: 78, label: "Rust compile error"},
		label:   "Error"},
	{name: "docker-build-failed", class: ClassBuildError, weight: 40, kw: kw("failed to solve", "failed to build"),
		re: rx(`(?:ERROR|error): failed to (?:solve|build)`), classify: dockerSolve, before: 2,
		label: "Docker build failed"},
	{name: "docker-run-failed", class: ClassBuildError, weight: 45, kw: kw("did not complete successfully"),
		re: rx(`^ERROR: process ".*" did not complete successfully`), before: 6,
		label: "Docker build step failed"},
	{name: "bundler-unresolved-import", class: ClassBuildError, weight: 72,
		kw: kw("failed to resolve import", "module not found: error: can't resolve", "could not resolve \""),
		re: rx(`failed to resolve import|Module not found: Error: Can't resolve|\[ERROR\] Could not resolve "`), before: 1, after: 1,
		label: "Bundler could not resolve an import"},
	{name: "gradle-task-failed", class: ClassBuildError, weight: 35, kw: kw("\n> task "), re: rx(`^> Task (\S+) FAILED`),
		classify: gradleTaskClass, label: "Gradle task failed"},
	{name: "ninja-failed", class: ClassBuildError, weight: 25, kw: kw("\nfailed: "), re: rx(`^FAILED: \S`), after: 1,
		label: "Build step failed"},
}

// lintIfLintStep classifies compiler-style diagnostics printed by a vet or
// lint step as lint errors.
func lintIfLintStep(c *candidate, _ []byte) {
	if lintStep(c.stepName) {
		c.class = ClassLintError
	}
}

// dockerSolve refines "failed to solve": a missing base image or file is a
// more specific cause than a failed RUN instruction.
func dockerSolve(c *candidate, body []byte) {
	switch {
	case bytes.Contains(body, []byte("did not complete successfully")):
		c.weight = 30
	case bytes.Contains(body, []byte("pull access denied")), bytes.Contains(body, []byte("manifest unknown")):
		c.class, c.weight = ClassDependencyError, 76
	case bytes.Contains(body, []byte("not found")):
		c.weight = 60
	}
}
