package workflowaudit

import (
	"regexp"
	"strings"

	"github.com/rhysd/actionlint"
)

var (
	secretExprRe = regexp.MustCompile(`^(secrets\.[A-Za-z_][A-Za-z0-9_]*|secrets\[.*\]|github\.token)$`)
	echoRe       = regexp.MustCompile(`\b(echo|printf)\b`)
	fileWriteRe  = regexp.MustCompile(`(^|[^0-9&>=-])>{1,2}\s*[^\s&>]|\btee\b`)
	shellVarRe   = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)
)

// exposes reports whether a shell line prints or stores a secret it contains: an echo or
// printf that writes to a file (a redirection or tee) or to the log (not piped into
// another command: piping into `docker login --password-stdin` is the safe hand-over).
// Other commands only take the secret as an argument, and their redirected output is not it.
func exposes(line string) bool {
	if strings.Contains(line, "::add-mask::") || !echoRe.MatchString(line) {
		return false
	}
	return fileWriteRe.MatchString(line) || !strings.Contains(line, "|")
}

// secretEnv returns the env variable names of the scopes whose value reads a secret.
func secretEnv(envs ...*actionlint.Env) map[string]bool {
	out := map[string]bool{}
	for _, env := range envs {
		if env == nil {
			continue
		}
		for _, v := range env.Vars {
			if v != nil && v.Name != nil && v.Value != nil && (strings.Contains(v.Value.Value, "secrets.") || strings.Contains(v.Value.Value, "github.token")) {
				out[v.Name.Value] = true
			}
		}
	}
	return out
}

func (a *auditor) checkSecrets() {
	for _, job := range a.jobs() {
		if job.WorkflowCall != nil && job.WorkflowCall.InheritSecrets {
			line, col := 1, 1
			if j := mappingValue(mappingValue(a.topRoot(), "jobs"), job.ID.Value); j != nil {
				if k := mappingKey(j, "secrets"); k != nil {
					line, col = k.Line, k.Column
				}
			} else if job.WorkflowCall.Uses != nil {
				line, col = job.WorkflowCall.Uses.Pos.Line, job.WorkflowCall.Uses.Pos.Col
			}
			a.add(RuleSecretsInherit, "", line, col, "job %s passes every secret of the repository to %s", job.ID.Value, job.WorkflowCall.Uses.Value)
		}
		for _, st := range job.Steps {
			ex, ok := st.Exec.(*actionlint.ExecRun)
			if !ok || ex.Run == nil {
				continue
			}
			for _, e := range a.src.exprsIn(ex.Run) {
				if secretExprRe.MatchString(e.Inner) && exposes(a.src.line(e.Line)) {
					a.add(RuleSecretExposure, "", e.Line, e.Col, "${{ %s }} is printed or written to a file", e.Inner)
				}
			}
			names := secretEnv(a.wf.Env, job.Env, st.Env)
			if len(names) == 0 {
				continue
			}
			for _, l := range a.src.scriptLines(ex.Run) {
				if !exposes(l.Text) {
					continue
				}
				for _, mm := range shellVarRe.FindAllStringSubmatchIndex(l.Text, -1) {
					if name := l.Text[mm[2]:mm[3]]; names[name] {
						a.add(RuleSecretExposure, "", l.Line, l.colOf(mm[0]), "$%s holds a secret and is printed or written to a file", name)
					}
				}
			}
		}
	}
}
