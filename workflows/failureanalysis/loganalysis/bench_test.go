package loganalysis

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// benchLog builds a realistic timestamped job log of about size bytes:
// setup noise, downloads, passing Go test output with ANSI colours, warnings
// that mention errors in passing tests, and a test failure near the end.
func benchLog(size int) []byte {
	var b bytes.Buffer
	b.Grow(size + 4096)
	line := func(format string, args ...any) {
		fmt.Fprintf(&b, "2024-05-01T12:%02d:%02d.%07dZ ", (b.Len()/1000)%60, (b.Len()/10)%60, b.Len()%10000000)
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
	}
	line("##[group]Run actions/checkout@v4")
	line("with:")
	line("  repository: acme/widgets")
	line("##[endgroup]")
	line("##[group]Run go test -v ./...")
	line("go test -v ./...")
	line("##[endgroup]")
	for i := 0; b.Len() < size-2048; i++ {
		switch i % 16 {
		case 0:
			line("go: downloading github.com/stretchr/testify v1.9.%d", i%10)
		case 1, 2, 3, 4:
			line("=== RUN   TestHandler%d/case_%d", i, i%7)
		case 5, 6, 7:
			line("    --- PASS: TestHandler%d/case_%d (0.%02ds)", i, i%7, i%100)
		case 8:
			line("\x1b[32mok  \x1b[0m\tgithub.com/acme/widgets/internal/pkg%d\t0.%03ds\tcoverage: 81.%d%% of statements", i, i%1000, i%10)
		case 9:
			line("    handler_test.go:%d: retrying request after simulated timeout (attempt %d)", i%300, i%3)
		case 10:
			line("[%3d%%] Building CXX object src/CMakeFiles/engine.dir/module%d.cpp.o", i%100, i)
		case 11:
			line("npm WARN deprecated glob@7.2.3: Glob versions prior to v9 are no longer supported")
		case 12:
			line("--- PASS: TestErrorHandling%d (0.00s)", i)
		case 13:
			line("Downloaded from central: https://repo.maven.apache.org/maven2/org/slf4j/slf4j-api/2.0.%d/slf4j-api.jar (64 kB at 1.2 MB/s)", i%20)
		case 14:
			line("tests/test_module%d.py ........................................ [ %2d%%]", i, i%100)
		default:
			line("PASS")
		}
	}
	line("=== RUN   TestCheckout")
	line("    checkout_test.go:88: total: expected 119, got 100")
	line("--- FAIL: TestCheckout (0.01s)")
	line("FAIL")
	line("FAIL\tgithub.com/acme/widgets/internal/checkout\t0.214s")
	line("##[error]Process completed with exit code 1.")
	return b.Bytes()
}

var (
	benchOnce  sync.Once
	bench1MB   []byte
	bench100MB []byte
)

func benchLogs() {
	benchOnce.Do(func() {
		bench1MB = benchLog(1 << 20)
		bench100MB = benchLog(100 << 20)
	})
}

func benchmarkAnalyze(b *testing.B, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := Analyze(bytes.NewReader(data), Options{})
		if err != nil || res.Classification != ClassTestFailure {
			b.Fatalf("unexpected result %v %v", res.Classification, err)
		}
	}
}

func BenchmarkAnalyze1MB(b *testing.B) {
	benchLogs()
	benchmarkAnalyze(b, bench1MB)
}

func BenchmarkAnalyze100MB(b *testing.B) {
	benchLogs()
	benchmarkAnalyze(b, bench100MB)
}

func TestBenchLogIsAnalyzedCorrectly(t *testing.T) {
	t.Parallel()
	data := benchLog(256 << 10)
	res, err := Analyze(bytes.NewReader(data), Options{})
	require.NoError(t, err)
	require.Equal(t, ClassTestFailure, res.Classification)
	require.Equal(t, []string{"TestCheckout"}, res.FailedTests)
	require.LessOrEqual(t, len(res.Excerpt), 5)
}
