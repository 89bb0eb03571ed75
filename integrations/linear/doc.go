// Package linear is a thin, hand-written client for the few Linear GraphQL
// operations Autonomous CI needs to file escalations: a credentials check
// (viewer), finding an open issue by fingerprint, issueCreate, commentCreate
// and closing an issue through issueUpdate.
//
// Linear publishes no Go SDK (only @linear/sdk for TypeScript), and a
// generated GraphQL client for five operations would cost more than it
// saves, so the queries are written out here against the public schema
// (https://linear.app/developers/graphql).
//
// Authentication follows Linear's documentation: a personal API key goes in
// the Authorization header as is, without "Bearer"; an OAuth access token
// (lin_oauth_…) is sent as "Bearer <token>". The key is never logged and
// never part of an error.
//
// Errors are typed for errors.As: [*GraphQLError] for an answer carrying
// errors[] (Linear answers many failures, rate limiting included, that way),
// [*HTTPError] for any other non-2xx answer. [IsAuth], [IsRateLimited] and
// [IsRetryable] classify any error this package returns.
package linear
