package testoptimization

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/testoptimization/flakiness"
)

var t0 = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

// A test that failed and then passed on the same commit (a re-run) is flaky, with links to both
// attempts; a test that fails deterministically on a new commit is not.
func TestSameCommitFlipIsFlakyDeterministicFailureIsNot(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.gh.addRun(1, "sha1", t0, map[string]string{"TestA": "passed", "TestB": "passed"})
	h.gh.addRun(2, "sha2", t0.Add(time.Hour),
		map[string]string{"TestA": "failed", "TestB": "passed"},
		map[string]string{"TestA": "passed", "TestB": "passed"})
	h.gh.addRun(3, "sha3", t0.Add(2*time.Hour), map[string]string{"TestA": "passed", "TestB": "failed"})

	// Each completed attempt arrives as a webhook; the last one judges everything.
	for _, c := range []struct {
		run     int64
		attempt int
	}{{1, 1}, {2, 1}, {2, 2}, {3, 1}} {
		rep := h.run(t, CollectArgs(owner, repoName, 7, c.run, c.attempt))
		require.Len(t, rep.Collected, 1)
		require.Equal(t, sourceArtifacts, rep.Collected[0].Source, "run %d attempt %d", c.run, c.attempt)
		require.Equal(t, 2, rep.Collected[0].Tests)
	}
	rep := h.run(t, Args{Owner: owner, Repo: repoName, Trigger: "cli:1"})
	require.Equal(t, 4, rep.RunsAnalyzed)
	require.Len(t, rep.Flaky, 1, "only the same-commit flip is flaky: %+v", rep.Flaky)
	f := rep.Flaky[0]
	require.Equal(t, "pkg :: TestA", f.TestID)
	require.Equal(t, flakiness.Quarantined, f.Status, "one flip in 4 runs is over the 5%% threshold")
	require.Len(t, f.Evidence, 1)
	require.Equal(t, "sha2", f.Evidence[0].SHA)
	require.Equal(t, "https://github.com/octo/app/actions/runs/2/attempts/1", f.Evidence[0].FailedURL)
	require.Equal(t, "https://github.com/octo/app/actions/runs/2/attempts/2", f.Evidence[0].PassedURL)

	// Quarantine files one issue (through alerting, escalated to Linear) with both links.
	require.Len(t, h.alerts.Raised(), 1)
	al := h.alerts.Raised()[0]
	require.True(t, al.Escalate)
	require.Equal(t, fingerprint(owner, repoName, "pkg :: TestA"), al.Fingerprint)
	require.Len(t, al.Links, 2)

	// The CI health issue lists it, edited in place on the next report.
	require.Len(t, h.gh.issues, 1)
	body := h.gh.issues[1].GetBody()
	require.Contains(t, body, healthMarker)
	require.Contains(t, body, "`pkg :: TestA`")
	require.NotContains(t, body, "`pkg :: TestB` | quarantined")
	h.run(t, Args{Owner: owner, Repo: repoName, Trigger: "cli:2"})
	require.Len(t, h.gh.issues, 1, "the CI health issue is edited, never duplicated")
	require.Len(t, h.alerts.Raised(), 1, "an unchanged quarantine raises nothing new")

	// A redelivered webhook collects nothing twice.
	again := h.run(t, Args{Owner: owner, Repo: repoName, RunID: 2, RunAttempt: 2, Trigger: "webhook:again"})
	require.Equal(t, "already collected", again.Collected[0].Skipped)
}

// After recovered_after clean runs the quarantined test recovers and its issue is resolved
// (alerting comments on the Linear issue and closes it).
func TestQuarantinedTestRecovers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.gh.addRun(1, "sha1", t0, map[string]string{"TestA": "failed"}, map[string]string{"TestA": "passed"})
	h.run(t, CollectArgs(owner, repoName, 7, 1, 1))
	rep := h.run(t, CollectArgs(owner, repoName, 7, 1, 2))
	require.Len(t, rep.Flaky, 1)
	require.Equal(t, flakiness.Quarantined, rep.Flaky[0].Status)
	require.Len(t, h.alerts.Raised(), 1)

	for i := int64(2); i <= 21; i++ {
		h.gh.addRun(i, "sha"+string(rune('a'+i)), t0.Add(time.Duration(i)*time.Hour), map[string]string{"TestA": "passed"})
		rep = h.run(t, CollectArgs(owner, repoName, 7, i, 1))
	}
	require.Len(t, rep.Flaky, 1)
	require.Equal(t, flakiness.Recovered, rep.Flaky[0].Status)
	require.Equal(t, []Change{{TestID: "pkg :: TestA", From: "quarantined", To: "recovered"}}, rep.Changes)
	require.Equal(t, []string{fingerprint(owner, repoName, "pkg :: TestA")}, h.alerts.Resolved())
	require.Contains(t, h.gh.issues[1].GetBody(), "Recovered")
}

