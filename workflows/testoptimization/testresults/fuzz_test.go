package testresults

import (
	"bytes"
	"os"
	"testing"
)

func FuzzParseJUnit(f *testing.F) {
	for _, name := range []string{"TEST-com.example.CalculatorTest.xml", "pytest.xml", "jest-junit.xml", "nested.xml", "gotestsum.xml"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ParseJUnit(data)
		if err != nil && rs != nil {
			t.Fatal("results with an error")
		}
		for _, r := range rs {
			if r.Duration < 0 || len(r.Message) > maxMessage {
				t.Fatalf("bad record %+v", r)
			}
		}
	})
}

func FuzzParseGoTestJSON(f *testing.F) {
	b, err := os.ReadFile("testdata/gotest.jsonl")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"Action":"fail","Package":"p","Test":"T","Elapsed":-1e300}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, _ := ParseGoTestJSON(bytes.NewReader(data))
		for _, r := range rs {
			if r.Duration < 0 || r.Outcome == "" || len(r.Message) > maxMessage {
				t.Fatalf("bad record %+v", r)
			}
		}
	})
}
