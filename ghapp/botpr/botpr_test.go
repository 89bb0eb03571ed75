package botpr_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/ghapp/botpr"
	"github.com/contexten/autonomous/ghapp/botpr/botprtest"
	"github.com/contexten/autonomous/ghapp/ghapptest"
)

const (
	owner  = "octo-org"
	name   = "hello-world"
	branch = "autonomous-ci/security-audit"
)

var ci = []byte("on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n")

func setup(t *testing.T) (*ghapptest.Server, *botprtest.Repo, *github.Client) {
	t.Helper()
	srv := ghapptest.New(t)
	repo := botprtest.Install(srv, owner, name, botprtest.Options{})
	repo.Commit("main", "", "dev@example.com", "initial", map[string][]byte{".github/workflows/ci.yml": ci, "README.md": []byte("# hi\n")})
	return srv, repo, srv.Client(ghapptest.ClientOptions{})
}

func request(content string) botpr.Request {
	return botpr.Request{Owner: owner, Repo: name, Base: "main", Branch: branch, Title: "Pin actions", Body: "body",
		CommitMessage: "ci: pin actions", Files: []botpr.File{{Path: ".github/workflows/ci.yml", Content: []byte(content)}},
		Labels: []string{"security"}, Reviewers: []string{"octocat", "octo-org/security"}}
}

func writes(srv *ghapptest.Server) []string {
	var out []string
	for _, c := range srv.Calls("") {
		if !strings.HasPrefix(c, "GET ") {
			out = append(out, c)
		}
	}
	return out
}

func TestEnsureCreatesOneCommitAndThePullRequest(t *testing.T) {
	t.Parallel()
	_, repo, gh := setup(t)
	res, err := botpr.Ensure(context.Background(), gh, request("pinned\n"))
	require.NoError(t, err)
	require.Equal(t, botpr.Created, res.Action)
	require.Equal(t, 1, res.Number)
	require.Equal(t, branch, res.Branch)
	require.Equal(t, "https://github.com/octo-org/hello-world/pull/1", res.URL)
	require.Equal(t, repo.Head(branch), res.HeadSHA)

	c, ok := repo.CommitOf(res.HeadSHA)
	require.True(t, ok)
	require.Equal(t, []string{repo.Head("main")}, c.Parents, "one commit on top of the base's head")
	require.Equal(t, "ci: pin actions\n\nAutonomous-CI: "+branch+"\n", c.Message)
	require.Equal(t, botpr.DefaultAuthorEmail, c.AuthorEmail)
	require.Equal(t, botpr.DefaultAuthorEmail, c.CommitterEmail)
	require.Equal(t, []string{".github/workflows/ci.yml"}, repo.Changed("main", branch))
	require.Equal(t, "pinned\n", string(repo.Files(branch)[".github/workflows/ci.yml"]))

	pulls := repo.Pulls()
	require.Len(t, pulls, 1)
	require.Equal(t, botprtest.Pull{Number: 1, Title: "Pin actions", Body: "body", Head: branch, Base: "main", State: "open",
		Labels: []string{"security"}, Reviewers: []string{"octocat"}, Teams: []string{"security"}}, pulls[0])
}

func TestEnsureTwiceIsUnchangedAndWritesNothingVisible(t *testing.T) {
	t.Parallel()
	srv, repo, gh := setup(t)
	first, err := botpr.Ensure(context.Background(), gh, request("pinned\n"))
	require.NoError(t, err)
	before := len(srv.Requests())
	again, err := botpr.Ensure(context.Background(), gh, request("pinned\n"))
	require.NoError(t, err)
	require.Equal(t, botpr.Unchanged, again.Action)
	require.Equal(t, first.HeadSHA, again.HeadSHA)
	require.Equal(t, first.Number, again.Number)
	var after []string
	for _, r := range srv.Requests()[before:] {
		if r.Method != http.MethodGet {
			after = append(after, r.String())
		}
	}
	// Blobs and trees are content-addressed: writing them again changes nothing.
	require.Equal(t, []string{"POST /repos/octo-org/hello-world/git/blobs", "POST /repos/octo-org/hello-world/git/trees"}, after)
	require.Len(t, repo.Pulls(), 1)
}

