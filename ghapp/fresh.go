package ghapp

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/google/go-github/v62/github"
)

// GetFresh sends GET path (relative to the API root, query included) with "Cache-Control:
// no-cache" and decodes the answer into v. The server's clients cache GitHub's answers for
// their max-age (a minute for lists); a read that decides whether to write (is my comment, my
// check run already there?) must see GitHub's current state, and httpcache honours the
// directive by going to GitHub.
func GetFresh(ctx context.Context, client *github.Client, path string, query url.Values, v any) (*github.Response, error) {
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	req, err := client.NewRequest(http.MethodGet, path, nil)
	if err != nil {
		return nil, fmt.Errorf("failed to build request for %s: %w", path, err)
	}
	req.Header.Set("Cache-Control", "no-cache")
	return client.Do(ctx, req, v)
}

// EachFresh reads a list endpoint page by page with GetFresh (100 items a page, at most
// maxPages pages; zero means all), decoding each page into a new T and handing it to each until
// each returns true (found) or the last page was read.
func EachFresh[T any](ctx context.Context, client *github.Client, path string, query url.Values, maxPages int, each func(page T) bool) error {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("per_page", "100")
	for page := 1; maxPages == 0 || page <= maxPages; page++ {
		q.Set("page", strconv.Itoa(page))
		var v T
		resp, err := GetFresh(ctx, client, path, q, &v)
		if err != nil {
			return err
		}
		if each(v) || resp == nil || resp.NextPage == 0 {
			return nil
		}
	}
	return nil
}