// An artifact over the size limit is skipped with a note; go test -json output is read as
// well as JUnit; without artifacts the log analyzer's failed tests are the evidence.
func TestArtifactsLimitsFormatsAndLogFallback(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	h.gh.addRun(1, "sha1", t0)
	h.gh.runs[0].Attempts = []fakeAttempt{{Conclusion: "failure", Started: t0, Jobs: map[string]string{"unit": "failure"}}}
	gotest := `{"Action":"run","Package":"example.com/m","Test":"TestGo"}
{"Action":"fail","Package":"example.com/m","Test":"TestGo","Elapsed":0.2}
{"Action":"run","Package":"example.com/m","Test":"TestOK"}
{"Action":"pass","Package":"example.com/m","Test":"TestOK","Elapsed":0.1}
{"Action":"fail","Package":"example.com/m","Elapsed":0.3}
`
	h.gh.addArtifact(1, "go-results", t0.Add(time.Minute), zipOf(t, map[string]string{"test.json": gotest}))
	noise := make([]byte, 4<<10)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(noise)
	big := zipOf(t, map[string]string{"huge.xml": string(noise)})
	h.gh.addArtifact(1, "huge-results", t0.Add(time.Minute), big)
	h.gh.api.Handle("GET /repos/octo/app/contents/.github/autonomous.yml", func(w httpResponseWriter, r *httpRequest, _ []byte) {
		writeContent(w, "test_optimization:\n  artifact_max_bytes: 2048\n")
	})
	rep := h.run(t, CollectArgs(owner, repoName, 7, 1, 1))
	c := rep.Collected[0]
	require.Equal(t, sourceArtifacts, c.Source)
	require.Equal(t, 2, c.Tests)
	require.Equal(t, 1, c.Failed)
	require.Len(t, c.Notes, 1)
	require.Contains(t, c.Notes[0], `"huge-results"`)
	require.Contains(t, c.Notes[0], "over the 2048-byte limit")
	res, err := h.store.TestResults(ctx, owner, repoName, 10)
	require.NoError(t, err)
	require.Len(t, res, 2)
	ids := []string{res[0].TestID, res[1].TestID}
	require.ElementsMatch(t, []string{"example.com/m :: TestGo", "example.com/m :: TestOK"}, ids)

	// No artifacts: failure analysis's failed tests, then a passing job passes them.
	h.gh.addRun(2, "sha2", t0.Add(time.Hour))
	h.gh.runs[1].Attempts = []fakeAttempt{
		{Conclusion: "failure", Started: t0.Add(time.Hour), Jobs: map[string]string{"unit": "failure"}},
		{Conclusion: "success", Started: t0.Add(2 * time.Hour), Jobs: map[string]string{"unit": "success"}},
	}
	require.NoError(t, h.store.SaveLogFailedTests(ctx, owner, repoName, 2, 1, map[string][]string{"unit": {"TestLog"}}))
	rep = h.run(t, CollectArgs(owner, repoName, 7, 2, 1))
	require.Equal(t, sourceLog, rep.Collected[0].Source)
	require.Equal(t, 1, rep.Collected[0].Failed)
	rep = h.run(t, CollectArgs(owner, repoName, 7, 2, 2))
	require.Equal(t, sourceLog, rep.Collected[0].Source)
	require.Equal(t, 0, rep.Collected[0].Failed)
	var flaky []string
	for _, f := range rep.Flaky {
		flaky = append(flaky, f.TestID)
	}
	require.Equal(t, []string{"TestLog"}, flaky, "log evidence flips too")
}

// /ci flaky answers on the pull request which of its failed tests are known flaky.
func TestPRAnswerMarksKnownFlaky(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.gh.addRun(1, "sha1", t0, map[string]string{"TestA": "failed"}, map[string]string{"TestA": "passed"})
	h.gh.addRun(2, "head", t0.Add(time.Hour), map[string]string{"TestA": "failed", "TestC": "failed"})
	for _, c := range [][2]int64{{1, 1}, {1, 2}, {2, 1}} {
		h.run(t, CollectArgs(owner, repoName, 7, c[0], int(c[1])))
	}
	h.gh.pullHead[5] = "head"
	rep := h.run(t, Args{Owner: owner, Repo: repoName, PR: 5, Trigger: "comment:9"})
	require.NotNil(t, rep.PR)
	require.ElementsMatch(t, []string{"pkg :: TestA", "pkg :: TestC"}, rep.PR.Failed)
	require.Len(t, rep.PR.Known, 1)
	require.Equal(t, "pkg :: TestA", rep.PR.Known[0].TestID)
	require.Len(t, h.gh.comments, 1)
	for _, c := range h.gh.comments {
		require.Contains(t, c.GetBody(), "known flaky (")
		require.Contains(t, c.GetBody(), "not caused by this change")
		require.Contains(t, c.GetBody(), "`pkg :: TestA`")
	}
}

func TestSameTest(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		id, name string
		same     bool
	}{
		{"example.com/pkg :: TestA", "TestA", true},
		{"example.com/pkg :: TestA/sub", "TestA/sub", true},
		{"tests/test_x.py :: test_y", "tests/test_x.py::test_y", true},
		{"com.example.FooTest :: testBar", "com.example.FooTest.testBar", true},
		{"example.com/pkg :: TestA", "TestAB", false},
		{"example.com/pkg :: TestA", "", false},
		{"a :: TestA", "other.TestB", false},
	} {
		require.Equal(t, c.same, sameTest(c.id, c.name), "%q vs %q", c.id, c.name)
	}
}

func TestBelongsTo(t *testing.T) {
	t.Parallel()
	at := func(name string, created time.Time) *githubArtifact { return newArtifact(name, created) }
	start, end := t0, t0.Add(10*time.Minute)
	require.True(t, belongsTo(at("junit", t0.Add(5*time.Minute)), 1, start, end))
	require.True(t, belongsTo(at("junit", end.Add(time.Minute)), 1, start, end), "uploads finishing as the run completes")
	require.False(t, belongsTo(at("junit", end.Add(time.Hour)), 1, start, end), "a later attempt's upload")
	require.False(t, belongsTo(at("junit", t0.Add(-time.Hour)), 2, start, end), "an earlier attempt's upload")
	require.True(t, belongsTo(at("junit-Attempt-2", t0.Add(-time.Hour)), 2, start, end), "the name decides")
	require.False(t, belongsTo(at("junit_attempt_1", t0.Add(5*time.Minute)), 2, start, end))
}
