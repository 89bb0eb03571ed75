package handlers

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/contexten/autonomous/store"
)

// recordingInstallations is a fake InstallationStore that counts its writes.
type recordingInstallations struct {
	mu     sync.Mutex
	writes []store.Installation
}

func (r *recordingInstallations) record(inst store.Installation) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes = append(r.writes, inst)
	return nil
}

func (r *recordingInstallations) SaveInstallation(_ context.Context, inst store.Installation) error {
	return r.record(inst)
}

func (r *recordingInstallations) ChangeInstallationRepositories(_ context.Context, inst store.Installation, _, _ []string) error {
	return r.record(inst)
}

func (r *recordingInstallations) DeleteInstallation(_ context.Context, id int64) error {
	return r.record(store.Installation{ID: id})
}

func (r *recordingInstallations) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.writes)
}

// fixtureHandler is one handler under test with its fakes.
type fixtureHandler struct {
	handler githubapp.EventHandler
	writes  func() int
}

// payloadFixtures are testdata/<event>.<action>.json with the fields each handler reads.
var payloadFixtures = []struct {
	event, file string
	build       func() fixtureHandler
	ids         []string // positive integers, required
	optionalIDs []string // positive integers when present
	strs        []string // strings (required or optional)
	owners      []string // GitHub logins
	repos       []string // repository names
	objects     []string // objects (required or optional)
	arrays      []string // arrays when present
	fullNames   []string // "owner/name"
	// records is what the valid fixture enqueues or records: check_suite enqueues nothing.
	records int
}{
	{
		// failure_analysis, performance_monitoring of the pull request and test_optimization.
		event: "workflow_run", file: "workflow_run.completed.json", build: enqueuing(func(b Base) githubapp.EventHandler { return &WorkflowRunHandler{Base: b} }), records: 3,
		ids:         []string{"workflow_run.id", "workflow_run.pull_requests.0.number"},
		optionalIDs: []string{"workflow_run.run_attempt", "repository.id", "installation.id", "workflow_run.head_repository.id", "workflow_run.repository.id"},
		strs:        []string{"action", "workflow_run.conclusion", "workflow_run.event", "workflow_run.head_sha"},
		owners:      []string{"repository.owner.login"}, repos: []string{"repository.name"},
		objects: []string{"workflow_run", "repository", "installation", "workflow_run.pull_requests.0"},
		arrays:  []string{"workflow_run.pull_requests"},
	},
	{
		event: "push", file: "push.json", build: enqueuing(func(b Base) githubapp.EventHandler { return &PushHandler{Base: b} }), records: 2,
		optionalIDs: []string{"repository.id", "installation.id"},
		strs:        []string{"ref", "before", "after", "repository.default_branch"},
		owners:      []string{"repository.owner.login"}, repos: []string{"repository.name"},
		objects: []string{"repository", "installation"}, arrays: []string{"commits"},
	},
	{
		event: "check_run", file: "check_run.completed.json", build: enqueuing(func(b Base) githubapp.EventHandler { return &CheckRunHandler{Base: b} }), records: 1,
		ids:         []string{"check_run.id", "check_run.pull_requests.0.number"},
		optionalIDs: []string{"repository.id", "installation.id", "check_run.app.id"},
		strs:        []string{"action", "check_run.conclusion", "check_run.name", "check_run.app.slug"},
		owners:      []string{"repository.owner.login"}, repos: []string{"repository.name"},
		objects: []string{"check_run", "repository", "installation", "check_run.pull_requests.0"},
		arrays:  []string{"check_run.pull_requests"},
	},
	{
		event: "check_suite", file: "check_suite.completed.json", build: enqueuing(func(b Base) githubapp.EventHandler { return &CheckSuiteHandler{Base: b} }),
		ids:         []string{"check_suite.id"},
		optionalIDs: []string{"installation.id"},
		strs:        []string{"action", "check_suite.conclusion", "check_suite.app.slug"},
		owners:      []string{"repository.owner.login"}, repos: []string{"repository.name"},
		objects: []string{"check_suite", "repository", "installation"}, records: 0,
	},
	{
		event: "issue_comment", file: "issue_comment.created.json", build: enqueuing(func(b Base) githubapp.EventHandler { return &IssueCommentHandler{Base: b} }), records: 1,
		ids:         []string{"issue.number", "comment.id", "repository.id"},
		optionalIDs: []string{"installation.id"},
		strs:        []string{"action", "comment.user.login", "comment.user.type", "comment.body"},
		owners:      []string{"repository.owner.login"}, repos: []string{"repository.name"},
		objects: []string{"issue", "comment", "repository", "installation", "issue.pull_request"},
	},
	{
		event: "installation", file: "installation.created.json", build: func() fixtureHandler {
			store := &recordingInstallations{}
			return fixtureHandler{handler: &InstallationHandler{Installations: store}, writes: store.count}
		}, records: 1,
		ids:       []string{"installation.id"},
		strs:      []string{"action", "installation.account.type", "installation.repository_selection"},
		owners:    []string{"installation.account.login"},
		objects:   []string{"installation", "repositories.0"},
		arrays:    []string{"repositories"},
		fullNames: []string{"repositories.0.full_name"},
	},
	{
		event: "installation_repositories", file: "installation_repositories.added.json", build: func() fixtureHandler {
			store := &recordingInstallations{}
			return fixtureHandler{handler: &InstallationHandler{Installations: store}, writes: store.count}
		}, records: 1,
		ids:       []string{"installation.id"},
		strs:      []string{"action"},
		owners:    []string{"installation.account.login"},
		objects:   []string{"installation", "repositories_added.0", "repositories_removed.0"},
		arrays:    []string{"repositories_added", "repositories_removed"},
		fullNames: []string{"repositories_added.0.full_name", "repositories_removed.0.full_name"},
	},
}

