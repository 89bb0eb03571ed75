package loganalysis

import (
	"bytes"
	"math"
	"strings"
)

const (
	warningWeight = 25 // a "##[warning]" line never outweighs an error
	noiseWeight   = 10 // cache and upload noise the job survives
)

// inContext adjusts a new candidate by where it was found: its step and
// job, a warning annotation, cache noise around it, and for Python
// exceptions the exception type and the step's tool.
func (a *analyzer) inContext(c *candidate) {
	c.post = a.inPost()
	c.job = a.job
	if a.warned {
		c.weight = math.Min(c.weight, warningWeight)
	}
	switch c.class {
	case ClassAuthError, ClassNetworkError, ClassRateLimit:
		if !a.annotated && a.cacheNoise(c.body) {
			c.class, c.weight = ClassUnknown, noiseWeight
		}
	}
	if c.r.pyExc {
		a.classifyPython(c)
	}
	if c.r.testInTestStep && a.testContext(c.stepName) {
		c.class = ClassTestFailure
	}
}

// cacheNoise reports whether the line or the three lines before it in the
// same step talk about a build cache (sccache, ccache, actions/cache) or a
// report upload: a cache or report that cannot be written, without an error
// annotation, slows or blinds the build but does not fail it.
func (a *analyzer) cacheNoise(body string) bool {
	if isCacheLine([]byte(body)) {
		return true
	}
	for k := 1; k <= min(3, a.ringLen); k++ {
		l := &a.ring[(a.ringNext-k+ringSize)%ringSize]
		if l.step != a.cur {
			break
		}
		if isCacheLine(l.text) {
			return true
		}
	}
	return false
}

func isCacheLine(b []byte) bool {
	l := bytes.ToLower(b)
	return bytes.Contains(l, []byte("sccache")) || bytes.Contains(l, []byte("ccache")) ||
		bytes.Contains(l, []byte("cache service")) || bytes.Contains(l, []byte("failed to save cache")) ||
		bytes.Contains(l, []byte("failed to restore cache")) || bytes.Contains(l, []byte("compiler-cache")) ||
		bytes.Contains(l, []byte("failed to upload")) || bytes.Contains(l, []byte("failed to parse and upload"))
}

// testContext reports whether the current step runs tests: a test marker
// was seen, its name or command names a test tool, or the traceback
// runs through test files.
func (a *analyzer) testContext(stepName string) bool {
	return (a.cur >= 0 && a.stepTest[a.cur]) || testStepName(stepName) || a.frames.test
}

// classifyPython classifies a Python exception line. A syntax or import
// error is a build error wherever it happens; otherwise a traceback in a
// test step is a test failure, in the workflow's own scripts a
// configuration error, in a lint step a lint error. A bare RuntimeError
// or CalledProcessError elsewhere is usually a harness re-raising what failed earlier, so it
// stays unclassified with a low weight and a more specific line wins.
func (a *analyzer) classifyPython(c *candidate) {
	typ := pythonType(c.body)
	switch {
	case strings.Contains(c.body, "Failed to execute goal"):
		// Maven's -e output: a LifecycleExecutionException carrying the goal's failure.
		mavenGoalClass(c, []byte(c.body))
	case typ == "SyntaxError" || typ == "IndentationError" || typ == "TabError":
		c.class, c.weight = ClassBuildError, 62
	case typ == "ImportError":
		c.class = ClassBuildError
	case a.testContext(c.stepName) || strings.Contains(c.body, "test") && strings.Contains(c.body, "failed"):
		c.class, c.weight = ClassTestFailure, 55
	case a.frames.ci:
		c.class = ClassConfigError
	case lintStep(c.stepName):
		c.class = ClassLintError
	case typ == "RuntimeError" || typ == "CalledProcessError":
		c.class, c.weight = ClassUnknown, 30
	}
}

// pythonType returns the unqualified exception type of an exception line
// ("torch.OutOfMemoryError: ..." gives "OutOfMemoryError").
func pythonType(body string) string {
	t := strings.TrimSpace(body)
	if i := strings.IndexByte(t, ':'); i >= 0 {
		t = t[:i]
	}
	if i := strings.LastIndexByte(t, '.'); i >= 0 {
		t = t[i+1:]
	}
	return t
}

// stepTools maps words of a step's name or command to the class its failure
// has when no line explains it, in order of precedence.
var stepTools = []struct {
	class Class
	words []string
}{
	{ClassDependencyError, []string{"npm ci", "npm install", "yarn install", "pnpm install", "pip install", "poetry install", "uv sync",
		"bundle install", "composer install", "go mod download", "cargo fetch", "apt-get install", "conda install"}},
	{ClassLintError, []string{"lint", "eslint", "ruff", "flake8", "mypy", "clippy", "rubocop", "prettier", "black --check", "stylelint",
		"checkstyle", "spotless", "ktlint", "gofmt", "go vet", "shellcheck", "actionlint", "typos", "codespell"}},
	{ClassTestFailure, []string{"test", "pytest", "jest", "vitest", "rspec", "phpunit", "ctest", "playwright", "cypress", "tox"}},
	{ClassBuildError, []string{"build", "compile", "make", "cmake", "tsc", "webpack", "bazel", "assemble", "package"}},
}

// stepClass returns the class a failure of the named step has by its
// command alone, or ClassUnknown.
func stepClass(step string) Class {
	n := strings.ToLower(step)
	for _, t := range stepTools {
		for _, w := range t.words {
			if strings.Contains(n, w) {
				return t.class
			}
		}
	}
	return ClassUnknown
}
