package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// maxJSONDepth bounds nesting so a hostile manifest cannot exhaust memory.
const maxJSONDepth = 64

// jsonString is a string value in a JSON document with the byte offset of
// its first character inside the quotes.
type jsonString struct {
	Path   []string // keys from the root; array elements add no key
	Value  string
	Offset int
	// Exact is false when the source bytes differ from Value (escapes,
	// invalid UTF-8): the value cannot then be edited in place.
	Exact bool
}

// walkJSONStrings returns every string value of an object document with its
// key path and source offset, using encoding/json's token stream.
func walkJSONStrings(src []byte) ([]jsonString, error) {
	bom := 0
	if bytes.HasPrefix(src, []byte("\xef\xbb\xbf")) {
		bom = 3
	}
	dec := json.NewDecoder(bytes.NewReader(src[bom:]))
	type frame struct {
		object bool
		inKey  bool // the next string in this object is a key
	}
	var stack []frame
	var keys []string
	var out []jsonString
	rootDone := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			if !rootDone {
				return nil, io.ErrUnexpectedEOF
			}
			break
		}
		if err != nil {
			return nil, err
		}
		if rootDone {
			return nil, fmt.Errorf("data after the top-level object")
		}
		top := len(stack) - 1
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if len(stack) >= maxJSONDepth {
					return nil, fmt.Errorf("nesting deeper than %d", maxJSONDepth)
				}
				if top < 0 && t != '{' {
					return nil, fmt.Errorf("document is not an object")
				}
				stack = append(stack, frame{object: t == '{', inKey: true})
			case '}', ']':
				stack = stack[:top]
				rootDone = top == 0
				if top > 0 && stack[top-1].object {
					keys = keys[:len(keys)-1]
					stack[top-1].inKey = true
				}
			}
			continue
		case string:
			if top < 0 {
				return nil, fmt.Errorf("document is not an object")
			}
			if top >= 0 && stack[top].object && stack[top].inKey {
				stack[top].inKey = false
				keys = append(keys, t)
				continue
			}
			end := int(dec.InputOffset()) + bom
			start := stringStart(src, end)
			out = append(out, jsonString{Path: append([]string(nil), keys...), Value: t, Offset: start,
				Exact: start > 0 && string(src[start:end-1]) == t})
		}
		if top >= 0 && stack[top].object {
			keys = keys[:len(keys)-1]
			stack[top].inKey = true
		}
	}
	return out, nil
}

// stringStart finds the first content byte of the JSON string whose closing
// quote ends at end (exclusive), skipping escaped quotes.
func stringStart(src []byte, end int) int {
	for i := end - 2; i >= 0; i-- {
		if src[i] != '"' {
			continue
		}
		bs := 0
		for j := i - 1; j >= 0 && src[j] == '\\'; j-- {
			bs++
		}
		if bs%2 == 0 {
			return i + 1
		}
	}
	return 0
}