func enqueuing(build func(Base) githubapp.EventHandler) func() fixtureHandler {
	return func() fixtureHandler {
		jobs := &optsEnqueuer{}
		return fixtureHandler{handler: build(Base{Jobs: jobs}), writes: func() int { return len(jobs.Jobs()) }}
	}
}

func readFixture(t testing.TB, file string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	require.NoError(t, err)
	return raw
}

// Wrong values, as raw JSON, by the kind of field they are wrong for.
var (
	notIDs = []string{`"abc"`, `"12"`, `1.5`, `1e3`, `-1`, `0`, `true`, `{}`, `[]`, `{"id":1}`, `9223372036854775808`, `123456789012345678901234567890`}
	notStr = []string{`1`, `true`, `{}`, `[]`, `["completed"]`}
	// notOwners and notRepos are strings GitHub never allows in a name; "../../admin" once made
	// the bot call GET /admin/actions/runs/….
	notOwners = []string{`"../../admin"`, `""`, `"-octo"`, `"octo org"`, `"octo/org"`, `"octo_org"`, `"` + strings.Repeat("a", 40) + `"`, `7`, `{"login":"x"}`}
	notRepos  = []string{`"../../admin"`, `".."`, `"."`, `""`, `"hello world"`, `"a/b"`, `"a%2Fb"`, `"` + strings.Repeat("r", 101) + `"`, `7`, `null`}
	notObject = []string{`"x"`, `1`, `true`, `[]`}
	notArray  = []string{`"x"`, `1`, `true`, `{}`}
	notFull   = []string{`"hello-world"`, `"octo-org/../admin"`, `"../x/y"`, `"octo-org/"`, `1`}
)

// TestHandlersRejectWrongTypes sends every handler its documented payload with one field of a
// wrong type or shape at a time: each is a MalformedPayloadError naming the field, and nothing is
// enqueued or recorded.
func TestHandlersRejectWrongTypes(t *testing.T) {
	t.Parallel()
	for _, fx := range payloadFixtures {
		t.Run(fx.event, func(t *testing.T) {
			t.Parallel()
			payload := readFixture(t, fx.file)
			h := fx.build()
			require.NoError(t, h.handler.Handle(context.Background(), fx.event, "ok", payload))
			require.Equal(t, fx.records, h.writes(), "the valid fixture is accepted")

			type mutation struct{ path, raw string }
			var cases []mutation
			add := func(paths, values []string) {
				for _, p := range paths {
					require.True(t, gjson.GetBytes(payload, p).Exists(), "fixture %s lacks %s", fx.file, p)
					for _, v := range values {
						cases = append(cases, mutation{p, v})
					}
				}
			}
			add(fx.ids, append(notIDs, `null`))
			add(fx.optionalIDs, notIDs)
			add(fx.strs, notStr)
			add(fx.owners, append(notOwners, `null`))
			add(fx.repos, notRepos)
			add(fx.objects, notObject)
			add(fx.arrays, notArray)
			add(fx.fullNames, notFull)
			for _, m := range cases {
				body, err := sjson.SetRawBytes(bytes.Clone(payload), m.path, []byte(m.raw))
				require.NoError(t, err)
				h := fx.build()
				err = h.handler.Handle(context.Background(), fx.event, "bad", body)
				var malformed *MalformedPayloadError
				require.True(t, errors.As(err, &malformed), "%s = %s: got %v", m.path, m.raw, err)
				require.Contains(t, malformed.Reason, m.path, "the reason names the field")
				require.Zero(t, h.writes(), "%s = %s: nothing is enqueued", m.path, m.raw)
			}
		})
	}
}

