package redact

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/spf13/viper"
	"github.com/zricethezav/gitleaks/v8/config"
)

// gitleaksSkipped are the gitleaks rules this package replaces with its own: private keys are
// masked across lines (see Lines), and key=value assignments by the assignment rules with their
// entropy guard, which know log placeholders such as ${{ secrets.X }}.
var gitleaksSkipped = map[string]bool{
	"private-key":     true,
	"generic-api-key": true,
}

// loadGitleaksRules turns gitleaks' default rule set (its embedded gitleaks.toml, read the way
// gitleaks itself reads it) into rules. Only each rule's regular expression, secret group,
// entropy threshold, keywords and allowlists are used, not gitleaks' file scanner. Rules bound to
// file paths are left out: a log line has no path.
func loadGitleaksRules() ([]rule, []*config.Allowlist, error) {
	v := viper.New()
	v.SetConfigType("toml")
	if err := v.ReadConfig(strings.NewReader(config.DefaultConfig)); err != nil {
		return nil, nil, fmt.Errorf("failed to read the gitleaks rules: %w", err)
	}
	var vc config.ViperConfig
	if err := v.Unmarshal(&vc); err != nil {
		return nil, nil, fmt.Errorf("failed to decode the gitleaks rules: %w", err)
	}
	// Translate compiles every rule's pattern, and this package compiles its own, log-tolerant
	// version of it: 2.6 MB of compiled programs and more of garbage for some 200 rules, most of
	// which never see their keyword in a log. So Translate gets a stand-in pattern with as many
	// groups as the secret group needs (it validates that, and compiles the allowlists), and
	// each rule's own pattern is compiled when its keyword first occurs (rule.pattern).
	patterns := map[string]string{}
	for i := range vc.Rules {
		vr := &vc.Rules[i]
		if vr.Regex == "" || vr.Path != "" || len(vr.Keywords) == 0 || gitleaksSkipped[vr.ID] {
			continue
		}
		patterns[vr.ID] = logTolerant(vr.Regex)
		vr.Regex = "(?:)" + strings.Repeat("()", vr.SecretGroup)
	}
	cfg, err := vc.Translate()
	if err != nil {
		return nil, nil, fmt.Errorf("failed to compile the gitleaks rules: %w", err)
	}
	ids := make([]string, 0, len(cfg.Rules))
	for id := range cfg.Rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []rule
	for _, id := range ids {
		pattern, ok := patterns[id] // the rules kept above
		if !ok {
			continue
		}
		gr := cfg.Rules[id]
		out = append(out, rule{
			name: "gitleaks:" + id, triggers: gr.Keywords, compile: compileOnce(pattern), group: gr.SecretGroup,
			firstGroup: gr.SecretGroup == 0, entropy: gr.Entropy, allow: gr.Allowlists,
		})
	}
	return out, cfg.Allowlists, nil
}

// compileOnce returns a function that compiles pattern on its first call and returns the same
// regexp to every call. The patterns are gitleaks' embedded ones: TestGitleaksPatternsCompile
// compiles each, so a panic here is a build defect.
func compileOnce(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}

// tokenEnd is how many gitleaks rules end a token: a quote, white space, ';', an escaped
// newline or the end of the text.
const tokenEnd = `(?:[\x60'"\s;]|\\[nr]|$)`

// logTolerant loosens a gitleaks pattern, written for source files, for log text: a token may
// be glued to a preceding word character (an escaped "\n", "%3A", "x-token_"), so a leading
// word boundary is dropped; and it may end where a URL or a sentence goes on ('&', ',', '.',
// ')', '%2F', '<').
func logTolerant(p string) string {
	switch {
	case strings.HasPrefix(p, `\b`):
		p = p[2:]
	case strings.HasPrefix(p, `(?i)\b`):
		p = "(?i)" + p[6:]
	}
	return strings.ReplaceAll(p, tokenEnd, `(?:[\x60'"\s;&,.)<>\]|]|\\[nrt]|%[0-9A-Fa-f]{2}|$)`)
}

// allowedByGitleaks reports whether a gitleaks allowlist excuses the finding. Path and commit
// conditions cannot hold for a log, so an AND allowlist with one of them never excuses.
func allowedByGitleaks(lists []*config.Allowlist, secret, match, line string) bool {
	for _, a := range lists {
		target := secret
		switch a.RegexTarget {
		case "match":
			target = match
		case "line":
			target = line
		}
		regexOK := a.RegexAllowed(target)
		stopOK, _ := a.ContainsStopWord(secret)
		if a.MatchCondition == config.AllowlistMatchAnd {
			if len(a.Paths) > 0 || len(a.Commits) > 0 {
				continue
			}
			if (len(a.Regexes) == 0 || regexOK) && (len(a.StopWords) == 0 || stopOK) {
				return true
			}
			continue
		}
		if regexOK || stopOK {
			return true
		}
	}
	return false
}

// shannon is the Shannon entropy of s in bits per byte, as gitleaks computes it.
func shannon(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	e := 0.0
	for _, c := range counts {
		if c == 0 {
			continue
		}
		p := float64(c) / n
		e -= p * math.Log2(p)
	}
	return e
}
