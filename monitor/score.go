package monitor

import "math"

// Weights are the components' weights in the health score; they sum to 100, so with every
// component configured a weight is its share of the score in points.
var Weights = map[string]float64{
	ComponentDatabase:  25,
	ComponentRiver:     20,
	ComponentGitHub:    20,
	ComponentWorkflows: 15,
	ComponentResources: 10,
	ComponentCodegen:   4,
	ComponentSlack:     3,
	ComponentLinear:    3,
}

// CoreDownCap is the highest score while the database, River or GitHub is down.
const CoreDownCap = 40

// core are the components without which the bot does nothing.
var core = map[string]bool{ComponentDatabase: true, ComponentRiver: true, ComponentGitHub: true}

// credit is what a status earns of its component's weight.
func credit(s Status) float64 {
	switch s {
	case Healthy:
		return 1
	case Degraded:
		return 0.5
	}
	return 0
}

// Score is the health score 0–100:
//
//	score = round(100 × Σ weight(c) × credit(c) / Σ weight(c))
//
// over the components c that are configured (NotConfigured ones are left out, and the
// remaining weights renormalised, so a missing optional integration neither helps nor hurts),
// with credit 1 for healthy, 0.5 for degraded and 0 for down; a component without a weight in
// Weights weighs 1. With no configured component the score is 100.
//
// The bot does nothing without its database, River or GitHub, so when one of these core
// components is down the score is at most CoreDownCap, below any useful ALERT_HEALTH_SCORE
// whatever the other components say.
func Score(components []Component) int {
	var total, earned float64
	coreDown := false
	for _, c := range components {
		if c.Status == NotConfigured {
			continue
		}
		if c.Status == Down && core[c.Name] {
			coreDown = true
		}
		w, ok := Weights[c.Name]
		if !ok {
			w = 1
		}
		total += w
		earned += w * credit(c.Status)
	}
	if total == 0 {
		return 100
	}
	score := int(math.Round(100 * earned / total))
	if coreDown {
		score = min(score, CoreDownCap)
	}
	return score
}

// Worst is the worst status among the configured components: down, then degraded, else
// healthy (NotConfigured when none is configured).
func Worst(components []Component) Status {
	worst := NotConfigured
	rank := map[Status]int{NotConfigured: 0, Healthy: 1, Degraded: 2, Down: 3}
	for _, c := range components {
		if rank[c.Status] > rank[worst] {
			worst = c.Status
		}
	}
	return worst
}
