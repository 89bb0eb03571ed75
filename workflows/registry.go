package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Kind is a workflow kind; the names are the seed's and never change.
type Kind string

// The six workflow kinds of DESIGN.md §1, and the slash commands that start them.
const (
	FailureAnalysis       Kind = "failure_analysis"
	PerformanceMonitoring Kind = "performance_monitoring"
	DependencyManagement  Kind = "dependency_management"
	SecurityAudit         Kind = "security_audit"
	TestOptimization      Kind = "test_optimization"
	HealthCheck           Kind = "health_check"
	// SlashCommand runs the commands of one pull-request comment; only the issue_comment
	// webhook starts it (its job names a comment), so it has no builder for Trigger.
	SlashCommand Kind = "slash_command"
	// WebhookRedelivery redelivers the app's failed webhook deliveries once each (a periodic
	// job, and on start, so what failed while the bot was down reaches it).
	WebhookRedelivery Kind = "webhook_redelivery"
	// InstallationSync reconciles the recorded installations and their repositories with
	// GitHub's (on start and periodically).
	InstallationSync Kind = "installation_sync"
	// AIFix follows one failure handed to the AI fix agent: it starts (or resumes) the agent
	// run and polls it; failure_analysis starts it (automatically or for `/ci fix`), so it has
	// no builder for Trigger.
	AIFix Kind = "ai_fix"
)

// ParamType is the type of a workflow parameter.
type ParamType string

// Parameter types.
const (
	TypeInt    ParamType = "int"
	TypeBool   ParamType = "bool"
	TypeString ParamType = "string"
	TypeFloat  ParamType = "float"
)

// ParamSpec describes one typed workflow parameter.
type ParamSpec struct {
	Name    string
	Type    ParamType
	Default any      // nil: no default (the per-repo config decides, or the parameter is optional)
	Enum    []string // allowed values of a string parameter
	// Aliases map other accepted spellings of a string parameter (a bool included, as "true"
	// or "false") to one of Enum.
	Aliases map[string]string
	Min     float64 // lower bound of numbers (inclusive) when Min < Max
	Max     float64 // upper bound (inclusive); math.MaxInt64 leaves an int unbounded above
	Doc     string
}

// Spec describes a workflow kind: its parameters and whether it needs a repository.
type Spec struct {
	Kind         Kind
	Doc          string
	NeedsRepo    bool
	Params       []ParamSpec
	Experimental bool
}

// Specs lists every workflow kind with its parameters and defaults.
var Specs = []Spec{
	{Kind: FailureAnalysis, NeedsRepo: true, Doc: "analyze a failed workflow run, report on its pull requests, re-run what is flaky", Params: []ParamSpec{
		{Name: "workflow_run_id", Type: TypeInt, Min: 1, Max: math.MaxInt64, Doc: "the failed workflow run (required)"},
		{Name: "run_attempt", Type: TypeInt, Min: 1, Max: 1000, Doc: "the run attempt (default: the latest)"},
		{Name: "auto_fix_enabled", Type: TypeBool, Default: false, Doc: "hand fixable failures to the AI agent"},
		{Name: "create_pr_for_fixes", Type: TypeBool, Default: true, Doc: "let the agent open a fix pull request"},
	}},
	{Kind: PerformanceMonitoring, NeedsRepo: true, Doc: "compare CI durations with the baseline branch", Params: []ParamSpec{
		{Name: "baseline_branch", Type: TypeString, Doc: "the branch to compare with (default: performance_monitoring.baseline_branch, else the repository's default branch)"},
		{Name: "alert_threshold_percent", Type: TypeFloat, Default: 20.0, Min: 0, Max: 1000, Doc: "the smallest change reported, in percent of the baseline median (default: the repository's configuration)"},
		{Name: "auto_optimize", Type: TypeBool, Default: false, Doc: "add optimization suggestions (default: the repository's configuration)"},
		{Name: "pull_request", Type: TypeInt, Min: 1, Max: math.MaxInt32, Doc: "the pull request to judge (default: the baseline branch's latest runs)"},
	}},
	{Kind: DependencyManagement, NeedsRepo: true, Doc: "find dependency updates and open grouped update pull requests", Params: []ParamSpec{
		{Name: "update_strategy", Type: TypeString, Default: "smart", Enum: []string{"conservative", "smart", "aggressive"},
			Doc: "conservative: patch updates; smart: minor and patch (majors listed, not opened); aggressive: majors too"},
		{Name: "test_before_merge", Type: TypeBool, Default: true, Doc: "merge an update PR once every check on its head is green (majors never)"},
		{Name: "security_priority", Type: TypeString, Default: "high", Enum: []string{"high", "normal", "low"},
			Aliases: map[string]string{"true": "high", "false": "normal"},
			Doc:     "high: a vulnerable dependency gets its own security PR to the smallest fixing version, past the PR limit; normal: fixes go with the regular updates; low: advisories are only reported"},
		{Name: "pull_request", Type: TypeInt, Min: 1, Max: math.MaxInt64, Doc: "report this pull request's dependency changes and their advisories (/ci deps) instead of planning updates"},
	}},
	{Kind: SecurityAudit, NeedsRepo: true, Doc: "audit workflow files and dependencies", Params: []ParamSpec{
		{Name: "fail_on", Type: TypeString, Default: "high", Enum: []string{"low", "medium", "high", "critical"}},
		{Name: "pull_request", Type: TypeInt, Min: 1, Max: math.MaxInt64, Doc: "audit this pull request's head and report only what it introduces (default: the default branch)"},
	}},
	{Kind: TestOptimization, NeedsRepo: true, Doc: "find flaky and slow tests", Params: []ParamSpec{
		{Name: "lookback_runs", Type: TypeInt, Default: 50, Min: 1, Max: 1000},
		{Name: "flaky_threshold", Type: TypeFloat, Default: 0.05, Min: 0, Max: 1},
		{Name: "pr", Type: TypeInt, Min: 0, Max: math.MaxInt32, Doc: "a pull request: say which of its failed tests are known flaky (/ci flaky)"},
	}},
	{Kind: HealthCheck, Doc: "check the database, River and the GitHub API", Params: []ParamSpec{
		{Name: "check_all_integrations", Type: TypeBool, Default: true},
		{Name: "auto_recovery", Type: TypeBool, Default: true},
		{Name: "alert_on_degradation", Type: TypeBool, Default: true},
	}},
	{Kind: SlashCommand, NeedsRepo: true, Doc: "run the slash commands of a pull-request comment (started by the issue_comment webhook)"},
	{Kind: WebhookRedelivery, Doc: "redeliver the app's failed webhook deliveries, each once", Params: []ParamSpec{
		{Name: "lookback_hours", Type: TypeInt, Default: 24, Min: 1, Max: 72, Doc: "how far back to look at most (GitHub keeps three days)"},
	}},
	{Kind: InstallationSync, Doc: "reconcile the recorded installations and repositories with GitHub's"},
	{Kind: AIFix, NeedsRepo: true, Doc: "start, resume and follow an AI agent's fix of a failure (started by failure_analysis)"},
}

