package loganalysis

import (
	"bytes"
	"strings"

	"github.com/contexten/autonomous/workflows/failureanalysis/redact"
)

const (
	maxGHColumn = 500 // bytes of a "gh run view --log" job or step column
	tailSize    = 12  // lines of the failing step shown by the fallback excerpt
)

// splitGHColumns splits a line of "gh run view --log" output
// ("job<TAB>step<TAB>2024-05-01T12:00:00.0000000Z text") into its job and
// step columns and the rest, which starts with the timestamp.
func splitGHColumns(b []byte) (job, step, rest []byte, ok bool) {
	t1 := bytes.IndexByte(b[:min(len(b), maxGHColumn+1)], '\t')
	if t1 <= 0 {
		return nil, nil, nil, false
	}
	t2 := bytes.IndexByte(b[t1+1:min(len(b), t1+2+maxGHColumn)], '\t')
	if t2 < 0 {
		return nil, nil, nil, false
	}
	t2 += t1 + 1
	rest = b[t2+1:]
	if !looksTimestamp(rest) {
		return nil, nil, nil, false
	}
	return b[:t1], b[t1+1 : t2], rest, true
}

// looksTimestamp reports whether b starts like "2024-05-01T12:00:00".
func looksTimestamp(b []byte) bool {
	return len(b) >= 20 && isDigit(b[0]) && isDigit(b[3]) && b[4] == '-' && b[7] == '-' && b[10] == 'T' && b[13] == ':'
}

// ghColumns starts a new job or step when the columns of a "gh run view
// --log" line change.
func (a *analyzer) ghColumns(job, step []byte) {
	job = bytes.TrimPrefix(job, bom)
	if a.ghJob != nil && bytes.Equal(job, a.ghJob) && bytes.Equal(step, a.ghStep) {
		return
	}
	if a.ghJob != nil && !bytes.Equal(job, a.ghJob) {
		a.job++
	}
	a.ghJob = append(a.ghJob[:0], job...)
	a.ghStep = append(a.ghStep[:0], step...)
	a.startStep(step, postStepName(step))
}

// postStepName reports whether a step column names a post-job step.
func postStepName(step []byte) bool {
	return bytes.HasPrefix(step, []byte("Post ")) || bytes.Equal(step, []byte("Complete job"))
}

// postStart reports whether a raw-log line starts a post-job step.
func postStart(text []byte) bool {
	return len(text) > 0 && (text[0] == 'P' && bytes.HasPrefix(text, []byte("Post job cleanup.")) ||
		text[0] == 'C' && bytes.HasPrefix(text, []byte("Cleaning up orphan processes")))
}

// lastLines returns the latest non-blank, non-marker lines of step (of any
// step when step < 0) held in ring, oldest first, at most max lines.
func lastLines(ring *[ringSize]ringLine, next, n, step, max int) []Line {
	var out []Line
	for k := 1; k <= n && len(out) < max; k++ {
		l := &ring[(next-k+ringSize)%ringSize]
		if isBlank(l.text) || isMarker(l.text) {
			continue
		}
		if step >= 0 && l.step != step {
			if len(out) > 0 {
				break
			}
			continue
		}
		out = append(out, Line{Line: l.n, Text: string(l.text)})
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// tailSnapshot is a copy of the line ring taken when post-job steps begin,
// so that the fallback excerpt shows the job's last lines, not cleanup.
type tailSnapshot struct {
	ring [ringSize]ringLine
	next int
	n    int
	set  bool
}

// take copies the ring.
func (t *tailSnapshot) take(ring *[ringSize]ringLine, next, n int) {
	for i := range ring {
		t.ring[i].n, t.ring[i].step = ring[i].n, ring[i].step
		t.ring[i].text = append(t.ring[i].text[:0], ring[i].text...)
	}
	t.next, t.n, t.set = next, n, true
}

// frameState describes the Python traceback being read in the current step.
type frameState struct {
	ci   bool // a frame lies in the workflow's own scripts (.github/)
	test bool // a frame lies in a test file or test directory
}

// noteFrame records a traceback frame line (`  File "path", line N, in f`).
func (a *analyzer) noteFrame(body []byte) {
	if bytes.Contains(body, []byte("Traceback (most recent call last)")) {
		a.frames = frameState{}
		return
	}
	i := bytes.IndexByte(body, '"')
	j := bytes.LastIndexByte(body, '"')
	if i < 0 || j <= i {
		return
	}
	path := body[i+1 : j]
	if bytes.Contains(path, []byte("/site-packages/")) || bytes.Contains(path, []byte("/lib/python")) {
		return
	}
	if bytes.Contains(path, []byte("/.github/")) || bytes.HasPrefix(path, []byte(".github/")) {
		a.frames.ci = true
	}
	base := path[bytes.LastIndexByte(path, '/')+1:]
	if bytes.HasPrefix(base, []byte("test_")) || bytes.HasSuffix(base, []byte("_test.py")) ||
		bytes.Contains(path, []byte("/test/")) || bytes.Contains(path, []byte("/tests/")) {
		a.frames.test = true
	}
}

// reportedError reports whether step i printed an error annotation.
func (a *analyzer) reportedError(i int) bool {
	for _, e := range a.errSteps {
		if e.step == i {
			return true
		}
	}
	return len(a.errSteps) >= maxErrSteps // older steps may have been forgotten
}

// fallbackExcerpt is the last lines of the failing step (else of the log
// outside post-job steps), for a failure no rule explains.
func (a *analyzer) fallbackExcerpt(failStep int) []Line {
	ring, next, n := &a.ring, a.ringNext, a.ringLen
	if a.inPost() && a.tail.set {
		ring, next, n = &a.tail.ring, a.tail.next, a.tail.n
	}
	lines := lastLines(ring, next, n, failStep, tailSize)
	if len(lines) == 0 {
		lines = lastLines(ring, next, n, -1, tailSize)
	}
	texts := make([]string, len(lines))
	for i, l := range lines {
		texts[i] = strings.ToValidUTF8(l.Text, "\uFFFD")
	}
	texts = redact.Lines(texts)
	for i := range lines {
		lines[i].Text = texts[i]
	}
	if lines == nil {
		lines = []Line{}
	}
	return lines
}