func TestEnsureUpdatesInPlaceOntoTheNewBase(t *testing.T) {
	t.Parallel()
	_, repo, gh := setup(t)
	first, err := botpr.Ensure(context.Background(), gh, request("pinned\n"))
	require.NoError(t, err)
	newBase := repo.Commit("main", "", "dev@example.com", "docs", map[string][]byte{"README.md": []byte("# hello\n")})

	req := request("pinned v2\n")
	req.Title, req.Body = "Pin actions (2)", "body 2"
	res, err := botpr.Ensure(context.Background(), gh, req)
	require.NoError(t, err)
	require.Equal(t, botpr.Updated, res.Action)
	require.Equal(t, first.Number, res.Number, "the same pull request")
	require.NotEqual(t, first.HeadSHA, res.HeadSHA)
	c, _ := repo.CommitOf(res.HeadSHA)
	require.Equal(t, []string{newBase}, c.Parents, "force-pushed as one commit on the new base")
	require.Equal(t, "# hello\n", string(repo.Files(branch)["README.md"]))
	require.Equal(t, "pinned v2\n", string(repo.Files(branch)[".github/workflows/ci.yml"]))
	pulls := repo.Pulls()
	require.Len(t, pulls, 1)
	require.Equal(t, "Pin actions (2)", pulls[0].Title)
	require.Equal(t, "body 2", pulls[0].Body)
	require.Equal(t, []string{"octocat"}, pulls[0].Reviewers, "reviewers are asked once, when the pull request is opened")

	// Same content on a moved base only: a new commit, title and body as they are.
	repo.Commit("main", "", "dev@example.com", "docs", map[string][]byte{"CHANGELOG.md": []byte("x\n")})
	res2, err := botpr.Ensure(context.Background(), gh, req)
	require.NoError(t, err)
	require.Equal(t, botpr.Updated, res2.Action)
	require.Equal(t, []string{".github/workflows/ci.yml"}, repo.Changed("main", branch))
}

func TestEnsureTitleOnlyChangeIsUpdatedWithoutCommit(t *testing.T) {
	t.Parallel()
	_, repo, gh := setup(t)
	first, err := botpr.Ensure(context.Background(), gh, request("pinned\n"))
	require.NoError(t, err)
	req := request("pinned\n")
	req.Body = "new summary"
	res, err := botpr.Ensure(context.Background(), gh, req)
	require.NoError(t, err)
	require.Equal(t, botpr.Updated, res.Action)
	require.Equal(t, first.HeadSHA, res.HeadSHA)
	require.Equal(t, "new summary", repo.Pulls()[0].Body)
}

func TestEnsureLeavesAPersonsCommitAlone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		human func(repo *botprtest.Repo)
	}{
		{"new commit", func(repo *botprtest.Repo) {
			repo.Commit(branch, "", "dev@example.com", "tweak", map[string][]byte{"x.txt": []byte("x")})
		}},
		{"amend keeps the trailer but not the committer", func(repo *botprtest.Repo) {
			repo.Commit(branch, "", "dev@example.com", "tweak\n\nAutonomous-CI: "+branch, map[string][]byte{"x.txt": []byte("x")})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, repo, gh := setup(t)
			_, err := botpr.Ensure(context.Background(), gh, request("pinned\n"))
			require.NoError(t, err)
			tc.human(repo)
			head := repo.Head(branch)
			before := len(writes(srv))

			_, err = botpr.Ensure(context.Background(), gh, request("pinned v2\n"))
			var human *botpr.HumanEditedError
			require.ErrorAs(t, err, &human)
			require.Equal(t, head, human.SHA)
			require.Equal(t, "dev@example.com", human.Author)
			require.Equal(t, "invalid", human.RecoveryClass())
			require.Len(t, writes(srv), before, "nothing written")
			require.Equal(t, head, repo.Head(branch))
		})
	}
}

