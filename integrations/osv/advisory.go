package osv

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Advisory is one advisory for one package, merged from the OSV records
// that are aliases of each other (the Go database's GO- record and
// GitHub's GHSA- record for the same flaw become one).
type Advisory struct {
	// ID is the GHSA id when the group has one, else the smallest record id.
	ID       string
	IDs      []string // every record id and alias, sorted
	Summary  string
	Details  string
	Severity Severity
	Score    float64 // CVSS v3 base score when a vector was given
	// Fixed lists the versions that fix the advisory for the queried
	// package, from affected[].ranges[].events[].fixed (GIT ranges
	// skipped); Go versions carry the "v" prefix go.mod uses.
	Fixed      []string
	References []Reference
}

// Advisories returns, for each query in order, the advisories affecting it:
// QueryBatch for the ids, GetVuln for each distinct record (up to
// fetchWorkers at once; cached until the batch reports a different modified
// time), then Merge.
func (c *Client) Advisories(ctx context.Context, queries []Query) ([][]Advisory, error) {
	refs, err := c.QueryBatch(ctx, queries)
	if err != nil {
		return nil, err
	}
	got, err := c.fetchAll(ctx, refs)
	if err != nil {
		return nil, err
	}
	out := make([][]Advisory, len(queries))
	for i, rs := range refs {
		var vulns []*Vuln
		for _, r := range rs {
			vulns = append(vulns, got[r.ID])
		}
		out[i] = Merge(queries[i].Package, vulns)
	}
	return out, nil
}

// fetchWorkers bounds the GET /v1/vulns requests in flight at once.
const fetchWorkers = 4

// fetchAll gets every distinct record named in refs, fetchWorkers at a
// time; the first failure stops the rest and is returned.
func (c *Client) fetchAll(ctx context.Context, refs [][]VulnRef) (map[string]*Vuln, error) {
	modified := map[string]string{}
	var ids []string
	for _, rs := range refs {
		for _, r := range rs {
			if _, ok := modified[r.ID]; !ok {
				ids = append(ids, r.ID)
			}
			modified[r.ID] = r.Modified
		}
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
		got      = make(map[string]*Vuln, len(ids))
		jobs     = make(chan string)
	)
	for range min(fetchWorkers, len(ids)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range jobs {
				v, err := c.getVuln(wctx, id, modified[id])
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
					cancel()
				} else if err == nil {
					got[id] = v
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, id := range ids {
		select {
		case jobs <- id:
		case <-wctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("failed to get vulnerabilities: %w", err)
	}
	return got, nil
}

// Merge groups records that share an id or alias (transitively), skipping
// withdrawn ones, into advisories for pkg, worst severity first.
func Merge(pkg Package, vulns []*Vuln) []Advisory {
	var live []*Vuln
	for _, v := range vulns {
		if v.Withdrawn == "" && !slices.ContainsFunc(live, func(w *Vuln) bool { return w.ID == v.ID }) {
			live = append(live, v)
		}
	}
	parent := make([]int, len(live))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[string]int{}
	for i, v := range live {
		for _, name := range append([]string{v.ID}, v.Aliases...) {
			if j, ok := owner[name]; ok {
				parent[find(i)] = find(j)
			} else {
				owner[name] = i
			}
		}
	}
	groups := map[int][]*Vuln{}
	var roots []int
	for i, v := range live {
		r := find(i)
		if _, ok := groups[r]; !ok {
			roots = append(roots, r)
		}
		groups[r] = append(groups[r], v)
	}
	out := make([]Advisory, 0, len(roots))
	for _, r := range roots {
		out = append(out, merged(pkg, groups[r]))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Severity != out[j].Severity {
			return out[i].Severity > out[j].Severity
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func merged(pkg Package, group []*Vuln) Advisory {
	// The GHSA record speaks first: its summary and rating are GitHub's.
	sort.SliceStable(group, func(i, j int) bool {
		gi, gj := strings.HasPrefix(group[i].ID, "GHSA-"), strings.HasPrefix(group[j].ID, "GHSA-")
		if gi != gj {
			return gi
		}
		return group[i].ID < group[j].ID
	})
	a := Advisory{ID: group[0].ID}
	seen := map[string]bool{}
	for _, v := range group {
		for _, name := range append([]string{v.ID}, v.Aliases...) {
			if !seen[name] {
				seen[name] = true
				a.IDs = append(a.IDs, name)
			}
		}
		if a.Summary == "" {
			a.Summary = v.Summary
		}
		if a.Details == "" {
			a.Details = v.Details
		}
		if s, score := SeverityOf(v); s > a.Severity || (s == a.Severity && score > a.Score) {
			a.Severity, a.Score = s, score
		}
		for _, f := range fixedVersions(pkg, v) {
			if !slices.Contains(a.Fixed, f) {
				a.Fixed = append(a.Fixed, f)
			}
		}
		for _, ref := range v.References {
			if !slices.Contains(a.References, ref) {
				a.References = append(a.References, ref)
			}
		}
	}
	sort.Strings(a.IDs)
	for _, name := range a.IDs {
		if strings.HasPrefix(name, "GHSA-") {
			a.ID = name
			break
		}
	}
	return a
}

// fixedVersions lists a record's fixed events for pkg.
func fixedVersions(pkg Package, v *Vuln) []string {
	var out []string
	for _, af := range v.Affected {
		if af.Package.Ecosystem != pkg.Ecosystem || !samePackage(pkg.Ecosystem, af.Package.Name, pkg.Name) {
			continue
		}
		for _, r := range af.Ranges {
			if r.Type == "GIT" {
				continue
			}
			for _, e := range r.Events {
				if e.Fixed == "" {
					continue
				}
				f := e.Fixed
				if pkg.Ecosystem == "Go" && !strings.HasPrefix(f, "v") {
					f = "v" + f
				}
				out = append(out, f)
			}
		}
	}
	return out
}

var pep503 = regexp.MustCompile(`[-_.]+`)

// samePackage compares names: PyPI names normalised (PEP 503), action
// names case-insensitively, others exactly.
func samePackage(ecosystem, a, b string) bool {
	if ecosystem == "GitHub Actions" {
		return strings.EqualFold(a, b) // GitHub owner/repo names ignore case
	}
	if ecosystem == "PyPI" {
		return pep503.ReplaceAllString(strings.ToLower(a), "-") == pep503.ReplaceAllString(strings.ToLower(b), "-")
	}
	return a == b
}
