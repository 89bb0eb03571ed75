package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/failureanalysis"
)

// insertedJob is one job given to the fake enqueuer, with its options.
type insertedJob struct {
	Args river.JobArgs
	Opts *river.InsertOpts
}

// optsEnqueuer is a fake Enqueuer that records the args and insert options it is given.
type optsEnqueuer struct {
	mu   sync.Mutex
	jobs []insertedJob
	err  error
}

func (e *optsEnqueuer) Enqueue(_ context.Context, args river.JobArgs, opts *river.InsertOpts) (workflows.Inserted, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err != nil {
		return workflows.Inserted{}, e.err
	}
	e.jobs = append(e.jobs, insertedJob{Args: args, Opts: opts})
	return workflows.Inserted{ID: int64(len(e.jobs))}, nil
}

func (e *optsEnqueuer) Jobs() []insertedJob {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]insertedJob(nil), e.jobs...)
}

// Kind returns the recorded jobs of one kind.
func (e *optsEnqueuer) Kind(kind string) []insertedJob {
	var out []insertedJob
	for _, j := range e.Jobs() {
		if j.Args.Kind() == kind {
			out = append(out, j)
		}
	}
	return out
}

// checkRun is testdata/check_run.completed.json (a failed check run of a third-party CI app on a
// pull request) with edits.
func checkRun(t *testing.T, edits ...edit) []byte {
	t.Helper()
	return payload(t, "check_run.completed.json", edits...)
}

func TestCheckRunHandlerEnqueues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		edits []edit
		tags  []string
	}{
		{"failure on a pull request", nil, []string{"pr-1296269-42"}},
		{"timed out", []edit{set("check_run.conclusion", "timed_out")}, []string{"pr-1296269-42"}},
		{"no pull request", []edit{set("check_run.pull_requests", json.RawMessage(`[]`))}, nil},
		{"two pull requests", []edit{
			set("check_run.pull_requests.-1", json.RawMessage(`{"number":9,"head":{"sha":"x"}}`)),
		}, []string{"pr-1296269-42", "pr-1296269-9"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			jobs := &optsEnqueuer{}
			h := &CheckRunHandler{Base: Base{Jobs: jobs}, AppSlug: "autonomous-ci", AppID: 321}
			require.Equal(t, []string{"check_run"}, h.Handles())
			require.NoError(t, h.Handle(context.Background(), "check_run", "d1", checkRun(t, tc.edits...)))
			got := jobs.Jobs()
			require.Len(t, got, 1)
			require.Equal(t, failureanalysis.Args{
				Owner: "octo-org", Repo: "hello-world", InstallationID: 2311213, CheckRunID: 4, Trigger: "webhook",
			}, got[0].Args)
			if tc.tags == nil {
				require.Nil(t, got[0].Opts)
			} else {
				require.NotNil(t, got[0].Opts)
				require.Equal(t, tc.tags, got[0].Opts.Tags)
				require.Empty(t, got[0].Opts.UniqueOpts, "uniqueness comes from the args")
			}
		})
	}
}

func TestCheckRunHandlerIgnores(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		edits []edit
	}{
		{"GitHub Actions job", []edit{set("check_run.app", json.RawMessage(`{"id":15368,"slug":"github-actions","name":"GitHub Actions"}`))}},
		{"the bot's check run by name", []edit{set("check_run.name", failureanalysis.CheckRunName)}},
		{"the bot's check run by slug", []edit{set("check_run.name", "something else"), set("check_run.app", json.RawMessage(`{"id":999,"slug":"Autonomous-CI"}`))}},
		{"the bot's check run by app id", []edit{set("check_run.app", json.RawMessage(`{"id":321,"slug":"renamed"}`))}},
		{"success", []edit{set("check_run.conclusion", "success")}},
		{"neutral", []edit{set("check_run.conclusion", "neutral")}},
		{"cancelled", []edit{set("check_run.conclusion", "cancelled")}},
		{"action created", []edit{set("action", "created"), set("check_run.status", "queued"), set("check_run.conclusion", nil)}},
		{"action rerequested", []edit{set("action", "rerequested")}},
		{"action requested_action", []edit{set("action", "requested_action")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			jobs := &optsEnqueuer{}
			h := &CheckRunHandler{Base: Base{Jobs: jobs}, AppSlug: "autonomous-ci", AppID: 321}
			require.NoError(t, h.Handle(context.Background(), "check_run", "d1", checkRun(t, tc.edits...)))
			require.Empty(t, jobs.Jobs())
		})
	}
}

func TestCheckRunHandlerErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		payload   []byte
		enqueue   error
		malformed bool
	}{
		{"not JSON", []byte(`{"action":`), nil, true},
		{"not an object", []byte(`[1,2]`), nil, true},
		{"no check run", []byte(`{"action":"completed","repository":{"name":"w","owner":{"login":"a"}}}`), nil, true},
		{"no repository", checkRun(t, del("repository")), nil, true},
		{"database down", checkRun(t), errors.New("database is locked"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := &CheckRunHandler{Base: Base{Jobs: &optsEnqueuer{err: tc.enqueue}}}
			err := h.Handle(context.Background(), "check_run", "d1", tc.payload)
			require.Error(t, err)
			require.Equal(t, tc.malformed, IsMalformed(err))
			require.Equal(t, !tc.malformed, IsEnqueue(err))
		})
	}
}
