package workflowaudit

import (
	"regexp"
	"strings"

	"github.com/rhysd/actionlint"
	"gopkg.in/yaml.v3"
)

// topRoot returns the yaml.v3 root mapping of the file, nil when it does not parse.
func (a *auditor) topRoot() *yaml.Node {
	var doc yaml.Node
	if err := yaml.Unmarshal(a.src.b, &doc); err != nil || len(doc.Content) == 0 {
		return nil
	}
	return doc.Content[0]
}

// curlPipeRes match a download executed without being stored and verified first.
var curlPipeRes = []*regexp.Regexp{
	regexp.MustCompile(`\b(curl|wget)\b[^|;&]*\|\s*(sudo\s+(-\S+\s+)*)?(ba|z|da|k)?sh\b`),
	regexp.MustCompile(`\b(ba|z|da|k)?sh\s+(-c\s+)?["']?\$\(\s*(curl|wget)\b`),
	regexp.MustCompile(`\b(ba|z|da|k)?sh\s+<\(\s*(curl|wget)\b`),
}

var unsecureRunRe = regexp.MustCompile(`(?i)ACTIONS_ALLOW_UNSECURE_COMMANDS=["']?true`)

func (a *auditor) checkUnsecureEnv(env *actionlint.Env) {
	if env == nil {
		return
	}
	for _, v := range env.Vars {
		if v != nil && v.Name != nil && v.Value != nil && strings.EqualFold(v.Name.Value, "ACTIONS_ALLOW_UNSECURE_COMMANDS") &&
			strings.EqualFold(strings.TrimSpace(v.Value.Value), "true") {
			a.addAt(RuleUnsecureCommands, "", v.Name.Pos, "ACTIONS_ALLOW_UNSECURE_COMMANDS re-enables set-env and add-path")
		}
	}
}

func (a *auditor) checkMisc() {
	a.checkUnsecureEnv(a.wf.Env)
	for _, job := range a.jobs() {
		a.checkUnsecureEnv(job.Env)
		if job.RunsOn != nil {
			for _, l := range job.RunsOn.Labels {
				if l != nil && strings.EqualFold(strings.TrimSpace(l.Value), "self-hosted") {
					sev, why := SeverityLow, "make sure it only runs trusted code"
					if a.opts.PublicRepo {
						sev, why = SeverityHigh, "this repository is public, so pull requests from anyone can run code on it"
					}
					a.addAt(RuleSelfHostedRunner, sev, l.Pos, "job %s runs on a self-hosted runner: %s", job.ID.Value, why)
				}
			}
		}
		for _, st := range job.Steps {
			a.checkUnsecureEnv(st.Env)
			ex, ok := st.Exec.(*actionlint.ExecRun)
			if !ok || ex.Run == nil {
				continue
			}
			for _, l := range a.src.scriptLines(ex.Run) {
				if strings.HasPrefix(l.Text, "#") {
					continue
				}
				for _, re := range curlPipeRes {
					if loc := re.FindStringIndex(l.Text); loc != nil {
						a.add(RuleCurlPipeShell, "", l.Line, l.colOf(loc[0]), "a downloaded script is run without pinning or verifying it")
						break
					}
				}
				if loc := unsecureRunRe.FindStringIndex(l.Text); loc != nil {
					a.add(RuleUnsecureCommands, "", l.Line, l.colOf(loc[0]), "ACTIONS_ALLOW_UNSECURE_COMMANDS re-enables set-env and add-path")
				}
			}
		}
	}
}
