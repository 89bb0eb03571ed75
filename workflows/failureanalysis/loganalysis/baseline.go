package loganalysis

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
)

// maxBaselineLines caps the distinct lines a Baseline remembers, so that a
// huge passing log keeps memory bounded (about 1 MB).
const maxBaselineLines = 1 << 16

// Baseline is the set of normalized lines of a passing run of the same job
// (the last green run). Candidate lines that also occur there are noise
// the job survives, not the cause of its failure: warnings, retried
// downloads, cache misses, expected error output of passing tests.
type Baseline struct {
	lines map[uint64]struct{}
}

// NewBaseline reads a passing job log from r, in either log shape. Only
// lines containing a rule keyword or an error annotation are remembered,
// after removing timestamps, durations, hashes, temporary paths and
// numbers (see normalizeForFingerprint).
func NewBaseline(r io.Reader) (*Baseline, error) {
	b := &Baseline{lines: map[uint64]struct{}{}}
	br := bufio.NewReaderSize(r, readBufSize)
	var scratch []byte
	for {
		chunk, err := br.ReadSlice('\n')
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = br.ReadSlice('\n')
		}
		if len(chunk) > 0 && len(b.lines) < maxBaselineLines {
			scratch = b.add(scratch, chunk)
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, fmt.Errorf("failed to read baseline log: %w", err)
		}
	}
}

// add remembers one raw line if a rule could pick it.
func (b *Baseline) add(scratch, raw []byte) []byte {
	line := bytes.TrimRight(raw, "\r\n")
	line = truncateUTF8(bytes.TrimPrefix(line, bom), maxLineBytes)
	if _, _, rest, ok := splitGHColumns(line); ok {
		line = rest
	}
	line = bytes.TrimPrefix(stripTimestamp(line), bom)
	if bytes.IndexByte(line, 0x1b) >= 0 {
		scratch = stripANSI(scratch[:0], line)
		line = scratch
	}
	body, annotated := matchBody(line)
	if found := matcher.scan(body); found.empty() && !annotated {
		return scratch
	}
	b.lines[baselineKey(body)] = struct{}{}
	return scratch
}

// Has reports whether the passing log holds a line equal to body after
// normalization. A nil Baseline holds nothing.
func (b *Baseline) Has(body string) bool {
	if b == nil {
		return false
	}
	_, ok := b.lines[baselineKey([]byte(body))]
	return ok
}

// Len is the number of distinct lines remembered.
func (b *Baseline) Len() int {
	if b == nil {
		return 0
	}
	return len(b.lines)
}

// baselineKey hashes the normalized line.
func baselineKey(body []byte) uint64 {
	h := fnv.New64a()
	h.Write([]byte(normalizeForFingerprint(string(body))))
	return h.Sum64()
}
