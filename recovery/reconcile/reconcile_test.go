package reconcile_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/ghapp/ghapptest"
	"github.com/contexten/autonomous/recovery/reconcile"
	"github.com/contexten/autonomous/store"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// app is the fake GitHub's view of the app: its installations (listed two a page) and each
// one's repositories, told apart by the installation token the client sends.
type app struct {
	srv *ghapptest.Server

	mu    sync.Mutex
	insts []map[string]any
	repos map[int64][]string
}

func newApp(t *testing.T) *app {
	a := &app{srv: ghapptest.New(t), repos: map[int64][]string{}}
	a.srv.HandleFunc("GET /app/installations", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		start, end := min((page-1)*2, len(a.insts)), min(page*2, len(a.insts))
		if end < len(a.insts) {
			w.Header().Set("Link", fmt.Sprintf(`<%s/app/installations?per_page=2&page=%d>; rel="next"`, a.srv.URL(), page+1))
		}
		ghapptest.JSON(w, http.StatusOK, a.insts[start:end])
	})
	a.srv.HandleFunc("GET /installation/repositories", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		id, err := strconv.ParseInt(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer inst-"), 10, 64)
		if err != nil {
			ghapptest.JSON(w, http.StatusUnauthorized, map[string]any{"message": "Bad credentials"})
			return
		}
		var repos []map[string]any
		for i, name := range a.repos[id] {
			repos = append(repos, map[string]any{"id": id*100 + int64(i), "name": name[strings.Index(name, "/")+1:], "full_name": name})
		}
		ghapptest.JSON(w, http.StatusOK, map[string]any{"total_count": len(repos), "repositories": repos})
	})
	return a
}

func (a *app) install(id int64, login string, suspended bool, repos ...string) {
	inst := map[string]any{"id": id, "account": map[string]any{"login": login, "type": "Organization"},
		"repository_selection": "selected", "app_id": 1, "target_type": "Organization"}
	if suspended {
		inst["suspended_at"] = "2026-11-30T10:00:00Z"
	}
	a.insts = append(a.insts, inst)
	a.repos[id] = repos
}

type clients struct{ srv *ghapptest.Server }

func (c clients) App() (*github.Client, error) {
	return c.srv.Client(ghapptest.ClientOptions{Timeout: 5 * time.Second}).WithAuthToken("app-jwt"), nil
}

func (c clients) ForRepo(_ context.Context, _, _ string, id int64) (*github.Client, int64, error) {
	return c.srv.Client(ghapptest.ClientOptions{Timeout: 5 * time.Second}).WithAuthToken("inst-" + strconv.FormatInt(id, 10)), id, nil
}

func setup(t *testing.T, url string) (*app, *store.Store, *reconcile.Worker) {
	a := newApp(t)
	st := workflowstest.OpenStore(t, url)
	return a, st, reconcile.NewWorker(reconcile.Deps{Clients: clients{a.srv}, Installations: st})
}