func TestEnsureFindsACreateThatTimedOutButSucceeded(t *testing.T) {
	t.Parallel()
	srv, repo, _ := setup(t)
	srv.Fail(ghapptest.Fault{Method: http.MethodPost, Path: "/repos/octo-org/hello-world/pulls", Delay: 400 * time.Millisecond, Times: 1})
	impatient := srv.Client(ghapptest.ClientOptions{Timeout: 100 * time.Millisecond})
	_, err := botpr.Ensure(context.Background(), impatient, request("pinned\n"))
	require.Error(t, err, "the client gave up on the create")
	require.Eventually(t, func() bool { return len(repo.Pulls()) == 1 }, 5*time.Second, 10*time.Millisecond, "the create landed anyway")
	head := repo.Head(branch)

	res, err := botpr.Ensure(context.Background(), srv.Client(ghapptest.ClientOptions{}), request("pinned\n"))
	require.NoError(t, err)
	require.Equal(t, botpr.Unchanged, res.Action)
	require.Equal(t, 1, res.Number)
	require.Equal(t, head, res.HeadSHA, "no second commit")
	require.Len(t, repo.Pulls(), 1, "no second pull request")
	require.Len(t, srv.Calls("POST /repos/octo-org/hello-world/pulls"), 1)
	require.Len(t, srv.Calls("POST /repos/octo-org/hello-world/git/commits"), 1)
}

func TestEnsureRefCreateThatTimedOutButSucceeded(t *testing.T) {
	t.Parallel()
	srv, repo, _ := setup(t)
	srv.Fail(ghapptest.Fault{Method: http.MethodPost, Path: "/repos/octo-org/hello-world/git/refs", Delay: 400 * time.Millisecond, Times: 1})
	_, err := botpr.Ensure(context.Background(), srv.Client(ghapptest.ClientOptions{Timeout: 100 * time.Millisecond}), request("pinned\n"))
	require.Error(t, err)
	require.Eventually(t, func() bool { return repo.Head(branch) != "" }, 5*time.Second, 10*time.Millisecond)
	res, err := botpr.Ensure(context.Background(), srv.Client(ghapptest.ClientOptions{}), request("pinned\n"))
	require.NoError(t, err)
	require.Equal(t, botpr.Created, res.Action)
	require.Len(t, srv.Calls("POST /repos/octo-org/hello-world/git/commits"), 1, "the branch's commit is reused")
}

func TestEnsurePullCreateRaceFindsTheOther(t *testing.T) {
	t.Parallel()
	srv, repo, gh := setup(t)
	// Another run opens the pull request between this run's Find and its create.
	srv.Fail(ghapptest.Fault{Method: http.MethodPost, Path: "/repos/octo-org/hello-world/pulls", Status: 422,
		Body:  `{"message":"Validation Failed","errors":[{"resource":"PullRequest","code":"custom","message":"A pull request already exists for octo-org:` + branch + `."}]}`,
		Times: 1, Match: func(ghapptest.Request) bool { repo.AddPull(branch, "main", "Pin actions"); return true }})
	res, err := botpr.Ensure(context.Background(), gh, request("pinned\n"))
	require.NoError(t, err)
	require.Equal(t, 1, res.Number)
	require.Equal(t, botpr.Updated, res.Action, "its body is brought up to date")
	require.Len(t, repo.Pulls(), 1)
}

func TestEnsureNoChangesAndBadInput(t *testing.T) {
	t.Parallel()
	srv, _, gh := setup(t)
	_, err := botpr.Ensure(context.Background(), gh, request(string(ci)))
	require.ErrorIs(t, err, botpr.ErrNoChanges)
	require.Empty(t, srv.Calls("POST /repos/octo-org/hello-world/git/commits"))
	require.Empty(t, srv.Calls("POST /repos/octo-org/hello-world/pulls"))

	for _, bad := range []func(*botpr.Request){
		func(r *botpr.Request) { r.Owner = "" },
		func(r *botpr.Request) { r.Title = " " },
		func(r *botpr.Request) { r.Branch = "main" },
		func(r *botpr.Request) { r.Files = nil },
		func(r *botpr.Request) { r.Files[0].Path = "../x" },
		func(r *botpr.Request) { r.Files[0].Path = "/etc/passwd" },
		func(r *botpr.Request) { r.Files = append(r.Files, r.Files[0]) },
		func(r *botpr.Request) { r.Files[0].Mode = "120000" },
	} {
		req := request("x")
		bad(&req)
		_, err := botpr.Ensure(context.Background(), gh, req)
		require.Error(t, err)
	}
	req := request("x")
	req.Base = "nope"
	_, err = botpr.Ensure(context.Background(), gh, req)
	require.ErrorIs(t, err, botpr.ErrNoBase)
}

