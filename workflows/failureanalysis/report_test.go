package failureanalysis

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-github/v62/github"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/config"
	"github.com/contexten/autonomous/prreport"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows/failureanalysis/loganalysis"
)

// mention and issueRef find what untrusted text must never become outside code (package
// markdown's tests check the rest).
var (
	mention  = regexp.MustCompile(`@[A-Za-z0-9]`)
	issueRef = regexp.MustCompile(`#[0-9]`)
)

func hostileFailure() failure {
	return failure{
		fingerprint: "abc",
		result: loganalysis.Result{
			Classification: loganalysis.ClassTestFailure, Confidence: 0.9,
			Summary:     "TestX failed: see [docs](https://evil.example) @admins <script>alert(1)</script> #1",
			FailedStep:  "Run `make test`",
			FailedTests: []string{"TestX/`sub`"},
			Excerpt: []loganalysis.Line{
				{Line: 9, Text: "```"},
				{Line: 10, Text: "</details><img src=x> @admins [x](https://evil.example)"},
			},
		},
		jobs: []jobRef{{Name: "test [x](https://evil.example) @admins", URL: "https://github.com/acme/widgets/actions/runs/1/job/2", StepNumber: 4}},
	}
}

func TestRenderComment(t *testing.T) {
	t.Parallel()
	run := &github.WorkflowRun{
		ID: github.Int64(1), Name: github.String("CI <b>"), WorkflowID: github.Int64(3), HeadSHA: github.String(headSHA),
		HTMLURL: github.String("https://github.com/acme/widgets/actions/runs/1"), RunAttempt: github.Int(1),
	}
	failed := newFailedSection(run, 1, []failure{hostileFailure()}, 0, rerunDecision{reason: "a test_failure failure is not something a re-run fixes"}, false)
	otherRun := &github.WorkflowRun{ID: github.Int64(2), Name: github.String("Lint"), WorkflowID: github.Int64(4), HeadSHA: github.String(headSHA),
		HTMLURL: github.String("https://github.com/acme/widgets/actions/runs/2")}
	passed := newPassedSection(otherRun, 2, []store.RunResult{{Attempt: 1, HTMLURL: "https://github.com/acme/widgets/actions/runs/2/attempts/1"}})

	t.Run("one failure and one pass", func(t *testing.T) {
		t.Parallel()
		body := prreport.Render(map[string]prreport.Section{failed.Key: failed, passed.Key: passed}, "")
		require.True(t, strings.HasPrefix(body, prreport.Marker+"\n"))
		require.Contains(t, body, "## ❌ Autonomous CI: CI &lt;b&gt; failed: TestX failed")
		require.Less(t, strings.Index(body, "### ❌"), strings.Index(body, "### ✅"), "failures come first")
		require.Contains(t, body, "**Flaky:** the same commit `6dcb09b` failed in [attempt 1](https://github.com/acme/widgets/actions/runs/2/attempts/1) and passed in [attempt 2](https://github.com/acme/widgets/actions/runs/2/attempts/2)")
		require.Contains(t, body, "- **Failed step:** `` Run `make test` ``")
		require.Contains(t, body, "````text\n 9 | ```\n10 | </details>")

		// Outside the fenced excerpt, no hostile markup survives.
		outside := body[:strings.Index(body, "````text")] + body[strings.LastIndex(body, "````")+4:]
		require.NotContains(t, outside, "<script>")
		require.NotContains(t, outside, "<img")
		require.False(t, mention.MatchString(outside), "mention outside the excerpt")
		require.NotContains(t, outside, "[docs](")
		require.NotContains(t, outside, "[x](https://evil.example)")
		require.False(t, issueRef.MatchString(outside))
		// The only links are GitHub's.
		for _, m := range regexp.MustCompile(`[^\\]\]\((https?://[^)]*)\)`).FindAllStringSubmatch(outside, -1) {
			require.True(t, strings.HasPrefix(m[1], "https://github.com/acme/widgets/"), "link to %s", m[1])
		}
	})

	t.Run("all pass", func(t *testing.T) {
		t.Parallel()
		body := prreport.Render(map[string]prreport.Section{passed.Key: passed}, "")
		require.Contains(t, body, "## ✅ Autonomous CI: all analyzed workflows pass now")
	})

	t.Run("several failures and a config problem", func(t *testing.T) {
		t.Parallel()
		other := failed
		other.Key = "workflow:99"
		body := prreport.Render(map[string]prreport.Section{failed.Key: failed, other.Key: other}, "invalid .github/autonomous.yml: <b>@admins</b>")
		require.Contains(t, body, "## ❌ Autonomous CI: 2 workflows failed")
		require.Contains(t, body, "> [!WARNING]\n> The repository configuration could not be used (defaults apply): invalid .github/autonomous.yml: &lt;b&gt;@\u200badmins&lt;/b&gt;")
	})
}

