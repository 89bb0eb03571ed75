package alertingtest

import (
	"context"
	"sync"

	"github.com/contexten/autonomous/alerting"
)

// Notifier is a recording alerting.Notifier for the workflows' tests: it refuses a fingerprint the
// real service refuses and keeps what was raised and resolved, in order.
type Notifier struct {
	mu       sync.Mutex
	raised   []alerting.Alert
	resolved []string
}

var _ alerting.Notifier = (*Notifier)(nil)

// Raise implements alerting.Notifier.
func (n *Notifier) Raise(_ context.Context, a alerting.Alert) error {
	if err := alerting.ValidFingerprint(a.Fingerprint); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.raised = append(n.raised, a)
	return nil
}

// Resolve implements alerting.Notifier.
func (n *Notifier) Resolve(_ context.Context, fingerprint, _ string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.resolved = append(n.resolved, fingerprint)
	return nil
}

// Raised returns the alerts raised so far.
func (n *Notifier) Raised() []alerting.Alert {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]alerting.Alert(nil), n.raised...)
}

// Resolved returns the fingerprints resolved so far.
func (n *Notifier) Resolved() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.resolved...)
}
