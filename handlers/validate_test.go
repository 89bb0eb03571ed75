package handlers

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

// nestsTooDeep is the bracket count checkPayload replaced (one pass, brackets in strings do not
// count, escapes skipped): whether an array or object opens past MaxPayloadDepth. It knows
// nothing of validity, so it is the tests' reference for the depth.
func nestsTooDeep(payload []byte) bool {
	depth := 0
	inString, escaped := false, false
	for _, c := range payload {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			if depth++; depth > MaxPayloadDepth {
				return true
			}
		case ']', '}':
			depth = max(depth-1, 0)
		}
	}
	return false
}

// requireAgrees checks checkPayload against encoding/json.Valid, gjson.ValidBytes and the
// reference depth count on b.
func requireAgrees(t testing.TB, b []byte) {
	t.Helper()
	got := checkPayload(b)
	valid := json.Valid(b)
	deep := nestsTooDeep(b)
	switch got {
	case payloadValid:
		require.True(t, valid, "accepted what encoding/json refuses: %q", b)
		require.False(t, deep, "accepted a payload nested too deep: %.200q", b)
	case payloadInvalid:
		require.False(t, valid && !deep, "refused what encoding/json accepts: %q", b)
	case payloadTooDeep:
		require.True(t, deep, "too deep, but not by the bracket count: %.200q", b)
	default:
		t.Fatalf("checkPayload returned %d", got)
	}
	if valid && deep {
		require.Equal(t, payloadTooDeep, got, "a valid payload nested too deep: %.200q", b)
	}
	// gjson's validator recurses once per level: only shallow inputs are shown to it.
	if !deep && len(b) < 1<<16 {
		require.Equal(t, valid, gjson.ValidBytes(b), "encoding/json and gjson disagree on %q", b)
	}
}

// checkCases are bodies on the edges of JSON's grammar, valid and not.
var checkCases = []string{
	``, ` `, `{}`, ` {} `, "\t{\n}\r\n", `[]`, `[ ]`, `{ }`, `{`, `}`, `[`, `]`, `{]`, `[}`, `{}}`, `[]]`, `{}{}`, `{} x`, `{},`,
	`0`, `-0`, `1`, `-`, `+1`, `01`, `-01`, `00`, `1.`, `.1`, `1.0`, `1.e1`, `1e`, `1e+`, `1e-`, `1e5`, `1E+5`, `1e-05`, `-1.5e3`,
	`0x1`, `1_000`, `Infinity`, `NaN`, `1 2`, `[1 2]`, `[1,2]`, `[1,]`, `[,1]`, `[,]`, `[01]`, `[-]`, `[1e]`, `[0.]`, `[1.5e+3,-0.0E-0]`,
	`true`, `false`, `null`, `tru`, `truee`, `nul`, `nulll`, `fals`, `True`, `NULL`, `[true,false,null]`, `[truefalse]`, `[true false]`,
	`""`, `"`, `"a`, `"a"`, `"a""b"`, `"\"`, `"\\"`, `"\/"`, `"\b\f\n\r\t"`, `"\a"`, `"\x41"`, `"\'"`, `"\u"`, `"\u1"`, `"\u12"`,
	`"\u123"`, `"\u1234"`, `"\uABCD"`, `"\uabcd"`, `"\u12g4"`, `"\uD800"`, `"\uDC00\uD800"`, `"\U1234"`, "\"\x00\"", "\"\x1f\"",
	"\"\x7f\"", "\"\xff\"", "\"\xc3\xa9\"", "\"\xed\xa0\x80\"", "\"a\tb\"", "\"a\nb\"",
	`{"a":1}`, `{"a":1,}`, `{,"a":1}`, `{"a"}`, `{"a":}`, `{"a" 1}`, `{"a"::1}`, `{"a":1 "b":2}`, `{"a":1,"b":2}`, `{a:1}`,
	`{'a':1}`, `{1:1}`, `{"a":1,"a":2}`, `{"":""}`, `{"a":[{"b":{}}]}`, `{"a":[{"b":{}]}}`, `{"a":[{"b":{}}}]}`, `{"a":{"b":[]}}`,
	`{"\u0061":1}`, `{"a\"":1}`, `{"a":"\\"}`, `{"a":"\\\"}`, `{"a":"}"}`, `{"a":"]["}`, `[[[[]]]]`, `[[[[]]]`, `[[[]]]]`,
	"\ufeff{}", "{}\x00", "\x00{}", "{\"a\":1}\n", "{\"a\":1}\v", "{\f}", "[1,\u00a02]", "/**/{}", "{}//",
}

func TestCheckPayloadAgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, c := range checkCases {
		requireAgrees(t, []byte(c))
		requireAgrees(t, []byte(`{"x":[`+c+`]}`))
		requireAgrees(t, []byte(`{"x":`+c+`}`))
	}
	// Every special byte at every offset of strings longer and shorter than the eight bytes
	// skipped at once.
	specials := []string{`"`, `\`, `\"`, `\\`, `\u00e9`, `\u00`, `\n`, `\z`, "\x00", "\x01", "\x1f", " ", "\x7f", "\x80", "\xff", "é"}
	for n := range 20 {
		for at := range n + 1 {
			for _, s := range specials {
				text := strings.Repeat("a", at) + s + strings.Repeat("b", n-at)
				requireAgrees(t, []byte(`"`+text+`"`))
				requireAgrees(t, []byte(`{"`+text+`":"`+text+`"}`))
				requireAgrees(t, []byte(`"`+text)) // unterminated
			}
		}
	}
	// The fixtures, every cut of them, and bytes of them replaced by others that matter to the
	// grammar.
	replacements := []byte{'"', '\\', '{', '}', '[', ']', ',', ':', '0', '-', '.', 'e', 'u', ' ', '\n', 0, 0x1f, 0xff}
	for _, fixture := range testdataPayloads(t) {
		requireAgrees(t, fixture)
		for i := 0; i < len(fixture); i += 1 + len(fixture)/1000 {
			requireAgrees(t, fixture[:i])
		}
		for i := 0; i < len(fixture); i += 1 + len(fixture)/300 {
			for _, r := range replacements {
				mutated := []byte(string(fixture))
				mutated[i] = r
				requireAgrees(t, mutated)
			}
		}
	}
}

func TestCheckPayloadDepth(t *testing.T) {
	t.Parallel()
	arrays := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	objects := func(n int) string { return strings.Repeat(`{"a":`, n-1) + "{}" + strings.Repeat("}", n-1) }
	mixed := func(n int) string {
		var open strings.Builder
		closing := make([]byte, n)
		for i := range n {
			if i%2 == 0 {
				open.WriteString(`{"a":`)
				closing[n-1-i] = '}'
			} else {
				open.WriteString("[1,")
				closing[n-1-i] = ']'
			}
		}
		return open.String() + "0" + string(closing)
	}
	for _, nest := range []func(int) string{arrays, objects, mixed} {
		require.Equal(t, payloadValid, checkPayload([]byte(nest(MaxPayloadDepth))))
		require.Equal(t, payloadTooDeep, checkPayload([]byte(nest(MaxPayloadDepth+1))))
		requireAgrees(t, []byte(nest(MaxPayloadDepth)))
		requireAgrees(t, []byte(nest(MaxPayloadDepth+1)))
	}
	// Siblings do not add up: depth is what is open at once.
	siblings := strings.Repeat(`{"a":`+arrays(MaxPayloadDepth-2)+`},`, 3)
	require.Equal(t, payloadValid, checkPayload([]byte("["+strings.TrimSuffix(siblings, ",")+"]")))
	// The body is read no further than the level too many; a problem before it is reported.
	require.Equal(t, payloadTooDeep, checkPayload([]byte(strings.Repeat("[", MaxPayloadDepth+1)+`x`)))
	require.Equal(t, payloadInvalid, checkPayload([]byte(`[x`+strings.Repeat("[", MaxPayloadDepth+1))))
	// Ten million levels: refused at once, on the goroutine's stack as it is.
	require.Equal(t, payloadTooDeep, checkPayload([]byte(strings.Repeat("[", 10_000_000))))
}

// testdataPayloads are the handlers' fixtures and the real-sized workflow_run delivery.
func testdataPayloads(t testing.TB) [][]byte {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var out [][]byte
	for _, file := range files {
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		out = append(out, b)
	}
	return append(out, realWorkflowRun(t))
}

// FuzzCheckPayload compares checkPayload with encoding/json.Valid, gjson.ValidBytes and the
// reference depth count, from the fixtures and the grammar's edge cases.
//
//	go test -run '^$' -fuzz FuzzCheckPayload -parallel 1 ./handlers
func FuzzCheckPayload(f *testing.F) {
	for _, b := range testdataPayloads(f) {
		f.Add(b)
	}
	for _, c := range checkCases {
		f.Add([]byte(c))
	}
	f.Add([]byte(`{"a":` + strings.Repeat("[", MaxPayloadDepth) + strings.Repeat("]", MaxPayloadDepth) + `}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		requireAgrees(t, b)
	})
}
