// Package codegen is a thin, hand-written client for the few Codegen agent
// API endpoints Autonomous CI needs to hand a CI failure to an AI coding
// agent: creating an agent run, reading it back, resuming it with a new
// prompt, and listing the organization's repositories to map a GitHub
// repository onto Codegen's repo_id.
//
// It is hand-written because Codegen publishes no Go SDK (only a Python SDK
// and an OpenAPI description), and generating a client from the OpenAPI
// document for four endpoints would cost more than it saves. The endpoints
// follow https://docs.codegen.com/api-reference:
//
//   - POST /v1/organizations/{org_id}/agent/run
//   - GET  /v1/organizations/{org_id}/agent/run/{agent_run_id}
//   - POST /v1/organizations/{org_id}/agent/run/resume
//   - GET  /v1/organizations/{org_id}/repos
//
// Every call sends "Authorization: Bearer <CODEGEN_TOKEN>". The token is
// never logged and never part of an error. Codegen has no completion
// webhook: callers poll [Client.GetRun] and read [Status].
//
// Errors are typed for errors.As: [*APIError] for any non-2xx answer, with
// the answer's detail and Retry-After. [IsPlanLimit], [IsRateLimited],
// [IsAuth], [IsPermanent] and [IsRetryable] classify any error this package
// returns. Run creation is paced client side by a [Limiter] (Codegen allows
// about ten run creations a minute).
//
// [BuildFixPrompt] writes the prompt for a fix from a fixed template, with
// the CI log excerpt quoted as untrusted data.
package codegen
