package workflows_test

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/contexten/autonomous/workflows"
)

func TestKindNames(t *testing.T) {
	t.Parallel()
	names := workflows.KindNames()
	require.True(t, sort.StringsAreSorted(names), names)
	require.Equal(t, []string{
		"ai_fix", "dependency_management", "failure_analysis", "health_check", "installation_sync",
		"performance_monitoring", "security_audit", "slash_command", "test_optimization", "webhook_redelivery",
	}, names)
	// The constants are the seed's names and never change.
	require.ElementsMatch(t, names, []string{
		string(workflows.FailureAnalysis), string(workflows.PerformanceMonitoring),
		string(workflows.DependencyManagement), string(workflows.SecurityAudit),
		string(workflows.TestOptimization), string(workflows.HealthCheck), string(workflows.SlashCommand),
		string(workflows.WebhookRedelivery), string(workflows.InstallationSync),
		string(workflows.AIFix),
	})
	// A fresh slice each time.
	names[0] = "changed"
	require.Equal(t, "ai_fix", workflows.KindNames()[0])
}

func TestRegistrySpecFor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		kind      workflows.Kind
		needsRepo bool
		params    []string
	}{
		{kind: workflows.FailureAnalysis, needsRepo: true, params: []string{"workflow_run_id", "run_attempt", "auto_fix_enabled", "create_pr_for_fixes"}},
		{kind: workflows.PerformanceMonitoring, needsRepo: true, params: []string{"baseline_branch", "alert_threshold_percent", "auto_optimize", "pull_request"}},
		{kind: workflows.DependencyManagement, needsRepo: true, params: []string{"update_strategy", "test_before_merge", "security_priority", "pull_request"}},
		{kind: workflows.SecurityAudit, needsRepo: true, params: []string{"fail_on", "pull_request"}},
		{kind: workflows.TestOptimization, needsRepo: true, params: []string{"lookback_runs", "flaky_threshold", "pr"}},
		{kind: workflows.HealthCheck, params: []string{"check_all_integrations", "auto_recovery", "alert_on_degradation"}},
		{kind: workflows.SlashCommand, needsRepo: true},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			t.Parallel()
			spec, ok := workflows.SpecFor(tc.kind)
			require.True(t, ok)
			require.Equal(t, tc.kind, spec.Kind)
			require.Equal(t, tc.needsRepo, spec.NeedsRepo)
			require.NotEmpty(t, spec.Doc)
			var names []string
			for _, p := range spec.Params {
				names = append(names, p.Name)
				require.Contains(t, []workflows.ParamType{workflows.TypeInt, workflows.TypeBool, workflows.TypeString, workflows.TypeFloat}, p.Type, p.Name)
				if len(p.Enum) > 0 {
					require.Equal(t, workflows.TypeString, p.Type, p.Name)
					require.Contains(t, p.Enum, p.Default, "%s: the default is allowed", p.Name)
				}
			}
			require.Equal(t, tc.params, names)
		})
	}
	for _, kind := range []workflows.Kind{"", "nope", "Failure_Analysis", "failure-analysis"} {
		spec, ok := workflows.SpecFor(kind)
		require.False(t, ok, kind)
		require.Equal(t, workflows.Spec{}, spec)
	}
}

func TestParamsDefaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		kind workflows.Kind
		want map[string]any
	}{
		{kind: workflows.FailureAnalysis, want: map[string]any{"auto_fix_enabled": false, "create_pr_for_fixes": true}},
		{kind: workflows.PerformanceMonitoring, want: map[string]any{"alert_threshold_percent": 20.0, "auto_optimize": false}},
		{kind: workflows.DependencyManagement, want: map[string]any{"update_strategy": "smart", "test_before_merge": true, "security_priority": "high"}},
		{kind: workflows.SecurityAudit, want: map[string]any{"fail_on": "high"}},
		{kind: workflows.TestOptimization, want: map[string]any{"lookback_runs": int64(50), "flaky_threshold": 0.05}},
		{kind: workflows.HealthCheck, want: map[string]any{"check_all_integrations": true, "auto_recovery": true, "alert_on_degradation": true}},
		{kind: workflows.SlashCommand, want: map[string]any{}},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			t.Parallel()
			for _, raw := range []map[string]any{nil, {}} {
				got, err := workflows.ParseParams(tc.kind, raw)
				require.NoError(t, err)
				require.Equal(t, tc.want, got.Values())
				require.Empty(t, got.Given(), "a default is not a given parameter")
			}
		})
	}
}

