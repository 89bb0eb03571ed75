package workflows

import "maps"

// Params are a kind's validated, typed parameters (int64, bool, string or float64 values). They
// keep what was given apart from the spec's defaults: Has and Given see only the given ones, so a
// builder leaves a parameter nobody passed unset and the worker decides from the repository's
// configuration; the accessors fall back to the spec's default, then to the caller's.
type Params struct {
	kind   Kind
	given  map[string]any
	origin string
}

// Has reports whether the parameter was given.
func (p Params) Has(name string) bool { _, ok := p.given[name]; return ok }

// Given returns a copy of the parameters that were given.
func (p Params) Given() map[string]any { return maps.Clone(p.given) }

// Values returns the given parameters over the spec's defaults.
func (p Params) Values() map[string]any {
	out := map[string]any{}
	spec, _ := SpecFor(p.kind)
	for _, ps := range spec.Params {
		if v, ok := ps.typedDefault(); ok {
			out[ps.Name] = v
		}
	}
	maps.Copy(out, p.given)
	return out
}

// Origin says who asked for the execution ("cli:<nanos>", "comment:<id>"), as Trigger was told.
func (p Params) Origin() string { return p.origin }

// value is the given value, else the spec's default.
func (p Params) value(name string) any {
	if v, ok := p.given[name]; ok {
		return v
	}
	spec, _ := SpecFor(p.kind)
	for _, ps := range spec.Params {
		if ps.Name == name {
			v, _ := ps.typedDefault()
			return v
		}
	}
	return nil
}

// typedDefault is the default normalised to the parameter's Go type (a literal 50 is an int,
// Params.Int reads int64).
func (ps ParamSpec) typedDefault() (any, bool) {
	if ps.Default == nil {
		return nil, false
	}
	v, err := convertParam(ps, ps.Default)
	return v, err == nil
}

// Int returns an int parameter, else its default, else def.
func (p Params) Int(name string, def int64) int64 {
	if v, ok := p.value(name).(int64); ok {
		return v
	}
	return def
}

// Bool returns a bool parameter, else its default, else def.
func (p Params) Bool(name string, def bool) bool {
	if v, ok := p.value(name).(bool); ok {
		return v
	}
	return def
}

// String returns a string parameter, else its default, else def.
func (p Params) String(name, def string) string {
	if v, ok := p.value(name).(string); ok {
		return v
	}
	return def
}

// Float returns a float parameter, else its default, else def.
func (p Params) Float(name string, def float64) float64 {
	if v, ok := p.value(name).(float64); ok {
		return v
	}
	return def
}
