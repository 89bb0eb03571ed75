package handlers

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

// testPaths are paths of every shape on the keys the tests' payloads use: leaves, containers
// (a path that is a prefix of others), a repeated component, and keys the payloads escape.
var testPaths = pathsOf("a", "a.b", "a.b.c", "a.c", "a.a", "b", "b.a", "c", "x", "x.a", "y.z.w",
	"action", "id", "repository", "repository.id", "repository.owner.login")

func pathsOf(paths ...string) *pathSet {
	s := newPathSet()
	for _, p := range paths {
		s.add(p)
	}
	return s
}

// isContainer reports whether the path of result k is a prefix of another path of s.
func (s *pathSet) isContainer(k int) bool {
	for _, p := range s.paths {
		if strings.HasPrefix(p, s.paths[k]+".") {
			return true
		}
	}
	return false
}

// requireScanAgrees checks scan(b, s) against checkPayload and gjson: the same verdict (with
// payloadNotObject for a valid payload that is not an object) and, on a valid object, each
// path's result as gjson.GetBytes reads it, a container's object as the stand-in.
func requireScanAgrees(t testing.TB, b []byte, s *pathSet) {
	t.Helper()
	got, check := scan(b, s)
	want := checkPayload(b)
	if want == payloadValid && !gjson.ParseBytes(b).IsObject() {
		want = payloadNotObject
	}
	if want != check {
		require.Equal(t, want, check, "the verdict on %.200q", b)
	}
	if check != payloadValid {
		require.Nil(t, got)
		return
	}
	require.Len(t, got, s.n)
	for k, path := range s.paths {
		wantValue := gjson.GetBytes(b, path)
		if s.isContainer(k) && wantValue.IsObject() {
			wantValue = objectStandIn
		}
		requireSameResult(t, wantValue, got[k], "%s in %.200q", path, b)
	}
}

// requireSameResult compares what a handler reads of two results (not Index: a scanned result
// is parsed from its own copy).
func requireSameResult(t testing.TB, want, got gjson.Result, msgAndArgs ...any) {
	t.Helper()
	if want.Type == got.Type && want.Raw == got.Raw && want.Str == got.Str && (want.Type != gjson.Number || want.Num == got.Num) {
		return // the common case, without testify's reflection
	}
	require.Equal(t, want.Exists(), got.Exists(), msgAndArgs...)
	require.Equal(t, want.Type, got.Type, msgAndArgs...)
	require.Equal(t, want.Raw, got.Raw, msgAndArgs...)
	require.Equal(t, want.Str, got.Str, msgAndArgs...)
	require.Equal(t, want.Num, got.Num, msgAndArgs...)
}

// scanResults returns what scan reads of payload at paths, by path, failing on a payload it
// does not accept.
func scanResults(t *testing.T, payload string, paths ...string) map[string]gjson.Result {
	t.Helper()
	s := pathsOf(paths...)
	got, check := scan([]byte(payload), s)
	require.Equal(t, payloadValid, check, payload)
	out := map[string]gjson.Result{}
	for k, p := range s.paths {
		out[p] = got[k]
		requireScanAgrees(t, []byte(payload), s)
	}
	return out
}

func TestScanFirstOfRepeatedKeysWins(t *testing.T) {
	t.Parallel()
	got := scanResults(t, `{"a":1,"a":2,"b":{"c":"x"},"b":{"c":"y","d":3},"e":null,"e":4}`, "a", "b.c", "b.d", "e")
	require.Equal(t, "1", got["a"].Raw)
	require.Equal(t, "x", got["b.c"].Str)
	// A path reads what gjson.Get reads: the first value on the path in the payload's order, so
	// a member only the second "b" has is read from it.
	require.Equal(t, "3", got["b.d"].Raw)
	require.Equal(t, gjson.Null, got["e"].Type, "a null is a value: the first wins")
	require.True(t, got["e"].Exists())

	// A container's first value is what its path reads; its members are read from every
	// occurrence, as gjson.Get reads "a.b".
	got = scanResults(t, `{"a":"x","a":{"b":1}}`, "a", "a.b")
	require.Equal(t, `"x"`, got["a"].Raw)
	require.Equal(t, "1", got["a.b"].Raw)
	got = scanResults(t, `{"a":{"c":0},"a":[1],"a":{"b":{"x":1},"b":2}}`, "a", "a.b", "a.c")
	require.Equal(t, objectStandIn, got["a"])
	require.True(t, got["a"].IsObject())
	require.Equal(t, `{"x":1}`, got["a.b"].Raw)
	require.Equal(t, "0", got["a.c"].Raw)
}