// TestParamsDefaultsAreTyped: every default reads back through the accessor of its type, so a
// worker asking for a parameter nobody passed gets the spec's default, not its own fallback.
func TestParamsDefaultsAreTyped(t *testing.T) {
	t.Parallel()
	for _, spec := range workflows.Specs {
		got, err := workflows.ParseParams(spec.Kind, nil)
		require.NoError(t, err, spec.Kind)
		for _, p := range spec.Params {
			if p.Default == nil {
				require.False(t, got.Has(p.Name), p.Name)
				continue
			}
			require.False(t, got.Has(p.Name), "%s: a default is not given", p.Name)
			require.Contains(t, got.Values(), p.Name)
			switch p.Type {
			case workflows.TypeInt:
				require.Equal(t, toInt64(t, p.Default), got.Int(p.Name, -12345), p.Name)
			case workflows.TypeFloat:
				require.InDelta(t, toFloat64(t, p.Default), got.Float(p.Name, -12345), 0, p.Name)
			case workflows.TypeBool:
				require.Equal(t, p.Default, got.Bool(p.Name, !p.Default.(bool)), p.Name)
			case workflows.TypeString:
				require.Equal(t, p.Default, got.String(p.Name, "fallback-never-used"), p.Name)
			}
		}
	}
	params, err := workflows.ParseParams(workflows.TestOptimization, nil)
	require.NoError(t, err)
	require.Equal(t, int64(50), params.Int("lookback_runs", 1))
}

func toInt64(t *testing.T, v any) int64 {
	t.Helper()
	switch n := v.(type) {
	case int:
		return int64(n)
	case int64:
		return n
	}
	t.Fatalf("default %v (%T) is not an integer", v, v)
	return 0
}

func toFloat64(t *testing.T, v any) float64 {
	t.Helper()
	switch n := v.(type) {
	case float64:
		return n
	case int:
		return float64(n)
	}
	t.Fatalf("default %v (%T) is not a number", v, v)
	return 0
}

