package workflowaudit

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/rhysd/actionlint"
	"gopkg.in/yaml.v3"
)

// ErrNotMechanical marks a finding MoveExpressionToEnv cannot fix by a minimal edit (a
// YAML-quoted script, an expression starting a plain scalar, JavaScript outside a string).
var ErrNotMechanical = errors.New("finding has no mechanical fix")

// located is a template-injection expression with the step and script holding it.
type located struct {
	e       expr
	job     *actionlint.Job
	stepIdx int
	body    *actionlint.String
	kind    string // "run" or "script"
	shell   string // for run: "bash" (also sh), "pwsh", or "" when unknown
}

func (a *auditor) locate(f Finding) (*located, error) {
	for _, job := range a.jobs() {
		for i, st := range job.Steps {
			body, kind := script(st)
			for _, e := range a.src.exprsIn(body) {
				if e.Line == f.Line && e.Col == f.Column {
					return &located{e: e, job: job, stepIdx: i, body: body, kind: kind, shell: a.shellOf(job, st)}, nil
				}
			}
		}
	}
	return nil, fmt.Errorf("failed to find expression at %d:%d: %w", f.Line, f.Column, ErrNotMechanical)
}

var pathRe = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_-]*(?:\.(?:[A-Za-z0-9_-]+|\*)|\[[^\]]*\])+`)

// envName derives a variable name from the expression's last two meaningful path parts:
// github.event.issue.title -> ISSUE_TITLE, github.head_ref -> HEAD_REF.
func envName(inner string) string {
	var parts []string
	for _, p := range regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`).FindAllString(pathRe.FindString(inner), -1) {
		if p != "github" && p != "event" {
			parts = append(parts, strings.ToUpper(p))
		}
	}
	if len(parts) == 0 {
		return "UNTRUSTED_INPUT"
	}
	if len(parts) > 2 {
		parts = parts[len(parts)-2:]
	}
	return strings.Join(parts, "_")
}

// quoteAt returns the quoting state (0 or the open quote) of a script line at byte i.
// quotes lists the quote characters; a backslash escapes inside a quote of escaping.
func quoteAt(line string, i int, quotes string, escaping func(q byte) bool) byte {
	var q byte
	for k := 0; k < i && k < len(line); k++ {
		c := line[k]
		switch {
		case c == '\\' && escaping(q):
			k++
		case q == 0 && strings.IndexByte(quotes, c) >= 0:
			q = c
		case c == q:
			q = 0
		}
	}
	return q
}

// MoveExpressionToEnv fixes a template-injection finding: it adds the expression to the
// step's env: (reusing a variable already holding it) and puts a reference to the variable
// where the expression was: "${VAR}" in a shell script, process.env.VAR in github-script.
// Every other byte of the file is kept.
func MoveExpressionToEnv(src []byte, f Finding) ([]byte, error) {
	if f.RuleID != RuleTemplateInjection {
		return nil, fmt.Errorf("failed to move expression of a %s finding: %w", f.RuleID, ErrNotMechanical)
	}
	a, err := newAuditor(f.File, src, Options{})
	if err != nil {
		return nil, err
	}
	loc, err := a.locate(f)
	if err != nil {
		return nil, err
	}
	if loc.kind == "run" && loc.shell == "" {
		return nil, fmt.Errorf("failed to tell the shell of the step at line %d: %w", loc.body.Pos.Line, ErrNotMechanical)
	}
	if loc.e.End < 0 || loc.body.Quoted || !isUntrusted(loc.e) && !envRefRe.MatchString(loc.e.Inner) {
		return nil, fmt.Errorf("failed to move %q: %w", loc.e.Inner, ErrNotMechanical)
	}
	step := a.yamlStep(loc.job, loc.stepIdx)
	if step == nil {
		return nil, fmt.Errorf("failed to find step of %q: %w", loc.e.Inner, ErrNotMechanical)
	}
	value := "${{ " + loc.e.Inner + " }}"
	name, exists := pickName(step, loc.e.Inner, value)
	if m := envRefRe.FindStringSubmatch(loc.e.Inner); m != nil {
		name, exists = m[1], true // already an env variable: only the reference changes
	}
	start, end, ref, err := a.reference(loc, name)
	if err != nil {
		return nil, err
	}
	out := splice(src, start, end, ref)
	if exists {
		return out, nil
	}
	return insertEnv(out, step, loc.kind, name, value)
}

