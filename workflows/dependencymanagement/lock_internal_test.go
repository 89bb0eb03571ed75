package dependencymanagement

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDepsSatisfied(t *testing.T) {
	pkgs := map[string]lockPkg{
		"":                              {Dependencies: map[string]string{"a": "^1.0.0", "c": "^1.0.0"}},
		"node_modules/a":                {Version: "1.0.0", Dependencies: map[string]string{"b": "^1.0.0", "c": "^1.0.0"}},
		"node_modules/a/node_modules/b": {Version: "1.5.0"},
		"node_modules/b":                {Version: "2.0.0"},
		"node_modules/c":                {Version: "1.2.0"},
		"node_modules/only":             {Version: "1.0.0"},
		"packages/ui/node_modules/a":    {Version: "1.0.0"},
		"packages/ui/node_modules/b":    {Version: "3.0.0"},
	}
	u := Update{Name: "a", From: "1.0.0", To: "1.1.0"}
	old := pkgs["node_modules/a"].Dependencies
	check := func(key string, deps map[string]string) string {
		err := depsSatisfied(pkgs, key, u, old, deps)
		if err == nil {
			return ""
		}
		return err.Error()
	}
	require.Empty(t, check("node_modules/a", map[string]string{"b": "^1.2.0", "c": "^1.0.0"}), "nested b 1.5.0 wins over the root's 2.0.0")
	require.Contains(t, check("node_modules/a", map[string]string{"b": "^2.0.0", "c": "^1.0.0"}), "needs b ^2.0.0, the lock has 1.5.0")
	require.Contains(t, check("node_modules/a", map[string]string{"b": "^1.0.0", "c": "^1.0.0", "d": "^1.0.0"}), "needs d, which the lock does not have")
	require.Empty(t, check("node_modules/a", map[string]string{"b": "^1.0.0"}), "c is still needed by the root")
	old = map[string]string{"only": "^1.0.0"}
	require.Contains(t, check("node_modules/a", map[string]string{"b": "^1.0.0"}), "no longer needs only")
	require.Equal(t, "packages/ui/node_modules/b", resolveIn(pkgs, "packages/ui/node_modules/a", "b"))
	require.Equal(t, "node_modules/c", resolveIn(pkgs, "packages/ui/node_modules/a", "c"))
}

func TestStringSpansAndObjects(t *testing.T) {
	src := []byte("{\"a\": {\"b\": \"x\\\"y\", \"c\": [\"p\", {\"d\": \"q\"}]}, \"e\": 1}")
	objects := map[string]span{}
	sp, err := spans(src, objects)
	require.NoError(t, err)
	require.Equal(t, `"x\"y"`, string(src[sp[jsonPath("a", "b")].start:sp[jsonPath("a", "b")].end]))
	require.Equal(t, `"q"`, string(src[sp[jsonPath("a", "c", "1", "d")].start:sp[jsonPath("a", "c", "1", "d")].end]))
	require.Equal(t, `{"d": "q"}`, string(src[objects[jsonPath("a", "c", "1")].start:objects[jsonPath("a", "c", "1")].end]))
	_, err = stringSpans([]byte(`{"a": `))
	require.Error(t, err)
}
