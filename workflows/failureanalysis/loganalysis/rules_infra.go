package loganalysis

// infraRules cover GitHub Actions runner messages, resource exhaustion,
// rate limits, network failures, credentials and workflow configuration.
var infraRules = []rule{
	// Runner and job level.
	{name: "job-timeout", class: ClassTimeout, weight: 95, kw: kw("exceeded the maximum execution time"), before: 6,
		label: "Job exceeded the maximum execution time"},
	{name: "step-timeout", class: ClassTimeout, weight: 95, kw: kw("has timed out after"), re: rx(`has timed out after \d+ minutes`), before: 6,
		label: "Step timed out"},
	{name: "runner-shutdown", class: ClassInfrastructure, weight: 93, kw: kw("received a shutdown signal"), before: 3,
		label: "Runner received a shutdown signal"},
	{name: "runner-error", class: ClassInfrastructure, weight: 93,
		kw: kw("hosted runner encountered an error", "lost communication with the server", "runner has lost communication", "failed to start the runner", "runner connection was lost"), before: 3,
		label: "Runner failure"},
	{name: "cancelled", class: ClassCancelled, weight: 88, kw: kw("the operation was canceled", "the operation was cancelled", "the run was canceled by"), before: 4,
		label: "Job was cancelled"},

	// Workflow configuration.
	{name: "invalid-workflow", class: ClassConfigError, weight: 95, kw: kw("invalid workflow file", "the workflow is not valid", "unrecognized named-value"), after: 3,
		label: "Invalid workflow"},
	{name: "unresolved-action", class: ClassConfigError, weight: 95, kw: kw("unable to resolve action", "can't find 'action.yml'", "missing download info for", "unable to find action"), after: 1,
		label: "Action could not be resolved"},
	{name: "input-required", class: ClassConfigError, weight: 90, kw: kw("input required and not supplied"),
		label: "Required action input not supplied"},
	{name: "command-not-found", class: ClassConfigError, weight: 55, kw: kw("command not found", "is not recognized as an internal or external command", "unable to locate executable file"),
		before: 2, label: "Command not found"},

	// Resources.
	{name: "disk-full", class: ClassResourceExhaustion, weight: 90, kw: kw("no space left on device", "enospc", "not enough space on the disk"), before: 2,
		label: "Disk full"},
	{name: "out-of-memory", class: ClassResourceExhaustion, weight: 88,
		kw: kw("out of memory", "outofmemoryerror", "\nmemoryerror", "cannot allocate memory", "killed signal terminated program", "oomkilled",
			"gc overhead limit exceeded", "garbage collector is thrashing", "heap space is exhausted", "out of jvm memory"),
		re: rx(`(?i)heap out of memory|OutOfMemoryError|^MemoryError|runtime: out of memory|out of memory|cannot allocate memory|Killed signal terminated program|OOMKilled|GC overhead limit exceeded|garbage collector is thrashing|heap space is exhausted|out of JVM memory`), before: 3,
		label: "Out of memory"},
	{name: "killed", class: ClassResourceExhaustion, weight: 80, kw: kw("\nkilled"), re: rx(`^Killed\s*$`), before: 4,
		label: "Process was killed (likely out of memory)"},
	{name: "exit-137", class: ClassResourceExhaustion, weight: 72, kw: kw("exit code 137", "exit status 137", "signal: killed"), before: 6,
		label: "Process was killed with exit code 137 (likely out of memory)"},

	// Rate limits.
	{name: "rate-limit", class: ClassRateLimit, weight: 90, kw: kw("rate limit", "toomanyrequests", "ratelimit"),
		re: rx(`(?i)rate limit exceeded|secondary rate limit|reached your pull rate limit|toomanyrequests|rate limited|RateLimitExceeded`), before: 2,
		label: "Rate limit exceeded"},
	{name: "http-429", class: ClassRateLimit, weight: 85, kw: kw("429"),
		re: rx(`(?i)\b429 Too Many Requests|HTTP[/ ]?[\d.]* 429\b|status(?: code)?:? 429\b|\bE429\b|error:? 429\b|returned 429\b`), before: 2,
		label: "Rate limited (HTTP 429)"},

	// Network.
	{name: "dns-failure", class: ClassNetworkError, weight: 82,
		kw:     kw("could not resolve host", "temporary failure in name resolution", "eai_again", "enotfound", "name or service not known", "no such host", "could not resolve hostname"),
		re:     rx(`(?i)could not resolve host|temporary failure in name resolution|EAI_AGAIN|\bENOTFOUND\b|name or service not known|no such host`),
		before: 2, after: 2, contMode: contUntilBlank, label: "Network error (DNS resolution failed)"},
	{name: "connection-reset", class: ClassNetworkError, weight: 78, kw: kw("econnreset", "connection reset by peer", "socket hang up", "connection was reset"), before: 2, after: 2, contMode: contUntilBlank,
		label: "Network error (connection reset)"},
	{name: "network-timeout", class: ClassNetworkError, weight: 78,
		kw:     kw("etimedout", "tls handshake timeout", "connection timed out", "i/o timeout", "operation timed out", "timeout was reached", "read timed out", "connect timeout"),
		before: 2, after: 2, contMode: contUntilBlank, label: "Network error (timeout)"},
	{name: "bad-gateway", class: ClassNetworkError, weight: 76, kw: kw("502 bad gateway", "503 service unavailable", "504 gateway", "bad gateway", "status code 502", "status code 503"),
		before: 2, label: "Network error (server unavailable)"},
	{name: "git-transfer", class: ClassNetworkError, weight: 76,
		kw: kw("the remote end hung up unexpectedly", "early eof", "rpc failed", "unexpected disconnect while reading sideband"), before: 2,
		label: "Network error during git transfer"},
	{name: "connection-refused", class: ClassNetworkError, weight: 50, kw: kw("econnrefused", "connection refused"), before: 2,
		label: "Network error (connection refused)"},

	// Credentials and permissions.
	{name: "bad-credentials", class: ClassAuthError, weight: 90,
		kw: kw("bad credentials", "resource not accessible by integration", "permission denied (publickey", "requires authentication"), before: 2,
		label: "Authentication failed"},
	{name: "git-auth", class: ClassAuthError, weight: 88,
		kw:     kw("authentication failed for", "could not read username", "remote: permission to", "invalid username or password", "write access to repository not granted", "terminal prompts disabled"),
		before: 2, label: "Git authentication failed"},
	{name: "registry-auth", class: ClassAuthError, weight: 86,
		kw:     kw("requested access to the resource is denied", "unauthorized: authentication required", "unauthorized: incorrect username or password", "eneedauth", "credentials could not be loaded", "could not load credentials", "code e401", "code e403", "no basic auth credentials"),
		before: 2, label: "Registry authentication failed"},
	{name: "http-401", class: ClassAuthError, weight: 85, kw: kw("401"),
		re: rx(`(?i)\b401 Unauthorized|HTTP[/ ]?[\d.]* 401\b|status(?: code)?:? 401\b|\bE401\b|error:? 401\b|returned 401\b`), before: 2,
		label: "Authentication failed (HTTP 401)"},
	{name: "http-403", class: ClassAuthError, weight: 78, kw: kw("403"),
		re: rx(`(?i)\b403 Forbidden|HTTP[/ ]?[\d.]* 403\b|status(?: code)?:? 403\b|\bE403\b|error:? 403\b|returned 403\b`), before: 2,
		label: "Permission denied (HTTP 403)"},
}
