package handlers

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

// TestMembersMatchGet: members reads in one pass what Get reads key by key: the first of a
// repeated key, escaped keys, nothing of what is not an object.
func TestMembersMatchGet(t *testing.T) {
	t.Parallel()
	objects := []string{
		`{}`, `{"a":1}`, `{"a":1,"a":2}`, `{"b":{"a":3},"a":[4]}`, `{"\u0061":"x","a":"y"}`, `{"a\"b":1,"c":null}`,
		`{"x":{"a":1},"y":[{"a":2}],"z":"{\"a\":5}","a":"last"}`, `{"c":null,"b":false}`,
		`[{"a":1}]`, `"a"`, `1`, `null`, ``,
	}
	for _, fixture := range testdataPayloads(t) {
		root := gjson.ParseBytes(fixture)
		objects = append(objects, root.Raw)
		root.ForEach(func(_, v gjson.Result) bool {
			objects = append(objects, v.Raw)
			return true
		})
	}
	keys := []string{"a", "b", "c", `a"b`, "action", "id", "repository", "installation", "head_repository", "missing"}
	for _, raw := range objects {
		obj := gjson.Parse(raw)
		got := members(obj, keys...)
		for _, key := range keys {
			want := obj.Get(gjson.Escape(key))
			require.Equal(t, want.Exists(), got[key].Exists(), "%s in %.80s", key, raw)
			if want.Exists() {
				require.Equal(t, want.Raw, got[key].Raw, "%s in %.80s", key, raw)
				require.Equal(t, want.Type, got[key].Type)
				require.Equal(t, want.Str, got[key].Str)
			}
		}
	}
}
