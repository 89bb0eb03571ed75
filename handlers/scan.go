package handlers

import (
	"fmt"
	"strings"

	"github.com/tidwall/gjson"
)

// maxPaths bounds the paths of one pathSet (a handler reads about twenty), so that scan keeps
// what it found on its stack.
const maxPaths = 64

// maxPathDepth bounds the components of one path.
const maxPathDepth = 16

// pathSet is a fixed set of dotted paths ("workflow_run.head_repository.owner.login") that scan
// reads from a payload in the same pass that checks it: a trie of the paths' components, made
// once per handler at package initialization. add is not safe for concurrent use; scan is.
//
// A path reads what gjson.Get(payload, path) reads: the first value, in the payload's order,
// reached from the top-level object through object members whose keys (decoded: a key written
// with \u escapes is its characters) are the path's components. So the first of a repeated key
// wins, and a path through an array, a string, a number, a literal or null, or an absent member,
// reads nothing (the zero gjson.Result, which does not exist). A component is an ASCII
// identifier (letters, digits and '_', not starting with a digit): gjson reads nothing special
// into it.
//
// A path that is also a prefix of other paths of the set ("repository" beside "repository.name")
// is a container the scan goes into rather than copies: when its value is an object, it reads as
// an empty object, gjson.Result{Type: gjson.JSON, Raw: "{}"}, so that fields.object can check
// it; its members are the other paths' results. Any other value reads as it is.
type pathSet struct {
	nodes []pathNode // nodes[0] is the root, the payload's top-level object
	n     int        // how many paths were added: the length of scan's results
	paths []string   // the paths, by their results' index
}

// pathNode is one component of the trie.
type pathNode struct {
	key      string
	children []int32
	// slot is the index of this path's result, or -1 when the node is only a prefix of paths.
	slot int
	// lens has bit k set when a child's key is k bytes long (bit 63: 63 or more), so most keys
	// of a payload are told apart from the children's by their length alone.
	lens uint64
}

// newPathSet returns an empty set of paths.
func newPathSet() *pathSet {
	return &pathSet{nodes: []pathNode{{slot: -1}}}
}

// add adds path to the set and returns the index of its result in scan's results. It panics on a
// path that is not dotted identifiers or is already in the set: paths are the program's own.
func (s *pathSet) add(path string) int {
	if s.n == maxPaths {
		panic(fmt.Sprintf("handlers: more than %d paths in a set", maxPaths))
	}
	components := strings.Split(path, ".")
	if len(components) > maxPathDepth {
		panic(fmt.Sprintf("handlers: path %q has more than %d components", path, maxPathDepth))
	}
	node := int32(0)
	for _, key := range components {
		if !isIdentifier(key) {
			panic(fmt.Sprintf("handlers: path %q: %q is not an identifier", path, key))
		}
		child := s.child(node, key)
		if child < 0 {
			child = int32(len(s.nodes))
			s.nodes = append(s.nodes, pathNode{key: key, slot: -1})
			s.nodes[node].children = append(s.nodes[node].children, child)
			s.nodes[node].lens |= lengthBit(len(key))
		}
		node = child
	}
	if s.nodes[node].slot >= 0 {
		panic(fmt.Sprintf("handlers: path %q is already in the set", path))
	}
	s.nodes[node].slot = s.n
	s.paths = append(s.paths, path)
	s.n++
	return s.n - 1
}

// child returns the child of node whose key is key, or -1.
func (s *pathSet) child(node int32, key string) int32 {
	for _, c := range s.nodes[node].children {
		if s.nodes[c].key == key {
			return c
		}
	}
	return -1
}

// match returns the child of node named by the key whose contents (as written, between the
// quotes) are raw, or -1; escaped tells that raw holds a backslash.
func (s *pathSet) match(node int32, raw []byte, escaped bool) int32 {
	nd := &s.nodes[node]
	if !escaped {
		if nd.lens&lengthBit(len(raw)) == 0 {
			return -1
		}
		for _, c := range nd.children {
			if s.nodes[c].key == string(raw) {
				return c
			}
		}
		return -1
	}
	for _, c := range nd.children {
		if escapedKeyIs(raw, s.nodes[c].key) {
			return c
		}
	}
	return -1
}

func lengthBit(n int) uint64 { return 1 << min(n, 63) }

