package testresults

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseGoTestJSONStream(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/gotest.jsonl")
	require.NoError(t, err)
	defer f.Close()
	rs, err := ParseGoTestJSON(f)
	require.NoError(t, err)
	names := make([]string, 0, len(rs))
	for _, r := range rs {
		names = append(names, r.Suite+" "+r.Name+" "+string(r.Outcome))
	}
	require.Equal(t, []string{
		"example.com/shop/cart TestTotal passed",
		"example.com/shop/cart TestDiscount failed",
		"example.com/shop/cart TestDiscount/ten_percent failed",
		"example.com/shop/cart TestDiscount/none passed",
		"example.com/shop/cart TestSkipped skipped",
		"example.com/shop/crash TestFine passed",
		"example.com/shop/crash TestPanics failed",
		"example.com/shop/db (package) error",
	}, names)
	m := byName(rs)
	sub := m["TestDiscount/ten_percent"]
	require.Equal(t, "cart_test.go:8: got 100, want 90", sub.Message)
	require.Equal(t, "cart_test.go", sub.File)
	require.Equal(t, 300*time.Millisecond, sub.Duration)
	require.Equal(t, 120*time.Millisecond, m["TestTotal"].Duration)
	require.Equal(t, "cart_test.go:12: needs a payment sandbox", m["TestSkipped"].Message)
	require.Equal(t, "panic: assignment to entry in nil map [recovered, repanicked]", m["TestPanics"].Message)
	require.Equal(t, "example.com/shop/db :: (package)", m[PackageTest].ID)
	require.Equal(t, `build failed: example.com/shop/db [example.com/shop/db.test]: db/db_test.go:5:46: cannot use "no" (untyped string constant) as int value in variable declaration`, m[PackageTest].Message)
}

// An older toolchain (or a killed binary) leaves a running test without a
// final action and reports the build failure only as package output.
func TestParseGoTestJSONUnfinishedAndOldBuildFailure(t *testing.T) {
	t.Parallel()
	in := `{"Action":"start","Package":"p"}
{"Action":"run","Package":"p","Test":"TestHangs"}
{"Action":"output","Package":"p","Test":"TestHangs","Output":"=== RUN   TestHangs\n"}
{"Action":"output","Package":"p","Output":"panic: test timed out after 10m0s\n"}
{"Action":"fail","Package":"p","Elapsed":600.1}
# q
q/q.go:3:1: syntax error: non-declaration statement outside function body
{"Action":"output","Package":"q","Output":"FAIL\tq [build failed]\n"}
{"Action":"fail","Package":"q","Elapsed":0}
{"Action":"run","Package":"ok","Test":"TestNoise"}
{"Action":"output","Package":"ok","Test":"TestNoise","Output":"stray\n"}
{"Action":"pass","Package":"ok","Elapsed":0.1}
not json at all {
`
	rs, err := ParseGoTestJSON(strings.NewReader(in))
	require.NoError(t, err)
	require.Len(t, rs, 2)
	require.Equal(t, Result{Suite: "p", Class: "p", Name: "TestHangs", ID: "p :: TestHangs", Outcome: Failed,
		Message: "test did not finish (panic, timeout or killed)"}, rs[0])
	require.Equal(t, "q :: (package)", rs[1].ID)
	require.Equal(t, Error, rs[1].Outcome)
	require.Equal(t, "FAIL\tq [build failed]", rs[1].Message)
}

func TestParseGoTestJSONRejectsOtherJSON(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", `{"name":"shop","version":"1.0.0"}`, "[1,2,3]", `{"Action":`} {
		_, err := ParseGoTestJSON(strings.NewReader(in))
		require.ErrorIs(t, err, ErrNotGoTestJSON, in)
	}
	_, err := ParseGoTestJSON(strings.NewReader(`{"Action":"output","Output":"` + strings.Repeat("x", maxEventLine+10) + `"}`))
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrNotGoTestJSON)
}
