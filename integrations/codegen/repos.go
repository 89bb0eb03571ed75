package codegen

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// repoPageSize is the page size asked for (Codegen's maximum is 100).
const repoPageSize = 100

// maxRepoPages bounds a listing, whatever the answers say.
const maxRepoPages = 200

// Repo is a repository of the Codegen organization.
type Repo struct {
	ID int64 `json:"id"`
	// Name is the short name; FullName is "owner/name".
	Name     string `json:"name"`
	FullName string `json:"full_name"`
}

// repoPage is one answer of the listing: Codegen's paginated shape
// {items, total, page, size, pages}, or a bare array.
type repoPage struct {
	Items []Repo
	Total int
	Pages int
}

func (p *repoPage) UnmarshalJSON(b []byte) error {
	if t := strings.TrimSpace(string(b)); strings.HasPrefix(t, "[") {
		return json.Unmarshal(b, &p.Items)
	}
	var obj struct {
		Items        []Repo `json:"items"`
		Repositories []Repo `json:"repositories"`
		Data         []Repo `json:"data"`
		Total        int    `json:"total"`
		Pages        int    `json:"pages"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	p.Items, p.Total, p.Pages = obj.Items, obj.Total, obj.Pages
	if p.Items == nil {
		p.Items = obj.Repositories
	}
	if p.Items == nil {
		p.Items = obj.Data
	}
	return nil
}

// ListRepos lists all of the organization's repositories, page by page
// (skip/limit, with page/size sent too), stopping at the answer's total or
// pages, at a short page, or at a page that adds nothing new.
//
// API: GET /v1/organizations/{org_id}/repos
// (https://docs.codegen.com/api-reference/repositories/get-repositories).
func (c *Client) ListRepos(ctx context.Context) ([]Repo, error) {
	var all []Repo
	seen := map[int64]bool{}
	for page := 1; page <= maxRepoPages; page++ {
		q := url.Values{}
		q.Set("skip", strconv.Itoa((page-1)*repoPageSize))
		q.Set("limit", strconv.Itoa(repoPageSize))
		q.Set("page", strconv.Itoa(page))
		q.Set("size", strconv.Itoa(repoPageSize))
		var p repoPage
		if err := c.do(ctx, http.MethodGet, c.orgPath("/repos"), q, nil, &p); err != nil {
			return nil, fmt.Errorf("failed to list Codegen repositories (page %d): %w", page, err)
		}
		added := 0
		for _, r := range p.Items {
			if !seen[r.ID] {
				seen[r.ID] = true
				all = append(all, r)
				added++
			}
		}
		switch {
		case added == 0, len(p.Items) < repoPageSize,
			p.Total > 0 && len(all) >= p.Total,
			p.Pages > 0 && page >= p.Pages:
			return all, nil
		}
	}
	return all, nil
}

// repoEntry is a cached RepoID answer; id 0 is "not found".
type repoEntry struct {
	id      int64
	expires time.Time
}

// RepoID maps a GitHub repository "owner/name" (compared ignoring case) to
// Codegen's repo_id, from a cache refreshed by one [Client.ListRepos] at a
// time. A repository not found is remembered briefly and answered with
// [ErrRepoNotFound]; a failed listing is not remembered.
func (c *Client) RepoID(ctx context.Context, fullName string) (int64, error) {
	key := strings.ToLower(strings.TrimSpace(fullName))
	if owner, name, ok := strings.Cut(key, "/"); !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return 0, fmt.Errorf("failed to look up Codegen repository: %w: %q is not owner/name", ErrInvalidInput, fullName)
	}
	if id, ok := c.cachedRepo(key); ok {
		return repoAnswer(id, fullName)
	}
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	if id, ok := c.cachedRepo(key); ok { // filled while waiting
		return repoAnswer(id, fullName)
	}
	repos, err := c.ListRepos(ctx)
	if err != nil {
		return 0, fmt.Errorf("failed to look up Codegen repository %s: %w", fullName, err)
	}
	now := c.now()
	c.repoMu.Lock()
	for k, e := range c.repos {
		if !now.Before(e.expires) {
			delete(c.repos, k)
		}
	}
	for _, r := range repos {
		if n := strings.ToLower(r.FullName); r.ID > 0 && n != "" {
			c.repos[n] = repoEntry{id: r.ID, expires: now.Add(c.repoTTL)}
		}
	}
	e, ok := c.repos[key]
	if !ok {
		e = repoEntry{expires: now.Add(c.missTTL)}
		c.repos[key] = e
	}
	c.repoMu.Unlock()
	return repoAnswer(e.id, fullName)
}

func (c *Client) cachedRepo(key string) (int64, bool) {
	c.repoMu.Lock()
	defer c.repoMu.Unlock()
	e, ok := c.repos[key]
	if !ok || !c.now().Before(e.expires) {
		return 0, false
	}
	return e.id, true
}

func repoAnswer(id int64, fullName string) (int64, error) {
	if id == 0 {
		return 0, fmt.Errorf("failed to look up Codegen repository %s: %w", fullName, ErrRepoNotFound)
	}
	return id, nil
}
