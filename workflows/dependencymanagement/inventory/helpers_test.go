package inventory_test

import (
	"errors"

	"github.com/contexten/autonomous/workflows/dependencymanagement/inventory"
)

// brief is the part of a Dependency most tests compare.
type brief struct {
	Name, Version, Constraint string
	Line, Col                 int
	Direct, Dev               bool
}

func briefs(deps []inventory.Dependency) []brief {
	out := []brief{}
	for _, d := range deps {
		out = append(out, brief{d.Name, d.Version, d.Constraint, d.Line, d.Column, d.Direct, d.Dev})
	}
	return out
}

func bytesErrorsAs(err error, target any) bool { return errors.As(err, target) }
