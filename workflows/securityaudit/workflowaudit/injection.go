package workflowaudit

import (
	"regexp"
	"strings"

	"github.com/rhysd/actionlint"
)

func m(name string, children ...*actionlint.UntrustedInputMap) *actionlint.UntrustedInputMap {
	return actionlint.NewUntrustedInputMap(name, children...)
}

func author() *actionlint.UntrustedInputMap { return m("author", m("email"), m("name")) }

// untrustedRoots is actionlint's BuiltinUntrustedInputs plus the workflow_run properties a
// fork controls (branch name, display title, head commit) and the pull requests it lists.
var untrustedRoots = actionlint.UntrustedInputSearchRoots{
	"github": m("github",
		m("event",
			m("issue", m("title"), m("body")),
			m("pull_request", m("title"), m("body"),
				m("head", m("ref"), m("label"), m("repo", m("default_branch")))),
			m("comment", m("body")),
			m("review", m("body")),
			m("review_comment", m("body")),
			m("pages", m("*", m("page_name"))),
			m("commits", m("*", m("message"), author())),
			m("head_commit", m("message"), author()),
			m("discussion", m("title"), m("body")),
			m("workflow_run", m("head_branch"), m("display_title"),
				m("head_commit", m("message"), author()),
				m("pull_requests", m("*", m("head", m("ref"))))),
		),
		m("head_ref"),
	),
}

// isUntrusted reports whether the expression reads an attacker-controlled property outside
// of a contains/startsWith/endsWith call (actionlint's UntrustedInputChecker).
func isUntrusted(e expr) bool {
	if e.Node == nil {
		return false
	}
	c := actionlint.NewUntrustedInputChecker(untrustedRoots)
	c.Init()
	actionlint.VisitExprNode(e.Node, func(n, _ actionlint.ExprNode, entering bool) {
		if entering {
			c.OnVisitNodeEnter(n)
		} else {
			c.OnVisitNodeLeave(n)
		}
	})
	c.OnVisitEnd()
	return len(c.Errs()) > 0
}

var envRefRe = regexp.MustCompile(`^env\.([A-Za-z_][A-Za-z0-9_]*)$`)

// taintedEnv returns the names of env variables (workflow, job, step) set from untrusted
// input: ${{ env.NAME }} in a script is as injectable as the input itself.
func (a *auditor) taintedEnv(envs ...*actionlint.Env) map[string]bool {
	out := map[string]bool{}
	for _, env := range envs {
		if env == nil {
			continue
		}
		for _, v := range env.Vars {
			if v == nil || v.Name == nil {
				continue
			}
			for _, e := range a.src.exprsIn(v.Value) {
				if isUntrusted(e) {
					out[strings.ToLower(v.Name.Value)] = true
				}
			}
		}
	}
	return out
}

// script returns the inline script of a step: run:, or script: of actions/github-script.
func script(st *actionlint.Step) (*actionlint.String, string) {
	switch ex := st.Exec.(type) {
	case *actionlint.ExecRun:
		return ex.Run, "run"
	case *actionlint.ExecAction:
		if ex.Uses != nil && strings.HasPrefix(strings.ToLower(ex.Uses.Value), "actions/github-script@") {
			if in := ex.Inputs["script"]; in != nil {
				return in.Value, "script"
			}
		}
	}
	return nil, ""
}

func (a *auditor) checkInjection() {
	for _, job := range a.jobs() {
		for _, st := range job.Steps {
			body, kind := script(st)
			if body == nil {
				continue
			}
			tainted := a.taintedEnv(a.wf.Env, job.Env, st.Env)
			for _, e := range a.src.exprsIn(body) {
				switch {
				case isUntrusted(e):
					a.add(RuleTemplateInjection, "", e.Line, e.Col,
						"${{ %s }} expands attacker-controlled input into the %s: script; pass it through env: and use the variable instead", e.Inner, kind)
				case envRefRe.MatchString(e.Inner) && tainted[strings.ToLower(envRefRe.FindStringSubmatch(e.Inner)[1])]:
					a.add(RuleTemplateInjection, "", e.Line, e.Col,
						"${{ %s }} expands an env variable set from attacker-controlled input into the %s: script; reference it as a shell variable (\"$%s\") instead", e.Inner, kind, envRefRe.FindStringSubmatch(e.Inner)[1])
				}
			}
		}
	}
}
