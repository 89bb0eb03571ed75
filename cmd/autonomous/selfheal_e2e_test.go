package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/recovery/reconcile"
	"github.com/contexten/autonomous/recovery/redelivery"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// hookLog is the app webhook's delivery log on the fake GitHub: what GitHub tried to deliver
// while the server was down, listed newest first one entry a page (so the cursor is followed),
// and the redelivery attempts the server asks for.
type hookLog struct {
	mu       sync.Mutex
	entries  []map[string]any // oldest first
	payloads map[int64][]byte // the body GitHub would send again, by delivery id
	attempts []int64
}

func (l *hookLog) add(id int64, guid, event string, code int, at time.Time, payload []byte) {
	status := "OK"
	if code != 200 {
		status = "Invalid HTTP Response: " + strconv.Itoa(code)
	}
	l.entries = append(l.entries, map[string]any{"id": id, "guid": guid, "delivered_at": at.UTC().Format(time.RFC3339),
		"redelivery": false, "duration": 10.0, "status": status, "status_code": code, "event": event, "action": "completed",
		"installation_id": 7, "repository_id": fakeRepoID})
	l.payloads[id] = payload
}

func (l *hookLog) route(gh *fakeGitHub) {
	gh.srv.HandleFunc("GET /app/hook/deliveries", func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		defer l.mu.Unlock()
		i, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
		n := len(l.entries)
		if i >= n {
			writeJSONBody(w, http.StatusOK, []any{})
			return
		}
		if i+1 < n {
			w.Header().Set("Link", fmt.Sprintf(`<%s/api/v3/app/hook/deliveries?per_page=1&cursor=%d>; rel="next"`, gh.srv.URL(), i+1))
		}
		writeJSONBody(w, http.StatusOK, []any{l.entries[n-1-i]})
	})
	gh.srv.HandleFunc("POST /app/hook/deliveries/{id}/attempts", func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		defer l.mu.Unlock()
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if _, ok := l.payloads[id]; !ok {
			writeJSONBody(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
			return
		}
		l.attempts = append(l.attempts, id)
		writeJSONBody(w, http.StatusAccepted, map[string]any{})
	})
}

func (l *hookLog) attempted() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int64(nil), l.attempts...)
}

// TestSelfHealingAfterDowntime runs the real wiring against a fake GitHub that saw the server
// down: on start the server redelivers the failed workflow_run delivery (and not the one that
// went through, nor the 400), GitHub's redelivery is then analyzed, and the installations it
// missed are reconciled; a second redelivery run asks for nothing.
func TestSelfHealingAfterDowntime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	gh := newFakeGitHub(t)
	log := &hookLog{payloads: map[int64][]byte{}}
	down := time.Now().Add(-time.Hour)
	missed := failedRun(t, 9101, 1)
	log.add(501, "guid-missed", "workflow_run", 502, down, missed)
	log.add(502, "guid-ok", "workflow_run", 200, down.Add(time.Minute), failedRun(t, 9102, 1))
	log.add(503, "guid-bad", "workflow_run", 400, down.Add(2*time.Minute), []byte(`{}`))
	log.route(gh)
	gh.srv.HandleFunc("GET /app/installations", func(w http.ResponseWriter, _ *http.Request) {
		writeJSONBody(w, http.StatusOK, []any{map[string]any{"id": 7, "account": map[string]any{"login": "octo-org", "type": "Organization"},
			"repository_selection": "selected", "app_id": 1, "target_type": "Organization"}})
	})
	gh.srv.HandleFunc("GET /installation/repositories", func(w http.ResponseWriter, _ *http.Request) {
		writeJSONBody(w, http.StatusOK, map[string]any{"total_count": 1, "repositories": []any{
			map[string]any{"id": fakeRepoID, "name": "hello-world", "full_name": "octo-org/hello-world"}}})
	})

	// Before the downtime the bot knew installation 99, since uninstalled.
	dbURL := workflowstest.SQLiteURL(t)
	st, err := store.Open(ctx, dbURL)
	require.NoError(t, err)
	require.NoError(t, st.Migrate(ctx))
	require.NoError(t, st.SaveInstallation(ctx, store.Installation{ID: 99, Account: "gone-org", UpdatedAt: down}))
	require.NoError(t, st.Close())

	app := startApp(t, testConfig(t, gh.APIURL(), dbURL), appOptions{})

	first := waitCompleted(t, app, string(workflows.WebhookRedelivery), 1)
	var res redelivery.Result
	require.NoError(t, json.Unmarshal(first[0].Output(), &res))
	require.Equal(t, []string{"guid-missed"}, res.Redelivered)
	require.Equal(t, 3, res.Pages, "one delivery a page, the cursor followed")
	require.Equal(t, []int64{501}, log.attempted())

	// GitHub sends the redelivery: the run the bot missed is analyzed now.
	require.Equal(t, http.StatusOK, deliver(t, app, "workflow_run", "guid-missed", missed))
	waitCompleted(t, app, string(workflows.FailureAnalysis), 1)

	synced := waitCompleted(t, app, string(workflows.InstallationSync), 1)
	var sres reconcile.Result
	require.NoError(t, json.Unmarshal(synced[0].Output(), &sres))
	require.Equal(t, []int64{7}, sres.Added)
	require.Equal(t, []int64{99}, sres.Removed)
	insts, err := app.store.Installations(ctx)
	require.NoError(t, err)
	require.Len(t, insts, 1)
	require.Equal(t, "octo-org", insts[0].Account)
	require.Equal(t, []string{"octo-org/hello-world"}, insts[0].Repositories)

	// An operator runs it again (the same builder as `autonomous execute webhook_redelivery`).
	_, err = app.engine.Trigger(ctx, workflows.WebhookRedelivery, workflows.Repo{}, map[string]any{"lookback_hours": 48}, workflows.By("test"))
	require.NoError(t, err)
	waitCompleted(t, app, string(workflows.WebhookRedelivery), 2)
	require.Equal(t, []int64{501}, log.attempted(), "redelivered once")
}

// waitCompleted waits until n jobs of kind completed and returns them.
func waitCompleted(t *testing.T, app *App, kind string, n int) []*rivertype.JobRow {
	t.Helper()
	var done []*rivertype.JobRow
	require.Eventually(t, func() bool {
		res, err := app.engine.Client().JobList(t.Context(), river.NewJobListParams().Kinds(kind).First(100))
		require.NoError(t, err)
		done = done[:0]
		for _, row := range res.Jobs {
			require.NotContains(t, []rivertype.JobState{rivertype.JobStateCancelled, rivertype.JobStateDiscarded}, row.State, describeJob(row))
			if row.State == rivertype.JobStateCompleted {
				done = append(done, row)
			}
		}
		return len(done) >= n
	}, 20*time.Second, 10*time.Millisecond, "%d %s jobs did not complete", n, kind)
	return done
}
