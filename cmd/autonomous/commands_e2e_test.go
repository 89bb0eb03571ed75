package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/contexten/autonomous/workflows/commands"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// End-to-end tests of slash commands: the real server wiring, a signed issue_comment webhook in
// GitHub's documented shape, the slash_command job it enqueues, and what the fake GitHub received.

const (
	e2eRepo    = "/repos/octo-org/hello-world"
	e2eWriter  = "alice" // a collaborator with the write role
	e2eReader  = "rita"  // a collaborator with the read role
	e2eFailRun = int64(800)
)

// e2e is one started server with its fake GitHub.
type e2e struct {
	t   *testing.T
	gh  *fakeGitHub
	app *App
}

func startE2E(t *testing.T) *e2e {
	t.Helper()
	return startE2EOn(t, workflowstest.SQLiteURL(t))
}

func startE2EOn(t *testing.T, databaseURL string) *e2e {
	t.Helper()
	gh := newFakeGitHub(t)
	gh.setRole(e2eWriter, "write")
	gh.setRole(e2eReader, "read")
	app := startApp(t, testConfig(t, gh.APIURL(), databaseURL), appOptions{})
	return &e2e{t: t, gh: gh, app: app}
}

// issueCommentFixture is the handlers package's issue_comment "created" webhook for a comment on
// pull request 42, in the shape GitHub documents
// (https://docs.github.com/webhooks/webhook-events-and-payloads#issue_comment).
const issueCommentFixture = "issue_comment.created.json"

// issueCommentEvent is issueCommentFixture with the comment's id, author and body set.
func issueCommentEvent(t testing.TB, commentID int64, login, userType, body string) []byte {
	t.Helper()
	out := handlersFixture(t, issueCommentFixture)
	var err error
	for _, f := range []struct {
		path  string
		value any
	}{
		{"comment.id", commentID},
		{"comment.node_id", fmt.Sprintf("IC_%d", commentID)},
		{"comment.url", fmt.Sprintf("https://api.github.com/repos/octo-org/hello-world/issues/comments/%d", commentID)},
		{"comment.html_url", fmt.Sprintf("https://github.com/octo-org/hello-world/pull/42#issuecomment-%d", commentID)},
		{"comment.body", body},
		{"comment.user.login", login}, {"comment.user.id", 5000 + len(login)}, {"comment.user.type", userType},
		{"sender.login", login}, {"sender.id", 5000 + len(login)}, {"sender.type", userType},
	} {
		require.True(t, gjson.GetBytes(out, f.path).Exists(), "%s has no %s", issueCommentFixture, f.path)
		out, err = sjson.SetBytes(out, f.path, f.value)
		require.NoError(t, err)
	}
	return out
}

// comment stores a comment in the fake GitHub, as GitHub holds it before sending the webhook, and
// delivers the webhook; it returns the delivery's body for redeliveries.
func (e *e2e) comment(delivery string, commentID int64, login, userType, body string) []byte {
	e.t.Helper()
	e.gh.addUserComment(commentID, 42, login, userType, body)
	payload := issueCommentEvent(e.t, commentID, login, userType, body)
	require.Equal(e.t, http.StatusOK, deliver(e.t, e.app, "issue_comment", delivery, payload))
	return payload
}

// commandJobs lists the slash_command jobs.
func (e *e2e) commandJobs() []*rivertype.JobRow {
	e.t.Helper()
	res, err := e.app.engine.Client().JobList(e.t.Context(), river.NewJobListParams().Kinds(commands.Kind).First(100))
	require.NoError(e.t, err)
	return res.Jobs
}

// waitCommand waits until the slash_command job of a comment completed, and returns its output.
func (e *e2e) waitCommand(commentID int64) commands.Output {
	e.t.Helper()
	var row *rivertype.JobRow
	require.Eventually(e.t, func() bool {
		row = e.jobFor(commands.Kind, func(raw []byte) bool {
			var a commands.Args
			return json.Unmarshal(raw, &a) == nil && a.CommentID == commentID
		})
		return row != nil && row.State == rivertype.JobStateCompleted
	}, 20*time.Second, 10*time.Millisecond, "the slash_command job of comment %d did not complete: %s", commentID, describeJob(row))
	var out commands.Output
	require.NoError(e.t, json.Unmarshal(row.Output(), &out))
	return out
}

