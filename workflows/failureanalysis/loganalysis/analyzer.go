package loganalysis

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

const (
	ringSize      = 32  // preceding lines kept for before-context
	maxCandidates = 64  // candidate windows kept at once
	perRuleFirst  = 4   // earliest windows kept per rule (plus the latest one)
	maxSteps      = 512 // step names remembered
	maxStepName   = 200 // bytes of a step name kept
	maxErrSteps   = 16  // most recent steps with an error annotation remembered
	readBufSize   = 64 << 10
	binaryProbe   = 200 // lines examined for NUL bytes
	binaryNULs    = 3   // lines with NUL bytes among the probe that mark binary input
)

// ringLine is one remembered line; text reuses its backing array.
type ringLine struct {
	n    int
	step int
	text []byte
}

// candidate is a line matched by a rule together with its context window.
type candidate struct {
	r         *rule
	ruleIdx   int
	line      int
	text      string
	body      string
	class     Class
	weight    float64
	label     string
	step      int
	stepName  string
	testy     bool
	post      bool // found in a post-job step
	job       int
	latest    bool // kept as the latest occurrence of its rule
	before    []Line
	after     []Line
	afterLeft int
	lastAfter int
}

// analyzer holds the state of one streaming pass.
type analyzer struct {
	opts            Options
	lineNo          int
	ring            [ringSize]ringLine
	ringNext        int
	ringLen         int
	scratch         []byte
	steps           []string
	stepTest        []bool
	stepPost        []bool // post-job and cleanup steps
	stepJob         []int  // job of each step (several jobs in one "gh run view --log" output)
	job             int
	ghJob           []byte // job and step columns of the last "gh run view --log" line
	ghStep          []byte
	frames          frameState
	tail            tailSnapshot // the ring as the post-job steps began, for the fallback excerpt
	baseline        *Baseline
	baselineDropped int  // candidate lines dropped because the passing run has them too
	warned          bool // the current line is a "##[warning]" annotation
	annotated       bool // the current line is a "##[error]" annotation
	cur             int
	failStep        int
	errStep         int
	errSteps        []errStep // recent distinct steps with "##[error]" annotations, oldest first
	cands           []*candidate
	pending         []*candidate
	ruleCount       []int
	ruleSeen        []uint64
	tests           testList
	nulLines        int
	binary          bool
	sawContent      bool
}

func newAnalyzer(opts Options) *analyzer {
	if opts.MaxExcerptLines <= 0 {
		opts.MaxExcerptLines = DefaultMaxExcerptLines
	}
	a := &analyzer{
		opts:      opts,
		baseline:  opts.Baseline,
		cur:       -1,
		failStep:  -1,
		errStep:   -1,
		scratch:   make([]byte, 0, maxLineBytes),
		ruleCount: make([]int, len(rules)),
		ruleSeen:  make([]uint64, (len(rules)+63)/64),
	}
	for i := range a.ring {
		a.ring[i].text = make([]byte, 0, maxLineBytes)
	}
	return a
}

// run reads r line by line. Lines longer than the read buffer are cut to
// maxLineBytes and the rest is skipped.
func (a *analyzer) run(r io.Reader) error {
	br := bufio.NewReaderSize(r, readBufSize)
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			a.processLine(chunk)
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err == nil {
				continue
			}
			chunk = nil
		} else if len(chunk) > 0 {
			a.processLine(chunk)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("failed to read log: %w", err)
		}
		if a.binary {
			return nil
		}
	}
}

// processLine normalizes one raw line and feeds it to the rules.
func (a *analyzer) processLine(raw []byte) {
	a.lineNo++
	b := raw
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	if a.lineNo == 1 {
		b = bytes.TrimPrefix(b, bom)
	}
	b = truncateUTF8(b, maxLineBytes)
	if a.lineNo <= binaryProbe && bytes.IndexByte(b, 0) >= 0 {
		a.nulLines++
		if a.nulLines >= binaryNULs {
			a.binary = true
			return
		}
	}
	if job, step, rest, ok := splitGHColumns(b); ok {
		a.ghColumns(job, step)
		b = rest
	}
	b = bytes.TrimPrefix(stripTimestamp(b), bom)
	if bytes.IndexByte(b, 0x1b) >= 0 {
		a.scratch = stripANSI(a.scratch[:0], b)
		b = a.scratch
	}
	a.line(b)
}

