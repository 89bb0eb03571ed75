package linear

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultURL is Linear's GraphQL endpoint, used when LINEAR_API_URL is empty.
const DefaultURL = "https://api.linear.app/graphql"

// maxResponse bounds the answer read; the operations here answer a few KB.
const maxResponse = 4 << 20

// maxErrorBody bounds the part of a non-GraphQL error answer kept.
const maxErrorBody = 300

// Client calls Linear's GraphQL API with one API key. It is safe for
// concurrent use; its String and GoString never show the key.
type Client struct {
	endpoint      string
	authorization string
	apiKey        string
	http          *http.Client
	now           func() time.Time
}

// Option configures a Client.
type Option func(*Client)

// WithURL sends to endpoint (LINEAR_API_URL) instead of [DefaultURL]; an
// empty endpoint keeps the default.
func WithURL(endpoint string) Option {
	return func(c *Client) {
		if strings.TrimSpace(endpoint) != "" {
			c.endpoint = strings.TrimSpace(endpoint)
		}
	}
}

// WithHTTPClient sends through hc instead of a client with a 30s timeout.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.http = hc }
}

// New returns a client authenticating with apiKey (LINEAR_API_KEY): a
// personal API key is sent as is, an OAuth token (lin_oauth_…) as a Bearer
// token.
func New(apiKey string, opts ...Option) (*Client, error) {
	key := strings.TrimSpace(apiKey)
	if key == "" {
		return nil, fmt.Errorf("failed to create Linear client: %w: empty API key", ErrInvalidInput)
	}
	c := &Client{endpoint: DefaultURL, apiKey: key, authorization: key, http: &http.Client{Timeout: 30 * time.Second}, now: time.Now}
	if strings.HasPrefix(key, "lin_oauth_") {
		c.authorization = "Bearer " + key
	}
	for _, opt := range opts {
		opt(c)
	}
	if u, err := url.Parse(c.endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("failed to create Linear client: %w: API URL must be an absolute http(s) URL", ErrInvalidInput)
	}
	return c, nil
}

// String hides the API key.
func (c *Client) String() string {
	return "linear.Client{endpoint: " + c.endpoint + ", key: [redacted]}"
}

// GoString hides the API key from %#v.
func (c *Client) GoString() string { return c.String() }

type request struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables,omitempty"`
}

type response struct {
	Data   json.RawMessage    `json:"data"`
	Errors []GraphQLErrorItem `json:"errors"`
}

// do POSTs one GraphQL operation and decodes its data into out.
func (c *Client) do(ctx context.Context, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(request{Query: query, Variables: vars})
	if err != nil {
		return fmt.Errorf("failed to encode GraphQL request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("failed to build GraphQL request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", c.authorization)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("failed to call Linear: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("failed to read Linear answer: %w", err)
	}

	var decoded response
	jsonErr := json.Unmarshal(raw, &decoded)
	if jsonErr == nil && len(decoded.Errors) > 0 {
		gerr := &GraphQLError{StatusCode: resp.StatusCode, Errors: decoded.Errors}
		gerr.RetryAfter = retryAfter(resp.Header, gerr.HasCode(rateLimitCodes...), c.now())
		return gerr
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &HTTPError{
			StatusCode: resp.StatusCode,
			Body:       c.trimBody(raw),
			RetryAfter: retryAfter(resp.Header, resp.StatusCode == http.StatusTooManyRequests, c.now()),
		}
	}
	if jsonErr != nil {
		return fmt.Errorf("failed to decode Linear answer: %w", jsonErr)
	}
	if len(decoded.Data) == 0 || string(decoded.Data) == "null" {
		return errors.New("failed to decode Linear answer: no data")
	}
	if err := json.Unmarshal(decoded.Data, out); err != nil {
		return fmt.Errorf("failed to decode Linear data: %w", err)
	}
	return nil
}

// trimBody keeps the start of an error body, on a rune boundary, without
// the API key should the server echo it.
func (c *Client) trimBody(raw []byte) string {
	s := strings.ReplaceAll(strings.TrimSpace(strings.ToValidUTF8(string(raw), "\uFFFD")), c.apiKey, "[redacted]")
	if len(s) <= maxErrorBody {
		return s
	}
	cut := maxErrorBody
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