// jobFor returns the first job of kind whose args match.
func (e *e2e) jobFor(kind string, match func(args []byte) bool) *rivertype.JobRow {
	res, err := e.app.engine.Client().JobList(e.t.Context(), river.NewJobListParams().Kinds(kind).First(100))
	require.NoError(e.t, err)
	for _, row := range res.Jobs {
		if match(row.EncodedArgs) {
			return row
		}
	}
	return nil
}

func describeJob(row *rivertype.JobRow) string {
	if row == nil {
		return "no job"
	}
	var errs []string
	for _, e := range row.Errors {
		errs = append(errs, e.Error)
	}
	return fmt.Sprintf("state %s, errors %q", row.State, errs)
}

// replies returns the bot's replies to a comment on pull request 42.
func (e *e2e) replies(commentID int64) []fakeComment {
	var out []fakeComment
	for _, c := range e.gh.commentsOn(42) {
		if strings.Contains(c.Body, commands.ReplyMarker(commentID)) {
			out = append(out, c)
		}
	}
	return out
}

// reply returns the one reply to a comment.
func (e *e2e) reply(commentID int64) string {
	e.t.Helper()
	r := e.replies(commentID)
	require.Len(e.t, r, 1, "exactly one reply to comment %d", commentID)
	return r[0].Body
}

// writes returns the POST and PATCH requests the fake received, in order.
func (e *e2e) writes() []string {
	var out []string
	for _, r := range e.gh.requestsLog() {
		if strings.HasPrefix(r, "POST /repos/") || strings.HasPrefix(r, "PATCH /repos/") {
			out = append(out, r)
		}
	}
	return out
}

