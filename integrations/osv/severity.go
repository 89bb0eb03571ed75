package osv

import (
	"encoding/json"
	"math"
	"strings"
)

// Severity is an advisory's rating, ordered so that a larger value is worse.
type Severity int

// Ratings, with CVSS v3's bands: low 0.1–3.9, medium 4.0–6.9, high 7.0–8.9,
// critical 9.0–10.0.
const (
	SeverityUnknown Severity = iota
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

// String returns "unknown", "low", "medium", "high" or "critical".
func (s Severity) String() string {
	return [...]string{"unknown", "low", "medium", "high", "critical"}[s]
}

// ParseSeverity reads a rating word, case-insensitively; GitHub's
// "moderate" is medium. Anything else is SeverityUnknown.
func ParseSeverity(s string) Severity {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "low":
		return SeverityLow
	case "medium", "moderate":
		return SeverityMedium
	case "high":
		return SeverityHigh
	case "critical":
		return SeverityCritical
	}
	return SeverityUnknown
}

// SeverityOf rates a record: database_specific.severity when present (the
// GitHub advisory database's rating), else the CVSS v3 base score of its
// severity[] vector computed with the CVSS 3.1 formula and put in the bands
// above. CVSS v4 vectors are not scored: such a record without a database
// rating is SeverityUnknown.
func SeverityOf(v *Vuln) (Severity, float64) {
	var db struct {
		Severity string `json:"severity"`
	}
	if len(v.DatabaseSpecific) > 0 && json.Unmarshal(v.DatabaseSpecific, &db) == nil {
		if s := ParseSeverity(db.Severity); s != SeverityUnknown {
			score, _ := cvssFromRecord(v)
			return s, score
		}
	}
	if score, ok := cvssFromRecord(v); ok {
		return bandOf(score), score
	}
	return SeverityUnknown, 0
}

func cvssFromRecord(v *Vuln) (float64, bool) {
	for _, s := range v.Severity {
		if s.Type == "CVSS_V3" {
			if score, ok := CVSS3BaseScore(s.Score); ok {
				return score, true
			}
		}
	}
	return 0, false
}

func bandOf(score float64) Severity {
	switch {
	case score >= 9:
		return SeverityCritical
	case score >= 7:
		return SeverityHigh
	case score >= 4:
		return SeverityMedium
	case score > 0:
		return SeverityLow
	}
	return SeverityUnknown
}

// CVSS3BaseScore computes the base score of a CVSS v3.0/3.1 vector such as
// "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" (9.8), per the
// specification's section 7.1; ok is false for a vector missing a base
// metric.
func CVSS3BaseScore(vector string) (float64, bool) {
	parts := strings.Split(vector, "/")
	if len(parts) == 0 || !strings.HasPrefix(parts[0], "CVSS:3") {
		return 0, false
	}
	m := map[string]string{}
	for _, p := range parts[1:] {
		if k, val, ok := strings.Cut(p, ":"); ok {
			m[k] = val
		}
	}
	changed := m["S"] == "C"
	weights := map[string]map[string]float64{
		"AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
		"AC": {"L": 0.77, "H": 0.44},
		"PR": {"N": 0.85, "L": 0.62, "H": 0.27},
		"UI": {"N": 0.85, "R": 0.62},
		"C":  {"H": 0.56, "L": 0.22, "N": 0},
		"I":  {"H": 0.56, "L": 0.22, "N": 0},
		"A":  {"H": 0.56, "L": 0.22, "N": 0},
	}
	if changed {
		weights["PR"]["L"], weights["PR"]["H"] = 0.68, 0.5
	}
	w := map[string]float64{}
	for k, table := range weights {
		val, ok := table[m[k]]
		if !ok {
			return 0, false
		}
		w[k] = val
	}
	if s := m["S"]; s != "U" && s != "C" {
		return 0, false
	}
	iss := 1 - (1-w["C"])*(1-w["I"])*(1-w["A"])
	impact := 6.42 * iss
	if changed {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	}
	if impact <= 0 {
		return 0, true
	}
	expl := 8.22 * w["AV"] * w["AC"] * w["PR"] * w["UI"]
	if changed {
		return roundUp(math.Min(1.08*(impact+expl), 10)), true
	}
	return roundUp(math.Min(impact+expl, 10)), true
}

// roundUp is CVSS 3.1's Roundup: the smallest one-decimal number >= x.
func roundUp(x float64) float64 {
	i := int64(math.Round(x * 100000))
	if i%10000 == 0 {
		return float64(i) / 100000
	}
	return (math.Floor(float64(i)/10000) + 1) / 10
}
