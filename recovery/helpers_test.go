package recovery_test

import (
	"syscall"

	"github.com/contexten/autonomous/monitor"
	"github.com/contexten/autonomous/recovery"
)

// errNoSpace is a full disk.
var errNoSpace = syscall.ENOSPC

// monitorReport is a health check's report with only a score.
func monitorReport(score int) monitor.Report { return monitor.Report{Score: score} }

// withAlerts sets opts.Alerts.
func withAlerts(opts recovery.Options, alerts recovery.Alerter) recovery.Options {
	opts.Alerts = alerts
	return opts
}
