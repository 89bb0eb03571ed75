package testresults

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
)

// PackageTest is the Name given to the record of a Go package that failed
// without a failing test: a build failure, a panic outside any test, a
// timeout, a TestMain that exited non-zero.
const PackageTest = "(package)"

// maxEventLine bounds one `go test -json` line.
const maxEventLine = 1 << 20

// ErrNotGoTestJSON is returned when a stream holds no test2json event.
var ErrNotGoTestJSON = errors.New("not a go test -json stream")

// event is one test2json record (cmd/test2json documents the fields).
type event struct {
	Action      string
	Package     string
	ImportPath  string
	Test        string
	Elapsed     float64
	Output      string
	FailedBuild string
}

type goTest struct {
	pkg, name string
	outcome   Outcome
	elapsed   time.Duration
	message   string
	file      string
	order     int
}

type goPackage struct {
	failed      bool
	message     string
	elapsed     time.Duration
	failedBuild string
	order       int
}

var goFileLine = regexp.MustCompile(`^([\w./\\-]+_test\.go):\d+:`)

// ParseGoTestJSON reads a `go test -json` (test2json) stream. Every test
// and subtest (TestA/sub) with a pass, fail or skip action becomes a
// Result with Suite and Class set to its package; Elapsed gives the
// duration. A test that started but has no final action when its package
// ends (a panic, a timeout) counts as failed. A package that failed with no
// failing test — a build failure (build-output/build-fail events or the
// older "[build failed]" output), a panic outside a test — becomes one
// error Result named PackageTest. The message is the first output line of
// the test that is not a "=== RUN"/"--- FAIL" marker; a file is taken
// from a leading "name_test.go:12:" in that line.
func ParseGoTestJSON(r io.Reader) ([]Result, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxEventLine)
	tests := map[[2]string]*goTest{}
	pkgs := map[string]*goPackage{}
	builds := map[string]string{} // import path -> first build error line
	events, order := 0, 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] != '{' {
			continue // go test -json interleaves plain lines (e.g. "# pkg") on stderr captures
		}
		var ev event
		if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.Action == "" {
			continue
		}
		events++
		order++
		switch {
		case ev.Action == "build-output":
			if _, ok := builds[ev.ImportPath]; !ok || builds[ev.ImportPath] == "" {
				builds[ev.ImportPath] = buildLine(ev.Output)
			}
		case ev.Test == "":
			applyPackage(pkgs, ev, order)
		default:
			applyTest(tests, ev, order)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("failed to read go test -json stream: %w", err)
	}
	if events == 0 {
		return nil, ErrNotGoTestJSON
	}
	return goResults(tests, pkgs, builds), nil
}

func buildLine(out string) string {
	l := firstLine(out)
	if strings.HasPrefix(l, "# ") {
		return "" // the "# pkg" header; the error is on the next line
	}
	return l
}

func applyPackage(pkgs map[string]*goPackage, ev event, order int) {
	p := pkgs[ev.Package]
	if p == nil {
		p = &goPackage{order: order}
		pkgs[ev.Package] = p
	}
	switch ev.Action {
	case "fail":
		p.failed = true
		p.elapsed = seconds(ev.Elapsed)
		if ev.FailedBuild != "" {
			p.failedBuild = ev.FailedBuild
		}
	case "output":
		l := firstLine(ev.Output)
		if p.message == "" && isPackageProblem(l) {
			p.message = l
		}
	}
}

func isPackageProblem(l string) bool {
	return strings.HasPrefix(l, "panic:") || strings.Contains(l, "[build failed]") ||
		strings.HasPrefix(l, "FAIL") && strings.Contains(l, "[setup failed]") ||
		strings.Contains(l, ".go:") || strings.HasPrefix(l, "fatal error:")
}

func applyTest(tests map[[2]string]*goTest, ev event, order int) {
	k := [2]string{ev.Package, ev.Test}
	t := tests[k]
	if t == nil {
		t = &goTest{pkg: ev.Package, name: ev.Test, order: order}
		tests[k] = t
	}
	switch ev.Action {
	case "pass":
		t.outcome, t.elapsed = Passed, seconds(ev.Elapsed)
	case "fail":
		t.outcome, t.elapsed = Failed, seconds(ev.Elapsed)
	case "skip":
		t.outcome, t.elapsed = Skipped, seconds(ev.Elapsed)
	case "output":
		l := firstLine(ev.Output)
		if t.message != "" || l == "" || isMarker(l) {
			return
		}
		t.message = l
		if m := goFileLine.FindStringSubmatch(l); m != nil {
			t.file = m[1]
		}
	}
}

func isMarker(l string) bool {
	if strings.HasSuffix(l, "[build failed]") || strings.HasSuffix(l, "[setup failed]") {
		return false // says why a package failed
	}
	for _, p := range []string{"=== ", "--- PASS", "--- FAIL", "--- SKIP", "PASS", "FAIL", "ok "} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

func seconds(s float64) time.Duration {
	d := time.Duration(s * float64(time.Second))
	if d < 0 || s != s {
		return 0
	}
	return d
}

func goResults(tests map[[2]string]*goTest, pkgs map[string]*goPackage, builds map[string]string) []Result {
	all := make([]*goTest, 0, len(tests))
	for _, t := range tests {
		all = append(all, t)
	}
	slices.SortFunc(all, func(a, b *goTest) int { return a.order - b.order })
	failedTests := map[string]bool{}
	out := make([]Result, 0, len(all)+1)
	for _, t := range all {
		if t.outcome == "" {
			if p := pkgs[t.pkg]; p != nil && !p.failed {
				continue // output-only noise for a package that passed
			}
			t.outcome = Failed
			if t.message == "" {
				t.message = "test did not finish (panic, timeout or killed)"
			}
		}
		if t.outcome == Failed {
			failedTests[t.pkg] = true
		}
		out = append(out, newResult(t.pkg, t.pkg, t.name, t.outcome, t.elapsed, t.message, t.file))
	}
	names := make([]string, 0, len(pkgs))
	for n := range pkgs {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int { return pkgs[a].order - pkgs[b].order })
	for _, n := range names {
		p := pkgs[n]
		if !p.failed || failedTests[n] {
			continue
		}
		msg := p.message
		if p.failedBuild != "" {
			msg = "build failed: " + p.failedBuild
			if b := builds[p.failedBuild]; b != "" {
				msg += ": " + b
			}
		}
		if msg == "" {
			msg = "package failed without a failing test"
		}
		out = append(out, newResult(n, n, PackageTest, Error, p.elapsed, msg, ""))
	}
	return out
}