func TestAnnotationsNameRepositoryFiles(t *testing.T) {
	t.Parallel()
	f := failure{result: loganalysis.Result{Classification: loganalysis.ClassBuildError, Summary: "build failed", Locations: []loganalysis.Location{
		{Path: "./internal/store/store.go", Line: 42, Message: "undefined: x"},
		{Path: "internal/store/store.go", Line: 42, Message: "undefined: x"},
		{Path: "/usr/lib/go/src/fmt/print.go", Line: 7},
		{Path: "../outside.go", Line: 3},
		{Path: "main.go", Line: 0},
		{Path: "cmd/main.go", Line: 9},
	}}}
	anns := annotations([]failure{f})
	require.Len(t, anns, 2)
	require.Equal(t, "internal/store/store.go", anns[0].GetPath())
	require.Equal(t, "undefined: x", anns[0].GetMessage())
	require.Equal(t, "build failed", anns[1].GetMessage(), "a location without message gets the summary")
}

func TestAnnotationsKeepThePathQualifiedLocation(t *testing.T) {
	t.Parallel()
	f := failure{result: loganalysis.Result{Classification: loganalysis.ClassTestFailure, Summary: "tests failed", Locations: []loganalysis.Location{
		{Path: "parser_test.go", Line: 42, Message: "expected 3 widgets, got 4"},
		{Path: "internal/parser/parser_test.go", Line: 42, Message: "expected 3 widgets, got 4"},
		{Path: "other_test.go", Line: 42, Message: "a bare name without a qualified twin stays"},
		{Path: "store.go", Line: 7, Message: "undefined: x"},
		{Path: "internal/store/store.go", Line: 8, Message: "another line is another place"},
	}}}
	g := failure{result: loganalysis.Result{Classification: loganalysis.ClassBuildError, Summary: "build failed", Locations: []loganalysis.Location{
		{Path: "store.go", Line: 8, Message: "undefined: y"},
	}}}
	var got []string
	for _, a := range annotations([]failure{f, g}) {
		got = append(got, fmt.Sprintf("%s:%d", a.GetPath(), a.GetStartLine()))
	}
	require.Equal(t, []string{"internal/parser/parser_test.go:42", "other_test.go:42", "store.go:7", "internal/store/store.go:8"}, got)
}

// TestAnnotationsPreferTheLongestPath: of the paths naming one file at one line, only the
// longest is annotated, whichever comes first and whether or not a column is given.
func TestAnnotationsPreferTheLongestPath(t *testing.T) {
	t.Parallel()
	bare := loganalysis.Location{Path: "thing_test.go", Line: 12, Message: "expected 3, got 4"}
	pkg := loganalysis.Location{Path: "pkg/thing_test.go", Line: 12, Column: 5, Message: "expected 3, got 4"}
	full := loganalysis.Location{Path: "./internal/pkg/thing_test.go", Line: 12, Message: "expected 3, got 4"}
	other := loganalysis.Location{Path: "cmd/thing_test.go", Line: 12, Message: "another file of that name"}
	for _, locs := range [][]loganalysis.Location{
		{bare, pkg, full, other}, {full, pkg, bare, other}, {pkg, other, bare, full}, {other, bare, full, pkg},
	} {
		f := failure{result: loganalysis.Result{Classification: loganalysis.ClassTestFailure, Summary: "tests failed", Locations: locs}}
		var got []string
		for _, a := range annotations([]failure{f}) {
			got = append(got, fmt.Sprintf("%s:%d", a.GetPath(), a.GetStartLine()))
		}
		require.ElementsMatch(t, []string{"internal/pkg/thing_test.go:12", "cmd/thing_test.go:12"}, got, "%v", locs)
	}
	// Across failures (jobs) too, and a bare name alone stays.
	a := failure{result: loganalysis.Result{Locations: []loganalysis.Location{bare, {Path: "solo_test.go", Line: 3}}}}
	b := failure{result: loganalysis.Result{Locations: []loganalysis.Location{pkg}}}
	var got []string
	for _, an := range annotations([]failure{a, b}) {
		got = append(got, fmt.Sprintf("%s:%d", an.GetPath(), an.GetStartLine()))
	}
	require.Equal(t, []string{"solo_test.go:3", "pkg/thing_test.go:12"}, got)
}

