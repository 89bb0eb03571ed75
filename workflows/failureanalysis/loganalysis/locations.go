package loganalysis

import (
	"regexp"
	"strconv"
	"strings"
)

// maxLocations caps the source locations reported.
const maxLocations = 50

// locationPatterns find "path + line (+ column) + message" in a log line;
// submatches are path, line, column, message.
var locationPatterns = []*regexp.Regexp{
	// Kotlin: e: /path/A.kt: (12, 5): message
	rx(`^e: (?:file://)?(\S+?\.kts?): \((\d+), (\d+)\): (.*)$`),
	// Maven: [ERROR] /path/A.java:[12,5] message
	rx(`(\S+?\.\w+):\[(\d+),(\d+)\] (.*)$`),
	// TypeScript and MSVC: src/a.ts(3,5): error TS2322: message
	rx(`((?:[A-Za-z]:)?[\w./\\@+-]*\w\.\w+)\((\d+)(?:,(\d+))?\): (.*)$`),
	// Most compilers, linters and test frameworks: path:line[:col][:] message
	rx(`(?:^|[\s'"(])(?:file://)?((?:[A-Za-z]:)?[\w./\\@+-]*\w\.[A-Za-z]\w{0,5}):(\d+)(?::(\d+))?(?::\s*|\s+-\s+|\s+|$)(.*)$`),
}

// workspacePrefix matches the checkout directory of GitHub-hosted and
// container runners, which is dropped from paths.
var workspacePrefix = rx(`^(?:/home/runner/work|/Users/runner/work|/__w|[A-Za-z]:[\\/]a)[\\/][^\\/]+[\\/][^\\/]+[\\/]`)

// locations extracts source locations from the chosen windows.
func locations(chosen []scored) []Location {
	var out []Location
	seen := map[string]bool{}
	for _, s := range chosen {
		for _, l := range window(s.c) {
			if len(out) >= maxLocations {
				return out
			}
			loc, ok := parseLocation(l.Text)
			if !ok {
				continue
			}
			if loc.Message == "" {
				loc.Message = strings.TrimSpace(s.c.body)
			}
			loc.LogLine = l.Line
			key := loc.Path + ":" + strconv.Itoa(loc.Line) + ":" + strconv.Itoa(loc.Column)
			if seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, loc)
		}
	}
	return out
}

// parseLocation finds the first source location in a log line.
func parseLocation(text string) (Location, bool) {
	body, _ := matchBody([]byte(text))
	t := string(body)
	for _, re := range locationPatterns {
		m := re.FindStringSubmatch(t)
		if m == nil {
			continue
		}
		path := cleanPath(m[1])
		if path == "" || strings.Contains(path, "://") {
			continue
		}
		line, err := strconv.Atoi(m[2])
		if err != nil || line <= 0 {
			continue
		}
		col, _ := strconv.Atoi(m[3])
		msg := strings.TrimSpace(m[4])
		return Location{Path: path, Line: line, Column: col, Message: msg}, true
	}
	return Location{}, false
}

// cleanPath makes a log path relative to the repository where possible.
func cleanPath(p string) string {
	p = workspacePrefix.ReplaceAllString(p, "")
	p = strings.ReplaceAll(p, "\\", "/")
	p = strings.TrimPrefix(p, "./")
	return p
}
