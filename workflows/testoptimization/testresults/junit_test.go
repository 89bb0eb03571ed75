package testresults

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func readJUnit(t *testing.T, name string) []Result {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	rs, err := ParseJUnit(data)
	require.NoError(t, err)
	return rs
}

func byName(rs []Result) map[string]Result {
	m := make(map[string]Result, len(rs))
	for _, r := range rs {
		m[r.Name] = r
	}
	return m
}

func TestParseJUnitSurefire(t *testing.T) {
	t.Parallel()
	rs := readJUnit(t, "TEST-com.example.CalculatorTest.xml")
	require.Len(t, rs, 4)
	m := byName(rs)
	require.Equal(t, Result{Suite: "com.example.CalculatorTest", Class: "com.example.CalculatorTest", Name: "addsTwoNumbers",
		ID: "com.example.CalculatorTest :: addsTwoNumbers", Outcome: Passed, Duration: 4 * time.Millisecond}, m["addsTwoNumbers"])
	require.Equal(t, Failed, m["dividesByZero"].Outcome)
	require.Equal(t, "expected: <0> but was: <1>", m["dividesByZero"].Message)
	require.Equal(t, 31*time.Millisecond, m["dividesByZero"].Duration)
	require.Equal(t, Error, m["readsConfig"].Outcome)
	require.Equal(t, "java.io.FileNotFoundException: calc.properties (No such file or directory)", m["readsConfig"].Message, "no message attribute: first line of the body")
	require.Equal(t, Skipped, m["multipliesLargeNumbers"].Outcome)
	require.Equal(t, "disabled until BigDecimal support", m["multipliesLargeNumbers"].Message)
}

func TestParseJUnitPytest(t *testing.T) {
	t.Parallel()
	rs := readJUnit(t, "pytest.xml")
	require.Len(t, rs, 5)
	m := byName(rs)
	c := m["test_create_user[admin-true]"]
	require.Equal(t, "pytest :: tests.test_api :: test_create_user[admin-true]", c.ID)
	require.Equal(t, Failed, c.Outcome)
	require.Equal(t, "AssertionError: assert 201 == 200", c.Message, "only the first line of a multi-line message")
	require.Equal(t, 1200*time.Second+500*time.Millisecond, c.Duration, "thousands separator in time")
	require.Equal(t, "tests/test_api.py", c.File)
	require.Equal(t, Error, m["test_login"].Outcome)
	require.Equal(t, `failed on setup with "fixture 'db' not found"`, m["test_login"].Message)
	require.Equal(t, Skipped, m["test_logout"].Outcome)
	require.Equal(t, "needs redis", m["test_logout"].Message)
	require.Equal(t, Passed, m["test_user_repr"].Outcome)
	require.Equal(t, "tests/test_models.py", m["test_user_repr"].File)
}

func TestParseJUnitJest(t *testing.T) {
	t.Parallel()
	rs := readJUnit(t, "jest-junit.xml")
	require.Len(t, rs, 3)
	d := rs[1]
	require.Equal(t, "Cart applies a discount code", d.Name)
	require.Equal(t, "Cart :: Cart applies a discount code :: Cart applies a discount code", d.ID, "white space inside the classname is normalised")
	require.Equal(t, Failed, d.Outcome)
	require.Equal(t, "Error: expect(received).toBe(expected) // Object.is equality", d.Message)
	require.Equal(t, 1500*time.Millisecond, d.Duration)
	require.Equal(t, Skipped, rs[2].Outcome)
	require.Empty(t, rs[2].Message)
}

func TestParseJUnitNestedSuites(t *testing.T) {
	t.Parallel()
	rs := readJUnit(t, "nested.xml")
	require.Len(t, rs, 2)
	m := byName(rs)
	require.Equal(t, `App\Tests\MoneyTest`, m["testAdd"].Suite, "the innermost suite names the test")
	require.Equal(t, "/app/tests/MoneyTest.php", m["testAdd"].File)
	r := m["testRound with data set #0"]
	require.Equal(t, `App\Tests\MoneyTest::testRound`, r.Suite)
	require.Equal(t, Failed, r.Outcome)
	require.Equal(t, "Failed asserting that 1.01 matches expected 1.0.", r.Message)
	require.Equal(t, "/app/tests/MoneyTest.php", r.File, "file inherited from the enclosing suite")
}

