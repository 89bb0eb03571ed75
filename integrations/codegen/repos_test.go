package codegen

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeClock is a settable time.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func manyRepos(n int) []Repo {
	repos := make([]Repo, 0, n)
	for i := 1; i <= n; i++ {
		repos = append(repos, Repo{ID: int64(1000 + i), Name: fmt.Sprintf("r%d", i), FullName: fmt.Sprintf("Owner/R%d", i)})
	}
	return repos
}

func TestListReposPages(t *testing.T) {
	t.Parallel()
	f := newFakeCodegen(t)
	f.repos = manyRepos(250)
	repos, err := newTestClient(t, f).ListRepos(context.Background())
	require.NoError(t, err)
	require.Len(t, repos, 250)
	require.Equal(t, int64(1250), repos[249].ID)
	calls := f.calls()
	require.Len(t, calls, 3)
	for i, call := range calls {
		require.Equal(t, "/v1/organizations/42/repos", call.Path)
		require.Equal(t, fmt.Sprint(i*100), call.Query["skip"])
		require.Equal(t, "100", call.Query["limit"])
	}
}

func TestListReposShapes(t *testing.T) {
	t.Parallel()
	full := `[{"id":1,"name":"a","full_name":"o/a"},{"id":2,"name":"b","full_name":"o/b"}]`
	for name, body := range map[string]string{
		"bare array":                full,
		"items without paging info": `{"items":` + full + `}`,
		"repositories key":          `{"repositories":` + full + `,"total":2}`,
		"pages says one":            `{"items":` + full + `,"page":1,"size":100,"pages":1,"total":2}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFakeCodegen(t)
			f.fail = func(w http.ResponseWriter, _ *http.Request) bool { _, _ = w.Write([]byte(body)); return true }
			repos, err := newTestClient(t, f).ListRepos(context.Background())
			require.NoError(t, err)
			require.Equal(t, []Repo{{ID: 1, Name: "a", FullName: "o/a"}, {ID: 2, Name: "b", FullName: "o/b"}}, repos)
			require.Len(t, f.calls(), 1)
		})
	}
}

func TestListReposStopsOnAServerIgnoringPaging(t *testing.T) {
	t.Parallel()
	f := newFakeCodegen(t)
	page := `{"items":[`
	for i := 1; i <= 100; i++ {
		if i > 1 {
			page += ","
		}
		page += fmt.Sprintf(`{"id":%d,"full_name":"o/r%d"}`, i, i)
	}
	page += `]}`
	f.fail = func(w http.ResponseWriter, _ *http.Request) bool { _, _ = w.Write([]byte(page)); return true }
	repos, err := newTestClient(t, f).ListRepos(context.Background())
	require.NoError(t, err)
	require.Len(t, repos, 100)
	require.Len(t, f.calls(), 2, "the second page adds nothing new: stop")
}

func TestRepoIDIsCached(t *testing.T) {
	t.Parallel()
	f := newFakeCodegen(t)
	f.repos = manyRepos(150)
	clock := &fakeClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	c := newTestClient(t, f, withClock(clock.now), WithRepoCache(time.Hour, time.Minute))
	ctx := context.Background()

	id, err := c.RepoID(ctx, "owner/r120")
	require.NoError(t, err)
	require.Equal(t, int64(1120), id)
	require.Len(t, f.calls(), 2)
	id, err = c.RepoID(ctx, "OWNER/r3")
	require.NoError(t, err)
	require.Equal(t, int64(1003), id)
	require.Len(t, f.calls(), 2, "a cached repository is not listed again")

	_, err = c.RepoID(ctx, "owner/missing")
	require.ErrorIs(t, err, ErrRepoNotFound)
	require.Len(t, f.calls(), 4)
	_, err = c.RepoID(ctx, "owner/missing")
	require.ErrorIs(t, err, ErrRepoNotFound)
	require.Len(t, f.calls(), 4, "a miss is remembered briefly")

	f.mu.Lock()
	f.repos = append(f.repos, Repo{ID: 5000, Name: "missing", FullName: "owner/missing"})
	f.mu.Unlock()
	clock.add(2 * time.Minute)
	id, err = c.RepoID(ctx, "owner/missing")
	require.NoError(t, err)
	require.Equal(t, int64(5000), id)
	require.Len(t, f.calls(), 6)

	clock.add(2 * time.Hour)
	_, err = c.RepoID(ctx, "owner/r3")
	require.NoError(t, err)
	require.Len(t, f.calls(), 8, "an expired entry is listed again")

	for _, bad := range []string{"", "owner", "/r", "owner/", "a/b/c"} {
		_, err = c.RepoID(ctx, bad)
		require.ErrorIs(t, err, ErrInvalidInput, bad)
	}
}

func TestRepoIDListingErrorIsNotCached(t *testing.T) {
	t.Parallel()
	f := newFakeCodegen(t)
	f.repos = manyRepos(3)
	fail := true
	f.fail = func(w http.ResponseWriter, _ *http.Request) bool {
		if fail {
			w.WriteHeader(http.StatusBadGateway)
		}
		return fail
	}
	c := newTestClient(t, f)
	_, err := c.RepoID(context.Background(), "owner/r1")
	require.True(t, IsRetryable(err))
	f.mu.Lock()
	fail = false
	f.mu.Unlock()
	id, err := c.RepoID(context.Background(), "owner/r1")
	require.NoError(t, err)
	require.Equal(t, int64(1001), id)
}

func TestRepoIDConcurrentMissesListOnce(t *testing.T) {
	t.Parallel()
	f := newFakeCodegen(t)
	f.repos = manyRepos(20)
	f.listGate = make(chan struct{})
	c := newTestClient(t, f)
	var wg sync.WaitGroup
	ids := make([]int64, 10)
	errs := make([]error, 10)
	for i := range 10 {
		wg.Go(func() { ids[i], errs[i] = c.RepoID(context.Background(), fmt.Sprintf("owner/r%d", i+1)) })
	}
	// Let the single listing answer; any second listing would block forever.
	f.listGate <- struct{}{}
	wg.Wait()
	for i := range 10 {
		require.NoError(t, errs[i])
		require.Equal(t, int64(1001+i), ids[i])
	}
	require.Equal(t, 1, f.count(http.MethodGet, "/v1/organizations/42/repos"))
}