// SpecFor returns the spec of kind.
func SpecFor(kind Kind) (Spec, bool) {
	for _, s := range Specs {
		if s.Kind == kind {
			return s, true
		}
	}
	return Spec{}, false
}

// KindNames lists the kind names, sorted.
func KindNames() []string {
	names := make([]string, 0, len(Specs))
	for _, s := range Specs {
		names = append(names, string(s.Kind))
	}
	sort.Strings(names)
	return names
}

// ParseParams validates raw parameters (from --param k=v strings or a JSON object) against the
// kind's spec. The result keeps what was given apart from the spec's defaults (see Params).
// Unknown names and ill-typed values are errors that name them.
func ParseParams(kind Kind, raw map[string]any) (Params, error) {
	spec, ok := SpecFor(kind)
	if !ok {
		return Params{}, fmt.Errorf("unknown workflow kind %q (known: %s)", kind, strings.Join(KindNames(), ", "))
	}
	out := map[string]any{}
	known := map[string]ParamSpec{}
	for _, ps := range spec.Params {
		known[ps.Name] = ps
	}
	var problems []string
	for name, value := range raw {
		ps, ok := known[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("unknown parameter %q", name))
			continue
		}
		v, err := convertParam(ps, value)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		out[name] = v
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return Params{}, fmt.Errorf("invalid parameters for %s: %s", kind, strings.Join(problems, "; "))
	}
	return Params{kind: kind, given: out}, nil
}