func TestEnsureDeletesAndModes(t *testing.T) {
	t.Parallel()
	_, repo, gh := setup(t)
	req := request("pinned\n")
	req.Files = append(req.Files, botpr.File{Path: "README.md", Delete: true}, botpr.File{Path: "scripts/fix.sh", Content: []byte("#!/bin/sh\n"), Mode: "100755"})
	_, err := botpr.Ensure(context.Background(), gh, req)
	require.NoError(t, err)
	files := repo.Files(branch)
	require.NotContains(t, files, "README.md")
	require.Equal(t, "#!/bin/sh\n", string(files["scripts/fix.sh"]))
}

func TestEnsureAPIFaults(t *testing.T) {
	t.Parallel()
	for _, status := range []int{401, 403, 404, 500} {
		srv, repo, gh := setup(t)
		srv.Fail(ghapptest.Fault{Method: http.MethodPost, Path: "/repos/octo-org/hello-world/git/commits", Status: status, Body: `{"message":"no"}`})
		_, err := botpr.Ensure(context.Background(), gh, request("pinned\n"))
		require.Error(t, err)
		var ghErr *github.ErrorResponse
		require.True(t, errors.As(err, &ghErr), "GitHub's answer stays in the chain")
		require.Equal(t, status, ghErr.Response.StatusCode)
		require.Empty(t, repo.Head(branch))
		require.Empty(t, repo.Pulls())
	}
}

func TestFindAndClose(t *testing.T) {
	t.Parallel()
	_, repo, gh := setup(t)
	ctx := context.Background()
	_, found, err := botpr.Find(ctx, gh, owner, name, branch)
	require.NoError(t, err)
	require.False(t, found)
	res, err := botpr.Ensure(ctx, gh, request("pinned\n"))
	require.NoError(t, err)
	pr, found, err := botpr.Find(ctx, gh, owner, name, branch)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, res.Number, pr.GetNumber())

	require.NoError(t, botpr.Close(ctx, gh, owner, name, res.Number, "Fixed on main."))
	require.NoError(t, botpr.Close(ctx, gh, owner, name, res.Number, "Fixed on main."))
	require.Equal(t, []string{"Fixed on main."}, repo.Comments(res.Number), "one comment")
	require.Equal(t, "closed", repo.Pulls()[0].State)
	_, found, err = botpr.Find(ctx, gh, owner, name, branch)
	require.NoError(t, err)
	require.False(t, found)
	require.Error(t, botpr.Close(ctx, gh, owner, name, 0, ""))
	require.Error(t, botpr.Close(ctx, gh, owner, name, 99, ""), "404")
}

func TestCloseRetryAfterTheCloseFailedCommentsOnce(t *testing.T) {
	t.Parallel()
	srv, repo, gh := setup(t)
	ctx := context.Background()
	res, err := botpr.Ensure(ctx, gh, request("pinned\n"))
	require.NoError(t, err)
	srv.Fail(ghapptest.Fault{Method: http.MethodPatch, Path: "/repos/octo-org/hello-world/pulls/1", Status: 502, Body: `{"message":"Bad Gateway"}`, Times: 1})
	require.Error(t, botpr.Close(ctx, gh, owner, name, res.Number, "Superseded."))
	require.NoError(t, botpr.Close(ctx, gh, owner, name, res.Number, "Superseded."))
	require.Equal(t, []string{"Superseded."}, repo.Comments(res.Number))
	require.Equal(t, "closed", repo.Pulls()[0].State)
}