// touched reports the requests about pull request work: comments, reactions, permissions, pull
// requests and runs.
func (e *e2e) touched() []string {
	var out []string
	for _, r := range e.gh.requestsLog() {
		for _, s := range []string{"/issues/", "/collaborators/", "/pulls/", "/actions/", "/check-runs"} {
			if strings.Contains(r, s) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// barrier runs a `/ci help` from a write user and waits for its reply. Handlers insert
// synchronously before answering, so "no job" right after a delivery is already final; the
// barrier shows the engine was working meanwhile and that nothing else reached GitHub.
func (e *e2e) barrier(commentID int64) {
	e.t.Helper()
	e.comment(fmt.Sprintf("barrier-%d", commentID), commentID, e2eWriter, "User", "/ci help")
	e.waitCommand(commentID)
	require.Len(e.t, e.replies(commentID), 1)
}

func TestSlashCommandRetryByWriter(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	e.gh.addFailedRun(e2eFailRun)
	const id = 910001
	e.comment("retry-1", id, e2eWriter, "User", "Flaky again.\n/ci retry")

	out := e.waitCommand(id)
	require.Equal(t, []string{"retry"}, out.Commands)
	require.Equal(t, []string{"done"}, out.Statuses)

	require.Equal(t, []string{"eyes", "rocket"}, e.gh.reactionsOn(id))
	require.Equal(t, 1, e.gh.rerunsOf(e2eFailRun))
	reactions := fmt.Sprintf("POST %s/issues/comments/%d/reactions", e2eRepo, id)
	require.Equal(t, []string{
		reactions,
		fmt.Sprintf("POST %s/actions/runs/%d/rerun-failed-jobs", e2eRepo, e2eFailRun),
		"POST " + e2eRepo + "/issues/42/comments",
		reactions,
	}, e.writes(), "👀, the re-run, the reply, 🚀 — in that order")

	body := e.reply(id)
	require.Equal(t, out.ReplyID, e.replies(id)[0].ID)
	require.Contains(t, body, "@"+e2eWriter)
	require.Contains(t, body, "`/ci retry`")
	require.Contains(t, body, "re-run of the failed jobs requested")
	require.Contains(t, body, fmt.Sprintf("https://github.com/octo-org/hello-world/actions/runs/%d", e2eFailRun))
	require.Equal(t, 1, e.gh.countExact(fmt.Sprintf("GET %s/collaborators/%s/permission", e2eRepo, e2eWriter)))
	require.Equal(t, 1, e.gh.countExact(fmt.Sprintf("GET %s/pulls/42", e2eRepo)))
}

func TestSlashCommandRetryRefusedForReader(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	e.gh.addFailedRun(e2eFailRun)
	const id = 910002
	e.comment("retry-read", id, e2eReader, "User", "/ci retry")

	out := e.waitCommand(id)
	require.Equal(t, []string{"refused"}, out.Statuses)
	body := e.reply(id)
	require.Contains(t, body, "@"+e2eReader)
	require.Contains(t, body, "needs the **write** permission")
	require.Contains(t, body, "you have read permission")
	require.Contains(t, body, "Nothing was done")

	require.Equal(t, 0, e.gh.rerunsOf(e2eFailRun))
	require.Zero(t, e.gh.count("POST "+e2eRepo+"/actions/"), "no re-run requested")
	require.Zero(t, e.gh.count("GET "+e2eRepo+"/actions/runs"), "a refused command does not even look at runs")
	require.Equal(t, []string{"eyes", "confused"}, e.gh.reactionsOn(id))
}

func TestSlashCommandFromBotIsIgnored(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	e.gh.addFailedRun(e2eFailRun)
	const id = 910003
	e.comment("bot-1", id, "renovate[bot]", "Bot", "/ci retry")
	e.comment("bot-2", id+1, "some-ci-helper", "Bot", "/ci retry") // type Bot without the [bot] suffix
	require.Empty(t, e.commandJobs(), "a bot's comment enqueues no job")
	require.Empty(t, e.touched(), "a bot's comment makes no GitHub request")

	e.barrier(id + 2)
	require.Len(t, e.commandJobs(), 1, "only the barrier's job ran")
	require.Empty(t, e.gh.reactionsOn(id))
	require.Empty(t, e.gh.reactionsOn(id+1))
	require.Empty(t, e.replies(id))
	require.Empty(t, e.replies(id+1))
	require.Equal(t, 0, e.gh.rerunsOf(e2eFailRun))
}

func TestSlashCommandRedeliveryActsOnce(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	e.gh.addFailedRun(e2eFailRun)
	const id = 910004
	payload := e.comment("dup-1", id, e2eWriter, "User", "/ci retry")
	// Redelivered while the first is queued or running, and again once it finished.
	require.Equal(t, http.StatusOK, deliver(t, e.app, "issue_comment", "dup-1", payload))
	require.Len(t, e.commandJobs(), 1)
	e.waitCommand(id)
	require.Equal(t, http.StatusOK, deliver(t, e.app, "issue_comment", "dup-1", payload))
	// A redelivery under a new delivery id (GitHub's "Redeliver" keeps the id, a retry by a
	// proxy may not) is still the same comment.
	require.Equal(t, http.StatusOK, deliver(t, e.app, "issue_comment", "dup-2", payload))
	require.Len(t, e.commandJobs(), 1, "one job per comment")

	require.Equal(t, 1, e.gh.rerunsOf(e2eFailRun))
	require.Len(t, e.replies(id), 1)
	require.Zero(t, e.replies(id)[0].Edits)
	require.Equal(t, []string{"eyes", "rocket"}, e.gh.reactionsOn(id))
	require.Equal(t, 2, e.gh.countExact(fmt.Sprintf("POST %s/issues/comments/%d/reactions", e2eRepo, id)))
}

func TestSlashCommandMentionHelp(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	const id = 910005
	e.comment("help-1", id, e2eReader, "User", "@autonomous-ci help")

	out := e.waitCommand(id)
	require.Equal(t, []string{"help"}, out.Commands)
	require.Equal(t, []string{"info"}, out.Statuses)
	body := e.reply(id)
	require.Contains(t, body, "Commands start a line with `/ci` or `@autonomous-ci`")
	for _, c := range []string{"help", "analyze [run-id]", "retry", "status", "cancel"} {
		require.Contains(t, body, "`/ci "+c+"`")
	}
	require.Equal(t, []string{"eyes", "rocket"}, e.gh.reactionsOn(id))
	require.Zero(t, e.gh.count("GET "+e2eRepo+"/collaborators/"), "help needs no permission check")
	require.Zero(t, e.gh.count("POST "+e2eRepo+"/actions/"))
}

func TestSlashCommandUnknown(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	const id = 910006
	e.comment("unknown-1", id, e2eWriter, "User", "/ci frobnicate now")

	out := e.waitCommand(id)
	require.Equal(t, []string{"frobnicate"}, out.Commands)
	require.Equal(t, []string{"refused"}, out.Statuses)
	body := e.reply(id)
	require.Contains(t, body, "Unknown command `frobnicate`")
	require.Contains(t, body, "Valid commands:")
	for _, c := range []string{"help", "analyze", "retry", "status", "cancel"} {
		require.Contains(t, body, "`/ci "+c+"`")
	}
	require.Contains(t, body, "Write `/ci help` for details")
	require.Equal(t, []string{"eyes", "confused"}, e.gh.reactionsOn(id))
	require.Zero(t, e.gh.count("POST "+e2eRepo+"/actions/"))
}

func TestSlashCommandNotAtLineStartIsIgnored(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	e.gh.addFailedRun(e2eFailRun)
	bodies := []string{
		"please run /ci retry",
		"LGTM, but could someone /ci retry?",
		"> /ci retry\n\nquoted above",
		"```\n/ci retry\n```",
		"    /ci retry",
	}
	for i, body := range bodies {
		e.comment(fmt.Sprintf("inline-%d", i), int64(910100+i), e2eWriter, "User", body)
	}
	require.Empty(t, e.commandJobs(), "no line starts with a command")
	require.Empty(t, e.touched())

	e.barrier(910199)
	require.Len(t, e.commandJobs(), 1, "only the barrier's job ran")
	for i := range bodies {
		require.Empty(t, e.gh.reactionsOn(int64(910100+i)))
		require.Empty(t, e.replies(int64(910100+i)))
	}
	require.Equal(t, 0, e.gh.rerunsOf(e2eFailRun))
}

func TestSlashCommandAnalyzeRunsFailureAnalysis(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	const run = int64(801)
	e.gh.addFailedRun(run)
	const id = 910007
	e.comment("analyze-1", id, e2eWriter, "User", "/ci analyze")

	out := e.waitCommand(id)
	require.Equal(t, []string{"done"}, out.Statuses)

	// The failure_analysis execution was enqueued for the run, tagged with the pull request,
	// triggered by the comment, and ran.
	var fa *rivertype.JobRow
	require.Eventually(t, func() bool {
		fa = e.jobFor("failure_analysis", func([]byte) bool { return true })
		return fa != nil && fa.State == rivertype.JobStateCompleted
	}, 20*time.Second, 10*time.Millisecond, "failure_analysis did not complete: %s", describeJob(fa))
	var args struct {
		RunID      int64  `json:"run_id"`
		RunAttempt int    `json:"run_attempt"`
		Trigger    string `json:"trigger"`
	}
	require.NoError(t, json.Unmarshal(fa.EncodedArgs, &args))
	require.Equal(t, run, args.RunID)
	require.Equal(t, 1, args.RunAttempt)
	require.Equal(t, fmt.Sprintf("comment:%d", id), args.Trigger)
	require.True(t, slices.Contains(fa.Tags, commands.PRTag(fakeRepoID, 42)), "tags %v", fa.Tags)

	body := e.reply(id)
	require.Contains(t, body, fmt.Sprintf("queued as execution %d", fa.ID))
	require.Equal(t, []string{"eyes", "rocket"}, e.gh.reactionsOn(id))

	// The sticky failure-analysis comment is on the pull request, beside the reply.
	var sticky []fakeComment
	for _, c := range e.gh.commentsOn(42) {
		if strings.Contains(c.Body, "<!-- autonomous-ci:failure-analysis -->") {
			sticky = append(sticky, c)
		}
	}
	require.Len(t, sticky, 1)
	require.Contains(t, sticky[0].Body, "TestGreeting")
	require.Len(t, e.gh.commentsOn(42), 2, "the reply and the report")
	require.Equal(t, 1, e.gh.countExact(fmt.Sprintf("GET %s/actions/runs/%d", e2eRepo, run)))
}

func TestSlashCommandFixOnForkNeedsMaintain(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	e.gh.mu.Lock()
	e.gh.pulls[42] = fakePull{HeadSHA: fakeHeadSHA, HeadRepoID: 99999} // the head branch is in a fork
	e.gh.mu.Unlock()
	const id = 910010
	e.comment("fix-fork", id, e2eWriter, "User", "/ci fix")

	out := e.waitCommand(id)
	require.Equal(t, []string{"refused"}, out.Statuses)
	require.Contains(t, e.reply(id), "needs the **maintain** permission")
	require.Contains(t, e.reply(id), "you have write permission")
	require.Equal(t, []string{"eyes", "confused"}, e.gh.reactionsOn(id))
}

// TestSlashCommandsOnEveryDatabase runs acting commands, the ledger and the PR-tag queries on
// each database (Postgres too when TEST_DATABASE_URL is set).
func TestSlashCommandsOnEveryDatabase(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			e := startE2EOn(t, db.URL)
			e.gh.addFailedRun(e2eFailRun)
			payload := e.comment("db-retry", 910020, e2eWriter, "User", "/ci retry\n/ci analyze")
			out := e.waitCommand(910020)
			require.Equal(t, []string{"retry", "analyze"}, out.Commands)
			require.Equal(t, []string{"done", "info"}, out.Statuses, "the re-run run is no longer failed")
			require.Equal(t, http.StatusOK, deliver(t, e.app, "issue_comment", "db-retry", payload))
			require.Len(t, e.commandJobs(), 1)
			require.Equal(t, 1, e.gh.rerunsOf(e2eFailRun))

			// status finds the pull request's executions: by their tag, and the analyses the
			// webhooks of its runs started.
			e.gh.addFailedRun(802)
			e.comment("db-analyze", 910021, e2eWriter, "User", "/ci analyze")
			e.waitCommand(910021)
			require.Equal(t, http.StatusOK, deliver(t, e.app, "workflow_run", "db-run-803", failedRun(t, 803, 1)))
			e.gh.addFailedRun(804)
			fork, err := sjson.SetBytes(failedRun(t, 804, 1), "workflow_run.pull_requests", []any{}) // a fork's run names no pull request
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, deliver(t, e.app, "workflow_run", "db-run-804", fork))
			e.comment("db-status", 910022, e2eReader, "User", "/ci status")
			require.Equal(t, []string{"info"}, e.waitCommand(910022).Statuses)
			body := e.reply(910022)
			// Run 803's webhook started its failure analysis and the pull request's performance check.
			require.Contains(t, body, "The latest 7 executions for this pull request")
			require.Contains(t, body, "`failure_analysis`")
			require.Contains(t, body, "`performance_monitoring`")
			require.Contains(t, body, "run 802, `comment:910021`")
			require.Contains(t, body, "run 803, `webhook`")
			require.Contains(t, body, "run 804, `webhook`")
			require.Contains(t, body, "by `"+e2eReader+"`, this command")
		})
	}
}

