package osv_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/integrations/osv"
)

func TestAdvisoriesMergeAliases(t *testing.T) {
	t.Parallel()
	f := newFakeOSV(t)
	f.pages["Go/example.com/web@v1.2.0"] = [][]string{{"GO-2024-0001", "GHSA-abcd-1234-wxyz"}, {"GO-2024-0002", "PYSEC-2023-9"}}
	f.pages["Go/example.com/other@v1.0.0"] = [][]string{{"GHSA-abcd-1234-wxyz"}}
	c := osv.New(f.srv.URL, nil)
	queries := []osv.Query{q("Go", "example.com/web", "v1.2.0"), q("Go", "example.com/safe", "v1.0.0"), q("Go", "example.com/other", "v1.0.0")}
	got, err := c.Advisories(context.Background(), queries)
	require.NoError(t, err)
	require.Len(t, got, 3)

	web := got[0]
	require.Len(t, web, 2, "GO-2024-0001 and GHSA-abcd-1234-wxyz are one advisory; PYSEC-2023-9 is withdrawn")
	require.Equal(t, "GO-2024-0002", web[0].ID, "no GHSA alias: its own id names it")
	require.Equal(t, osv.SeverityCritical, web[0].Severity)
	require.InDelta(t, 9.8, web[0].Score, 0.001)
	require.Empty(t, web[0].Fixed, "only last_affected: no fix")

	a := web[1]
	require.Equal(t, "GHSA-abcd-1234-wxyz", a.ID)
	require.Equal(t, []string{"CVE-2024-1111", "GHSA-abcd-1234-wxyz", "GO-2024-0001"}, a.IDs)
	require.Equal(t, "example.com/web vulnerable to denial of service via headers", a.Summary)
	require.Equal(t, "GitHub's write-up.", a.Details)
	require.Equal(t, osv.SeverityMedium, a.Severity, "database_specific.severity MODERATE wins over the vector")
	require.Equal(t, []string{"v1.2.4", "v1.3.2"}, a.Fixed, "both records' fixes, GIT range skipped, other package's skipped")
	require.Equal(t, []osv.Reference{
		{Type: "ADVISORY", URL: "https://github.com/advisories/GHSA-abcd-1234-wxyz"},
		{Type: "FIX", URL: "https://example.com/commit/abc"},
		{Type: "REPORT", URL: "https://example.com/issue/1"},
	}, a.References)

	require.Empty(t, got[1])
	require.Len(t, got[2], 1)
	require.Equal(t, []string{"v9.9.9"}, got[2][0].Fixed, "fixed versions are those of the queried package")

	// Each record was fetched once; a second run uses the cache.
	require.ElementsMatch(t, []string{"GO-2024-0001", "GHSA-abcd-1234-wxyz", "GO-2024-0002", "PYSEC-2023-9"}, f.gets)
	_, err = c.Advisories(context.Background(), queries)
	require.NoError(t, err)
	require.Len(t, f.gets, 4)
}

func TestGetVulnFailureIsNotCached(t *testing.T) {
	t.Parallel()
	f := newFakeOSV(t)
	c := osv.New(f.srv.URL, nil)
	_, err := c.GetVuln(context.Background(), "GHSA-none")
	var he *osv.HTTPError
	require.ErrorAs(t, err, &he)
	require.Equal(t, http.StatusNotFound, he.StatusCode)
	require.False(t, he.Retryable())
	_, err = c.GetVuln(context.Background(), "GHSA-none")
	require.Error(t, err)
	require.Equal(t, []string{"GHSA-none", "GHSA-none"}, f.gets)

	f.fail = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/v1/vulns/GO-2024-0001" && len(f.gets) == 2 {
			f.gets = append(f.gets, "failed")
			w.WriteHeader(http.StatusBadGateway)
			return true
		}
		return false
	}
	_, err = c.GetVuln(context.Background(), "GO-2024-0001")
	require.ErrorAs(t, err, &he)
	require.True(t, he.Retryable())
	v, err := c.GetVuln(context.Background(), "GO-2024-0001")
	require.NoError(t, err)
	require.Equal(t, "GO-2024-0001", v.ID)
}

