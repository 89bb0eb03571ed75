package dependencymanagement

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// span is the byte range of one JSON string value, quotes included.
type span struct{ start, end int }

// jsonPath joins the keys (and array indexes) leading to a value.
func jsonPath(keys ...string) string { return strings.Join(keys, "\x00") }

// stringSpans returns the position of every string value in a JSON document, by its path.
func stringSpans(src []byte) (map[string]span, error) {
	return spans(src, nil)
}

// spans is stringSpans that also records every object's span in objects (when not nil).
func spans(src []byte, objects map[string]span) (map[string]span, error) {
	type frame struct {
		object    bool
		expectKey bool
		key       string
		index     int
	}
	dec := json.NewDecoder(bytes.NewReader(src))
	var stack []*frame
	out := map[string]span{}
	afterValue := func() {
		if n := len(stack); n > 0 {
			if top := stack[n-1]; top.object {
				top.expectKey = true
			} else {
				top.index++
			}
		}
	}
	path := func() string {
		keys := make([]string, len(stack))
		for i, f := range stack {
			if f.object {
				keys[i] = f.key
			} else {
				keys[i] = strconv.Itoa(f.index)
			}
		}
		return jsonPath(keys...)
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			if len(stack) > 0 {
				return nil, fmt.Errorf("failed to read JSON: %w", io.ErrUnexpectedEOF)
			}
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("failed to read JSON: %w", err)
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if t == '{' && objects != nil {
					objects[path()] = span{start: int(dec.InputOffset()) - 1}
				}
				stack = append(stack, &frame{object: t == '{', expectKey: t == '{'})
			default:
				stack = stack[:len(stack)-1]
				if t == '}' && objects != nil {
					p := path()
					sp := objects[p]
					sp.end = int(dec.InputOffset())
					objects[p] = sp
				}
				afterValue()
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].expectKey {
				stack[n-1].key, stack[n-1].expectKey = t, false
				continue
			}
			end := int(dec.InputOffset())
			start := openingQuote(src, end)
			if start < 0 {
				return nil, fmt.Errorf("failed to read JSON: string before offset %d", end)
			}
			out[path()] = span{start, end}
			afterValue()
		default:
			afterValue()
		}
	}
}

// openingQuote finds the quote that opens the string ending (closing quote included) at end.
func openingQuote(src []byte, end int) int {
	if end < 2 || end > len(src) || src[end-1] != '"' {
		return -1
	}
	for i := end - 2; i >= 0; i-- {
		if src[i] != '"' {
			continue
		}
		bs := 0
		for j := i - 1; j >= 0 && src[j] == '\\'; j-- {
			bs++
		}
		if bs%2 == 0 {
			return i
		}
	}
	return -1
}

// quoteJSON is s as a JSON string, without HTML escaping (as npm writes it).
func quoteJSON(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// edit replaces one span of a file.
type edit struct {
	span
	repl string
}

// applyEdits applies non-overlapping edits; every other byte is kept.
func applyEdits(src []byte, edits []edit) ([]byte, error) {
	sort.Slice(edits, func(i, j int) bool { return edits[i].start > edits[j].start })
	out := append([]byte(nil), src...)
	last := len(src) + 1
	for _, e := range edits {
		if e.end > last {
			return nil, fmt.Errorf("failed to edit: overlapping changes at offset %d", e.start)
		}
		out = append(out[:e.start], append([]byte(e.repl), out[e.end:]...)...)
		last = e.start
	}
	return out, nil
}