func TestParseParams(t *testing.T) {
	t.Parallel()
	fa, pm, dm, sa, to, hc := workflows.FailureAnalysis, workflows.PerformanceMonitoring,
		workflows.DependencyManagement, workflows.SecurityAudit, workflows.TestOptimization, workflows.HealthCheck
	for _, tc := range []struct {
		name    string
		kind    workflows.Kind
		raw     map[string]any
		want    map[string]any // the given parameters' values; defaults are checked elsewhere
		wantErr []string       // substrings of the error
	}{
		// Integers.
		{name: "int from CLI string", kind: fa, raw: map[string]any{"workflow_run_id": "123456789"}, want: map[string]any{"workflow_run_id": int64(123456789)}},
		{name: "int from string with spaces", kind: fa, raw: map[string]any{"workflow_run_id": " 7 "}, want: map[string]any{"workflow_run_id": int64(7)}},
		{name: "int from json.Number", kind: fa, raw: map[string]any{"workflow_run_id": json.Number("42")}, want: map[string]any{"workflow_run_id": int64(42)}},
		{name: "int from integral json.Number", kind: fa, raw: map[string]any{"workflow_run_id": json.Number("42.0")}, want: map[string]any{"workflow_run_id": int64(42)}},
		{name: "int from json.Number exponent", kind: fa, raw: map[string]any{"workflow_run_id": json.Number("1e3")}, want: map[string]any{"workflow_run_id": int64(1000)}},
		{name: "int from float64", kind: fa, raw: map[string]any{"workflow_run_id": float64(42)}, want: map[string]any{"workflow_run_id": int64(42)}},
		{name: "int from int", kind: fa, raw: map[string]any{"run_attempt": 2}, want: map[string]any{"run_attempt": int64(2)}},
		{name: "int from int64", kind: fa, raw: map[string]any{"run_attempt": int64(3)}, want: map[string]any{"run_attempt": int64(3)}},
		{name: "large run id", kind: fa, raw: map[string]any{"workflow_run_id": "9876543210123"}, want: map[string]any{"workflow_run_id": int64(9876543210123)}},
		{name: "int beyond int64", kind: fa, raw: map[string]any{"workflow_run_id": "9223372036854775808"}, wantErr: []string{`"workflow_run_id" must be an integer of at most 9223372036854775807, got 9223372036854775808`}},
		{name: "int far beyond int64", kind: fa, raw: map[string]any{"workflow_run_id": "99999999999999999999"}, wantErr: []string{`"workflow_run_id" must be an integer of at most 9223372036854775807, got 99999999999999999999`}},
		{name: "json.Number beyond int64", kind: fa, raw: map[string]any{"workflow_run_id": json.Number("9223372036854775808")}, wantErr: []string{`must be an integer of at most 9223372036854775807`}},
		{name: "bounded int beyond int64", kind: fa, raw: map[string]any{"run_attempt": "99999999999999999999"}, wantErr: []string{`"run_attempt" must be an integer of at most 1000, got 99999999999999999999`}},
		{name: "int below int64", kind: fa, raw: map[string]any{"workflow_run_id": "-99999999999999999999"}, wantErr: []string{`"workflow_run_id" must be an integer of at least 1, got -99999999999999999999`}},
		{name: "int at max", kind: fa, raw: map[string]any{"run_attempt": "1000"}, want: map[string]any{"run_attempt": int64(1000)}},
		{name: "int at min", kind: to, raw: map[string]any{"lookback_runs": json.Number("1")}, want: map[string]any{"lookback_runs": int64(1)}},
		{name: "int below min", kind: fa, raw: map[string]any{"workflow_run_id": "0"}, wantErr: []string{`"workflow_run_id" must be an integer of at least 1, got 0`}},
		{name: "negative int", kind: fa, raw: map[string]any{"workflow_run_id": float64(-1)}, wantErr: []string{`"workflow_run_id" must be an integer of at least 1, got -1`}},
		{name: "int at int64 max", kind: fa, raw: map[string]any{"workflow_run_id": "9223372036854775807"}, want: map[string]any{"workflow_run_id": int64(math.MaxInt64)}},
		{name: "int above max", kind: fa, raw: map[string]any{"run_attempt": 1001}, wantErr: []string{`"run_attempt" must be an integer between 1 and 1000, got 1001`}},
		{name: "int above max from string", kind: to, raw: map[string]any{"lookback_runs": "5000"}, wantErr: []string{`"lookback_runs"`, "between 1 and 1000"}},
		{name: "non-integer float", kind: fa, raw: map[string]any{"workflow_run_id": 1.5}, wantErr: []string{`"workflow_run_id"`, "must be an integer"}},
		{name: "non-integer json.Number", kind: fa, raw: map[string]any{"workflow_run_id": json.Number("1.5")}, wantErr: []string{`"workflow_run_id"`, "must be an integer"}},
		{name: "non-integer string", kind: to, raw: map[string]any{"lookback_runs": "2.5"}, wantErr: []string{`"lookback_runs"`}},
		{name: "huge float", kind: fa, raw: map[string]any{"workflow_run_id": 1e300}, wantErr: []string{`"workflow_run_id"`}},
		{name: "float at 2^63", kind: fa, raw: map[string]any{"workflow_run_id": math.Exp2(63)}, wantErr: []string{`"workflow_run_id"`}},
		{name: "huge json.Number", kind: fa, raw: map[string]any{"workflow_run_id": json.Number("99999999999999999999")}, wantErr: []string{`"workflow_run_id"`}},
		{name: "NaN for int", kind: fa, raw: map[string]any{"workflow_run_id": math.NaN()}, wantErr: []string{`"workflow_run_id"`}},
		{name: "infinity for int", kind: fa, raw: map[string]any{"workflow_run_id": math.Inf(1)}, wantErr: []string{`"workflow_run_id"`}},
		{name: "text for int", kind: fa, raw: map[string]any{"workflow_run_id": "abc"}, wantErr: []string{`"workflow_run_id" must be an integer, got abc`}},
		{name: "bool for int", kind: fa, raw: map[string]any{"workflow_run_id": true}, wantErr: []string{`"workflow_run_id"`}},
		{name: "null for int", kind: fa, raw: map[string]any{"workflow_run_id": nil}, wantErr: []string{`"workflow_run_id"`}},

		// Floats.
		{name: "float from string", kind: to, raw: map[string]any{"flaky_threshold": "0.25"}, want: map[string]any{"flaky_threshold": 0.25}},
		{name: "float from json.Number", kind: to, raw: map[string]any{"flaky_threshold": json.Number("0.1")}, want: map[string]any{"flaky_threshold": 0.1}},
		{name: "float from float64", kind: pm, raw: map[string]any{"alert_threshold_percent": 12.5}, want: map[string]any{"alert_threshold_percent": 12.5}},
		{name: "float from int", kind: pm, raw: map[string]any{"alert_threshold_percent": 30}, want: map[string]any{"alert_threshold_percent": 30.0}},
		{name: "float from int64", kind: pm, raw: map[string]any{"alert_threshold_percent": int64(30)}, want: map[string]any{"alert_threshold_percent": 30.0}},
		{name: "float from integer string", kind: pm, raw: map[string]any{"alert_threshold_percent": "15"}, want: map[string]any{"alert_threshold_percent": 15.0}},
		{name: "float at bounds", kind: to, raw: map[string]any{"flaky_threshold": float64(1)}, want: map[string]any{"flaky_threshold": 1.0}},
		{name: "float at zero", kind: pm, raw: map[string]any{"alert_threshold_percent": "0"}, want: map[string]any{"alert_threshold_percent": 0.0}},
		{name: "float above max", kind: to, raw: map[string]any{"flaky_threshold": "1.5"}, wantErr: []string{`"flaky_threshold"`, "between 0 and 1, got 1.5"}},
		{name: "float below min", kind: pm, raw: map[string]any{"alert_threshold_percent": -1.0}, wantErr: []string{`"alert_threshold_percent"`, "between 0 and 1000"}},
		{name: "NaN string", kind: to, raw: map[string]any{"flaky_threshold": "NaN"}, wantErr: []string{`"flaky_threshold"`}},
		{name: "NaN float", kind: to, raw: map[string]any{"flaky_threshold": math.NaN()}, wantErr: []string{`"flaky_threshold"`}},
		{name: "infinite string", kind: pm, raw: map[string]any{"alert_threshold_percent": "+Inf"}, wantErr: []string{`"alert_threshold_percent"`}},
		{name: "text for float", kind: to, raw: map[string]any{"flaky_threshold": "often"}, wantErr: []string{`"flaky_threshold" must be a number`}},
		{name: "bad json.Number for float", kind: to, raw: map[string]any{"flaky_threshold": json.Number("x")}, wantErr: []string{`"flaky_threshold"`}},
		{name: "bool for float", kind: to, raw: map[string]any{"flaky_threshold": false}, wantErr: []string{`"flaky_threshold"`}},

		// Booleans.
		{name: "bool from bool", kind: fa, raw: map[string]any{"auto_fix_enabled": true}, want: map[string]any{"auto_fix_enabled": true}},
		{name: "bool from string true", kind: fa, raw: map[string]any{"auto_fix_enabled": "true"}, want: map[string]any{"auto_fix_enabled": true}},
		{name: "bool from string false", kind: hc, raw: map[string]any{"auto_recovery": "false"}, want: map[string]any{"auto_recovery": false}},
		{name: "bool from 1 and 0", kind: hc, raw: map[string]any{"auto_recovery": "0", "check_all_integrations": "1"}, want: map[string]any{"auto_recovery": false, "check_all_integrations": true}},
		{name: "bool from upper case with spaces", kind: dm, raw: map[string]any{"test_before_merge": " FALSE "}, want: map[string]any{"test_before_merge": false}},
		{name: "bool from yes", kind: fa, raw: map[string]any{"auto_fix_enabled": "yes"}, wantErr: []string{`"auto_fix_enabled" must be true or false, got yes`}},
		{name: "bool from number", kind: fa, raw: map[string]any{"auto_fix_enabled": float64(1)}, wantErr: []string{`"auto_fix_enabled"`}},
		{name: "bool from json.Number", kind: fa, raw: map[string]any{"auto_fix_enabled": json.Number("1")}, wantErr: []string{`"auto_fix_enabled"`}},

		// Strings and enums.
		{name: "string", kind: pm, raw: map[string]any{"baseline_branch": "develop"}, want: map[string]any{"baseline_branch": "develop"}},
		{name: "number for string", kind: pm, raw: map[string]any{"baseline_branch": float64(1)}, wantErr: []string{`"baseline_branch" must be a string`}},
		{name: "enum value", kind: dm, raw: map[string]any{"update_strategy": "smart"}, want: map[string]any{"update_strategy": "smart"}},
		{name: "another enum value", kind: dm, raw: map[string]any{"update_strategy": "aggressive"}, want: map[string]any{"update_strategy": "aggressive"}},
		{name: "enum critical", kind: sa, raw: map[string]any{"fail_on": "critical"}, want: map[string]any{"fail_on": "critical"}},
		{name: "enum low", kind: sa, raw: map[string]any{"fail_on": "low"}, want: map[string]any{"fail_on": "low"}},
		{name: "security level", kind: dm, raw: map[string]any{"security_priority": "low"}, want: map[string]any{"security_priority": "low"}},
		{name: "security true is high", kind: dm, raw: map[string]any{"security_priority": true}, want: map[string]any{"security_priority": "high"}},
		{name: "security false text is normal", kind: dm, raw: map[string]any{"security_priority": "false"}, want: map[string]any{"security_priority": "normal"}},
		{name: "security not a level", kind: dm, raw: map[string]any{"security_priority": "urgent"},
			wantErr: []string{`"security_priority" must be one of high, normal, low, got "urgent"`}},
		{name: "not in enum", kind: dm, raw: map[string]any{"update_strategy": "reckless"},
			wantErr: []string{`"update_strategy" must be one of conservative, smart, aggressive, got "reckless"`}},
		{name: "enum is case-sensitive", kind: sa, raw: map[string]any{"fail_on": "High"}, wantErr: []string{`"fail_on" must be one of low, medium, high, critical`}},
		{name: "empty enum value", kind: sa, raw: map[string]any{"fail_on": ""}, wantErr: []string{`"fail_on"`}},

		// Unknown names and several problems.
		{name: "unknown parameter", kind: hc, raw: map[string]any{"auto_recover": true}, wantErr: []string{`unknown parameter "auto_recover"`, "health_check"}},
		{name: "parameter of another kind", kind: sa, raw: map[string]any{"workflow_run_id": "1"}, wantErr: []string{`unknown parameter "workflow_run_id"`}},
		{name: "every problem named", kind: fa, raw: map[string]any{"zzz": 1, "aaa": 2, "run_attempt": "x", "auto_fix_enabled": "maybe"},
			wantErr: []string{`unknown parameter "aaa"`, `unknown parameter "zzz"`, `"run_attempt"`, `"auto_fix_enabled"`}},
		{name: "unknown kind", kind: "deploy", raw: map[string]any{"x": 1}, wantErr: []string{`unknown workflow kind "deploy"`, "failure_analysis", "health_check", "test_optimization"}},
		{name: "empty kind", kind: "", wantErr: []string{`unknown workflow kind ""`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := workflows.ParseParams(tc.kind, tc.raw)
			if len(tc.wantErr) > 0 {
				require.Error(t, err)
				require.Zero(t, got)
				for _, want := range tc.wantErr {
					require.Contains(t, err.Error(), want)
				}
				return
			}
			require.NoError(t, err)
			values := got.Values()
			for name, want := range tc.want {
				require.Contains(t, values, name)
				require.IsType(t, want, values[name], name)
				require.Equal(t, want, values[name], name)
			}
			// The parameters not given keep their defaults and are not given.
			defaults, err := workflows.ParseParams(tc.kind, nil)
			require.NoError(t, err)
			for name, v := range defaults.Values() {
				if _, given := tc.raw[name]; !given {
					require.Equal(t, v, values[name], name)
					require.False(t, got.Has(name), name)
				}
			}
		})
	}
}

