package monitor_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-github/v62/github"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/ghapp/ghapptest"
	"github.com/contexten/autonomous/monitor"
	"github.com/contexten/autonomous/workflows"
	"github.com/contexten/autonomous/workflows/workflowstest"
)

// fakeClients serves GET /app from an httptest server, or fails.
type fakeClients struct {
	url string
	err error
}

func (f fakeClients) ForRepo(context.Context, string, string, int64) (*github.Client, int64, error) {
	return nil, 0, errors.New("not used")
}

func (f fakeClients) App() (*github.Client, error) {
	if f.err != nil {
		return nil, f.err
	}
	return github.NewClient(nil).WithEnterpriseURLs(f.url+"/", f.url+"/")
}

func fakeApp(t *testing.T, remaining string, status int) string {
	srv := ghapptest.New(t)
	srv.HandleFunc("GET /app", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-RateLimit-Limit", "5000")
		w.Header().Set("X-RateLimit-Remaining", remaining)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"id":1,"slug":"autonomous-ci","message":"Bad credentials"}`))
	})
	t.Cleanup(func() { require.Equal(t, []string{"GET /app"}, srv.Calls(""), "only GET /app is called") })
	return srv.URL()
}

func TestCheck(t *testing.T) {
	t.Parallel()
	st := workflowstest.OpenStore(t, workflowstest.SQLiteURL(t))
	engine, err := workflows.NewEngine(st, workflows.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = engine.Stop(context.Background()) })

	cases := []struct {
		name    string
		github  ghapp.Clients
		healthy bool
		score   int
		detail  string
	}{
		{"all healthy", fakeClients{url: fakeApp(t, "4999", http.StatusOK)}, true, 100, "app autonomous-ci, rate limit 4999/5000"},
		{"rate limit nearly used up", fakeClients{url: fakeApp(t, "10", http.StatusOK)}, true, 85, "rate limit nearly exhausted"},
		{"bad credentials", fakeClients{url: fakeApp(t, "4999", http.StatusUnauthorized)}, false, 40, "failed to authenticate as the app"},
		{"no credentials", nil, false, 40, "no GitHub App credentials"},
		{"client error", fakeClients{err: errors.New("broken key")}, false, 40, "broken key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checker := &monitor.Checker{Engine: engine, GitHub: tc.github}
			report := checker.Run(context.Background(), monitor.Options{CoreOnly: true})
			require.Equal(t, tc.healthy, report.Healthy)
			require.Equal(t, tc.score, report.Score)
			require.Len(t, report.Components, 3)
			require.Contains(t, report.Components[2].Message, tc.detail)
			require.Equal(t, monitor.Healthy, report.Components[0].Status, report.Components[0].Message)
		})
	}

	// River must be running when the server checks itself.
	report := (&monitor.Checker{Engine: engine, GitHub: fakeClients{url: fakeApp(t, "4999", http.StatusOK)}, RequireRunning: true}).Run(context.Background(), monitor.Options{CoreOnly: true})
	require.False(t, report.Healthy)
	require.Contains(t, report.Components[1].Message, "river is not running")

	// A closed database is unhealthy, not a crash.
	require.NoError(t, st.Close())
	report = (&monitor.Checker{Engine: engine}).Run(context.Background(), monitor.Options{CoreOnly: true})
	require.Equal(t, monitor.Down, report.Components[0].Status)
}