// shellOf returns the shell a run: step uses: "bash" for bash and sh, "pwsh" for pwsh and
// powershell, "" for any other shell or when the runner's OS (its default shell) is unknown.
func (a *auditor) shellOf(job *actionlint.Job, st *actionlint.Step) string {
	var sh *actionlint.String
	if ex, ok := st.Exec.(*actionlint.ExecRun); ok && ex.Shell != nil {
		sh = ex.Shell
	} else if job.Defaults != nil && job.Defaults.Run != nil && job.Defaults.Run.Shell != nil {
		sh = job.Defaults.Run.Shell
	} else if a.wf.Defaults != nil && a.wf.Defaults.Run != nil && a.wf.Defaults.Run.Shell != nil {
		sh = a.wf.Defaults.Run.Shell
	}
	if sh != nil {
		switch strings.Fields(strings.ToLower(sh.Value) + " x")[0] {
		case "bash", "sh":
			return "bash"
		case "pwsh", "powershell":
			return "pwsh"
		}
		return ""
	}
	if job.RunsOn == nil || job.RunsOn.LabelsExpr != nil || len(job.RunsOn.Labels) == 0 {
		return ""
	}
	for _, l := range job.RunsOn.Labels {
		v := strings.ToLower(l.Value)
		if strings.Contains(v, "${{") {
			return ""
		}
		if strings.Contains(v, "windows") {
			return "pwsh"
		}
	}
	return "bash"
}

// reference returns the span to replace and the text referencing the variable there.
func (a *auditor) reference(loc *located, name string) (int, int, string, error) {
	e := loc.e
	lineStart := a.src.start[e.Line-1]
	lineText := a.src.line(e.Line)
	if loc.body.Pos.Line == e.Line && loc.body.Pos.Col == e.Col {
		return 0, 0, "", fmt.Errorf("failed to quote %q at the start of a plain scalar: %w", e.Inner, ErrNotMechanical)
	}
	from := 0
	if loc.body.Pos.Line == e.Line {
		from = a.src.offset(loc.body.Pos.Line, loc.body.Pos.Col) - lineStart
	}
	i, j := e.Start-lineStart, e.End-lineStart
	whole := func(q byte) bool { return i > from && j < len(lineText) && lineText[i-1] == q && lineText[j] == q }
	if loc.kind == "run" && loc.shell == "pwsh" {
		switch quoteAt(lineText[from:], i-from, `'"`, func(byte) bool { return false }) {
		case '"':
			return e.Start, e.End, "$env:" + name, nil
		case 0:
			return e.Start, e.End, `"$env:` + name + `"`, nil
		}
		return 0, 0, "", fmt.Errorf("failed to reference %q inside a single-quoted PowerShell string: %w", e.Inner, ErrNotMechanical)
	}
	if loc.kind == "run" {
		q := quoteAt(lineText[from:], i-from, `'"`, func(q byte) bool { return q != '\'' })
		switch {
		case q == '"':
			return e.Start, e.End, "${" + name + "}", nil
		case q == '\'' && whole('\''):
			return e.Start - 1, e.End + 1, `"${` + name + `}"`, nil
		case q == '\'':
			return e.Start, e.End, `'"${` + name + `}"'`, nil
		}
		return e.Start, e.End, `"${` + name + `}"`, nil
	}
	env := "process.env." + name
	switch q := quoteAt(lineText[from:], i-from, "'\"`", func(byte) bool { return true }); {
	case q == '`':
		return e.Start, e.End, "${" + env + "}", nil
	case q != 0 && whole(q):
		return e.Start - 1, e.End + 1, env, nil
	case q != 0:
		return e.Start, e.End, string(q) + " + " + env + " + " + string(q), nil
	}
	return 0, 0, "", fmt.Errorf("failed to find a JavaScript string around %q: %w", e.Inner, ErrNotMechanical)
}