func TestReconcileAddsMissedAndDropsDeleted(t *testing.T) {
	t.Parallel()
	for _, db := range workflowstest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			a, st, w := setup(t, db.URL)
			old := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
			// Recorded before the downtime: 1 (one repository), 2 (uninstalled meanwhile), 5 (unchanged).
			require.NoError(t, st.SaveInstallation(ctx, store.Installation{ID: 1, Account: "octo-org", AccountType: "Organization", RepositorySelection: "selected", Repositories: []string{"octo-org/a"}, UpdatedAt: old}))
			require.NoError(t, st.SaveInstallation(ctx, store.Installation{ID: 2, Account: "gone-org", AccountType: "Organization", UpdatedAt: old}))
			require.NoError(t, st.SaveInstallation(ctx, store.Installation{ID: 5, Account: "same-org", AccountType: "Organization", RepositorySelection: "selected", Repositories: []string{"same-org/x"}, UpdatedAt: old}))
			// GitHub now: 1 gained a repository, 3 was installed, 4 is suspended, 5 as recorded.
			a.install(1, "octo-org", false, "octo-org/b", "octo-org/a")
			a.install(3, "new-org", false, "new-org/app")
			a.install(4, "paused-org", true, "paused-org/p")
			a.install(5, "same-org", false, "same-org/x")

			res, err := w.Run(ctx)
			require.NoError(t, err)
			require.Equal(t, 4, res.Listed)
			require.ElementsMatch(t, []int64{3, 4}, res.Added)
			require.Equal(t, []int64{1}, res.Updated)
			require.Equal(t, []int64{2}, res.Removed)
			require.Equal(t, 1, res.Unchanged)
			require.True(t, res.Complete)
			require.Len(t, a.srv.Calls("GET /app/installations"), 2, "two pages")
			require.Len(t, a.srv.Calls("GET /installation/repositories"), 3, "not for the suspended one")

			all, err := st.Installations(ctx)
			require.NoError(t, err)
			byID := map[int64]store.Installation{}
			for _, inst := range all {
				byID[inst.ID] = inst
			}
			require.Len(t, byID, 4)
			require.Equal(t, []string{"octo-org/a", "octo-org/b"}, byID[1].Repositories)
			require.Equal(t, "new-org", byID[3].Account)
			require.Equal(t, []string{"new-org/app"}, byID[3].Repositories)
			require.True(t, byID[4].Suspended)
			require.Empty(t, byID[4].Repositories)
			require.True(t, byID[5].UpdatedAt.Equal(old), "an unchanged record is not written")

			// Again: nothing to do.
			res, err = w.Run(ctx)
			require.NoError(t, err)
			require.Empty(t, res.Added)
			require.Empty(t, res.Updated)
			require.Empty(t, res.Removed)
			require.Equal(t, 4, res.Unchanged)
		})
	}
}

func TestReconcileFaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		fault   ghapptest.Fault
		wantErr int // GitHub status in the error; 0: no error
		// unreadable: the installation whose repositories GitHub refused, kept as recorded.
		unreadable bool
	}{
		{name: "second page of installations fails", fault: ghapptest.Fault{Path: "/app/installations", Status: 502, Match: func(r ghapptest.Request) bool { return strings.Contains(r.Query, "page=2") }}, wantErr: 502},
		{name: "app credentials refused", fault: ghapptest.Fault{Path: "/app/installations", Status: 401, Body: `{"message":"Bad credentials"}`}, wantErr: 401},
		{name: "repositories 5xx", fault: ghapptest.Fault{Path: "/installation/repositories", Status: 500}, wantErr: 500},
		{name: "repositories 404", fault: ghapptest.Fault{Path: "/installation/repositories", Status: 404, Body: `{"message":"Not Found"}`}, unreadable: true},
		{name: "repositories 403 suspended", fault: ghapptest.Fault{Path: "/installation/repositories", Status: 403, Body: `{"message":"This installation has been suspended"}`}, unreadable: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, st, w := setup(t, workflowstest.SQLiteURL(t))
			require.NoError(t, st.SaveInstallation(ctx, store.Installation{ID: 1, Account: "octo-org", Repositories: []string{"octo-org/a"}, UpdatedAt: time.Now()}))
			require.NoError(t, st.SaveInstallation(ctx, store.Installation{ID: 9, Account: "gone-org", UpdatedAt: time.Now()}))
			a.install(1, "octo-org", false, "octo-org/a", "octo-org/b")
			a.install(3, "new-org", false)
			a.install(4, "other-org", false)
			a.srv.Fail(tc.fault)
			res, err := w.Run(ctx)
			all, lerr := st.Installations(ctx)
			require.NoError(t, lerr)
			if tc.wantErr != 0 {
				require.Error(t, err)
				var resp *github.ErrorResponse
				require.ErrorAs(t, err, &resp)
				require.Equal(t, tc.wantErr, resp.Response.StatusCode)
				ids := []int64{}
				for _, inst := range all {
					ids = append(ids, inst.ID)
				}
				require.Contains(t, ids, int64(9), "nothing is removed after a failed listing")
				return
			}
			require.NoError(t, err)
			require.ElementsMatch(t, []int64{1, 3, 4}, res.Unreadable)
			for _, inst := range all {
				require.NotEqual(t, int64(9), inst.ID)
				if inst.ID == 1 {
					require.Equal(t, []string{"octo-org/a"}, inst.Repositories, "kept as recorded")
				}
			}
		})
	}
}