func TestScanPathsThroughNonObjects(t *testing.T) {
	t.Parallel()
	paths := []string{"a", "a.b", "a.b.c"}
	for _, payload := range []string{
		`{"a":[{"b":1}]}`, `{"a":[[{"b":{"c":1}}]]}`, `{"a":"{\"b\":1}"}`, `{"a":null}`, `{"a":1}`, `{"a":true}`,
		`{"a":{"b":[{"c":1}]}}`, `{"a":{"b":"c"}}`, `{"a":{"b":null}}`, `{"x":{"a":{"b":1}}}`, `{"b":{"c":1}}`, `{}`,
		`{"a":{}}`, `{"a":{"b":{}}}`, `{"a":[],"a":{"b":2}}`,
	} {
		got := scanResults(t, payload, paths...)
		want := gjson.Get(payload, "a.b.c")
		requireSameResult(t, want, got["a.b.c"], payload)
		require.False(t, got["a.b.c"].Exists(), payload)
	}
	got := scanResults(t, `{"a":[{"b":1}],"a":{"b":2}}`, "a", "a.b")
	require.Equal(t, "[{\"b\":1}]", got["a"].Raw, "an array is a value, even on a container path")
	require.True(t, got["a"].IsArray())
	require.Equal(t, "2", got["a.b"].Raw, "gjson reads past the array")
	// Arrays on a path are taken whole: the handlers read them with gjson.
	got = scanResults(t, `{"p":[{"number":1},{"number":2}]}`, "p")
	require.Equal(t, []int64{1, 2}, []int64{got["p"].Get("0.number").Int(), got["p"].Get("1.number").Int()})
}

func TestScanEscapedKeys(t *testing.T) {
	t.Parallel()
	// gjson decodes a key before comparing it with the path's component.
	got := scanResults(t, `{"\u0061ction":"x","action":"y","\u0041":1,"r\u0065po":{"\u006f\u0077ner":{"log\u0069n":"o"}}}`,
		"action", "A", "repo.owner.login")
	require.Equal(t, "x", got["action"].Str)
	require.Equal(t, "1", got["A"].Raw)
	require.Equal(t, "o", got["repo.owner.login"].Str)
	for _, key := range []string{
		`\u0061`, `\u0041`, `a\u0000`, `\u00e1`, `\ud800`, `\ud800\u0061`, `\u0061\ud800`, `\udc00a`, `\ud83d\ude00`, `a\/`,
		`\/a`, `a\"`, `a\\`, `\n`, `a\t`, `\u0062`, `\u006`, `\u00610`, `\U0061`, `\x61`, `\a`, `a\b`, `\f`, `\r`,
	} {
		payload := `{"` + key + `":1}`
		if checkPayload([]byte(payload)) != payloadValid {
			_, check := scan([]byte(payload), testPaths)
			require.Equal(t, payloadInvalid, check, payload)
			continue
		}
		requireScanAgrees(t, []byte(payload), testPaths)
		requireScanAgrees(t, []byte(`{"a":`+payload+`}`), testPaths)
		requireScanAgrees(t, []byte(`{"a":{"b":`+payload+`}}`), testPaths)
	}
	require.Equal(t, "1", scanResults(t, `{"\u0061":1}`, "a")["a"].Raw)
	require.False(t, scanResults(t, `{"\ud800\u0061":1}`, "a")["a"].Exists(), "gjson decodes a lone surrogate and the escape after it as one U+FFFD")
	require.False(t, scanResults(t, `{"\u0041":1}`, "a")["a"].Exists(), "keys are case-sensitive")
}