// TestSlashCommandEditedBeforeItRanIsIgnored posts "/ci help", whose webhook enqueues the job,
// and edits the comment into "/ci retry" before the job fetches it: edited comments never run.
func TestSlashCommandEditedBeforeItRanIsIgnored(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	e.gh.addFailedRun(e2eFailRun)
	const id = 910030
	e.gh.addUserComment(id, 42, e2eWriter, "User", "/ci retry") // GitHub holds the edited body
	payload := issueCommentEvent(t, id, e2eWriter, "User", "/ci help")
	require.Equal(t, http.StatusOK, deliver(t, e.app, "issue_comment", "edited-1", payload))
	require.Eventually(t, func() bool {
		jobs := e.commandJobs()
		return len(jobs) == 1 && jobs[0].State == rivertype.JobStateCompleted
	}, 20*time.Second, 10*time.Millisecond)

	require.Equal(t, 0, e.gh.rerunsOf(e2eFailRun))
	require.Empty(t, e.gh.reactionsOn(id))
	require.Empty(t, e.replies(id))
}

// TestSlashCommandReplyOnceWhenTheFinalReactionFails: the 🚀 fails once, River retries the job,
// and the retry finds its first reply although the server's HTTP cache still holds the comment
// list from before it (GitHub lets lists be cached for a minute).
func TestSlashCommandReplyOnceWhenTheFinalReactionFails(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	e.gh.mu.Lock()
	e.gh.failReaction("rocket", 1)
	e.gh.mu.Unlock()
	const id = 910030
	e.comment("reaction-fails", id, e2eWriter, "User", "/ci help")
	out := e.waitCommand(id)
	require.Equal(t, []string{"info"}, out.Statuses)
	row := e.jobFor(commands.Kind, func(raw []byte) bool { return strings.Contains(string(raw), fmt.Sprint(id)) })
	require.Equal(t, 2, row.Attempt, "the failed reaction made the job retry")
	require.Len(t, e.replies(id), 1, "one reply")
	require.Equal(t, out.ReplyID, e.replies(id)[0].ID)
	require.Equal(t, 1, e.gh.countExact("POST "+e2eRepo+"/issues/42/comments"))
	require.Equal(t, []string{"eyes", "rocket"}, e.gh.reactionsOn(id))
}
