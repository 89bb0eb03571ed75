package loganalysis

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const ts = "2024-05-01T12:00:00.1234567Z "

// gha turns plain lines into a timestamped GitHub Actions log.
func gha(lines ...string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(ts + l + "\n")
	}
	return b.String()
}

func TestAnalyzeBadInput(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("x", 10<<20)
	tests := []struct {
		name  string
		in    string
		class Class
	}{
		{"empty", "", ClassUnknown},
		{"only newlines", "\n\n\r\n", ClassUnknown},
		{"binary", "\x00\x01\x02\x00\xff\xfe\n\x00\x00\n\x00error: x\x00\n\x00\n", ClassUnknown},
		{"single huge line", huge, ClassUnknown},
		{"huge line then error", huge + "\n./main.go:3:2: undefined: foo\n", ClassBuildError},
		{"only exit code trailer", gha("##[error]Process completed with exit code 1."), ClassUnknown},
		{"bom only", "\ufeff", ClassUnknown},
		{"invalid utf8", "\xff\xfe\xfd error: \xc3\x28 broken\n", ClassUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := Analyze(strings.NewReader(tt.in), Options{})
			require.NoError(t, err)
			require.Equal(t, tt.class, res.Classification)
			require.NotNil(t, res.FailedTests)
			require.NotNil(t, res.Excerpt)
			require.NotNil(t, res.Evidence)
			for _, l := range res.Excerpt {
				require.LessOrEqual(t, len(l.Text), maxLineBytes)
			}
			data, err := json.Marshal(res)
			require.NoError(t, err)
			require.Contains(t, string(data), `"failed_tests":[]`)
		})
	}
}

func TestAnalyzeTrailerOnlyExcerpt(t *testing.T) {
	t.Parallel()
	res := AnalyzeText(gha("##[group]Run ./deploy.sh", "./deploy.sh", "##[endgroup]", "deploying", "##[error]Process completed with exit code 3."), Options{})
	require.Equal(t, ClassUnknown, res.Classification)
	require.Equal(t, "Run ./deploy.sh", res.FailedStep)
	require.Equal(t, []Line{{Line: 4, Text: "deploying"}, {Line: 5, Text: "##[error]Process completed with exit code 3."}}, res.Excerpt)
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

func TestAnalyzeReadError(t *testing.T) {
	t.Parallel()
	_, err := Analyze(io.MultiReader(strings.NewReader("line\n"), failingReader{}), Options{})
	require.ErrorContains(t, err, "failed to read log: boom")
}

func TestAnalyzeCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		log       string
		opts      Options
		class     Class
		tests     []string
		retryable bool
		step      string
		excerpt   []int
	}{
		{
			name: "go test failure beats generic trailer far below",
			log: gha(append(append([]string{"##[group]Run go test ./...", "go test ./...", "##[endgroup]",
				"--- FAIL: TestFoo (0.00s)", "    foo_test.go:42: expected 3, got 4", "FAIL", "FAIL\tgithub.com/x/y\t0.01s"},
				repeatLines("ok  \tgithub.com/x/z\t0.01s", 3000)...), "##[error]Process completed with exit code 1.")...),
			class: ClassTestFailure, tests: []string{"TestFoo"}, step: "Run go test ./...", excerpt: []int{4, 5},
		},
		{
			name:  "steps from the API win",
			log:   gha("##[group]Run make", "make", "##[endgroup]", "main.c:3:1: error: expected ';' before '}' token", "##[error]Process completed with exit code 2."),
			opts:  Options{Steps: []Step{{Number: 1, Name: "Set up job", Conclusion: "success"}, {Number: 2, Name: "Build", Conclusion: "failure"}}},
			class: ClassBuildError, tests: []string{}, step: "Build", excerpt: []int{4},
		},
		{
			name:  "plain log with CRLF and ANSI",
			log:   "Running tests\r\n\x1b[31mFAILED tests/test_a.py::test_b - assert 1 == 2\x1b[0m\r\n",
			class: ClassTestFailure, tests: []string{"tests/test_a.py::test_b"}, excerpt: []int{2},
		},
		{
			name:  "network error is retryable",
			log:   gha("##[group]Run npm ci", "npm ci", "##[endgroup]", "npm ERR! code ETIMEDOUT", "npm ERR! errno ETIMEDOUT", "##[error]Process completed with exit code 1."),
			class: ClassNetworkError, tests: []string{}, retryable: true, step: "Run npm ci", excerpt: []int{4},
		},
		{
			name:  "go subtests replace their parent",
			log:   "--- FAIL: TestA (0.00s)\n    --- FAIL: TestA/sub_one (0.00s)\n        a_test.go:9: boom\n    --- FAIL: TestA/sub_two (0.00s)\n        a_test.go:9: boom\n",
			class: ClassTestFailure, tests: []string{"TestA/sub_one", "TestA/sub_two"}, excerpt: []int{1, 2, 3},
		},
		{
			name:  "cargo and jest names",
			log:   "test a::b ... FAILED\n  ● Suite › nested › works\n",
			class: ClassTestFailure, tests: []string{"a::b", "Suite › nested › works"}, excerpt: []int{1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := AnalyzeText(tt.log, tt.opts)
			require.Equal(t, tt.class, res.Classification, res.Evidence)
			require.Equal(t, tt.tests, res.FailedTests)
			require.Equal(t, tt.retryable, res.Retryable)
			require.Equal(t, tt.step, res.FailedStep)
			require.True(t, excerptHas(res.Excerpt, tt.excerpt), "excerpt %v", res.Excerpt)
		})
	}
}