// TestHandlersAcceptAbsentOptionalFields drops each optional field of the fixtures: still valid.
func TestHandlersAcceptAbsentOptionalFields(t *testing.T) {
	t.Parallel()
	for _, fx := range payloadFixtures {
		for _, p := range fx.optionalIDs {
			body, err := sjson.DeleteBytes(readFixture(t, fx.file), p)
			require.NoError(t, err)
			require.NoError(t, fx.build().handler.Handle(context.Background(), fx.event, "d", body), "%s without %s", fx.event, p)
		}
	}
}

// TestDeeplyNestedPayloadIsRefused: a payload nested past MaxPayloadDepth is refused without the
// recursive validator (ten million levels overflowed the stack and killed the process), by
// every handler; a payload just within the bound, and brackets inside strings, are fine.
func TestDeeplyNestedPayloadIsRefused(t *testing.T) {
	t.Parallel()
	deep := func(n int) []byte {
		return []byte(`{"action":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`)
	}
	huge := deep(10_000_000)
	for _, fx := range payloadFixtures {
		h := fx.build()
		err := h.handler.Handle(context.Background(), fx.event, "deep", huge)
		var malformed *MalformedPayloadError
		require.True(t, errors.As(err, &malformed), "%s: %v", fx.event, err)
		require.Contains(t, malformed.Reason, "nests deeper than 512")
		require.Zero(t, h.writes())
	}
	err := PingHandler{}.Handle(context.Background(), "ping", "deep", huge)
	require.True(t, IsMalformed(err))

	require.Equal(t, payloadValid, checkPayload(deep(MaxPayloadDepth-1)), "the root object is a level")
	require.Equal(t, payloadTooDeep, checkPayload(deep(MaxPayloadDepth)))
	inString := []byte(`{"a":"` + strings.Repeat("[{", 1000) + `\"` + strings.Repeat("[", 1000) + `"}`)
	require.Equal(t, payloadValid, checkPayload(inString), "brackets in strings do not nest")
	require.Equal(t, payloadTooDeep, checkPayload([]byte(`{"a":"\\","b":`+strings.Repeat("[", 600)+`}`)), "an escaped backslash ends before the quote")
	// A fixture nested just within the bound goes through to the field checks.
	body, err := sjson.SetRawBytes(readFixture(t, "check_suite.completed.json"), "extra", deep(400)[10:400*2+10])
	require.NoError(t, err)
	require.NoError(t, (&CheckSuiteHandler{}).Handle(context.Background(), "check_suite", "d", body))
}

func TestNameRules(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"octocat", "octo-org", "A1", strings.Repeat("a", 39), "x-"} {
		require.True(t, ValidOwner(ok), ok)
	}
	for _, bad := range []string{"", "-x", "a_b", "a.b", "a b", "../../admin", strings.Repeat("a", 40), "é"} {
		require.False(t, ValidOwner(bad), bad)
	}
	for _, ok := range []string{"hello-world", ".github", "a.b_c-d", "...", strings.Repeat("r", 100)} {
		require.True(t, ValidRepoName(ok), ok)
	}
	for _, bad := range []string{"", ".", "..", "a/b", "a b", "../../admin", strings.Repeat("r", 101), "é"} {
		require.False(t, ValidRepoName(bad), bad)
	}
}