func TestDecideRerun(t *testing.T) {
	t.Parallel()
	network := failure{fingerprint: "net1", result: loganalysis.Result{Classification: loganalysis.ClassNetworkError, Retryable: true}}
	infra := failure{fingerprint: "infra1", result: loganalysis.Result{Classification: loganalysis.ClassInfrastructure, Retryable: true}}
	tests := failure{fingerprint: "test1", result: loganalysis.Result{Classification: loganalysis.ClassTestFailure}}
	hangingTest := failure{fingerprint: "hang1", result: loganalysis.Result{Classification: loganalysis.ClassTimeout, Retryable: false}}
	authRetryable := failure{fingerprint: "auth1", result: loganalysis.Result{Classification: loganalysis.ClassAuthError, Retryable: true}}
	defaults := config.DefaultRepoConfig().FailureAnalysis
	withMax := func(n int) config.FailureAnalysisConfig {
		c := config.DefaultRepoConfig().FailureAnalysis
		c.AutoRetry.MaxAttempts = n
		return c
	}
	disabled := config.DefaultRepoConfig().FailureAnalysis
	disabled.AutoRetry.Enabled = false
	run := func(status string, attempt int) *github.WorkflowRun {
		return &github.WorkflowRun{Status: github.String(status), RunAttempt: github.Int(attempt)}
	}
	cases := []struct {
		name     string
		cfg      config.FailureAnalysisConfig
		run      *github.WorkflowRun
		attempt  int
		failures []failure
		previous []store.RunResult
		rerun    bool
		reason   string
	}{
		{"every failure transient", defaults, run("completed", 1), 1, []failure{network, infra}, nil, true, "network_error, infrastructure"},
		{"one test failure among them", defaults, run("completed", 1), 1, []failure{network, tests}, nil, false, "test_failure failure is not something"},
		{"hanging test timeout", defaults, run("completed", 1), 1, []failure{hangingTest}, nil, false, "timeout failure"},
		{"retryable but class not configured", defaults, run("completed", 1), 1, []failure{authRetryable}, nil, false, "auth_error"},
		{"disabled", disabled, run("completed", 1), 1, []failure{network}, nil, false, "disabled"},
		{"max zero", withMax(0), run("completed", 1), 1, []failure{network}, nil, false, "disabled"},
		{"not completed", defaults, run("in_progress", 1), 1, []failure{network}, nil, false, "not completed"},
		{"no failures", defaults, run("completed", 1), 1, nil, nil, false, "no failed jobs"},
		{"budget used", defaults, run("completed", 2), 2, []failure{network}, nil, false, "budget (1) is used up"},
		{"within a larger budget", withMax(3), run("completed", 2), 2, []failure{network}, []store.RunResult{{Attempt: 1, Fingerprints: []string{"other"}}}, true, "transient"},
		{"newer attempt on GitHub", withMax(3), run("completed", 2), 1, []failure{network}, nil, false, "newer attempt"},
		{"same failure before", withMax(3), run("completed", 2), 2, []failure{network}, []store.RunResult{{Attempt: 1, Fingerprints: []string{"x", "net1"}}}, false, "same failure happened in attempt 1"},
		{"same fingerprint recorded for this attempt only", withMax(3), run("completed", 2), 2, []failure{network}, []store.RunResult{{Attempt: 2, Fingerprints: []string{"net1"}}}, true, "transient"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := decideRerun(tc.cfg, tc.run, tc.attempt, tc.failures, tc.previous)
			require.Equal(t, tc.rerun, d.rerun, d.reason)
			require.Contains(t, d.reason, tc.reason)
			if tc.rerun {
				require.True(t, strings.HasPrefix(d.describe(true), "re-run of failed jobs requested"))
			}
			require.True(t, strings.HasPrefix(d.describe(false), "no re-run"))
		})
	}
}