func TestScanDepth(t *testing.T) {
	t.Parallel()
	arrays := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	objects := func(n int) string { return strings.Repeat(`{"a":`, n-1) + `{"b":1}` + strings.Repeat("}", n-1) }
	// The top-level object is a level: a member can nest MaxPayloadDepth-1 more.
	for _, nest := range []func(int) string{arrays, objects} {
		within := []byte(`{"a":` + nest(MaxPayloadDepth-1) + `,"b":2}`)
		requireScanAgrees(t, within, testPaths)
		require.Equal(t, "2", scanResults(t, string(within), "a.b", "b")["b"].Raw, "read after the nesting")
		over := []byte(`{"a":` + nest(MaxPayloadDepth) + `,"b":2}`)
		_, check := scan(over, testPaths)
		require.Equal(t, payloadTooDeep, check)
		requireScanAgrees(t, over, testPaths)
	}
	// Paths into the nesting, as deep as a path goes.
	deep := strings.TrimSuffix(strings.Repeat("a.", maxPathDepth), ".")
	got := scanResults(t, objects(MaxPayloadDepth), "a.a", "a.b", deep, deep[:len(deep)-1]+"b")
	require.Equal(t, gjson.Get(objects(MaxPayloadDepth), deep).Raw, got[deep].Raw)
	require.True(t, got[deep].IsObject())
	require.False(t, got["a.b"].Exists())
	got = scanResults(t, objects(maxPathDepth), deep[:len(deep)-1]+"b")
	require.Equal(t, "1", got[deep[:len(deep)-1]+"b"].Raw)
	_, check := scan([]byte(strings.Repeat(`{"a":`, MaxPayloadDepth+1)), testPaths)
	require.Equal(t, payloadTooDeep, check, "refused before the end, as checkPayload refuses it")
	_, check = scan([]byte(`{"a":x`+strings.Repeat(`{"a":`, MaxPayloadDepth+1)), testPaths)
	require.Equal(t, payloadInvalid, check, "the first problem in the body's order")
	_, check = scan([]byte(strings.Repeat("[", 10_000_000)), testPaths)
	require.Equal(t, payloadTooDeep, check)
	_, check = scan([]byte(`{"a":`+strings.Repeat("[", 10_000_000)), testPaths)
	require.Equal(t, payloadTooDeep, check)
}

// TestScanRefusesWhatCheckPayloadRefuses puts checkPayload's edge cases at every place a path
// can be (the value of a path, of a container on a path, of a member on no path, in an array,
// a key of each) and compares the verdicts and results.
func TestScanRefusesWhatCheckPayloadRefuses(t *testing.T) {
	t.Parallel()
	places := []string{"%s", `{"a":%s}`, `{"a":{"b":%s}}`, `{"a":{"b":{"c":%s}}}`, `{"x":[%s]}`, `{"q":%s,"a":1}`,
		`{"a":[%s],"b":2}`, `{%s:1}`, `{"a":{%s:1}}`, `{"a":1,%s}`, `{"a":{"z":{%s:2}},"b":3}`, `{"a":%s}  `, `{"b":1,"a":%s`}
	for _, place := range places {
		for _, c := range checkCases {
			requireScanAgrees(t, []byte(strings.Replace(place, "%s", c, 1)), testPaths)
		}
	}
	// Lone surrogates are valid JSON (as encoding/json and checkPayload take them).
	for _, s := range []string{`"\ud800"`, `"\udfff"`, `"\udc00\ud800"`, `"a\ud800b"`} {
		body := []byte(`{"a":` + s + `,` + s + `:1}`)
		requireScanAgrees(t, body, testPaths)
		got, check := scan(body, testPaths)
		require.Equal(t, payloadValid, check)
		require.Equal(t, gjson.Get(string(body), "a").Str, got[0].Str)
	}
	// The top level is an object, or the payload is refused; invalid JSON is invalid first.
	for _, c := range []string{`[]`, `[{"a":1}]`, `"a"`, `1`, `null`, `true`, ` [ ] `} {
		_, check := scan([]byte(c), testPaths)
		require.Equal(t, payloadNotObject, check, c)
	}
	for _, c := range []string{`[`, `[}`, `"a`, `1 2`, `nul`, ``, ` `, `{`, `{}}`, `{} x`, `{"a":1`, `{"a":"\x"}`} {
		_, check := scan([]byte(c), testPaths)
		require.Equal(t, payloadInvalid, check, c)
	}
}

// handlerPathSets are the handlers' own sets.
func handlerPathSets() []*pathSet {
	return []*pathSet{workflowRunPaths, checkRunPaths, checkSuitePaths, issueCommentPaths, pullRequestPaths, pushPaths,
		installationPaths, pingPaths}
}

