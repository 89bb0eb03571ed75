package testresults

import (
	"bytes"
	"fmt"
	"testing"
)

func BenchmarkParseJUnit(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(`<testsuites><testsuite name="s">`)
	for i := range 5000 {
		fmt.Fprintf(&buf, `<testcase classname="c" name="t%d" time="0.01"/>`, i)
	}
	buf.WriteString(`</testsuite></testsuites>`)
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseJUnit(data); err != nil {
			b.Fatal(err)
		}
	}
}