func TestChecksGreen(t *testing.T) {
	t.Parallel()
	const sha = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
	type run struct{ name, status, conclusion string }
	for _, tc := range []struct {
		name     string
		runs     []run
		state    string
		statuses []string // states
		want     botpr.Checks
	}{
		{"no statuses at all is green (GitHub says pending)", []run{{"build", "completed", "success"}}, "pending", nil,
			botpr.Checks{Green: true}},
		{"skipped and neutral are green", []run{{"a", "completed", "skipped"}, {"b", "completed", "neutral"}}, "success", []string{"success"},
			botpr.Checks{Green: true}},
		{"a run in progress is pending", []run{{"build", "in_progress", ""}}, "pending", nil,
			botpr.Checks{Pending: true, Details: []string{"build: in_progress"}}},
		{"a pending status is pending", []run{{"build", "completed", "success"}}, "pending", []string{"pending"},
			botpr.Checks{Pending: true, Details: []string{"ci/jenkins: pending"}}},
		{"a failed run", []run{{"lint", "completed", "failure"}, {"build", "completed", "success"}}, "success", []string{"success"},
			botpr.Checks{Failed: true, Details: []string{"lint: failure"}}},
		{"a timed-out run", []run{{"e2e", "completed", "timed_out"}}, "pending", nil,
			botpr.Checks{Failed: true, Details: []string{"e2e: timed_out"}}},
		{"an error status", nil, "error", []string{"error"},
			botpr.Checks{Failed: true, Details: []string{"ci/jenkins: error"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := ghapptest.New(t)
			srv.HandleFunc("GET /repos/octo-org/hello-world/commits/"+sha+"/check-runs", func(w http.ResponseWriter, r *http.Request) {
				var runs []map[string]any
				for _, r := range tc.runs {
					runs = append(runs, map[string]any{"name": r.name, "status": r.status, "conclusion": r.conclusion, "head_sha": sha})
				}
				ghapptest.JSON(w, 200, map[string]any{"total_count": len(runs), "check_runs": runs})
			})
			srv.HandleFunc("GET /repos/octo-org/hello-world/commits/"+sha+"/status", func(w http.ResponseWriter, r *http.Request) {
				var statuses []map[string]any
				for _, s := range tc.statuses {
					statuses = append(statuses, map[string]any{"context": "ci/jenkins", "state": s})
				}
				ghapptest.JSON(w, 200, map[string]any{"state": tc.state, "total_count": len(statuses), "statuses": statuses, "sha": sha})
			})
			got, err := botpr.ChecksGreen(context.Background(), srv.Client(ghapptest.ClientOptions{}), owner, name, sha)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestChecksGreenPagesAndFaults(t *testing.T) {
	t.Parallel()
	const sha = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
	srv := ghapptest.New(t)
	srv.HandleFunc("GET /repos/octo-org/hello-world/commits/"+sha+"/check-runs", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "1" {
			w.Header().Set("Link", `<`+srv.URL()+`/api/v3/repos/octo-org/hello-world/commits/`+sha+`/check-runs?page=2>; rel="next"`)
			ghapptest.JSON(w, 200, map[string]any{"total_count": 2, "check_runs": []map[string]any{{"name": "a", "status": "completed", "conclusion": "success"}}})
			return
		}
		ghapptest.JSON(w, 200, map[string]any{"total_count": 2, "check_runs": []map[string]any{{"name": "b", "status": "completed", "conclusion": "cancelled"}}})
	})
	srv.HandleFunc("GET /repos/octo-org/hello-world/commits/"+sha+"/status", func(w http.ResponseWriter, r *http.Request) {
		ghapptest.JSON(w, 200, map[string]any{"state": "pending", "total_count": 0})
	})
	gh := srv.Client(ghapptest.ClientOptions{})
	got, err := botpr.ChecksGreen(context.Background(), gh, owner, name, sha)
	require.NoError(t, err)
	require.Equal(t, botpr.Checks{Failed: true, Details: []string{"b: cancelled"}}, got, "the second page is read")

	srv.Fail(ghapptest.Fault{Path: "/repos/octo-org/hello-world/commits/" + sha + "/status", Status: 503, Body: `{"message":"unavailable"}`, Times: 1})
	_, err = botpr.ChecksGreen(context.Background(), gh, owner, name, sha)
	require.Error(t, err)
	_, err = botpr.ChecksGreen(context.Background(), gh, owner, name, "")
	require.Error(t, err)
}

func TestMerge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, repo, gh := setup(t)
	res, err := botpr.Ensure(ctx, gh, request("pinned\n"))
	require.NoError(t, err)

	// 409: the head moved since the checks were read.
	err = botpr.Merge(ctx, gh, owner, name, res.Number, repo.Head("main"))
	var blocked *botpr.BlockedError
	require.ErrorAs(t, err, &blocked)
	require.Equal(t, http.StatusConflict, blocked.Status)
	require.Contains(t, blocked.Message, "Head branch was modified")

	// 405: not mergeable (required checks, reviews).
	srv.Fail(ghapptest.Fault{Method: http.MethodPut, Path: "/repos/octo-org/hello-world/pulls/1/merge", Status: 405,
		Body: `{"message":"Required status check \"build\" is expected."}`, Times: 1})
	err = botpr.Merge(ctx, gh, owner, name, res.Number, res.HeadSHA)
	require.ErrorAs(t, err, &blocked)
	require.Equal(t, http.StatusMethodNotAllowed, blocked.Status)
	require.Equal(t, `Required status check "build" is expected.`, blocked.Message)
	var ghErr *github.ErrorResponse
	require.ErrorAs(t, err, &ghErr, "GitHub's answer is kept")

	require.NoError(t, botpr.Merge(ctx, gh, owner, name, res.Number, res.HeadSHA))
	p := repo.Pulls()[0]
	require.True(t, p.Merged)
	require.Equal(t, "squash", p.MergeMethod)
	require.Equal(t, res.HeadSHA, p.MergeSHA)
	require.NoError(t, botpr.Merge(ctx, gh, owner, name, res.Number, res.HeadSHA), "a merged pull request stays merged")
	require.Len(t, srv.Calls("PUT "), 3)

	require.Error(t, botpr.Merge(ctx, gh, owner, name, 0, "x"))
	srv.Fail(ghapptest.Fault{Method: http.MethodPut, Status: 500, Body: `{"message":"boom"}`, Times: 1})
	n := repo.AddPull("feature", "main", "x")
	repo.Commit("feature", "main", "dev@example.com", "f", map[string][]byte{"f": []byte("f")})
	err = botpr.Merge(ctx, gh, owner, name, n, repo.Head("feature"))
	require.Error(t, err)
	require.False(t, errors.As(err, &blocked), "a 500 is not a refusal")
}

func TestMergeClosedIsBlocked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, _, gh := setup(t)
	res, err := botpr.Ensure(ctx, gh, request("pinned\n"))
	require.NoError(t, err)
	require.NoError(t, botpr.Close(ctx, gh, owner, name, res.Number, ""))
	var blocked *botpr.BlockedError
	require.ErrorAs(t, botpr.Merge(ctx, gh, owner, name, res.Number, res.HeadSHA), &blocked)
}

func TestIsBotCommit(t *testing.T) {
	t.Parallel()
	bot := &github.CommitAuthor{Email: github.String(botpr.DefaultAuthorEmail)}
	person := &github.CommitAuthor{Email: github.String("dev@example.com")}
	one := []*github.Commit{{SHA: github.String("p")}}
	msg := "fix\n\nAutonomous-CI: b\n"
	require.True(t, botpr.IsBotCommit(&github.Commit{Message: &msg, Author: bot, Committer: bot, Parents: one}, "b", ""))
	require.False(t, botpr.IsBotCommit(&github.Commit{Message: &msg, Author: bot, Committer: bot, Parents: one}, "other", ""), "another branch's trailer")
	require.False(t, botpr.IsBotCommit(&github.Commit{Message: &msg, Author: bot, Committer: person, Parents: one}, "b", ""))
	require.False(t, botpr.IsBotCommit(&github.Commit{Message: &msg, Author: bot, Committer: bot, Parents: append(one, one...)}, "b", ""), "a merge")
	plain := "fix"
	require.False(t, botpr.IsBotCommit(&github.Commit{Message: &plain, Author: bot, Committer: bot, Parents: one}, "b", ""))
	require.False(t, botpr.IsBotCommit(nil, "b", ""))
	require.True(t, botpr.IsBotCommit(&github.Commit{Message: &msg, Author: person, Committer: person, Parents: one}, "b", "dev@example.com"))
}
