package osv_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/integrations/osv"
)

func q(eco, name, version string) osv.Query {
	return osv.Query{Package: osv.Package{Name: name, Ecosystem: eco}, Version: version}
}

func TestQueryBatchSplitsIntoBatchesOf1000(t *testing.T) {
	t.Parallel()
	f := newFakeOSV(t)
	f.pages["npm/pkg-1500@1.0.0"] = [][]string{{"GHSA-x"}}
	queries := make([]osv.Query, 2500)
	for i := range queries {
		queries[i] = q("npm", fmt.Sprintf("pkg-%d", i), "1.0.0")
	}
	got, err := osv.New(f.srv.URL, f.srv.Client()).QueryBatch(context.Background(), queries)
	require.NoError(t, err)
	require.Len(t, got, 2500)
	var sizes []int
	for _, b := range f.batches {
		sizes = append(sizes, len(b))
	}
	require.Equal(t, []int{1000, 1000, 500}, sizes)
	require.Equal(t, "pkg-1000", f.batches[1][0].Package.Name)
	for i, refs := range got {
		if i == 1500 {
			require.Equal(t, []osv.VulnRef{{ID: "GHSA-x", Modified: "2024-01-01T00:00:00Z"}}, refs)
		} else {
			require.Empty(t, refs, i)
		}
	}
}

func TestQueryBatchFollowsPageTokens(t *testing.T) {
	t.Parallel()
	f := newFakeOSV(t)
	f.pages["Go/a@v1.0.0"] = [][]string{{"GO-1", "GO-2"}, {"GO-3"}, {"GO-4"}}
	f.pages["Go/b@v2.0.0"] = [][]string{{"GO-9"}}
	got, err := osv.New(f.srv.URL+"/", nil).QueryBatch(context.Background(),
		[]osv.Query{q("Go", "a", "v1.0.0"), q("Go", "b", "v2.0.0"), q("Go", "c", "v0.1.0")})
	require.NoError(t, err)
	ids := func(refs []osv.VulnRef) (out []string) {
		for _, r := range refs {
			out = append(out, r.ID)
		}
		return out
	}
	require.Equal(t, []string{"GO-1", "GO-2", "GO-3", "GO-4"}, ids(got[0]))
	require.Equal(t, []string{"GO-9"}, ids(got[1]))
	require.Empty(t, got[2])
	// Only the query with more pages is asked again, with its token.
	require.Len(t, f.batches, 3)
	require.Len(t, f.batches[0], 3)
	require.Equal(t, "", f.batches[0][0].PageToken)
	require.Len(t, f.batches[1], 1)
	require.Equal(t, "p1", f.batches[1][0].PageToken)
	require.Equal(t, "p2", f.batches[2][0].PageToken)
	require.Equal(t, "a", f.batches[2][0].Package.Name)
}

func TestQueryBatchRejectsBadResponses(t *testing.T) {
	t.Parallel()
	f := newFakeOSV(t)
	f.resultsN = func(n int) int { return n - 1 }
	_, err := osv.New(f.srv.URL, nil).QueryBatch(context.Background(), []osv.Query{q("npm", "a", "1")})
	require.ErrorContains(t, err, "0 results for 1 queries")

	endless := newFakeOSV(t)
	endless.fail = func(w http.ResponseWriter, r *http.Request) bool {
		_, _ = w.Write([]byte(`{"results":[{"vulns":[{"id":"X"}],"next_page_token":"again"}]}`))
		return true
	}
	_, err = osv.New(endless.srv.URL, nil).QueryBatch(context.Background(), []osv.Query{q("npm", "a", "1")})
	require.ErrorContains(t, err, "more than 100 pages")

	garbage := newFakeOSV(t)
	garbage.fail = func(w http.ResponseWriter, r *http.Request) bool {
		_, _ = w.Write([]byte(`{"results": [`))
		return true
	}
	_, err = osv.New(garbage.srv.URL, nil).QueryBatch(context.Background(), []osv.Query{q("npm", "a", "1")})
	require.Error(t, err)
	var he *osv.HTTPError
	require.NotErrorAs(t, err, &he)
}

func TestHTTPErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status     int
		retryAfter string
		wantAfter  time.Duration
		retryable  bool
	}{
		{http.StatusTooManyRequests, "7", 7 * time.Second, true},
		{http.StatusInternalServerError, "", 0, true},
		{http.StatusServiceUnavailable, "soon", 0, true},
		{http.StatusBadRequest, "", 0, false},
	} {
		f := newFakeOSV(t)
		f.fail = func(w http.ResponseWriter, r *http.Request) bool {
			if tc.retryAfter != "" {
				w.Header().Set("Retry-After", tc.retryAfter)
			}
			http.Error(w, "nope", tc.status)
			return true
		}
		_, err := osv.New(f.srv.URL, nil).QueryBatch(context.Background(), []osv.Query{q("npm", "a", "1")})
		var he *osv.HTTPError
		require.ErrorAs(t, err, &he, tc.status)
		require.Equal(t, tc.status, he.StatusCode)
		require.Equal(t, tc.wantAfter, he.RetryAfter)
		require.Equal(t, tc.retryable, he.Retryable())
		require.Equal(t, "/v1/querybatch", he.Path)
	}
}

func TestRetryAfterHTTPDate(t *testing.T) {
	t.Parallel()
	f := newFakeOSV(t)
	f.fail = func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Retry-After", time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	}
	_, err := osv.New(f.srv.URL, nil).GetVuln(context.Background(), "GO-2024-0001")
	var he *osv.HTTPError
	require.ErrorAs(t, err, &he)
	require.InDelta(t, 90, he.RetryAfter.Seconds(), 2)
}

func TestContextCancelled(t *testing.T) {
	t.Parallel()
	f := newFakeOSV(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := osv.New(f.srv.URL, nil).QueryBatch(ctx, []osv.Query{q("npm", "a", "1")})
	require.ErrorIs(t, err, context.Canceled)
	require.Empty(t, f.batches)
}

func TestBaseURLFromEnv(t *testing.T) {
	t.Setenv(osv.EnvBaseURL, "")
	require.Equal(t, "https://api.osv.dev", osv.BaseURLFromEnv())
	t.Setenv(osv.EnvBaseURL, "http://127.0.0.1:1")
	require.Equal(t, "http://127.0.0.1:1", osv.BaseURLFromEnv())
}
