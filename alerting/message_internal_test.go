package alerting

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestIssueInputEscapesAndKeepsOnlyWebLinks(t *testing.T) {
	t.Parallel()
	a := DeliveryArgs{Occurrences: 3, FirstSeen: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Alert: Alert{
		Fingerprint: "escalation:x", Severity: High, Title: "Token\nrevoked   [now]", Text: "see <script> and [x](javascript:1) *bold*",
		Repo: "octo/app", Source: "recovery", Fields: []Field{{Name: "Class", Value: "auth_error"}},
		Links: []Link{{Label: "Run (1)", URL: "https://github.com/octo/app/actions/runs/1?a=b c"}, {Label: "x", URL: "javascript:alert(1)"}, {URL: "ftp://h/x"}},
	}}
	in := issueInput(a)
	require.Equal(t, "Token revoked [now]", in.Title)
	require.Equal(t, 2, in.Priority)
	require.Contains(t, in.Description, `see \<script\> and \[x\](javascript:1) \*bold\*`)
	require.Contains(t, in.Description, "- [Run (1)](https://github.com/octo/app/actions/runs/1?a=b%20c)")
	require.NotContains(t, in.Description, "javascript:alert")
	require.NotContains(t, in.Description, "ftp://")
	require.Contains(t, in.Description, "**Seen:** 3 occurrences since 2026-01-02T03:04:05Z")
	require.Contains(t, in.Description, `**Class:** auth\_error`)
}

func TestSlackAlertPerEvent(t *testing.T) {
	t.Parallel()
	a := DeliveryArgs{Occurrences: 2, Text: "cleared", Alert: Alert{Fingerprint: "f", Severity: Low, Title: "T", Text: "body", Repo: "o/r"}}
	require.Equal(t, "T", slackAlert(a, eventOpen).Title)
	require.Equal(t, "Escalated: T", slackAlert(a, eventEscalate).Title)
	remind := slackAlert(a, eventRemind)
	require.True(t, strings.HasPrefix(remind.Text, "Still happening: 2 occurrences"))
	res := slackAlert(a, eventResolve)
	require.True(t, res.Resolved)
	require.Equal(t, "cleared", res.Text)
	require.Empty(t, res.Fields)
	msg := slackAlert(a, eventOpen).Message()
	require.Contains(t, msg.Text, "[LOW] T")
}