func TestParseParamsSortsProblems(t *testing.T) {
	t.Parallel()
	_, err := workflows.ParseParams(workflows.HealthCheck, map[string]any{"c": 1, "a": 1, "b": 1})
	require.EqualError(t, err, `invalid parameters for health_check: unknown parameter "a"; unknown parameter "b"; unknown parameter "c"`)
}

// TestParseParamsFromJSON: --parameters JSON decodes to float64 numbers, or json.Number with
// UseNumber; both give the same typed parameters.
func TestParseParamsFromJSON(t *testing.T) {
	t.Parallel()
	const raw = `{"workflow_run_id": 9876543210, "run_attempt": 2, "auto_fix_enabled": true}`
	var plain map[string]any
	require.NoError(t, json.Unmarshal([]byte(raw), &plain))
	var numbers map[string]any
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&numbers))
	given := map[string]any{"workflow_run_id": int64(9876543210), "run_attempt": int64(2), "auto_fix_enabled": true}
	for _, in := range []map[string]any{plain, numbers} {
		got, err := workflows.ParseParams(workflows.FailureAnalysis, in)
		require.NoError(t, err)
		require.Equal(t, given, got.Given())
		require.False(t, got.Has("create_pr_for_fixes"))
		require.True(t, got.Bool("create_pr_for_fixes", false), "the default")
	}

	var floats map[string]any
	require.NoError(t, json.Unmarshal([]byte(`{"flaky_threshold": 0.2, "lookback_runs": 20}`), &floats))
	got, err := workflows.ParseParams(workflows.TestOptimization, floats)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"flaky_threshold": 0.2, "lookback_runs": int64(20)}, got.Given())
}