func repeatLines(l string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = l
	}
	return out
}

func TestMaxExcerptLines(t *testing.T) {
	t.Parallel()
	var lines []string
	for i := 0; i < 40; i++ {
		lines = append(lines, fmt.Sprintf("    t_test.go:%d: detail", i))
	}
	log := strings.Join(append(lines, "--- FAIL: TestBig (0.00s)"), "\n")
	res := AnalyzeText(log, Options{MaxExcerptLines: 3})
	require.Len(t, res.Excerpt, 3)
	require.Equal(t, 41, res.Excerpt[2].Line)
}

func TestFingerprintStableAcrossMatrix(t *testing.T) {
	t.Parallel()
	linux := "2024-05-01T12:00:00.1234567Z --- FAIL: TestCache (0.03s)\n" +
		"2024-05-01T12:00:00.1234567Z     cache_test.go:12: open /tmp/TestCache123456/001/db: permission denied\n"
	mac := "2024-05-02T08:11:00.7654321Z --- FAIL: TestCache (1.25s)\n" +
		"2024-05-02T08:11:00.7654321Z     cache_test.go:12: open /var/folders/xy/T/TestCache98765/001/db: permission denied\n"
	other := "--- FAIL: TestStore (0.03s)\n"
	a, b, c := AnalyzeText(linux, Options{}), AnalyzeText(mac, Options{}), AnalyzeText(other, Options{})
	require.Equal(t, a.Fingerprint(), b.Fingerprint())
	require.NotEqual(t, a.Fingerprint(), c.Fingerprint())
}

func TestRedactsExcerpt(t *testing.T) {
	t.Parallel()
	res := AnalyzeText("fatal: Authentication failed for 'https://bot:ghp_0123456789abcdefghijABCDEFGHIJ012345@github.com/o/r.git/'\n", Options{})
	require.Equal(t, ClassAuthError, res.Classification)
	require.NotContains(t, res.Excerpt[0].Text, "ghp_0123")
	require.NotContains(t, res.Summary, "ghp_0123")
}

func TestWriteText(t *testing.T) {
	t.Parallel()
	res := AnalyzeText(gha("##[group]Run go test ./...", "go test ./...", "##[endgroup]", "--- FAIL: TestFoo (0.00s)", "    foo_test.go:42: expected 3, got 4", "FAIL", "##[error]Process completed with exit code 1."), Options{})
	var buf bytes.Buffer
	require.NoError(t, WriteText(&buf, res))
	out := buf.String()
	require.Contains(t, out, "FAILURE test_failure")
	require.Contains(t, out, "Go test TestFoo failed: foo_test.go:42: expected 3, got 4")
	require.Contains(t, out, "Step:  Run go test ./...")
	require.Contains(t, out, "4 | --- FAIL: TestFoo (0.00s)")
	require.Contains(t, out, "- go-test-fail: --- FAIL: TestFoo (0.00s)")
}

func TestLocations(t *testing.T) {
	t.Parallel()
	res := AnalyzeText("src/a.ts(3,5): error TS2322: Type 'string' is not assignable to type 'number'.\n", Options{})
	require.Equal(t, []Location{{Path: "src/a.ts", Line: 3, Column: 5, Message: "error TS2322: Type 'string' is not assignable to type 'number'.", LogLine: 1}}, res.Locations)
	res = AnalyzeText("/home/runner/work/app/app/pkg/x.go:12:3: undefined: foo\n", Options{})
	require.Equal(t, "pkg/x.go", res.Locations[0].Path)
}

