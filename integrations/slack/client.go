package slack

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
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// maxErrorBody bounds the part of an error answer kept in an HTTPError.
const maxErrorBody = 300

// defaultTimeout bounds one send when the caller's http.Client has none.
const defaultTimeout = 15 * time.Second

// Client posts messages to one incoming webhook. It is safe for concurrent
// use. Its String and GoString never show the webhook URL.
type Client struct {
	webhookURL string
	http       *http.Client
	now        func() time.Time

	mu   sync.Mutex
	last SendResult
}

// SendResult is the outcome of the last send, the only evidence of Slack's
// reachability an incoming webhook allows.
type SendResult struct {
	// At is when the send finished; zero if nothing was sent yet.
	At time.Time
	// Err is the send's error (URL-free), nil when it went through.
	Err error
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sends through hc instead of a client with a 15s timeout.
// Redirects are never followed: a webhook that redirects is answered as an
// [HTTPError] with the 3xx status.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		cp := *hc
		c.http = &cp
	}
}

// New returns a client for the incoming webhook at webhookURL
// (SLACK_WEBHOOK_URL). It fails with [ErrInvalidWebhookURL], without echoing
// the URL, when the URL is not absolute http(s).
func New(webhookURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(webhookURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, ErrInvalidWebhookURL
	}
	c := &Client{webhookURL: u.String(), http: &http.Client{Timeout: defaultTimeout}, now: time.Now}
	for _, opt := range opts {
		opt(c)
	}
	c.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c, nil
}

// String hides the webhook URL.
func (c *Client) String() string { return "slack.Client{webhook: [redacted]}" }

// GoString hides the webhook URL from %#v.
func (c *Client) GoString() string { return c.String() }

// Send posts msg, fitted to Slack's limits with [Fit], as JSON to the
// webhook (https://api.slack.com/messaging/webhooks#posting_with_webhooks).
// A non-2xx answer is an [*HTTPError]; no answer is a [*TransportError]; use
// [IsRetryable] or [IsPermanent] to decide. No error contains the URL.
func (c *Client) Send(ctx context.Context, msg *slack.WebhookMessage) error {
	err := c.send(ctx, msg)
	c.mu.Lock()
	c.last = SendResult{At: c.now(), Err: err}
	c.mu.Unlock()
	return err
}

// LastSend reports the outcome of the last Send; ok is false before the
// first one. Incoming webhooks cannot be checked without posting, so this is
// what a health check should judge Slack by.
func (c *Client) LastSend() (result SendResult, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last, !c.last.At.IsZero()
}

func (c *Client) send(ctx context.Context, msg *slack.WebhookMessage) error {
	if msg == nil {
		return ErrEmptyMessage
	}
	fitted := Fit(msg)
	if strings.TrimSpace(fitted.Text) == "" && fitted.Blocks == nil {
		return ErrEmptyMessage
	}
	body, err := json.Marshal(fitted)
	if err != nil {
		return fmt.Errorf("failed to encode Slack message: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.webhookURL, bytes.NewReader(body))
	if err != nil {
		return &TransportError{Err: ErrInvalidWebhookURL, msg: "failed to build request"}
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := c.http.Do(req)
	if err != nil {
		return c.transportError(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return &HTTPError{
		StatusCode: resp.StatusCode,
		Body:       Truncate(c.redact(strings.TrimSpace(string(raw))), maxErrorBody),
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), c.now()),
	}
}

// transportError drops the *url.Error (which carries the URL) and redacts
// the URL from whatever text remains.
func (c *Client) transportError(err error) error {
	inner := err
	var uerr *url.Error
	if errors.As(err, &uerr) {
		inner = uerr.Err
		return &TransportError{Err: inner, msg: strings.ToLower(uerr.Op) + ": " + c.redact(inner.Error())}
	}
	return &TransportError{Err: inner, msg: c.redact(inner.Error())}
}

// redact removes the webhook URL, and its path (the secret part), from s.
func (c *Client) redact(s string) string {
	u, err := url.Parse(c.webhookURL)
	if err != nil {
		return "[redacted]"
	}
	r := []string{c.webhookURL, "[redacted]"}
	if p := strings.Trim(u.EscapedPath(), "/"); p != "" {
		r = append(r, p, "[redacted]")
	}
	if u.RawQuery != "" {
		r = append(r, u.RawQuery, "[redacted]")
	}
	return strings.NewReplacer(r...).Replace(s)
}