func TestParamsAccessors(t *testing.T) {
	t.Parallel()
	p, err := workflows.ParseParams(workflows.FailureAnalysis, map[string]any{"workflow_run_id": "77", "auto_fix_enabled": "true"})
	require.NoError(t, err)
	require.Equal(t, int64(77), p.Int("workflow_run_id", 0))
	require.Equal(t, int64(5), p.Int("run_attempt", 5), "absent: the fallback")
	require.True(t, p.Has("workflow_run_id"))
	require.False(t, p.Has("run_attempt"))
	require.True(t, p.Bool("auto_fix_enabled", false))
	require.True(t, p.Bool("create_pr_for_fixes", false), "the default")
	require.False(t, p.Bool("missing", false))

	p, err = workflows.ParseParams(workflows.PerformanceMonitoring, map[string]any{"alert_threshold_percent": "5"})
	require.NoError(t, err)
	require.InDelta(t, 5, p.Float("alert_threshold_percent", 0), 0)
	require.Equal(t, "x", p.String("baseline_branch", "x"), "no default: the repository's configuration, then its default branch, decide")
	// A parameter of another type is not converted by the accessors.
	require.Equal(t, "fallback", p.String("alert_threshold_percent", "fallback"))
	require.Equal(t, int64(-1), p.Int("baseline_branch", -1))
	require.InDelta(t, 2.5, p.Float("auto_optimize", 2.5), 0)

	var empty workflows.Params
	require.False(t, empty.Has("x"))
	require.Equal(t, int64(3), empty.Int("x", 3))
}