// isIdentifier reports whether key is letters, digits and '_', not starting with a digit.
func isIdentifier(key string) bool {
	if key == "" || isDigit(key[0]) {
		return false
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; !isDigit(c) && c != '_' && !('a' <= c && c <= 'z') && !('A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// escapedKeyIs reports whether the contents raw of a valid JSON string with escapes decode to
// want, an identifier. gjson decodes \u escapes to UTF-8 (a surrogate, paired or not, to a
// character of four bytes or to U+FFFD), so an escape of anything but ASCII never matches an
// identifier; every other escape decodes to the one byte it names.
func escapedKeyIs(raw []byte, want string) bool {
	j := 0
	for i := 0; i < len(raw); j++ {
		c := raw[i]
		i++
		if c == '\\' {
			switch e := raw[i]; e {
			case 'u':
				r := hexValue(raw[i+1])<<12 | hexValue(raw[i+2])<<8 | hexValue(raw[i+3])<<4 | hexValue(raw[i+4])
				if r >= 0x80 {
					return false
				}
				c = byte(r)
				i += 5
			case 'b':
				c, i = '\b', i+1
			case 'f':
				c, i = '\f', i+1
			case 'n':
				c, i = '\n', i+1
			case 'r':
				c, i = '\r', i+1
			case 't':
				c, i = '\t', i+1
			default: // '"', '\\' and '/' stand for themselves
				c, i = e, i+1
			}
		}
		if j >= len(want) || want[j] != c {
			return false
		}
	}
	return j == len(want)
}

// hexValue is the value of the hexadecimal digit c (checked before).
func hexValue(c byte) rune {
	switch {
	case c <= '9':
		return rune(c - '0')
	case c >= 'a':
		return rune(c-'a') + 10
	default:
		return rune(c-'A') + 10
	}
}

// objectStandIn is a container path's result when its value is an object (see pathSet).
var objectStandIn = gjson.Result{Type: gjson.JSON, Raw: "{}"}

// What scan found for a path.
const (
	notFound = iota
	foundValue
	foundObject // a container path's object, read as objectStandIn
)

// scan checks that payload is one JSON value (RFC 8259, as encoding/json.Valid accepts it; the
// tests compare it with checkPayload, the check it replaced) nesting at most MaxPayloadDepth
// levels, and that it is an object (payloadNotObject, when it is valid JSON otherwise), and
// reads the values at paths in the same pass, without recursion: an explicit stack of the open
// containers, and the trie nodes of the open objects that are on a path. The results are
// indexed as paths.add returned and hold copies of the values' bytes (all in one string), never
// the payload itself: a handler's payload is a buffer the server reuses once the handler has
// returned. Only a valid object has results.
func scan(payload []byte, paths *pathSet) ([]gjson.Result, payloadCheck) {
	var inObject [MaxPayloadDepth]bool // the kind of each open container, outermost first
	// The trie nodes of the open objects on a path: the containers open at depths 1 to tracked
	// are all on a path, those deeper none.
	var track [maxPathDepth + 1]int32
	var found [maxPaths]uint8
	var starts, ends [maxPaths]int
	depth, tracked := 0, 0
	remaining := paths.n // paths not found yet
	// The trie node of the value at i, or -1 when it is on no path.
	next := int32(-1)
	// The path whose value is the array or object open at depth captureDepth, or -1.
	capture, captureDepth := -1, 0
	i := skipSpace(payload, 0)
	notObject := i >= len(payload) || payload[i] != '{'
	if !notObject {
		next = 0
	}
	var ok, escaped bool
value: // a value starts at i
	if i >= len(payload) {
		return nil, payloadInvalid
	}
	{
		c := payload[i]
		slot := -1 // the path that reads this value
		into := false
		if next >= 0 {
			nd := &paths.nodes[next]
			into = c == '{' && len(nd.children) > 0
			if nd.slot >= 0 && found[nd.slot] == notFound {
				remaining--
				if into {
					found[nd.slot] = foundObject
				} else {
					found[nd.slot] = foundValue
					slot = nd.slot
					starts[slot] = i
				}
			}
		}
		switch c {
		case '{', '[':
			if depth == MaxPayloadDepth {
				return nil, payloadTooDeep
			}
			inObject[depth] = c == '{'
			depth++
			if into {
				track[tracked] = next
				tracked++
			}
			if slot >= 0 {
				capture, captureDepth = slot, depth
			}
			next = -1
			i = skipSpace(payload, i+1)
			if i < len(payload) && payload[i] == c+2 { // '}' and ']' are two after '{' and '['
				i++
				goto closed
			}
			if c == '{' {
				goto member
			}
			goto value
		case '"':
			i, _, ok = skipString(payload, i+1)
		case 't':
			i, ok = skipLiteral(payload, i, "true")
		case 'f':
			i, ok = skipLiteral(payload, i, "false")
		case 'n':
			i, ok = skipLiteral(payload, i, "null")
		default:
			i, ok = skipNumber(payload, i)
		}
		if !ok {
			return nil, payloadInvalid
		}
		if slot >= 0 {
			ends[slot] = i
		}
		next = -1
	}
end: // a value ended before i
	i = skipSpace(payload, i)
	if depth == 0 {
		if i != len(payload) {
			return nil, payloadInvalid
		}
		if notObject {
			return nil, payloadNotObject
		}
		return results(payload, paths.n, found[:], starts[:], ends[:]), payloadValid
	}
	if i >= len(payload) {
		return nil, payloadInvalid
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
			return nil, payloadInvalid
		}
		i++
		goto closed
	}
	return nil, payloadInvalid
closed: // the container open at depth closed before i
	if depth == captureDepth && capture >= 0 {
		ends[capture] = i
		capture = -1
	}
	if tracked == depth {
		tracked--
	}
	depth--
	goto end
member: // an object member's key starts at i
	if i >= len(payload) || payload[i] != '"' {
		return nil, payloadInvalid
	}
	{
		start := i + 1
		if i, escaped, ok = skipString(payload, start); !ok {
			return nil, payloadInvalid
		}
		if tracked == depth && remaining > 0 {
			next = paths.match(track[tracked-1], payload[start:i-1], escaped)
		}
	}
	i = skipSpace(payload, i)
	if i >= len(payload) || payload[i] != ':' {
		return nil, payloadInvalid
	}
	i = skipSpace(payload, i+1)
	goto value
}

// results makes scan's results: the values found are copied into one string, and each result is
// gjson's parse of its own part of it.
func results(payload []byte, n int, found []uint8, starts, ends []int) []gjson.Result {
	out := make([]gjson.Result, n)
	size := 0
	for k := range n {
		if found[k] == foundValue {
			size += ends[k] - starts[k]
		}
	}
	var copied strings.Builder
	copied.Grow(size)
	for k := range n {
		if found[k] == foundValue {
			copied.Write(payload[starts[k]:ends[k]])
		}
	}
	all, at := copied.String(), 0
	for k := range n {
		switch found[k] {
		case foundValue:
			size := ends[k] - starts[k]
			out[k] = gjson.Parse(all[at : at+size])
			at += size
		case foundObject:
			out[k] = objectStandIn
		}
	}
	return out
}
