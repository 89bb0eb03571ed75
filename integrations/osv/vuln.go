package osv

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// Vuln is an OSV record (https://ossf.github.io/osv-schema/), the fields
// this package uses.
type Vuln struct {
	ID               string          `json:"id"`
	Summary          string          `json:"summary"`
	Details          string          `json:"details"`
	Aliases          []string        `json:"aliases"`
	Modified         string          `json:"modified"`
	Published        string          `json:"published"`
	Withdrawn        string          `json:"withdrawn,omitempty"`
	Severity         []SeverityScore `json:"severity"`
	Affected         []Affected      `json:"affected"`
	References       []Reference     `json:"references"`
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty"`
}

// SeverityScore is a severity[] entry: a type ("CVSS_V3", "CVSS_V4") and
// its vector.
type SeverityScore struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

// Affected is one affected[] entry.
type Affected struct {
	Package          Package         `json:"package"`
	Ranges           []Range         `json:"ranges"`
	Versions         []string        `json:"versions"`
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty"`
}

// Range is one affected[].ranges[] entry.
type Range struct {
	Type   string  `json:"type"` // SEMVER, ECOSYSTEM or GIT
	Events []Event `json:"events"`
}

// Event is one range event; exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// Reference is a link: type ADVISORY, WEB, FIX, PACKAGE, REPORT, ...
type Reference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// GetVuln returns the record with id through GET /v1/vulns/{id}
// (https://google.github.io/osv.dev/get-v1-vulns/). Records are cached in
// the client per id (Advisories refetches one whose modified time changed);
// failures are not cached.
func (c *Client) GetVuln(ctx context.Context, id string) (*Vuln, error) {
	return c.getVuln(ctx, id, "")
}

// getVuln is GetVuln that also refetches a cached record whose modified
// time differs from modified (as a querybatch result reports it).
func (c *Client) getVuln(ctx context.Context, id, modified string) (*Vuln, error) {
	c.mu.Lock()
	v, ok := c.vulns[id]
	c.mu.Unlock()
	if ok && (modified == "" || v.Modified == modified) {
		return v, nil
	}
	v = &Vuln{}
	if err := c.do(ctx, http.MethodGet, "/v1/vulns/"+url.PathEscape(id), nil, v); err != nil {
		return nil, fmt.Errorf("failed to get vulnerability %s: %w", id, err)
	}
	c.mu.Lock()
	c.vulns[id] = v
	c.mu.Unlock()
	return v, nil
}
