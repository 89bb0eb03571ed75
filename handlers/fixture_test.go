package handlers

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// edit is one change to a fixture: set path to value, or delete path when del is true.
// A json.RawMessage value is written as raw JSON; a path ending in ".-1" appends to an array.
type edit struct {
	path  string
	value any
	del   bool
}

func set(path string, value any) edit { return edit{path: path, value: value} }
func del(path string) edit            { return edit{path: path, del: true} }

// payload reads testdata/<file> (a webhook payload in GitHub's documented shape) and applies edits.
func payload(t *testing.T, file string, edits ...edit) []byte {
	t.Helper()
	b := readFixture(t, file)
	var err error
	for _, e := range edits {
		// A mistyped path would silently add a field instead of changing one.
		if !strings.HasSuffix(e.path, ".-1") {
			require.True(t, gjson.GetBytes(b, e.path).Exists(), "%s has no %s", file, e.path)
		}
		switch v := e.value.(type) {
		case json.RawMessage:
			b, err = sjson.SetRawBytes(b, e.path, v)
		default:
			if e.del {
				b, err = sjson.DeleteBytes(b, e.path)
			} else {
				b, err = sjson.SetBytes(b, e.path, e.value)
			}
		}
		require.NoError(t, err, e.path)
	}
	require.True(t, json.Valid(b))
	return b
}
