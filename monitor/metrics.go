package monitor

import (
	"regexp"
	"sort"
	"strings"

	"github.com/rcrowley/go-metrics"
)

// Names of the counters other packages increment in the one registry (Count). A name may carry
// labels in go-githubapp's form, "name[key:value,key:value]", which /metrics turns into
// Prometheus labels.
const (
	// MetricRecoveryActions counts recovery actions taken (package recovery).
	MetricRecoveryActions = "recovery.actions"
	// MetricAlertsSent counts alerts delivered to Slack or Linear (package alerting).
	MetricAlertsSent = "alerts.sent"
	// MetricWebhooks counts webhooks by event and outcome (WebhookOutcome).
	MetricWebhooks = "webhooks"
)

// NewRegistry creates the process's one go-metrics registry: the GitHub clients' middleware
// fills it (ghapp.NewClientCreator), as do the webhook path and the packages that Count, and
// Snapshot and WritePrometheus serve it.
func NewRegistry() metrics.Registry { return metrics.NewRegistry() }

// Snapshot is the registry's metrics by name, as JSON-ready values.
func Snapshot(registry metrics.Registry) map[string]map[string]any {
	if registry == nil {
		return map[string]map[string]any{}
	}
	return registry.GetAll()
}

// Labeled is name with labels in go-githubapp's form: Labeled("alerts.sent", "channel", "slack")
// is "alerts.sent[channel:slack]". Pairs are key, value; values lose ",", "]" and ":".
func Labeled(name string, pairs ...string) string {
	if len(pairs) < 2 {
		return name
	}
	parts := make([]string, 0, len(pairs)/2)
	clean := strings.NewReplacer(",", "_", "]", "_", ":", "_", "[", "_")
	for i := 0; i+1 < len(pairs); i += 2 {
		parts = append(parts, clean.Replace(pairs[i])+":"+clean.Replace(pairs[i+1]))
	}
	return name + "[" + strings.Join(parts, ",") + "]"
}

// Count adds n to the counter name in registry; a nil registry counts nothing.
func Count(registry metrics.Registry, name string, n int64) {
	if registry == nil {
		return
	}
	metrics.GetOrRegisterCounter(name, registry).Inc(n)
}

// eventName keeps X-GitHub-Event values to GitHub's own shape, so a caller cannot create
// unbounded metric names.
var eventName = regexp.MustCompile(`^[a-z_]{1,40}$`)

// WebhookOutcome counts one webhook delivery by event and outcome: "accepted" (2xx),
// "rejected" (4xx: bad signature, malformed, too large) or "failed" (5xx). Deliveries whose
// signature was refused count under event "unverified": their headers are not to be trusted.
func WebhookOutcome(registry metrics.Registry, event string, status int) {
	outcome := "accepted"
	switch {
	case status >= 500:
		outcome = "failed"
	case status >= 400:
		outcome = "rejected"
	}
	if status == 401 || !eventName.MatchString(event) {
		event = "unverified"
	}
	Count(registry, Labeled(MetricWebhooks, "event", event, "outcome", outcome), 1)
}

// splitName splits "name[k:v,k2:v2]" into name and labels.
func splitName(full string) (string, map[string]string) {
	i := strings.IndexByte(full, '[')
	if i < 0 || !strings.HasSuffix(full, "]") {
		return full, nil
	}
	labels := map[string]string{}
	for _, kv := range strings.Split(full[i+1:len(full)-1], ",") {
		k, v, ok := strings.Cut(kv, ":")
		if !ok {
			k, v = "tag", kv
		}
		labels[sanitizeLabel(k)] = v
	}
	return full[:i], labels
}

var invalidName = regexp.MustCompile(`[^a-zA-Z0-9_]`)

// sanitizeName makes a Prometheus metric name: "autonomous_" and the name with every character
// outside [a-zA-Z0-9_] replaced by "_".
func sanitizeName(name string) string {
	return "autonomous_" + invalidName.ReplaceAllString(name, "_")
}

func sanitizeLabel(name string) string {
	s := invalidName.ReplaceAllString(name, "_")
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		s = "_" + s
	}
	return s
}

// sortedNames returns the registry's metric names, sorted, so the exposition is stable.
func sortedNames(registry metrics.Registry) []string {
	var names []string
	registry.Each(func(name string, _ any) { names = append(names, name) })
	sort.Strings(names)
	return names
}