func TestParseJUnitGotestsumMatchesGoTestJSONIDs(t *testing.T) {
	t.Parallel()
	rs := readJUnit(t, "gotestsum.xml")
	require.Len(t, rs, 4)
	m := byName(rs)
	require.Equal(t, "example.com/shop/cart :: TestDiscount/ten_percent", m["TestDiscount/ten_percent"].ID)
	require.Equal(t, Failed, m["TestDiscount/ten_percent"].Outcome)
	require.Equal(t, 300*time.Millisecond, m["TestDiscount/ten_percent"].Duration)
	require.Equal(t, "cart_test.go:31: got 100, want 90", m["TestDiscount/ten_percent"].Message, "gotestsum's bare Failed gives way to the output")
	require.Equal(t, "Failed", m["TestDiscount"].Message, "no output line but markers: the attribute stays")
	require.Equal(t, "example.com/shop/db [build failed]", strings.TrimPrefix(m["TestMain"].Message, "FAIL\t"))
	require.Equal(t, "example.com/shop/db :: TestMain", m["TestMain"].ID)

	f, err := os.Open("testdata/gotest.jsonl")
	require.NoError(t, err)
	defer f.Close()
	gs, err := ParseGoTestJSON(f)
	require.NoError(t, err)
	require.Equal(t, m["TestDiscount/ten_percent"].ID, byName(gs)["TestDiscount/ten_percent"].ID, "same test, same id in both formats")
}

func TestParseJUnitBadInput(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"empty":          "",
		"not xml":        "{\"Action\":\"pass\"}",
		"truncated":      `<testsuite name="a"><testcase name="b">`,
		"mismatched":     `<testsuite name="a"><testcase name="b"></testsuite></testcase>`,
		"two roots":      `<testsuite name="a"></testsuite><testsuite name="b"></testsuite>`,
		"deep":           "<testsuites>" + strings.Repeat("<testsuite>", 100) + strings.Repeat("</testsuite>", 100) + "</testsuites>",
		"unclosed cdata": `<testsuite><testcase name="x"><failure><![CDATA[boom</failure></testcase></testsuite>`,
	} {
		_, err := ParseJUnit([]byte(in))
		require.Error(t, err, name)
	}
	_, err := ParseJUnit([]byte(`<?xml version="1.0"?><project><build/></project>`))
	require.ErrorIs(t, err, ErrNotJUnit)
	_, err = ParseJUnit([]byte("<testsuites>" + strings.Repeat("<testsuite>", 100) + strings.Repeat("</testsuite>", 100) + "</testsuites>"))
	require.ErrorIs(t, err, ErrTooDeep)
}

func TestParseJUnitOddTimes(t *testing.T) {
	t.Parallel()
	rs, err := ParseJUnit([]byte(`<testsuite name="s"><testcase name="nan" time="NaN"/><testcase name="neg" time="-3"/><testcase name="none"/><testcase name="junk" time="fast"/></testsuite>`))
	require.NoError(t, err)
	require.Len(t, rs, 4)
	for _, r := range rs {
		require.Zero(t, r.Duration, r.Name)
		require.Equal(t, Passed, r.Outcome)
	}
}

func TestTestIDAndFingerprint(t *testing.T) {
	t.Parallel()
	require.Equal(t, "pkg :: TestA/sub", TestID(" pkg ", "pkg", "TestA/sub\n"))
	require.Equal(t, "suite :: a b :: c", TestID("suite", "a \t b", "c"))
	require.Equal(t, "name", TestID("", "", "name"))
	require.NotEqual(t, TestID("s", "", "Test"), TestID("s", "", "test"), "case is kept")
	require.Len(t, Fingerprint("x"), 16)
	require.Equal(t, Fingerprint(TestID("p", "p", "T")), Fingerprint("p :: T"))
	require.NotEqual(t, Fingerprint("a"), Fingerprint("b"))
}
