package failureanalysis

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"
)

func TestWorkerTurnsGitHubErrorsIntoRiverDecisions(t *testing.T) {
	t.Parallel()
	const reset = "in 90 s" // set when the subtest runs: parallel subtests may start much later
	runPath := fmt.Sprintf("/repos/acme/widgets/actions/runs/%d", runID)
	logPath := "/repos/acme/widgets/actions/jobs/399444496/logs"
	tests := []struct {
		name    string
		path    string
		failure apiFailure
		// want is "snooze", "cancel" or "retry" (a plain error River retries with backoff).
		want      string
		minSnooze time.Duration
	}{
		{"401 bad credentials", runPath, apiFailure{Status: 401, Body: `{"message":"Bad credentials"}`}, "retry", 0},
		{"403 forbidden", runPath, apiFailure{Status: 403, Body: `{"message":"Resource not accessible by integration"}`}, "retry", 0},
		{"403 primary rate limit", runPath, apiFailure{Status: 403, Headers: map[string]string{
			"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset,
		}, Body: `{"message":"API rate limit exceeded for installation ID 99."}`}, "snooze", 60 * time.Second},
		{"403 secondary rate limit", runPath, apiFailure{Status: 403, Headers: map[string]string{"Retry-After": "30"},
			Body: `{"message":"You have exceeded a secondary rate limit.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`}, "snooze", 30 * time.Second},
		{"404 run gone", runPath, apiFailure{Status: 404, Body: `{"message":"Not Found"}`}, "cancel", 0},
		{"422 invalid", runPath, apiFailure{Status: 422, Body: `{"message":"Validation Failed"}`}, "cancel", 0},
		{"429 with Retry-After", runPath, apiFailure{Status: 429, Headers: map[string]string{"Retry-After": "17"}, Body: `{"message":"Too Many Requests"}`}, "snooze", 17 * time.Second},
		{"500", runPath, apiFailure{Status: 500, Body: `{"message":"Server Error"}`}, "retry", 0},
		{"502 on the log address", logPath, apiFailure{Status: 502, Body: "bad gateway"}, "retry", 0},
		{"429 on the log address", logPath, apiFailure{Status: 429, Headers: map[string]string{"Retry-After": "45"}}, "snooze", 45 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.gh.addRun(singleJobRun(testFailureLog, 1))
			if tc.failure.Headers["X-RateLimit-Reset"] == reset {
				tc.failure.Headers = map[string]string{"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0",
					"X-RateLimit-Reset": strconv.FormatInt(time.Now().Add(90*time.Second).Unix(), 10)}
			}
			h.gh.fail("GET", tc.path, tc.failure)
			err := h.workDirect(webhookArgs(runID, 1))
			require.Error(t, err)
			var snooze *river.JobSnoozeError
			var cancel *river.JobCancelError
			switch tc.want {
			case "snooze":
				require.ErrorAs(t, err, &snooze)
				require.GreaterOrEqual(t, snooze.Duration, tc.minSnooze)
				require.Less(t, snooze.Duration, tc.minSnooze+time.Minute)
			case "cancel":
				require.ErrorAs(t, err, &cancel)
			default:
				require.False(t, errors.As(err, &snooze), "got a snooze: %v", err)
				require.False(t, errors.As(err, &cancel), "got a cancel: %v", err)
			}
			require.Empty(t, h.gh.Comments(7), "nothing is reported after a failed request")
		})
	}
}

func TestWorkerReadsOnlyTheTailOfHugeLogs(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := range 40000 { // ~2.4 MB of passing test output before the failure
		fmt.Fprintf(&b, "=== RUN   TestGenerated%05d\n--- PASS: TestGenerated%05d (0.00s)\n", i, i)
	}
	log := actionsLog("go test ./...", strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")...)
	log = strings.Replace(log, "##[error]Process completed", "--- FAIL: TestCheckout (0.01s)\n    checkout_test.go:88: total = 41, want 42\nFAIL\tgithub.com/acme/widgets/checkout\t3.2s\n##[error]Process completed", 1)
	const limit = 64 << 10

	for _, ignoreRange := range []bool{false, true} {
		t.Run(fmt.Sprintf("server ignores Range %v", ignoreRange), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.gh.ignoreRange = ignoreRange
			h.gh.setConfig(fmt.Sprintf("failure_analysis:\n  log_bytes_limit: %d\n", limit))
			h.gh.addRun(singleJobRun(log, 1))
			require.Greater(t, len(log), 30*limit)

			out := h.analyze(t, webhookArgs(runID, 1))
			require.Equal(t, []string{fmt.Sprintf("bytes=-%d", limit)}, h.gh.BlobRanges())
			require.Len(t, out.Failures, 1)
			require.Equal(t, "test_failure", out.Failures[0].Classification)
			require.Equal(t, []string{"TestCheckout"}, out.Failures[0].FailedTests)
			body := h.gh.Comments(7)[0].Body
			require.Contains(t, body, "total = 41, want 42")
			require.Contains(t, body, "the log's last part")
		})
	}
}

