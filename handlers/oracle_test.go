package handlers

// The handlers' checks before scan, kept as the tests' oracles for it.

import (
	"github.com/tidwall/gjson"
)

// checkPayload validates payload as JSON and bounds its nesting, as the handlers did before scan
// (which checks the same in the pass that reads the paths; the tests compare them), in one pass and without
// recursion: an explicit stack of at most MaxPayloadDepth open arrays and objects, so no input
// can exhaust the goroutine's stack. It accepts exactly what gjson.ValidBytes and
// encoding/json.Valid accept (the tests compare them) and reports the first problem in the
// body's order: a payload invalid before it nests too deep is invalid. String contents, most of
// a webhook's bytes, are skipped eight bytes at a time.
func checkPayload(payload []byte) payloadCheck {
	var inObject [MaxPayloadDepth]bool // the kind of each open container, outermost first
	depth := 0
	i := skipSpace(payload, 0)
	var ok bool
value: // a value starts at i
	if i >= len(payload) {
		return payloadInvalid
	}
	switch c := payload[i]; c {
	case '{', '[':
		if depth == MaxPayloadDepth {
			return payloadTooDeep
		}
		inObject[depth] = c == '{'
		depth++
		i = skipSpace(payload, i+1)
		if i < len(payload) && payload[i] == c+2 { // '}' and ']' are two after '{' and '['
			i++
			depth--
			goto end
		}
		if c == '{' {
			goto member
		}
		goto value
	case '"':
		if i, _, ok = skipString(payload, i+1); !ok {
			return payloadInvalid
		}
	case 't':
		if i, ok = skipLiteral(payload, i, "true"); !ok {
			return payloadInvalid
		}
	case 'f':
		if i, ok = skipLiteral(payload, i, "false"); !ok {
			return payloadInvalid
		}
	case 'n':
		if i, ok = skipLiteral(payload, i, "null"); !ok {
			return payloadInvalid
		}
	default:
		if i, ok = skipNumber(payload, i); !ok {
			return payloadInvalid
		}
	}
end: // a value ended before i
	i = skipSpace(payload, i)
	if depth == 0 {
		if i == len(payload) {
			return payloadValid
		}
		return payloadInvalid
	}
	if i >= len(payload) {
		return payloadInvalid
	}
	switch payload[i] {
	case ',':
		i = skipSpace(payload, i+1)
		if inObject[depth-1] {
			goto member
		}
		goto value
	case '}', ']':
		if inObject[depth-1] != (payload[i] == '}') {
			return payloadInvalid
		}
		i++
		depth--
		goto end
	}
	return payloadInvalid
member: // an object member's key starts at i
	if i >= len(payload) || payload[i] != '"' {
		return payloadInvalid
	}
	if i, _, ok = skipString(payload, i+1); !ok {
		return payloadInvalid
	}
	i = skipSpace(payload, i)
	if i >= len(payload) || payload[i] != ':' {
		return payloadInvalid
	}
	i = skipSpace(payload, i+1)
	goto value
}

// parse validates the payload and returns its root, as the handlers did before extract: the
// tests compare extract's verdicts and values with it, members and gjson's Get.
func parse(event string, payload []byte) (gjson.Result, error) {
	if check := checkPayload(payload); check != payloadValid {
		return gjson.Result{}, malformed(event, check)
	}
	root := gjson.ParseBytes(payload)
	if !root.IsObject() {
		return gjson.Result{}, malformed(event, payloadNotObject)
	}
	return root, nil
}

// members returns the members of the object obj named in keys, in one pass (the first of a
// repeated key, as obj.Get would). A key that is absent, or obj that is not an object, has no
// member (the zero Result, which does not exist).
func members(obj gjson.Result, keys ...string) map[string]gjson.Result {
	out := make(map[string]gjson.Result, len(keys))
	obj.ForEach(func(k, v gjson.Result) bool {
		for _, want := range keys {
			if k.Str == want {
				if _, seen := out[want]; !seen {
					out[want] = v
				}
				break
			}
		}
		return len(out) < len(keys)
	})
	return out
}