// fixtureSets are the handlers' fixtures, the real-sized workflow_run delivery, and the set of
// paths of the handler of each.
func fixtureSets(t testing.TB) (payloads [][]byte, sets []*pathSet) {
	byEvent := map[string]*pathSet{
		"workflow_run": workflowRunPaths, "check_run": checkRunPaths, "check_suite": checkSuitePaths,
		"issue_comment": issueCommentPaths, "pull_request": pullRequestPaths, "push": pushPaths,
		"installation": installationPaths, "installation_repositories": installationPaths,
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(t, err)
	for _, file := range files {
		event, _, _ := strings.Cut(filepath.Base(file), ".")
		require.Contains(t, byEvent, event)
		payloads, sets = append(payloads, readFixture(t, filepath.Base(file))), append(sets, byEvent[event])
	}
	return append(payloads, realWorkflowRun(t)), append(sets, workflowRunPaths)
}

// TestScanFixtures reads the handlers' paths from the fixtures, every cut of them, and every one
// of them with a byte replaced by another that matters to the grammar, as gjson and checkPayload
// read them.
func TestScanFixtures(t *testing.T) {
	t.Parallel()
	replacements := []byte{'"', '\\', '{', '}', '[', ']', ',', ':', '0', '-', '.', 'e', 'u', ' ', '\n', 0, 0x1f, 0xff}
	payloads, sets := fixtureSets(t)
	for k, fixture := range payloads {
		for _, s := range handlerPathSets() {
			requireScanAgrees(t, fixture, s)
		}
		for i := 0; i < len(fixture); i += 1 + len(fixture)/500 {
			requireScanAgrees(t, fixture[:i], sets[k])
		}
		for i := 0; i < len(fixture); i += 1 + len(fixture)/300 {
			for _, r := range replacements {
				mutated := bytes.Clone(fixture)
				mutated[i] = r
				requireScanAgrees(t, mutated, sets[k])
			}
		}
	}
}

// TestScanCopiesValues: the results hold no byte of the payload (the server reuses its buffer).
func TestScanCopiesValues(t *testing.T) {
	t.Parallel()
	payload := realWorkflowRun(t)
	got, check := scan(payload, workflowRunPaths)
	require.Equal(t, payloadValid, check)
	var before []gjson.Result
	for _, r := range got {
		before = append(before, gjson.Parse(strings.Clone(r.Raw)))
	}
	for i := range payload {
		payload[i] = 'x'
	}
	for k, r := range got {
		requireSameResult(t, before[k], r, workflowRunPaths.paths[k])
	}
	require.Equal(t, "completed", got[0].Str)
}

// TestScanAllocations: a real-sized workflow_run delivery costs two allocations (the results and
// the one copy of their values) and a few hundred bytes of copies.
func TestScanAllocations(t *testing.T) {
	payload := realWorkflowRun(t)
	allocs := testing.AllocsPerRun(20, func() {
		if _, check := scan(payload, workflowRunPaths); check != payloadValid {
			t.Fatal(check)
		}
	})
	require.LessOrEqual(t, allocs, 2.0)
}

func TestPathSetRefusesBadPaths(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", ".", "a.", ".a", "a..b", "0", "a.0", "a.1b", "a-b", "a*", "a?", "#", "a.#", "@this", "a|b",
		`a\.b`, "é", "a b", strings.Repeat("a.", maxPathDepth) + "a"} {
		require.Panics(t, func() { pathsOf(bad) }, bad)
	}
	require.Panics(t, func() { pathsOf("a.b", "a.b") }, "a path twice")
	many := make([]string, maxPaths+1)
	for i := range many {
		many[i] = "p" + strings.Repeat("x", i)
	}
	require.Panics(t, func() { pathsOf(many...) })
	require.NotPanics(t, func() { pathsOf(many[:maxPaths]...) })
	require.NotPanics(t, func() { pathsOf("a", "a.b", "_x", "A9", "b.a_b.c") })
}

// FuzzScan compares scan with checkPayload and gjson.GetBytes on the handlers' paths and the
// tests', from the fixtures and the grammar's edge cases.
//
//	go test -run '^$' -fuzz FuzzScan -parallel 1 ./handlers
func FuzzScan(f *testing.F) {
	for _, b := range testdataPayloads(f) {
		f.Add(b)
	}
	for _, c := range checkCases {
		f.Add([]byte(c))
		f.Add([]byte(`{"a":` + c + `}`))
	}
	for _, c := range []string{`{"a":{"b":1},"a":{"c":2}}`, `{"\u0061":{"b":[1]},"a":1}`, `{"a":"x","a":{"b":{"c":3}}}`,
		`{"y":{"z":{"w":[{"a":1}]}},"x":{"a":null}}`, `{"repository":{"owner":{"login":"o"},"id":7},"action":"a"}`} {
		f.Add([]byte(c))
	}
	f.Add([]byte(`{"a":` + strings.Repeat("[", MaxPayloadDepth-1) + strings.Repeat("]", MaxPayloadDepth-1) + `}`))
	sets := append(handlerPathSets(), testPaths)
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, s := range sets {
			requireScanAgrees(t, b, s)
		}
	})
}

// BenchmarkScan measures scan alone on the real-sized workflow_run delivery with its handler's
// paths (BenchmarkParse is the checkPayload and copy it replaced).
//
//	go test -run '^$' -bench 'Scan|Parse' -benchmem ./handlers
func BenchmarkScan(b *testing.B) {
	body := realWorkflowRun(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, check := scan(body, workflowRunPaths); check != payloadValid {
			b.Fatal(check)
		}
	}
}
