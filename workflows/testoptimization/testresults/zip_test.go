package testresults

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

type entry struct {
	name string
	data []byte
}

func buildZip(t *testing.T, entries ...entry) *bytes.Reader {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.Create(e.name)
		require.NoError(t, err)
		_, err = w.Write(e.data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return bytes.NewReader(buf.Bytes())
}

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return b
}

func notesByEntry(notes []Note) map[string]NoteReason {
	m := map[string]NoteReason{}
	for _, n := range notes {
		m[n.Entry] = n.Reason
	}
	return m
}

func TestFromZipReadsReportsAndNotesTheRest(t *testing.T) {
	t.Parallel()
	z := buildZip(t,
		entry{"surefire-reports/", nil},
		entry{"surefire-reports/TEST-com.example.CalculatorTest.xml", testdata(t, "TEST-com.example.CalculatorTest.xml")},
		entry{"py/report.XML", testdata(t, "pytest.xml")},
		entry{"go/test.jsonl", testdata(t, "gotest.jsonl")},
		entry{"README.md", []byte("# not a report")},
		entry{"web/package.json", []byte(`{"name":"shop","version":"1.0.0"}`)},
		entry{"pom.xml", []byte(`<project><modelVersion>4.0.0</modelVersion></project>`)},
		entry{"broken.xml", []byte(`<testsuite name="x"><testcase name="y">`)},
	)
	files, notes, err := FromZip(z, z.Size(), Limits{})
	require.NoError(t, err)
	require.Len(t, files, 3)
	require.Equal(t, "surefire-reports/TEST-com.example.CalculatorTest.xml", files[0].Entry)
	require.Equal(t, "junit", files[0].Format)
	require.Len(t, files[0].Results, 4)
	require.Len(t, files[1].Results, 5)
	require.Equal(t, "gotest-json", files[2].Format)
	require.Len(t, files[2].Results, 8)
	require.Equal(t, map[string]NoteReason{
		"web/package.json": NotTestReport,
		"pom.xml":          NotTestReport,
		"broken.xml":       Unparseable,
	}, notesByEntry(notes))
}

func TestFromZipSkipsOversizedEntry(t *testing.T) {
	t.Parallel()
	big := "<testsuite name=\"big\">" + strings.Repeat(`<testcase name="t" time="0.1"/>`, 2000) + "</testsuite>"
	z := buildZip(t, entry{"big.xml", []byte(big)}, entry{"small.xml", testdata(t, "nested.xml")})
	files, notes, err := FromZip(z, z.Size(), Limits{MaxEntryBytes: 32 << 10})
	require.NoError(t, err)
	require.Len(t, files, 1)
	require.Equal(t, "small.xml", files[0].Entry)
	require.Equal(t, []Note{{Entry: "big.xml", Reason: TooBig, Detail: "header says 62034 bytes, limit 32768"}}, notes)
}

// rawDeflated writes an entry whose header states the given uncompressed
// size whatever the data really is, as a hostile archive would.
func rawDeflated(t *testing.T, zw *zip.Writer, name string, data []byte, claimed uint64) {
	t.Helper()
	var comp bytes.Buffer
	fw, err := flate.NewWriter(&comp, flate.BestCompression)
	require.NoError(t, err)
	_, err = fw.Write(data)
	require.NoError(t, err)
	require.NoError(t, fw.Close())
	w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(data),
		CompressedSize64: uint64(comp.Len()), UncompressedSize64: claimed})
	require.NoError(t, err)
	_, err = w.Write(comp.Bytes())
	require.NoError(t, err)
}

func TestFromZipBombWithLyingHeader(t *testing.T) {
	t.Parallel()
	bomb := append([]byte(`<testsuite name="bomb"><testcase name="t"><failure message="`), bytes.Repeat([]byte("A"), 20<<20)...)
	bomb = append(bomb, []byte(`"/></testcase></testsuite>`)...)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	rawDeflated(t, zw, "lies.xml", bomb, 200) // claims 200 bytes
	rawDeflated(t, zw, "honest-bomb.xml", bomb, uint64(len(bomb)))
	w, err := zw.Create("after.xml")
	require.NoError(t, err)
	_, err = w.Write(testdata(t, "jest-junit.xml"))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.Less(t, buf.Len(), 200<<10, "20 MiB compress to a small archive")

	r := bytes.NewReader(buf.Bytes())
	files, notes, err := FromZip(r, r.Size(), Limits{MaxEntryBytes: 1 << 20, MaxTotalBytes: 2 << 20})
	require.NoError(t, err)
	require.Len(t, files, 1, "the entry after the bombs is still read")
	require.Equal(t, "after.xml", files[0].Entry)
	require.Equal(t, map[string]NoteReason{"lies.xml": Unreadable, "honest-bomb.xml": TooBig}, notesByEntry(notes))
}

func TestFromZipTotalAndEntryCountLimits(t *testing.T) {
	t.Parallel()
	x := testdata(t, "TEST-com.example.CalculatorTest.xml")
	z := buildZip(t, entry{"a.xml", x}, entry{"b.xml", x}, entry{"c.xml", x}, entry{"d.xml", x})
	files, notes, err := FromZip(z, z.Size(), Limits{MaxTotalBytes: int64(len(x))*2 + 10})
	require.NoError(t, err)
	require.Len(t, files, 2)
	require.Equal(t, map[string]NoteReason{"c.xml": TotalLimit, "d.xml": TotalLimit}, notesByEntry(notes))

	files, notes, err = FromZip(z, z.Size(), Limits{MaxEntries: 3})
	require.NoError(t, err)
	require.Len(t, files, 3)
	require.Equal(t, []Note{{Entry: "d.xml", Reason: TotalLimit, Detail: "1 more entries not read (limit 3)"}}, notes)
}

func TestFromZipRejectsArchive(t *testing.T) {
	t.Parallel()
	junk := bytes.NewReader([]byte("PK\x03\x04 not really a zip"))
	_, _, err := FromZip(junk, junk.Size(), Limits{})
	require.Error(t, err)

	z := buildZip(t, entry{"a.xml", testdata(t, "pytest.xml")})
	_, _, err = FromZip(z, z.Size(), Limits{MaxArchiveBytes: 100})
	require.ErrorIs(t, err, ErrArchiveTooBig)
}

// Bytes are counted as they are decompressed: an entry is read no further
// than one byte past its budget, whatever its header says.
func TestReadEntryStopsPastBudget(t *testing.T) {
	t.Parallel()
	z := buildZip(t, entry{"a.xml", bytes.Repeat([]byte("<"), 1<<20)})
	zr, err := zip.NewReader(z, z.Size())
	require.NoError(t, err)
	data, n, err := readEntry(zr.File[0], 1000)
	require.NoError(t, err)
	require.Equal(t, int64(1001), n)
	require.Len(t, data, 1001)
}