func convertParam(ps ParamSpec, value any) (any, error) {
	bad := func() error {
		return fmt.Errorf("parameter %q must be %s, got %v", ps.Name, ps.Type.describe(), value)
	}
	text, isText := value.(string)
	switch ps.Type {
	case TypeInt:
		var n int64
		switch v := value.(type) {
		case float64:
			i, ok := floatToInt(v)
			if !ok {
				return nil, bad()
			}
			n = i
		case json.Number:
			i, err := v.Int64()
			if errors.Is(err, strconv.ErrRange) {
				return nil, outOfRange(ps, v.String())
			}
			if err != nil {
				// An integral number written as 5.0 or 1e3 is accepted, as for float64.
				f, ferr := v.Float64()
				var ok bool
				if i, ok = floatToInt(f); ferr != nil || !ok {
					return nil, bad()
				}
			}
			n = i
		case int64:
			n = v
		case int:
			n = int64(v)
		case string:
			i, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if errors.Is(err, strconv.ErrRange) {
				return nil, outOfRange(ps, strings.TrimSpace(v))
			}
			if err != nil {
				return nil, bad()
			}
			n = i
		default:
			return nil, bad()
		}
		if lo, hi, bounded := ps.intBounds(); bounded && (n < lo || n > hi) {
			if hi == math.MaxInt64 {
				return nil, fmt.Errorf("parameter %q must be an integer of at least %d, got %d", ps.Name, lo, n)
			}
			return nil, fmt.Errorf("parameter %q must be an integer between %d and %d, got %d", ps.Name, lo, hi, n)
		}
		return n, nil
	case TypeFloat:
		var f float64
		switch v := value.(type) {
		case float64:
			f = v
		case int64:
			f = float64(v)
		case int:
			f = float64(v)
		case json.Number:
			x, err := v.Float64()
			if err != nil {
				return nil, bad()
			}
			f = x
		case string:
			x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return nil, bad()
			}
			f = x
		default:
			return nil, bad()
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, bad()
		}
		if ps.Min < ps.Max && (f < ps.Min || f > ps.Max) {
			return nil, fmt.Errorf("parameter %q must be a number between %s and %s, got %s", ps.Name,
				plainFloat(ps.Min), plainFloat(ps.Max), plainFloat(f))
		}
		return f, nil
	case TypeBool:
		if b, ok := value.(bool); ok {
			return b, nil
		}
		if isText {
			b, err := strconv.ParseBool(strings.TrimSpace(text))
			if err != nil {
				return nil, bad()
			}
			return b, nil
		}
		return nil, bad()
	default:
		if b, ok := value.(bool); ok && ps.Aliases != nil {
			text, isText = strconv.FormatBool(b), true
		}
		if !isText {
			return nil, bad()
		}
		if a, ok := ps.Aliases[strings.ToLower(strings.TrimSpace(text))]; ok {
			text = a
		}
		if len(ps.Enum) > 0 {
			for _, e := range ps.Enum {
				if e == text {
					return text, nil
				}
			}
			return nil, fmt.Errorf("parameter %q must be one of %s, got %q", ps.Name, strings.Join(ps.Enum, ", "), text)
		}
		return text, nil
	}
}

// describe names the type in messages: "must be an integer".
func (t ParamType) describe() string {
	switch t {
	case TypeInt:
		return "an integer"
	case TypeFloat:
		return "a number"
	case TypeBool:
		return "true or false"
	case TypeString:
		return "a string"
	}
	return "a " + string(t)
}

// intBounds returns an int parameter's inclusive bounds; a Max at or above 2^63 (math.MaxInt64
// as a float64) is no upper bound.
func (ps ParamSpec) intBounds() (lo, hi int64, bounded bool) {
	if ps.Min >= ps.Max {
		return 0, 0, false
	}
	lo, hi = math.MinInt64, math.MaxInt64
	if ps.Min > math.MinInt64 {
		lo = int64(math.Ceil(ps.Min))
	}
	if ps.Max < math.MaxInt64 {
		hi = int64(math.Floor(ps.Max))
	}
	return lo, hi, true
}

// outOfRange describes an integer parameter written beyond int64 (strconv.ErrRange) by the
// bound it crossed: its own, or int64's when it has none on that side.
func outOfRange(ps ParamSpec, text string) error {
	lo, hi, bounded := ps.intBounds()
	if !bounded {
		lo, hi = math.MinInt64, math.MaxInt64
	}
	if strings.HasPrefix(text, "-") {
		return fmt.Errorf("parameter %q must be an integer of at least %d, got %s", ps.Name, lo, text)
	}
	return fmt.Errorf("parameter %q must be an integer of at most %d, got %s", ps.Name, hi, text)
}

// plainFloat prints a number without an exponent: 1000000, not 1e+06.
func plainFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// floatToInt converts an integral float within the int64 range; the conversion of anything else
// is implementation-defined in Go.
func floatToInt(f float64) (int64, bool) {
	if f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
		return 0, false
	}
	return int64(f), true
}

// ErrInvalidRepo is wrapped by ParseRepo's errors.
var ErrInvalidRepo = errors.New("invalid repository")

// ParseRepo parses "owner/name" and checks both parts against GitHub's naming rules: an owner is
// 1–39 letters, digits and single hyphens, neither first nor last; a repository name is 1–100
// letters, digits, '.', '-' and '_', and not "." or "..".
func ParseRepo(full string) (Repo, error) {
	owner, name, ok := strings.Cut(full, "/")
	if !ok {
		return Repo{}, fmt.Errorf("%w %q: want owner/name", ErrInvalidRepo, full)
	}
	if !validOwner(owner) {
		return Repo{}, fmt.Errorf("%w %q: the owner must be 1 to 39 letters, digits or single hyphens, not starting or ending with a hyphen", ErrInvalidRepo, full)
	}
	if !validRepoName(name) {
		return Repo{}, fmt.Errorf("%w %q: the name must be 1 to 100 letters, digits, '.', '-' or '_', other than \".\" and \"..\"", ErrInvalidRepo, full)
	}
	return Repo{Owner: owner, Name: name}, nil
}

func validOwner(s string) bool {
	if len(s) == 0 || len(s) > 39 || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for _, c := range []byte(s) {
		if !isAlnum(c) && c != '-' {
			return false
		}
	}
	return true
}

func validRepoName(s string) bool {
	if len(s) == 0 || len(s) > 100 || s == "." || s == ".." {
		return false
	}
	for _, c := range []byte(s) {
		if !isAlnum(c) && c != '.' && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
