package testresults

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// Limits bound what FromZip reads. Zero fields take the defaults.
type Limits struct {
	// MaxArchiveBytes is the largest zip accepted (default 64 MiB).
	MaxArchiveBytes int64
	// MaxEntries is how many entries of the central directory are
	// looked at (default 1000); the rest are skipped with one note.
	MaxEntries int
	// MaxEntryBytes is the most bytes read from one entry (default
	// 16 MiB); a larger entry is skipped with a note.
	MaxEntryBytes int64
	// MaxTotalBytes is the most decompressed bytes read over all entries
	// (default 64 MiB); once reached, the remaining entries are skipped.
	MaxTotalBytes int64
}

// DefaultLimits are the limits FromZip uses for zero fields.
var DefaultLimits = Limits{MaxArchiveBytes: 64 << 20, MaxEntries: 1000, MaxEntryBytes: 16 << 20, MaxTotalBytes: 64 << 20}

func (l Limits) withDefaults() Limits {
	if l.MaxArchiveBytes <= 0 {
		l.MaxArchiveBytes = DefaultLimits.MaxArchiveBytes
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultLimits.MaxEntries
	}
	if l.MaxEntryBytes <= 0 {
		l.MaxEntryBytes = DefaultLimits.MaxEntryBytes
	}
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = DefaultLimits.MaxTotalBytes
	}
	return l
}

// NoteReason says why an entry gave no results.
type NoteReason string

// The reasons a Note can carry.
const (
	TooBig        NoteReason = "too_big"         // over MaxEntryBytes
	TotalLimit    NoteReason = "total_limit"     // MaxTotalBytes or MaxEntries reached
	Unreadable    NoteReason = "unreadable"      // corrupt or lying zip entry
	Unparseable   NoteReason = "unparseable"     // not valid XML / JSON of a known shape
	NotTestReport NoteReason = "not_test_report" // valid, but no test report
)

// Note records an entry that was skipped.
type Note struct {
	Entry  string     `json:"entry"`
	Reason NoteReason `json:"reason"`
	Detail string     `json:"detail,omitempty"`
}

// FileResults are the results read from one entry.
type FileResults struct {
	Entry   string   `json:"entry"`
	Format  string   `json:"format"` // "junit" or "gotest-json"
	Results []Result `json:"results"`
}

// ErrArchiveTooBig is returned when the zip itself is over MaxArchiveBytes.
var ErrArchiveTooBig = errors.New("artifact archive over the size limit")

// FromZip reads test reports from a zip of CI artifacts: every *.xml entry
// (JUnit) and every *.json / *.jsonl entry (go test -json). Other entries
// are ignored without a note. Sizes in the zip headers are never trusted:
// bytes are counted as they are decompressed, an entry is cut off at
// MaxEntryBytes+1 bytes and skipped as too big, and reading stops when
// MaxTotalBytes have been decompressed. An entry whose header already
// claims more than the limit is skipped without reading. Entries that fail
// to decompress or to parse are skipped with a note; only a zip that
// cannot be opened at all (or is over MaxArchiveBytes) is an error.
func FromZip(r io.ReaderAt, size int64, limits Limits) ([]FileResults, []Note, error) {
	l := limits.withDefaults()
	if size > l.MaxArchiveBytes {
		return nil, nil, fmt.Errorf("failed to open artifact archive of %d bytes: %w", size, ErrArchiveTooBig)
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to open artifact archive: %w", err)
	}
	var (
		out   []FileResults
		notes []Note
		total int64
	)
	for i, f := range zr.File {
		if i >= l.MaxEntries {
			notes = append(notes, Note{Entry: f.Name, Reason: TotalLimit, Detail: fmt.Sprintf("%d more entries not read (limit %d)", len(zr.File)-i, l.MaxEntries)})
			break
		}
		kind := kindOf(f)
		if kind == "" {
			continue
		}
		if total >= l.MaxTotalBytes {
			notes = append(notes, Note{Entry: f.Name, Reason: TotalLimit, Detail: fmt.Sprintf("%d bytes already read", total)})
			continue
		}
		if f.UncompressedSize64 > uint64(l.MaxEntryBytes) {
			notes = append(notes, Note{Entry: f.Name, Reason: TooBig, Detail: fmt.Sprintf("header says %d bytes, limit %d", f.UncompressedSize64, l.MaxEntryBytes)})
			continue
		}
		budget := min(l.MaxEntryBytes, l.MaxTotalBytes-total)
		data, n, rerr := readEntry(f, budget)
		total += n
		switch {
		case rerr != nil:
			notes = append(notes, Note{Entry: f.Name, Reason: Unreadable, Detail: rerr.Error()})
			continue
		case n > budget && budget == l.MaxEntryBytes:
			notes = append(notes, Note{Entry: f.Name, Reason: TooBig, Detail: fmt.Sprintf("more than %d bytes", l.MaxEntryBytes)})
			continue
		case n > budget:
			notes = append(notes, Note{Entry: f.Name, Reason: TotalLimit, Detail: fmt.Sprintf("total limit of %d bytes reached", l.MaxTotalBytes)})
			continue
		}
		fr, note := parseEntry(f.Name, kind, data)
		if note != nil {
			notes = append(notes, *note)
			continue
		}
		out = append(out, fr)
	}
	return out, notes, nil
}

func kindOf(f *zip.File) string {
	if f.FileInfo().IsDir() {
		return ""
	}
	switch strings.ToLower(path.Ext(f.Name)) {
	case ".xml":
		return "junit"
	case ".json", ".jsonl":
		return "gotest-json"
	}
	return ""
}

// readEntry decompresses at most budget+1 bytes and returns them with the
// count actually read.
func readEntry(f *zip.File, budget int64) ([]byte, int64, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, 0, fmt.Errorf("failed to open entry: %w", err)
	}
	defer func() { _ = rc.Close() }()
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(rc, budget+1))
	if err != nil {
		return nil, n, fmt.Errorf("failed to read entry: %w", err)
	}
	return buf.Bytes(), n, nil
}

func parseEntry(name, kind string, data []byte) (FileResults, *Note) {
	fr := FileResults{Entry: name, Format: kind}
	var err error
	if kind == "junit" {
		fr.Results, err = ParseJUnit(data)
	} else {
		fr.Results, err = ParseGoTestJSON(bytes.NewReader(data))
	}
	switch {
	case errors.Is(err, ErrNotJUnit), errors.Is(err, ErrNotGoTestJSON):
		return fr, &Note{Entry: name, Reason: NotTestReport, Detail: err.Error()}
	case err != nil:
		return fr, &Note{Entry: name, Reason: Unparseable, Detail: err.Error()}
	}
	return fr, nil
}
