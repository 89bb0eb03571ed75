package workflowaudit

import (
	"regexp"
	"sort"
	"strings"

	"github.com/rhysd/actionlint"
	"gopkg.in/yaml.v3"
)

func mappingKey(n *yaml.Node, name string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if strings.EqualFold(n.Content[i].Value, name) {
			return n.Content[i]
		}
	}
	return nil
}

func mappingValue(n *yaml.Node, name string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if strings.EqualFold(n.Content[i].Value, name) {
			return n.Content[i+1]
		}
	}
	return nil
}

// readOnlyActions never use the job token for writes (checkout only reads with it).
var readOnlyActions = regexp.MustCompile(`(?i)^actions/(checkout|setup-[a-z0-9-]+|cache(/[a-z]+)?|upload-artifact|download-artifact)@`)

// tokenRe matches a script or env value that uses the job token.
var tokenRe = regexp.MustCompile(`GITHUB_TOKEN|GH_TOKEN|github\.token|\bgh\s|\bgit\s+push\b`)

// usesToken is the documented heuristic behind excessive-permissions: a job may use the
// token when it calls a reusable workflow, uses an action outside readOnlyActions (local
// actions included), or has a script or env value matching tokenRe.
func usesToken(job *actionlint.Job) bool {
	if job.WorkflowCall != nil {
		return true
	}
	for _, st := range job.Steps {
		if st.Env != nil {
			for _, v := range st.Env.Vars {
				if v != nil && v.Value != nil && tokenRe.MatchString(v.Value.Value) {
					return true
				}
			}
		}
		switch ex := st.Exec.(type) {
		case *actionlint.ExecAction:
			if ex.Uses != nil && !readOnlyActions.MatchString(ex.Uses.Value) {
				return true
			}
		case *actionlint.ExecRun:
			if ex.Run != nil && tokenRe.MatchString(ex.Run.Value) {
				return true
			}
		}
	}
	return false
}

func (a *auditor) checkPermissions() {
	jobs := a.jobs()
	var inheriting []*actionlint.Job
	for _, j := range jobs {
		if j.Permissions == nil {
			inheriting = append(inheriting, j)
		}
		if j.Permissions != nil && j.Permissions.All != nil && strings.EqualFold(j.Permissions.All.Value, "write-all") {
			a.addAt(RuleWriteAllPermissions, "", j.Permissions.All.Pos, "job %s grants the token write access to every scope", j.ID.Value)
		}
	}
	top := a.wf.Permissions
	if top == nil {
		onlyCall := len(a.wf.On) > 0
		for _, e := range a.wf.On {
			onlyCall = onlyCall && e != nil && e.EventName() == "workflow_call"
		}
		if len(inheriting) == 0 || onlyCall {
			return
		}
		line, col := 1, 1
		if k := mappingKey(a.topRoot(), "jobs"); k != nil {
			line, col = k.Line, k.Column
		}
		a.add(RuleMissingPermissions, "", line, col, "no top-level permissions: job %s runs with the repository's default token permissions", inheriting[0].ID.Value)
		return
	}
	if top.All != nil && strings.EqualFold(top.All.Value, "write-all") {
		a.addAt(RuleWriteAllPermissions, "", top.All.Pos, "the workflow grants the token write access to every scope")
		return
	}
	needed := false
	for _, j := range inheriting {
		needed = needed || usesToken(j)
	}
	if needed {
		return
	}
	names := make([]string, 0, len(top.Scopes))
	for n := range top.Scopes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		sc := top.Scopes[n]
		if sc == nil || sc.Value == nil || !strings.EqualFold(sc.Value.Value, "write") {
			continue
		}
		why := "no job that inherits it uses the token"
		if len(inheriting) == 0 {
			why = "every job declares its own permissions"
		}
		a.addAt(RuleExcessivePermissions, "", sc.Name.Pos, "top-level %s: write is not needed: %s", sc.Name.Value, why)
	}
}
