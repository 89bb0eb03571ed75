// Package alerting tells people: every alert is recorded, deduplicated by its fingerprint with a
// cooldown, and delivered by its own durable River job to Slack (and, for an escalation, to a
// Linear issue, or a comment on the open one with the same fingerprint), so that an outage of
// Slack or Linear is retried without repeating any GitHub side effect and without blocking the
// workflow that raised it. When the condition clears, Resolve sends one resolution message and
// closes the Linear issue it filed.
//
// Workflows depend on it through their own one- or two-method interfaces over Notifier.
package alerting

import "context"

// Severity ranks an alert; it picks Slack's emoji and Linear's priority.
type Severity string

// The severities, from most to least urgent.
const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
	Info     Severity = "info"
)

// Field is one labelled value shown with an alert.
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Link is a labelled http(s) link shown with an alert.
type Link struct {
	Label string `json:"label"`
	URL   string `json:"url"`
}

// Alert is one condition to tell people about. Every string is untrusted text: the senders
// escape and bound it.
type Alert struct {
	// Fingerprint identifies the condition across repeats and its resolution, for example
	// "health:github", "escalation:failure_analysis:octo/app:auth_error" or
	// "flaky:octo/app:pkg.TestX". Lower-case letters, digits and ".:_/-@#" only.
	Fingerprint string   `json:"fingerprint"`
	Severity    Severity `json:"severity"`
	Title       string   `json:"title"`
	Text        string   `json:"text"`
	Fields      []Field  `json:"fields,omitempty"`
	Links       []Link   `json:"links,omitempty"`
	// Repo is "owner/name" when the alert is about one repository.
	Repo string `json:"repo,omitempty"`
	// Source names what raised it: a workflow kind, "monitor", "recovery".
	Source string `json:"source"`
	// Escalate asks for a human: a Linear issue (or a comment on the open one with this
	// fingerprint) as well as the Slack message. The Slack message of an escalation is sent
	// once per open condition; repeats only comment on the Linear issue.
	Escalate bool `json:"escalate,omitempty"`
}

// Notifier is what raises and clears alerts. Raise records the alert and enqueues its delivery;
// it returns once the alert is durable, not once it is sent. A repeat of an open fingerprint
// within its cooldown is counted and not sent again. Resolve clears an open fingerprint: one
// resolution message, and its Linear issue (if any) commented and closed; it does nothing for
// a fingerprint that is not open.
type Notifier interface {
	Raise(ctx context.Context, a Alert) error
	Resolve(ctx context.Context, fingerprint, text string) error
}
