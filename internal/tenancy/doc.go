// Package tenancy is cloud mode's identity and access layer: accounts,
// users (people and service accounts), memberships with roles, workspaces,
// API keys, browser sessions with CSRF protection, password hashing and
// sign-in throttling.
//
// Secrets never reach the store or the logs in clear: API keys and session
// tokens are kept as SHA-256 hashes (they are 200+ bits of randomness, so a
// fast hash is enough), passwords as argon2id encodings.
//
// The package decides; the api package asks. A request is authenticated by
// Service.Authenticate (bearer key, Basic credential or session cookie) and
// authorized per workspace by Service.AuthorizeWorkspace with Can.
package tenancy
