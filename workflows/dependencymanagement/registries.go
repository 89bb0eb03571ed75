package dependencymanagement

import (
	"context"
	"fmt"

	"github.com/contexten/autonomous/workflows/dependencymanagement/inventory"
	"github.com/contexten/autonomous/workflows/dependencymanagement/registry"
)

// Registries answers Versions from each ecosystem's registry client; Tags lists action tags
// (registry.GitHubTags over the installation's client).
type Registries struct {
	Go   *registry.GoProxy
	NPM  *registry.NPM
	PyPI *registry.PyPI
	Tags registry.TagLister
}

// Releases implements Versions.
func (r Registries) Releases(ctx context.Context, ecosystem, name string) ([]registry.Release, error) {
	switch {
	case ecosystem == inventory.EcosystemGo && r.Go != nil:
		return r.Go.Releases(ctx, name)
	case ecosystem == inventory.EcosystemNPM && r.NPM != nil:
		return r.NPM.Releases(ctx, name)
	case ecosystem == inventory.EcosystemPyPI && r.PyPI != nil:
		return r.PyPI.Releases(ctx, name)
	case ecosystem == inventory.EcosystemGitHubActions && r.Tags != nil:
		return registry.ActionReleases(ctx, r.Tags, name)
	}
	return nil, fmt.Errorf("failed to list releases of %s: no registry for ecosystem %q", name, ecosystem)
}
