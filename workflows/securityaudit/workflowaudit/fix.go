package workflowaudit

import (
	"bytes"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// The fixes below are pure byte edits for the fix PR: each changes the lines it must and
// keeps every other byte of the file, line endings and comments included.

var usesLineRe = regexp.MustCompile(`(uses:\s*)(["']?)([A-Za-z0-9][A-Za-z0-9_.-]*/[^"'\s#@]+)@([^"'\s#,}]+)(["']?)`)

// lineSpan returns the byte span of 1-based line n without its line ending.
func lineSpan(src []byte, n int) (int, int, bool) {
	s := newSource(src)
	if n < 1 || n > s.lines() {
		return 0, 0, false
	}
	start := s.start[n-1]
	end := len(src)
	if n < s.lines() {
		end = s.start[n] - 1
	}
	if end > start && src[end-1] == '\r' {
		end--
	}
	return start, end, true
}

// PinAction rewrites the uses: owner/repo[/path]@ref on line (1-based) to @sha, keeping the
// old ref (or tag when given) as a "# tag" comment when the line has room for one (block
// style). It returns src unchanged when sha is not a full commit SHA or the line has no
// such uses:.
func PinAction(src []byte, line int, sha, tag string) []byte {
	start, end, ok := lineSpan(src, line)
	if !ok || !shaRe.MatchString(sha) {
		return src
	}
	text := string(src[start:end])
	loc := usesLineRe.FindStringSubmatchIndex(text)
	if loc == nil || loc[8] == loc[9] {
		return src
	}
	oldRef := text[loc[8]:loc[9]]
	if oldRef == sha {
		return src
	}
	if tag == "" {
		tag = oldRef
	}
	rest := text[loc[1]:]
	newLine := text[:loc[8]] + sha + text[loc[9]:loc[1]]
	if t := strings.TrimSpace(rest); t == "" || strings.HasPrefix(t, "#") {
		newLine += " # " + tag
		if t != "" {
			newLine += " " + strings.TrimLeft(rest, " \t")
		}
	} else {
		newLine += rest
	}
	return splice(src, start, end, newLine)
}

func splice(src []byte, start, end int, with string) []byte {
	out := make([]byte, 0, len(src)+len(with))
	out = append(out, src[:start]...)
	out = append(out, with...)
	return append(out, src[end:]...)
}

// lineEnding returns the file's line ending, "\r\n" when its first line uses it.
func lineEnding(src []byte) string {
	if i := bytes.IndexByte(src, '\n'); i > 0 && src[i-1] == '\r' {
		return "\r\n"
	}
	return "\n"
}

// AddTopLevelPermissions inserts "permissions:\n  contents: read\n" at the top level, just
// before the jobs: key (or at the end when there is none), indented like the jobs' keys.
// It returns src unchanged when the workflow already has top-level permissions, or when
// its top level is not a block mapping.
func AddTopLevelPermissions(src []byte) []byte {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil || len(doc.Content) == 0 {
		return src
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode || root.Style&yaml.FlowStyle != 0 || mappingKey(root, "permissions") != nil {
		return src
	}
	nl := lineEnding(src)
	indent := "  "
	jobsKey := mappingKey(root, "jobs")
	if jobs := mappingValue(root, "jobs"); jobs != nil && jobs.Kind == yaml.MappingNode && len(jobs.Content) > 0 && jobs.Style&yaml.FlowStyle == 0 {
		indent = strings.Repeat(" ", jobs.Content[0].Column-1)
	}
	block := "permissions:" + nl + indent + "contents: read" + nl
	if jobsKey == nil || jobsKey.Column != 1 {
		if len(src) > 0 && src[len(src)-1] != '\n' {
			block = nl + block
		}
		return append(append([]byte{}, src...), block...)
	}
	start, _, _ := lineSpan(src, jobsKey.Line)
	return splice(src, start, start, block)
}