func (a *auditor) yamlStep(job *actionlint.Job, idx int) *yaml.Node {
	j := mappingValue(mappingValue(a.topRoot(), "jobs"), job.ID.Value)
	steps := mappingValue(j, "steps")
	if steps == nil || steps.Kind != yaml.SequenceNode || idx >= len(steps.Content) {
		return nil
	}
	if st := steps.Content[idx]; st.Kind == yaml.MappingNode && st.Style&yaml.FlowStyle == 0 && len(st.Content) > 0 {
		return st
	}
	return nil
}

// pickName returns a variable name for value, and whether the step's env already holds it.
func pickName(step *yaml.Node, inner, value string) (string, bool) {
	env := mappingValue(step, "env")
	base := envName(inner)
	for n := 1; ; n++ {
		name := base
		if n > 1 {
			name = fmt.Sprintf("%s_%d", base, n)
		}
		v := mappingValue(env, name)
		if v == nil {
			return name, false
		}
		if strings.TrimSpace(v.Value) == value || strings.Contains(v.Value, "${{") && strings.Join(strings.Fields(v.Value), "") == strings.Join(strings.Fields(value), "") {
			return name, true
		}
	}
}

// insertEnv adds "NAME: value" to the step's block env:, or a new env: after the value of
// the key holding the script (run: or with:).
func insertEnv(src []byte, step *yaml.Node, kind, name, value string) ([]byte, error) {
	s := newSource(src)
	nl := lineEnding(src)
	keyCol := step.Content[0].Column
	if envKey := mappingKey(step, "env"); envKey != nil {
		env := mappingValue(step, "env")
		if env.Kind != yaml.MappingNode || env.Style&yaml.FlowStyle != 0 || len(env.Content) == 0 {
			return nil, fmt.Errorf("failed to extend a flow-style env: %w", ErrNotMechanical)
		}
		at := valueEnd(s, envKey.Line, keyCol)
		return insertLine(src, s, at, strings.Repeat(" ", env.Content[0].Column-1)+name+": "+value+nl), nil
	}
	holder := "run"
	if kind == "script" {
		holder = "with"
	}
	k := mappingKey(step, holder)
	if k == nil {
		return nil, fmt.Errorf("failed to find %s: of the step: %w", holder, ErrNotMechanical)
	}
	pad := strings.Repeat(" ", keyCol-1)
	block := pad + "env:" + nl + pad + "  " + name + ": " + value + nl
	return insertLine(src, s, valueEnd(s, k.Line, keyCol), block), nil
}

// valueEnd returns the last non-blank line of the value of the key on keyLine: the lines
// after it that are blank or indented deeper than the step's keys.
func valueEnd(s *source, keyLine, keyCol int) int {
	last := keyLine
	for n := keyLine + 1; n <= s.lines(); n++ {
		l := s.line(n)
		if strings.TrimSpace(l) == "" {
			continue
		}
		if len(l)-len(strings.TrimLeft(l, " ")) < keyCol {
			break
		}
		last = n
	}
	return last
}

// insertLine inserts text (ending with a line ending) after 1-based line n.
func insertLine(src []byte, s *source, n int, text string) []byte {
	if n >= s.lines() {
		if len(src) > 0 && src[len(src)-1] != '\n' {
			text = lineEnding(src) + text
		}
		return append(append([]byte{}, src...), text...)
	}
	at := s.start[n]
	return splice(src, at, at, text)
}