// TestParamMessagesReadWell feeds every parameter a wrong value and an out-of-range one: the
// messages name the type in English and print bounds as plain numbers.
func TestParamMessagesReadWell(t *testing.T) {
	t.Parallel()
	bad := regexp.MustCompile(`e\+|\ba int\b|\ba float\b|\ba bool\b`)
	for _, spec := range workflows.Specs {
		for _, p := range spec.Params {
			inputs := []any{map[string]any{}, "not-a-value"}
			if p.Type == workflows.TypeInt || p.Type == workflows.TypeFloat {
				inputs = append(inputs, "-99999999999")
			}
			for _, in := range inputs {
				_, err := workflows.ParseParams(spec.Kind, map[string]any{p.Name: in})
				if err == nil {
					continue // a string parameter without an enum takes any text
				}
				require.NotRegexp(t, bad, err.Error(), "%s.%s", spec.Kind, p.Name)
			}
		}
	}
}

func TestParseRepo(t *testing.T) {
	t.Parallel()
	long39, long40 := strings.Repeat("a", 39), strings.Repeat("a", 40)
	name100, name101 := strings.Repeat("r", 100), strings.Repeat("r", 101)
	for _, ok := range []string{"octo/app", "Octo-Org/hello-world", "a/b", "a1-b2-c3/x.y_z-1", long39 + "/" + name100,
		"octo/.github", "octo/..hidden", "0/0", "octo/_"} {
		repo, err := workflows.ParseRepo(ok)
		require.NoError(t, err, ok)
		require.Equal(t, ok, repo.FullName())
	}
	for _, bad := range []string{"", "octo", "/app", "octo/", "octo/ap p", "oc to/app", "octo/app/x", "../../admin",
		"octo/..", "octo/.", "-octo/app", "octo-/app", "oc--to/app", long40 + "/app", "octo/" + name101,
		"octo/app?x=1", "octo/app#x", "octo/%2e%2e", "octo_org/app", "octo.org/app", "octo/ä", "octo/app\n",
		"octo/a\x00b"} {
		_, err := workflows.ParseRepo(bad)
		require.ErrorIs(t, err, workflows.ErrInvalidRepo, "%q", bad)
	}
}