func TestWorkerHonoursRepoConfig(t *testing.T) {
	t.Parallel()

	t.Run("disabled", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.gh.setConfig("failure_analysis:\n  enabled: false\n")
		h.gh.addRun(failedRun())
		out := h.analyze(t, webhookArgs(runID, 1))
		require.Contains(t, out.Skipped, "disabled")
		require.Len(t, h.gh.Requests(), 1, "only the configuration is read")
		require.Empty(t, h.gh.Comments(7))
	})

	t.Run("invalid YAML is reported and the defaults apply", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.gh.setConfig("failure_analysis:\n  enabled: [oops\n  <b>@admins</b>: 1\n")
		h.gh.addRun(failedRun())
		out := h.analyze(t, webhookArgs(runID, 1))
		require.NotEmpty(t, out.ConfigProblem)
		require.Len(t, out.Failures, 2)
		body := h.gh.Comments(7)[0].Body
		require.Contains(t, body, "The repository configuration could not be used (defaults apply)")
		require.Contains(t, body, ".github/autonomous.yml")
		require.NotContains(t, body, "<b>")
		require.Len(t, h.gh.BotCheckRuns(), 1)
	})

	t.Run("unknown key is reported", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.gh.setConfig("failure_analysis:\n  comments: false\n")
		h.gh.addRun(failedRun())
		out := h.analyze(t, webhookArgs(runID, 1))
		require.Contains(t, out.ConfigProblem, "comments")
		require.Len(t, h.gh.Comments(7), 1)
	})

	t.Run("comment false", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.gh.setConfig("failure_analysis:\n  comment: false\n")
		h.gh.addRun(failedRun())
		out := h.analyze(t, webhookArgs(runID, 1))
		require.Len(t, out.Failures, 2)
		require.Empty(t, h.gh.Comments(7))
		require.Empty(t, h.gh.requestsTo("GET", "/issues/7/comments"))
		require.Len(t, h.gh.BotCheckRuns(), 1)
	})

	t.Run("check_run false", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.gh.setConfig("failure_analysis:\n  check_run: false\n")
		h.gh.addRun(failedRun())
		h.analyze(t, webhookArgs(runID, 1))
		require.Len(t, h.gh.Comments(7), 1)
		require.Empty(t, h.gh.BotCheckRuns())
	})

	t.Run("ignored workflow", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.gh.setConfig("failure_analysis:\n  ignore_workflows: [ci]\n")
		h.gh.addRun(failedRun())
		out := h.analyze(t, webhookArgs(runID, 1))
		require.Contains(t, out.Skipped, "ignore_workflows")
		require.Empty(t, h.gh.Comments(7))
	})
}

// thirdPartyCheck is a failed check run of another CI app, in GitHub's shape.
func thirdPartyCheck(id int64, name, appSlug string) map[string]any {
	return map[string]any{
		"id": id, "name": name, "head_sha": headSHA, "status": "completed", "conclusion": "failure",
		"external_id": "build-8812", "details_url": "https://ci.example.com/acme/widgets/8812",
		"html_url": fmt.Sprintf("https://github.com/acme/widgets/runs/%d", id),
		"app":      map[string]any{"id": 18001, "slug": appSlug, "name": "Example CI"},
		"output": map[string]any{
			"title":   "Build failed",
			"summary": "1 error",
			"text": "$ npm run build\n> tsc -p .\nsrc/cart/total.ts(12,5): error TS2322: Type 'string' is not assignable to type 'number'.\n" +
				"npm ERR! code ELIFECYCLE\n",
			"annotations_count": 1,
		},
		"annotations": []map[string]any{{
			"path": "src/cart/total.ts", "start_line": 12, "end_line": 12, "annotation_level": "failure",
			"message": "Type 'string' is not assignable to type 'number'.", "title": "TS2322",
		}},
		"pull_requests": []map[string]any{{"number": 7, "id": 1007, "head": map[string]any{"ref": "feature", "sha": headSHA}, "base": map[string]any{"ref": "main", "sha": "0000111122223333444455556666777788889999"}}},
		"check_suite":   map[string]any{"id": 5551},
	}
}

func TestWorkerAnalyzesThirdPartyCheckRuns(t *testing.T) {
	t.Parallel()

	t.Run("reported once, retried without duplicates", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.gh.addCheckRun(777, thirdPartyCheck(777, "Example CI / build", "example-ci"))
		args := Args{Owner: fakeOwner, Repo: fakeRepo, InstallationID: 99, CheckRunID: 777, Trigger: "webhook"}
		out := h.analyze(t, args)
		require.Len(t, out.Failures, 1)
		require.Equal(t, "build_error", out.Failures[0].Classification)
		require.Equal(t, []int{7}, out.PullRequests)
		require.Contains(t, out.Rerun, "no re-run")
		require.Len(t, h.gh.requestsTo("GET", "/check-runs/777/annotations"), 1)

		comments := h.gh.Comments(7)
		require.Len(t, comments, 1)
		require.Contains(t, comments[0].Body, "Example CI / build")
		require.Contains(t, comments[0].Body, "TS2322")
		checks := h.gh.BotCheckRuns()
		require.Len(t, checks, 1)
		_, _, annotations := checkRunOutput(t, checks[out.CheckRunID])
		require.NotEmpty(t, annotations)
		require.Equal(t, "src/cart/total.ts", annotations[0]["path"])

		again := h.analyze(t, Args{Owner: fakeOwner, Repo: fakeRepo, CheckRunID: 777, Trigger: "comment:5"})
		require.Equal(t, out.CheckRunID, again.CheckRunID)
		require.Len(t, h.gh.BotCheckRuns(), 1)
		require.Len(t, h.gh.Comments(7), 1)
	})

	for _, tc := range []struct{ name, check, app string }{
		{"GitHub Actions check", "build", "github-actions"},
		{"the bot's own check", CheckRunName, "autonomous-ci"},
	} {
		t.Run("skips "+tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.gh.addCheckRun(778, thirdPartyCheck(778, tc.check, tc.app))
			out := h.analyze(t, Args{Owner: fakeOwner, Repo: fakeRepo, CheckRunID: 778, Trigger: "webhook"})
			require.NotEmpty(t, out.Skipped)
			require.Empty(t, h.gh.Comments(7))
			require.Empty(t, h.gh.requestsTo("POST", "/check-runs"))
		})
	}
}
