package registry

import "sort"

// versioned is a release with its parsed version, in the ecosystem's own version type.
type versioned[V interface{ LessThan(V) bool }] struct {
	v V
	r Release
}

// inOrder returns the releases sorted by version, oldest first.
func inOrder[V interface{ LessThan(V) bool }](all []versioned[V]) []Release {
	sort.Slice(all, func(i, j int) bool { return all[i].v.LessThan(all[j].v) })
	out := make([]Release, len(all))
	for i, p := range all {
		out[i] = p.r
	}
	return out
}
