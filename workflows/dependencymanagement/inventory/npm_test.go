package inventory_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows/dependencymanagement/inventory"
)

func TestParsePackageJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src string
		want      []brief
	}{{
		name: "sections, exact and ranges, odd spacing",
		src:  "{\n  \"dependencies\" : {\"a\":\"^1.0.0\",  \"b\" :  \"2.0.0\"},\n\t\"devDependencies\": {\n\t\t\"c\": \"=3.1.4\"\n\t},\n  \"peerDependencies\": {\"d\": \">=1 <3\"}\n}\n",
		want: []brief{
			{"a", "", "^1.0.0", 2, 26, true, false},
			{"b", "2.0.0", "2.0.0", 2, 44, true, false},
			{"c", "3.1.4", "=3.1.4", 4, 9, true, true},
			{"d", "", ">=1 <3", 6, 30, true, false},
		},
	}, {
		name: "CRLF, BOM, nested objects and escapes elsewhere",
		src:  "\xef\xbb\xbf{\r\n\"description\": \"say \\\"hi\\\"\",\r\n\"config\": {\"dependencies\": {\"x\": \"1.0.0\"}},\r\n\"optionalDependencies\": {\"@s/e\": \"npm:other@^2\"}\r\n}\r\n",
		want: []brief{{"@s/e", "", "npm:other@^2", 4, 35, true, false}},
	}, {
		name: "no dependencies",
		src:  `{"name": "x", "version": "1.0.0"}`,
		want: []brief{},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := inventory.ParsePackageJSON("package.json", []byte(tc.src))
			require.NoError(t, err)
			require.Equal(t, tc.want, briefs(got))
		})
	}
}

func TestParsePackageJSONBadInput(t *testing.T) {
	t.Parallel()
	deep := ""
	for range 100 {
		deep += `{"a":`
	}
	for _, src := range []string{``, `[]`, `"x"`, `{"dependencies": {"a": "1"}`, `{} {}`, deep, `{"a": tru}`} {
		_, err := inventory.ParsePackageJSON("package.json", []byte(src))
		var pe *inventory.ParseError
		require.ErrorAs(t, err, &pe, src)
	}
}

func TestParsePackageLock(t *testing.T) {
	t.Parallel()
	src := `{
  "lockfileVersion": 2,
  "packages": {
    "": {"name": "app", "dependencies": {"a": "^1.0.0"}, "devDependencies": {"t": "^2"}},
    "node_modules/a": {"version": "1.0.2", "resolved": "https://r/a-1.0.2.tgz", "integrity": "sha512-a"},
    "node_modules/t": {"version": "2.1.0", "dev": true, "resolved": "https://r/t-2.1.0.tgz", "integrity": "sha512-t"},
    "node_modules/a/node_modules/b": {"version": "0.3.0", "devOptional": true},
    "node_modules/alias": {"name": "real-name", "version": "5.0.0"}
  },
  "dependencies": {"a": {"version": "1.0.2"}}
}`
	got, err := inventory.ParsePackageLock("package-lock.json", []byte(src))
	require.NoError(t, err)
	require.Equal(t, []brief{
		{"a", "1.0.2", "1.0.2", 5, 36, true, false},
		{"t", "2.1.0", "2.1.0", 6, 36, true, true},
		{"b", "0.3.0", "0.3.0", 7, 51, false, false},
		{"real-name", "5.0.0", "5.0.0", 8, 61, false, false},
	}, briefs(got))
	require.Equal(t, "https://r/a-1.0.2.tgz", got[0].Resolved)
	require.Equal(t, "sha512-a", got[0].Integrity)
	require.True(t, got[2].Optional)

	_, err = inventory.ParsePackageLock("package-lock.json", []byte(`{"lockfileVersion": 1, "dependencies": {}}`))
	require.ErrorIs(t, err, inventory.ErrUnsupported)
}

func TestParsePackageJSONEscapedVersionHasNoColumn(t *testing.T) {
	t.Parallel()
	// An escaped or invalid-UTF-8 range does not equal its source bytes, so
	// it has a line but no column to edit at.
	got, err := inventory.ParsePackageJSON("package.json", []byte("{\"dependencies\": {\n\"a\": \"\\u005e1.0.0\",\n\"b\": \"^1\xff\"}}"))
	require.NoError(t, err)
	require.Equal(t, []brief{{"a", "", "^1.0.0", 2, 0, true, false}, {"b", "", "^1\ufffd", 3, 0, true, false}}, briefs(got))
}
