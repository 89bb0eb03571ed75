package registry

import (
	"context"
	"net/http"
	"testing"

	"github.com/contexten/autonomous/ghapp/ghapptest"
	"github.com/stretchr/testify/require"
)

func TestGitHubTagsPagesAndActionReleases(t *testing.T) {
	t.Parallel()
	fake := ghapptest.New(t)
	fake.HandleFunc("GET /repos/actions/checkout/tags", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("page") == "" {
			w.Header().Set("Link", `<`+fake.URL()+`/api/v3/repos/actions/checkout/tags?page=2&per_page=100>; rel="next"`)
			_, _ = w.Write([]byte(`[{"name":"v4.2.0","commit":{"sha":"aaa"}},{"name":"v4","commit":{"sha":"aaa"}},{"name":"main-fix","commit":{"sha":"x"}}]`))
			return
		}
		_, _ = w.Write([]byte(`[{"name":"v4.1.7","commit":{"sha":"bbb"}},{"name":"v5.0.0-beta","commit":{"sha":"ccc"}},{"name":"3.0.1","commit":{"sha":"ddd"}}]`))
	})
	gh := fake.Client(ghapptest.ClientOptions{})

	rs, err := ActionReleases(context.Background(), GitHubTags{Repos: gh.Repositories}, "actions/checkout/sub")
	require.NoError(t, err)
	var paths []string
	for _, r := range fake.Requests() {
		paths = append(paths, r.Path+"?"+r.Query)
	}
	require.Equal(t, []string{"/repos/actions/checkout/tags?per_page=100", "/repos/actions/checkout/tags?page=2&per_page=100"}, paths)
	var names []string
	for _, r := range rs {
		names = append(names, r.Version+"="+r.SHA)
	}
	require.Equal(t, []string{"3.0.1=ddd", "v4=aaa", "v4.1.7=bbb", "v4.2.0=aaa", "v5.0.0-beta=ccc"}, names)
	require.True(t, rs[4].Prerelease)

	c, found, err := Select("GitHub Actions", "v4.1.7", rs, Aggressive)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, "v4.2.0", c.Version) // the beta is skipped
	require.Equal(t, "aaa", c.SHA)

	_, err = ActionReleases(context.Background(), GitHubTags{Repos: gh.Repositories}, "nope/missing")
	require.Error(t, err)
	_, err = ActionReleases(context.Background(), GitHubTags{Repos: gh.Repositories}, "just-owner")
	require.Error(t, err)
}
