package ghapp_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/ghapp"
	"github.com/contexten/autonomous/ghapp/ghapptest"
)

// clientsOf serves every client from the fake.
type clientsOf struct{ srv *ghapptest.Server }

func (c clientsOf) ForRepo(context.Context, string, string, int64) (*github.Client, int64, error) {
	return c.srv.Client(ghapptest.ClientOptions{}), 1, nil
}
func (c clientsOf) App() (*github.Client, error) { return c.srv.Client(ghapptest.ClientOptions{}), nil }

// TestInstalledRepos: suspended installations, archived and disabled repositories are left out;
// both lists are paged; the answer is sorted.
func TestInstalledRepos(t *testing.T) {
	t.Parallel()
	srv := ghapptest.New(t)
	srv.HandleFunc("GET /app/installations", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "2" {
			ghapptest.JSON(w, 200, []any{map[string]any{"id": 3, "suspended_at": time.Now().Format(time.RFC3339)}})
			return
		}
		w.Header().Set("Link", `<`+srv.URL()+`/api/v3/app/installations?page=2>; rel="next"`)
		ghapptest.JSON(w, 200, []any{map[string]any{"id": 1}})
	})
	srv.HandleFunc("GET /installation/repositories", func(w http.ResponseWriter, r *http.Request) {
		repo := func(name string, archived bool) map[string]any {
			return map[string]any{"name": name, "archived": archived, "owner": map[string]any{"login": "octo"}}
		}
		if r.URL.Query().Get("page") == "2" {
			ghapptest.JSON(w, 200, map[string]any{"total_count": 3, "repositories": []any{repo("alpha", false)}})
			return
		}
		w.Header().Set("Link", `<`+srv.URL()+`/api/v3/installation/repositories?page=2>; rel="next"`)
		ghapptest.JSON(w, 200, map[string]any{"total_count": 3, "repositories": []any{repo("zeta", false), repo("old", true)}})
	})
	repos, err := ghapp.InstalledRepos(context.Background(), clientsOf{srv}, 10)
	require.NoError(t, err)
	require.Equal(t, []ghapp.InstalledRepo{{Owner: "octo", Name: "alpha", InstallationID: 1}, {Owner: "octo", Name: "zeta", InstallationID: 1}}, repos)

	srv.Fail(ghapptest.Fault{Method: http.MethodGet, Path: "/app/installations", Status: http.StatusBadGateway})
	_, err = ghapp.InstalledRepos(context.Background(), clientsOf{srv}, 10)
	require.Error(t, err)
	require.True(t, ghapp.HasStatus(err, http.StatusBadGateway))
}
