package main

import (
	"net/http"
	"time"

	"github.com/contexten/autonomous/integrations/osv"
	"github.com/contexten/autonomous/workflows/dependencymanagement"
	"github.com/contexten/autonomous/workflows/dependencymanagement/registry"
)

// newDependencyWorker builds the dependency_management worker over the configured registries
// (GO_PROXY_URL, NPM_REGISTRY_URL, PYPI_URL) and OSV (OSV_API_URL); their answers are cached
// for registry.DefaultTTL. Critical advisories alert through the alerting service when it is
// configured.
func newDependencyWorker(d workerDeps) *dependencymanagement.Worker {
	hc := &http.Client{Timeout: 60 * time.Second}
	deps := dependencymanagement.Deps{
		Clients: d.clients, Configs: d.repoConfigs, Records: d.store, Reports: d.store, PRs: dependencymanagement.BotPR{},
		Go:   registry.NewGoProxy(d.cfg.GoProxyURL, hc, 0),
		NPM:  registry.NewNPM(d.cfg.NPMRegistryURL, hc, 0),
		PyPI: registry.NewPyPI(d.cfg.PyPIURL, hc, 0),
		OSV:  osv.New(d.cfg.OSVAPIURL, hc),
	}
	if d.alerts != nil {
		deps.Alerts = d.alerts // critical advisories, deduplicated by fingerprint
	}
	return dependencymanagement.NewWorker(deps)
}
