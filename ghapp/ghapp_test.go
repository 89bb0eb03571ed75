package ghapp

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/contexten/autonomous/ghapp/ghapptest"
	"github.com/google/go-github/v62/github"
	"github.com/stretchr/testify/require"
)

func TestEachFreshPagesWithoutCache(t *testing.T) {
	t.Parallel()
	fake := ghapptest.New(t)
	fake.HandleFunc("GET /items", func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "no-cache", r.Header.Get("Cache-Control"))
		require.Equal(t, "100", r.URL.Query().Get("per_page"))
		require.Equal(t, "x", r.URL.Query().Get("keep"))
		page := r.URL.Query().Get("page")
		if page != "3" {
			w.Header().Set("Link", fmt.Sprintf(`<%s/api/v3/items?page=%d>; rel="next"`, fake.URL(), int(page[0]-'0')+1))
		}
		_, _ = fmt.Fprintf(w, `[%s]`, page)
	})
	client := fake.Client(ghapptest.ClientOptions{})
	var seen []int
	err := EachFresh(context.Background(), client, "items", url.Values{"keep": {"x"}}, 0, func(page []int) bool {
		seen = append(seen, page...)
		return false
	})
	require.NoError(t, err)
	require.Equal(t, []int{1, 2, 3}, seen)
	seen = nil
	require.NoError(t, EachFresh(context.Background(), client, "items", url.Values{"keep": {"x"}}, 2, func(page []int) bool {
		seen = append(seen, page...)
		return false
	}))
	require.Equal(t, []int{1, 2}, seen, "maxPages bounds the reads")
	seen = nil
	require.NoError(t, EachFresh(context.Background(), client, "items", url.Values{"keep": {"x"}}, 0, func(page []int) bool {
		seen = append(seen, page...)
		return true
	}))
	require.Equal(t, []int{1}, seen, "found stops the reads")
	require.Len(t, fake.Calls("GET /items"), 6)
}

func TestStatusHelpers(t *testing.T) {
	t.Parallel()
	notFound := fmt.Errorf("failed to get: %w", &github.ErrorResponse{Response: &http.Response{StatusCode: http.StatusNotFound}})
	require.True(t, IsNotFound(notFound))
	require.True(t, HasStatus(notFound, 404))
	require.Equal(t, 404, StatusCode(notFound))
	require.False(t, IsNotFound(fmt.Errorf("not found")), "never by message text")
	require.False(t, IsNotFound(nil))
	require.Zero(t, StatusCode(&github.ErrorResponse{}))
}