func FuzzAnalyze(f *testing.F) {
	f.Add([]byte(gha("##[group]Run go test", "--- FAIL: TestX (0.00s)", "##[error]Process completed with exit code 1.")))
	f.Add([]byte("\x1b[31merror[E0308]: x\n --> src/a.rs:1:2\n"))
	f.Add([]byte("\ufeff\x00\x00\x00"))
	f.Add([]byte("##[group]Run \n##[endgroup]\n#1 2.3 ERROR: process \"x\" did not complete successfully\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Analyze(bytes.NewReader(data), Options{MaxExcerptLines: 5})
		require.NoError(t, err)
		require.LessOrEqual(t, len(res.Excerpt), 5)
		require.NotNil(t, res.FailedTests)
		require.GreaterOrEqual(t, res.Confidence, 0.0)
		require.LessOrEqual(t, res.Confidence, 1.0)
		_ = res.Fingerprint()
		require.NoError(t, WriteText(io.Discard, res))
	})
}

func TestDecisiveStepAndXCTest(t *testing.T) {
	t.Parallel()
	// A continue-on-error shell step with a network error, then the job
	// fails in a JavaScript action that prints no "Process completed" line.
	coe := gha("##[group]Run npm audit --audit-level=high", "npm audit --audit-level=high", "##[endgroup]",
		"npm ERR! code ENOTFOUND",
		"npm ERR! network request to https://registry.npmjs.org/-/npm/v1/security/advisories/bulk failed, reason: getaddrinfo ENOTFOUND registry.npmjs.org",
		"##[error]Process completed with exit code 1.",
		"##[group]Run docker/build-push-action@v5", "##[endgroup]",
		"#12 [build 6/6] RUN npm run build",
		"#12 3.2 src/app.ts(3,5): error TS2322: Type 'string' is not assignable to type 'number'.",
		"ERROR: failed to solve: process \"/bin/sh -c npm run build\" did not complete successfully: exit code: 2",
		"##[error]buildx failed with: ERROR: failed to solve: process \"/bin/sh -c npm run build\" did not complete successfully: exit code: 2")
	res := AnalyzeText(coe, Options{})
	require.Equal(t, ClassBuildError, res.Classification, res.Evidence)
	require.Equal(t, "Run docker/build-push-action@v5", res.FailedStep)
	require.True(t, excerptHas(res.Excerpt, []int{10}), "excerpt %v", res.Excerpt)

	// A test reporter failing after the real failure does not take over.
	reporter := gha("##[group]Run go test ./...", "##[endgroup]", "--- FAIL: TestA (0.00s)", "    a_test.go:3: boom",
		"##[error]Process completed with exit code 1.",
		"##[group]Run dorny/test-reporter@v1", "##[endgroup]", "##[error]Failed test were found and 'fail-on-error' option is set to true")
	res = AnalyzeText(reporter, Options{})
	require.Equal(t, ClassTestFailure, res.Classification)
	require.Equal(t, "Run go test ./...", res.FailedStep)

	xc := gha("##[group]Run xcodebuild test -scheme App", "##[endgroup]",
		"Test Case '-[AppTests.CartTests testTotal]' started.",
		"/Users/runner/work/App/App/Tests/CartTests.swift:42: error: -[AppTests.CartTests testTotal] : XCTAssertEqual failed: (\"10\") is not equal to (\"11\")",
		"Test Case '-[AppTests.CartTests testTotal]' failed (0.012 seconds).",
		"** TEST FAILED **", "##[error]Process completed with exit code 65.")
	res = AnalyzeText(xc, Options{})
	require.Equal(t, ClassTestFailure, res.Classification, res.Evidence)
	require.Equal(t, []string{"AppTests.CartTests.testTotal"}, res.FailedTests)
	require.True(t, excerptHas(res.Excerpt, []int{4}))

	// The Next.js route legend is not a Jest failure.
	next := gha("##[group]Run npm run build", "##[endgroup]", "●  (SSG)     prerendered as static HTML (uses getStaticProps)", "##[error]Process completed with exit code 1.")
	require.Empty(t, AnalyzeText(next, Options{}).FailedTests)
}

// TestSummaryLabelOnce: a cause line that already starts with its label ("Error: ...") is not
// prefixed with it again, whatever its case.
func TestSummaryLabelOnce(t *testing.T) {
	t.Parallel()
	for _, line := range []string{"Error: deploy failed with exit code 3", "error: deploy failed with exit code 3", "ERROR: deploy failed with exit code 3"} {
		res, err := Analyze(strings.NewReader(gha("Run ./deploy.sh", line, "##[error]Process completed with exit code 3.")), Options{})
		require.NoError(t, err)
		lower := strings.ToLower(res.Summary)
		require.True(t, strings.HasPrefix(lower, "error: deploy failed"), res.Summary)
		require.NotContains(t, lower, "error: error:", res.Summary)
		var out bytes.Buffer
		require.NoError(t, WriteText(&out, res))
		require.NotRegexp(t, `(?im)^error: error:`, out.String())
	}
}