func TestMergeTransitiveAliases(t *testing.T) {
	t.Parallel()
	// A and C share nothing directly; B links them.
	vulns := []*osv.Vuln{
		{ID: "PYSEC-1", Aliases: []string{"CVE-1"}},
		{ID: "GHSA-bbbb", Aliases: []string{"CVE-1", "CVE-2"}},
		{ID: "OSV-3", Aliases: []string{"CVE-2"}},
		{ID: "PYSEC-1", Aliases: []string{"CVE-1"}},
		{ID: "OSV-9"},
	}
	got := osv.Merge(osv.Package{Name: "x", Ecosystem: "PyPI"}, vulns)
	require.Len(t, got, 2)
	require.Equal(t, "GHSA-bbbb", got[0].ID)
	require.Equal(t, []string{"CVE-1", "CVE-2", "GHSA-bbbb", "OSV-3", "PYSEC-1"}, got[0].IDs)
	require.Equal(t, "OSV-9", got[1].ID)
}

func TestFixedVersionsMatchPackageNames(t *testing.T) {
	t.Parallel()
	v := &osv.Vuln{ID: "PYSEC-1", Affected: []osv.Affected{
		{Package: osv.Package{Name: "Zope.Interface", Ecosystem: "PyPI"}, Ranges: []osv.Range{{Type: "ECOSYSTEM", Events: []osv.Event{{Introduced: "0"}, {Fixed: "5.0"}}}}},
		{Package: osv.Package{Name: "zope-interface", Ecosystem: "npm"}, Ranges: []osv.Range{{Type: "SEMVER", Events: []osv.Event{{Fixed: "9.0.0"}}}}},
		{Package: osv.Package{Name: "Tj-Actions/Changed-Files", Ecosystem: "GitHub Actions"}, Ranges: []osv.Range{{Type: "ECOSYSTEM", Events: []osv.Event{{Fixed: "46.0.1"}}}}},
	}}
	require.Equal(t, []string{"5.0"}, osv.Merge(osv.Package{Name: "zope_interface", Ecosystem: "PyPI"}, []*osv.Vuln{v})[0].Fixed)
	require.Equal(t, []string{"46.0.1"}, osv.Merge(osv.Package{Name: "tj-actions/changed-files", Ecosystem: "GitHub Actions"}, []*osv.Vuln{v})[0].Fixed)
}

func TestCVSS3BaseScore(t *testing.T) {
	t.Parallel()
	for vector, want := range map[string]float64{
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H": 9.8,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N": 6.1,
		"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N": 5.5,
		"CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N": 5.9,
		"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H": 9.9,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H": 7.5,
		"CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N": 1.6,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N": 0,
	} {
		got, ok := osv.CVSS3BaseScore(vector)
		require.True(t, ok, vector)
		require.InDelta(t, want, got, 0.0001, vector)
	}
	for _, bad := range []string{"", "CVSS:2.0/AV:N", "CVSS:3.1/AV:N/AC:L", "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:Z/C:H/I:H/A:H",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"} {
		_, ok := osv.CVSS3BaseScore(bad)
		require.False(t, ok, bad)
	}
}

func TestSeverityOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v    osv.Vuln
		want osv.Severity
	}{
		{osv.Vuln{DatabaseSpecific: []byte(`{"severity":"CRITICAL"}`)}, osv.SeverityCritical},
		{osv.Vuln{DatabaseSpecific: []byte(`{"severity":"moderate"}`)}, osv.SeverityMedium},
		{osv.Vuln{DatabaseSpecific: []byte(`{"severity":"whatever"}`), Severity: []osv.SeverityScore{{Type: "CVSS_V3", Score: "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"}}}, osv.SeverityLow},
		{osv.Vuln{DatabaseSpecific: []byte(`[1,2]`), Severity: []osv.SeverityScore{{Type: "CVSS_V3", Score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}}}, osv.SeverityHigh},
		{osv.Vuln{Severity: []osv.SeverityScore{{Type: "CVSS_V4", Score: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}}}, osv.SeverityUnknown},
		{osv.Vuln{}, osv.SeverityUnknown},
	} {
		got, _ := osv.SeverityOf(&tc.v)
		require.Equal(t, tc.want, got, "%s %s", tc.v.DatabaseSpecific, tc.v.Severity)
	}
	require.Equal(t, "medium", osv.ParseSeverity("MODERATE").String())
}

func TestAdvisoriesRefetchModifiedRecords(t *testing.T) {
	t.Parallel()
	f := newFakeOSV(t)
	f.pages["Go/example.com/web@v1.2.0"] = [][]string{{"GO-2024-0002"}}
	c := osv.New(f.srv.URL, nil)
	queries := []osv.Query{q("Go", "example.com/web", "v1.2.0")}
	run := func() {
		_, err := c.Advisories(context.Background(), queries)
		require.NoError(t, err)
	}
	run()
	run()
	require.Equal(t, []string{"GO-2024-0002"}, f.gets, "unchanged record served from the cache")
	f.mu.Lock()
	f.modified["GO-2024-0002"] = "2025-01-01T00:00:00Z"
	f.mu.Unlock()
	run()
	require.Equal(t, []string{"GO-2024-0002", "GO-2024-0002"}, f.gets, "a newer modified time refetches")
	_, err := c.GetVuln(context.Background(), "GO-2024-0002")
	require.NoError(t, err)
	require.Len(t, f.gets, 2, "GetVuln alone trusts the cache")
}

func TestAdvisoriesFetchConcurrentlyAndStopOnError(t *testing.T) {
	t.Parallel()
	f := newFakeOSV(t)
	f.pages["npm/a@1.0.0"] = [][]string{{"GO-2024-0001", "GHSA-abcd-1234-wxyz"}}
	f.pages["npm/b@1.0.0"] = [][]string{{"GO-2024-0002", "GO-2024-0001"}}
	// Every GET waits until a second one is in flight: with sequential
	// fetches the barrier is never met.
	var mu sync.Mutex
	inFlight, overlapped := 0, false
	arrived := make(chan struct{}, 16)
	f.fail = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet {
			return false
		}
		mu.Lock()
		inFlight++
		if inFlight >= 2 {
			overlapped = true
		}
		mu.Unlock()
		arrived <- struct{}{}
		for {
			mu.Lock()
			done := overlapped
			mu.Unlock()
			if done {
				break
			}
			select {
			case <-arrived:
			case <-time.After(2 * time.Second):
				done = true
			}
			if done {
				break
			}
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
		return false
	}
	got, err := osv.New(f.srv.URL, nil).Advisories(context.Background(), []osv.Query{q("npm", "a", "1.0.0"), q("npm", "b", "1.0.0")})
	require.NoError(t, err)
	require.True(t, overlapped, "records are fetched concurrently")
	require.Len(t, got[0], 1)
	require.Len(t, got[1], 2)
	require.ElementsMatch(t, []string{"GO-2024-0001", "GHSA-abcd-1234-wxyz", "GO-2024-0002"}, f.gets, "each distinct id once")

	f2 := newFakeOSV(t)
	f2.pages["npm/a@1.0.0"] = [][]string{{"GO-2024-0001", "GHSA-missing", "GO-2024-0002"}}
	_, err = osv.New(f2.srv.URL, nil).Advisories(context.Background(), []osv.Query{q("npm", "a", "1.0.0")})
	var he *osv.HTTPError
	require.ErrorAs(t, err, &he)
	require.Equal(t, http.StatusNotFound, he.StatusCode)
}
