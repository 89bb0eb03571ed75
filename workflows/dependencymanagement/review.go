package dependencymanagement

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/contexten/autonomous/integrations/osv"
	"github.com/contexten/autonomous/markdown"
	"github.com/contexten/autonomous/prreport"
	"github.com/contexten/autonomous/workflows/dependencymanagement/inventory"
)

// SectionKey is the dependency report's section of the bot's sticky PR comment.
const SectionKey = "dependency_management"

// maxReviewRows bounds the changes listed in the report.
const maxReviewRows = 100

// Change is one dependency whose version a pull request changes.
type Change struct {
	Ecosystem, Name, Manifest string
	From, To                  string // From empty: added; To empty: removed
	// Carried are advisories affecting To; Fixed are advisories of From that To leaves behind.
	Carried, Fixed []osv.Advisory
}

// DiffInventories lists the dependencies (lock entries included) whose version differs
// between base and head, by ecosystem, name, manifest and section.
func DiffInventories(base, head *inventory.Result) []Change {
	type key struct{ eco, name, manifest, group string }
	at := func(r *inventory.Result) map[key]string {
		m := map[key]string{}
		for _, d := range r.Dependencies {
			v, ok := currentVersion(d)
			if !ok {
				v = d.Version
			}
			if v != "" {
				m[key{d.Ecosystem, d.Name, d.Manifest, d.Group}] = v
			}
		}
		return m
	}
	b, h := at(base), at(head)
	var out []Change
	for k, hv := range h {
		if bv := b[k]; bv != hv {
			out = append(out, Change{Ecosystem: k.eco, Name: k.name, Manifest: k.manifest, From: bv, To: hv})
		}
	}
	for k, bv := range b {
		if _, ok := h[k]; !ok {
			out = append(out, Change{Ecosystem: k.eco, Name: k.name, Manifest: k.manifest, From: bv})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Manifest != out[j].Manifest {
			return out[i].Manifest < out[j].Manifest
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// review reports a pull request's dependency changes and their advisories in the bot's
// sticky comment (/ci deps).
func (w *Worker) review(ctx context.Context, a Args) (Output, error) {
	client, _, _, problem, err := w.setup(ctx, &a)
	if err != nil {
		return Output{}, err
	}
	out := Output{ConfigError: problem}
	pr, _, err := client.PullRequests.Get(ctx, a.Owner, a.Repo, a.PullRequest)
	if err != nil {
		return out, fmt.Errorf("failed to read pull request #%d: %w", a.PullRequest, err)
	}
	base, _, err := snapshotAt(ctx, client, a.Owner, a.Repo, pr.GetBase().GetRef(), pr.GetBase().GetSHA())
	if err != nil {
		return out, err
	}
	head, _, err := snapshotAt(ctx, client, a.Owner, a.Repo, pr.GetHead().GetRef(), pr.GetHead().GetSHA())
	if err != nil {
		return out, err
	}
	out.Commit = head.SHA
	changes := DiffInventories(base.Inventory, head.Inventory)
	if err := w.advise(ctx, changes); err != nil {
		return out, err
	}
	if w.deps.Reports == nil {
		return out, fmt.Errorf("failed to report on #%d: no report records configured", a.PullRequest)
	}
	sec := reviewSection(a, pr, changes)
	rep := prreport.Reporter{Client: client, Records: w.deps.Reports, Owner: a.Owner, Repo: a.Repo, ConfigProblem: problem}
	if _, err := rep.UpdateComment(ctx, a.PullRequest, sec, false); err != nil {
		return out, err
	}
	for _, c := range changes {
		out.Changes = append(out.Changes, fmt.Sprintf("%s %s %s → %s (%s)", c.Ecosystem, c.Name, c.From, c.To, c.Manifest))
		for _, adv := range c.Carried {
			out.Advisories = append(out.Advisories, fmt.Sprintf("%s %s@%s: %s (%s)", c.Ecosystem, c.Name, c.To, adv.ID, adv.Severity))
		}
	}
	return out, nil
}

// advise fills the advisories of each change's old and new versions.
func (w *Worker) advise(ctx context.Context, changes []Change) error {
	if w.deps.OSV == nil || len(changes) == 0 {
		return nil
	}
	var qs []osv.Query
	var idx []struct {
		i   int
		old bool
	}
	for i, c := range changes {
		for _, v := range []struct {
			ver string
			old bool
		}{{c.To, false}, {c.From, true}} {
			if v.ver != "" {
				qs = append(qs, osv.Query{Package: osv.Package{Name: c.Name, Ecosystem: c.Ecosystem}, Version: osvVersion(c.Ecosystem, v.ver)})
				idx = append(idx, struct {
					i   int
					old bool
				}{i, v.old})
			}
		}
	}
	res, err := w.deps.OSV.Advisories(ctx, qs)
	if err != nil {
		return fmt.Errorf("failed to read advisories: %w", err)
	}
	olds := map[int][]osv.Advisory{}
	for j, as := range res {
		if idx[j].old {
			olds[idx[j].i] = as
		} else {
			changes[idx[j].i].Carried = as
		}
	}
	for i := range changes {
		carried := map[string]bool{}
		for _, a := range changes[i].Carried {
			carried[a.ID] = true
		}
		for _, a := range olds[i] {
			if !carried[a.ID] && changes[i].To != "" {
				changes[i].Fixed = append(changes[i].Fixed, a)
			}
		}
	}
	return nil
}

func reviewSection(a Args, pr *github.PullRequest, changes []Change) prreport.Section {
	carried, fixed := 0, 0
	for _, c := range changes {
		carried += len(c.Carried)
		fixed += len(c.Fixed)
	}
	head := fmt.Sprintf("Dependencies: %d %s", len(changes), plural(len(changes), "change", "changes"))
	if carried > 0 {
		head += fmt.Sprintf(", %d known %s in the new versions", carried, plural(carried, "advisory", "advisories"))
	}
	if fixed > 0 {
		head += fmt.Sprintf(", %d fixed", fixed)
	}
	var b strings.Builder
	if len(changes) == 0 {
		b.WriteString("This pull request changes no dependency version.\n")
	} else {
		b.WriteString("| Package | From | To | Where | Advisories |\n|---|---|---|---|---|\n")
		for i, c := range changes {
			if i == maxReviewRows {
				fmt.Fprintf(&b, "\n…and %d more.\n", len(changes)-maxReviewRows)
				break
			}
			var notes []string
			for _, adv := range c.Carried {
				notes = append(notes, fmt.Sprintf("⚠️ [%s](%s) %s", markdown.Text(adv.ID), markdown.SafeURL("https://osv.dev/vulnerability/"+adv.ID), adv.Severity))
			}
			for _, adv := range c.Fixed {
				notes = append(notes, "fixes "+markdown.Text(adv.ID))
			}
			from, to := markdown.Code(c.From), markdown.Code(c.To)
			if c.From == "" {
				from = "(added)"
			}
			if c.To == "" {
				to = "(removed)"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", markdown.Text(c.Name), from, to, markdown.Code(c.Manifest), strings.Join(notes, "<br>"))
		}
	}
	runID, _ := strconv.ParseInt(strings.TrimPrefix(a.Trigger, "comment:"), 10, 64)
	return prreport.Section{Key: SectionKey, Workflow: "Dependencies", RunID: runID, Attempt: 1, Passed: carried == 0,
		Headline: head, Title: head, Body: b.String(), Short: head,
		UpdatedAt: pr.GetUpdatedAt().Time}
}
