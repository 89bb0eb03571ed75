package osv

import (
	"context"
	"fmt"
	"net/http"
)

// BatchSize is the most queries OSV accepts in one querybatch request.
const BatchSize = 1000

// maxPages bounds paging through one batch, against a server that never
// stops returning next_page_token.
const maxPages = 100

// Package names a package in an OSV ecosystem ("Go", "npm", "PyPI",
// "GitHub Actions").
type Package struct {
	Name      string `json:"name"`
	Ecosystem string `json:"ecosystem"`
}

// Query asks for the vulnerabilities affecting one package version.
type Query struct {
	Package Package `json:"package"`
	Version string  `json:"version"`
}

// VulnRef is a querybatch hit: the advisory id and its modified time.
type VulnRef struct {
	ID       string `json:"id"`
	Modified string `json:"modified,omitempty"`
}

type batchQuery struct {
	Query
	PageToken string `json:"page_token,omitempty"`
}

type batchResponse struct {
	Results []struct {
		Vulns         []VulnRef `json:"vulns"`
		NextPageToken string    `json:"next_page_token"`
	} `json:"results"`
}

// QueryBatch returns, for each query in order, the ids of the advisories
// affecting it, through POST /v1/querybatch
// (https://google.github.io/osv.dev/post-v1-querybatch/). Queries are sent
// in batches of BatchSize; a result with next_page_token is asked again
// with that page_token until it has none.
func (c *Client) QueryBatch(ctx context.Context, queries []Query) ([][]VulnRef, error) {
	out := make([][]VulnRef, len(queries))
	for start := 0; start < len(queries); start += BatchSize {
		end := min(start+BatchSize, len(queries))
		if err := c.queryChunk(ctx, queries[start:end], out[start:end]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (c *Client) queryChunk(ctx context.Context, queries []Query, out [][]VulnRef) error {
	pending := make([]int, len(queries)) // indexes still to ask
	tokens := make([]string, len(queries))
	for i := range pending {
		pending[i] = i
	}
	for page := 0; len(pending) > 0; page++ {
		if page == maxPages {
			return fmt.Errorf("failed to query osv: more than %d pages", maxPages)
		}
		req := struct {
			Queries []batchQuery `json:"queries"`
		}{}
		for _, i := range pending {
			req.Queries = append(req.Queries, batchQuery{Query: queries[i], PageToken: tokens[i]})
		}
		var resp batchResponse
		if err := c.do(ctx, http.MethodPost, "/v1/querybatch", req, &resp); err != nil {
			return fmt.Errorf("failed to query osv: %w", err)
		}
		if len(resp.Results) != len(pending) {
			return fmt.Errorf("failed to query osv: %d results for %d queries", len(resp.Results), len(pending))
		}
		var next []int
		for k, r := range resp.Results {
			i := pending[k]
			out[i] = append(out[i], r.Vulns...)
			if r.NextPageToken != "" {
				tokens[i] = r.NextPageToken
				next = append(next, i)
			}
		}
		pending = next
	}
	return nil
}
