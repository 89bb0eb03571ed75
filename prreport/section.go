// Package prreport writes what the bot shows on a pull request: the one sticky comment with a
// section per workflow (found by its marker, written under a per-PR lease, never regressing to
// an older run, bounded in size), and check runs with annotations (created once, looked up
// before a create is repeated, annotations sent 50 a request). Any workflow writes its section
// and its own check run through a Reporter.
package prreport

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/contexten/autonomous/markdown"
)

// Marker identifies the bot's sticky comment on a pull request; it is found by this marker and
// edited in place, one per pull request across workflows. (Its text predates the other
// workflows' sections and stays: existing comments are found by it.)
const Marker = "<!-- autonomous-ci:failure-analysis -->"

// Section is the part of the sticky comment about one workflow (its Key: one per workflow and
// triggering event); the comment is all sections. A section of an older run, or an older attempt
// of the same run, never replaces a newer one.
type Section struct {
	Key      string `json:"key"`
	Workflow string `json:"workflow"`
	RunID    int64  `json:"run_id"`
	Attempt  int    `json:"attempt"`
	Passed   bool   `json:"passed"`
	Headline string `json:"headline"`
	// Title is the headline as plain text, for the check run's title (which is not markdown).
	Title string `json:"-"`
	Body  string `json:"body"`
	// Short stands in for Body when the comment has no room left for it.
	Short     string    `json:"short,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// GitHub refuses a comment body or a check run summary over 65536 characters; the bot stays well
// below, counting bytes (never fewer than characters).
const (
	// MaxCommentBytes bounds the whole sticky comment.
	MaxCommentBytes = 60000
	// MaxSectionBytes bounds one workflow's section, which is also its check run's summary.
	MaxSectionBytes = 28000
)

// Compact returns the short form of the section, for a comment with no room for its Body.
func (s Section) Compact() string {
	if s.Short != "" {
		return s.Short
	}
	return "### " + s.Headline + "\n\n"
}

// Render builds the sticky comment from all sections: failures first, then passes, within
// MaxCommentBytes (sections beyond the room left are shortened, then counted). configProblem,
// when set, is shown as a warning above them.
func Render(sections map[string]Section, configProblem string) string {
	list := make([]Section, 0, len(sections))
	failed := 0
	for _, s := range sections {
		list = append(list, s)
		if !s.Passed {
			failed++
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Passed != list[j].Passed {
			return !list[i].Passed
		}
		return list[i].Key < list[j].Key
	})
	var b strings.Builder
	b.WriteString(Marker + "\n")
	switch {
	case failed == 0:
		b.WriteString("## ✅ Autonomous CI: all analyzed workflows pass now\n\n")
	case failed == 1:
		for _, s := range list {
			if !s.Passed {
				fmt.Fprintf(&b, "## ❌ Autonomous CI: %s\n\n", s.Headline)
				break
			}
		}
	default:
		fmt.Fprintf(&b, "## ❌ Autonomous CI: %d workflows failed\n\n", failed)
	}
	if configProblem != "" {
		fmt.Fprintf(&b, "> [!WARNING]\n> The repository configuration could not be used (defaults apply): %s\n\n", markdown.Plain(configProblem))
	}
	const footer = "<sub>Updated by Autonomous CI. Comment `/ci help` for commands.</sub>\n"
	// Sections beyond the room left are shortened, then counted: GitHub refuses a longer body.
	room := func(text string) bool { return b.Len()+len(text)+len(footer)+200 <= MaxCommentBytes }
	for i, s := range list {
		text := s.Body
		if !room(text) {
			text = s.Compact()
		}
		if !room(text) {
			fmt.Fprintf(&b, "_%d more workflows are not shown here; see the pull request's checks._\n\n", len(list)-i)
			break
		}
		b.WriteString(text)
		b.WriteString("\n")
	}
	b.WriteString(footer)
	return b.String()
}