// line handles one normalized line (timestamp, BOM and ANSI removed).
func (a *analyzer) line(text []byte) {
	if len(text) >= 3 && text[0] == '#' && text[1] == '#' && text[2] == '[' {
		if bytes.HasPrefix(text, markGroup) {
			if name := text[len(markGroup):]; bytes.HasPrefix(name, markRun) && a.ghStep == nil {
				a.startStep(name, false)
			}
			a.pushRing(text)
			return
		}
		if bytes.HasPrefix(text, markEndGroup) {
			a.pushRing(text)
			return
		}
	}
	if !a.sawContent && !isBlank(text) {
		a.sawContent = true
	}
	if a.ghStep == nil && postStart(text) {
		a.startStep(text, true)
	}
	body, annotated := matchBody(text)
	a.annotated = annotated
	a.warned = !annotated && len(body) < len(text) && bytes.HasPrefix(text, markWarning)
	if len(a.pending) > 0 {
		a.feedPending(text)
	}
	if annotated {
		a.errStep = a.cur
		exited := bytes.HasPrefix(body, []byte("Process completed with exit code"))
		if exited {
			a.failStep = a.cur
		}
		a.noteErrStep(a.cur, exited)
	}
	found := matcher.scan(body)
	if !found.empty() || annotated {
		a.evaluate(text, body, &found, annotated)
	}
	a.pushRing(text)
}

// errStep is a step that reported an error annotation.
type errStep struct {
	step   int
	exited bool // its process exited non-zero ("Process completed with exit code")
}

// noteErrStep remembers that step i reported an error annotation, keeping
// the most recent maxErrSteps distinct steps.
func (a *analyzer) noteErrStep(i int, exited bool) {
	if n := len(a.errSteps); n > 0 && a.errSteps[n-1].step == i {
		a.errSteps[n-1].exited = a.errSteps[n-1].exited || exited
		return
	}
	if len(a.errSteps) >= maxErrSteps {
		copy(a.errSteps, a.errSteps[1:])
		a.errSteps = a.errSteps[:len(a.errSteps)-1]
	}
	a.errSteps = append(a.errSteps, errStep{step: i, exited: exited})
}

// startStep records the beginning of a step: a "##[group]Run <command>"
// group, a post-job cleanup or a new step column of "gh run view --log".
func (a *analyzer) startStep(name []byte, post bool) {
	a.pending = a.pending[:0]
	a.frames = frameState{}
	if post && !a.inPost() {
		a.tail.take(&a.ring, a.ringNext, a.ringLen)
	}
	name = truncateUTF8(bytes.TrimSpace(name), maxStepName)
	if len(a.steps) >= maxSteps {
		// The table is full (a long multi-job log): the last slot follows the current step,
		// so the failing step, usually near the end, keeps its own name.
		i := maxSteps - 1
		a.steps[i], a.stepTest[i], a.stepPost[i], a.stepJob[i] = string(name), false, post, a.job
		a.cur = i
		return
	}
	a.steps = append(a.steps, string(name))
	a.stepTest = append(a.stepTest, false)
	a.stepPost = append(a.stepPost, post)
	a.stepJob = append(a.stepJob, a.job)
	a.cur = len(a.steps) - 1
}

// inPost reports whether the current step is a post-job step.
func (a *analyzer) inPost() bool { return a.isPost(a.cur) }

// isPost reports whether step i is a post-job or cleanup step.
func (a *analyzer) isPost(i int) bool { return i >= 0 && i < len(a.stepPost) && a.stepPost[i] }

// jobOf returns the job index of step i (0 for lines before any step).
func (a *analyzer) jobOf(i int) int {
	if i < 0 || i >= len(a.stepJob) {
		return 0
	}
	return a.stepJob[i]
}

// stepName returns the name of step i or "".
func (a *analyzer) stepName(i int) string {
	if i < 0 || i >= len(a.steps) {
		return ""
	}
	return a.steps[i]
}

// pushRing remembers text as the most recent line.
func (a *analyzer) pushRing(text []byte) {
	slot := &a.ring[a.ringNext]
	slot.n = a.lineNo
	slot.step = a.cur
	slot.text = append(slot.text[:0], text...)
	a.ringNext = (a.ringNext + 1) % ringSize
	if a.ringLen < ringSize {
		a.ringLen++
	}
}

// feedPending appends the line to the after-context of pending candidates.
func (a *analyzer) feedPending(text []byte) {
	blank := isBlank(text)
	keep := a.pending[:0]
	for _, c := range a.pending {
		take, stop := true, false
		switch c.r.contMode {
		case contIndented:
			if !isIndented(text) || blank {
				take, stop = false, true
			}
		case contUntilBlank:
			if blank {
				take, stop = false, true
			}
		case contAny:
			if blank {
				take = false
			}
		}
		if take {
			c.after = append(c.after, Line{Line: a.lineNo, Text: string(text)})
			c.lastAfter = a.lineNo
			a.afterHooks(c, text)
		}
		c.afterLeft--
		if !stop && c.afterLeft > 0 {
			keep = append(keep, c)
		}
	}
	a.pending = keep
}

// afterHooks applies a rule's after-context upgrades and test extraction.
func (a *analyzer) afterHooks(c *candidate, text []byte) {
	if u := c.r.upgrade; u != nil && c.class != u.class && u.re.Match(text) {
		c.class, c.weight, c.label = u.class, u.weight, u.label
	}
	if c.r.afterTest != nil {
		if m := c.r.afterTest.FindSubmatch(text); m != nil {
			a.tests.add(string(m[1]))
		}
	}
}
