// Package slack posts alerts to a Slack incoming webhook
// (https://api.slack.com/messaging/webhooks) as Block Kit messages built from
// github.com/slack-go/slack's types.
//
// The webhook URL (SLACK_WEBHOOK_URL) is both the endpoint and the credential:
// this package never logs it and strips it from every error it returns, since
// net/http's *url.Error would otherwise carry it.
//
// Messages are kept within Slack's documented limits
// (https://api.slack.com/reference/block-kit/blocks): at most 50 blocks, 3,000
// characters per section text, 2,000 per section field, 10 fields per
// section, 150 characters of plain text in a header, and a fallback text for
// notifications. Text over a limit is cut on a rune boundary, never inside an
// mrkdwn entity, and marked with "…". Untrusted text is escaped for mrkdwn
// (https://api.slack.com/reference/surfaces/formatting#escaping) so that it
// cannot mention @channel or forge links.
//
// Incoming webhooks have no read-only endpoint: there is no way to check
// reachability or credentials without posting a message to the channel.
// This package therefore offers no Check; a health monitor should judge Slack
// from the outcome of the last real send, which [Client.LastSend] reports.
package slack
