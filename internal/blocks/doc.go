// Package blocks is Baton's block domain, without HTTP: block types,
// schemas (with checksums computed exactly as the Prefect client computes
// them), documents with their references to other documents, and the
// protection of secrets — document data is sealed with AES-256-GCM under a
// key kept outside the database before it reaches the store, and secret
// fields are obfuscated in every answer that does not ask for them.
//
// The Service is what the API calls; it holds the store and the keyring.
// Rules follow the Prefect server's own code (prefect/server/models/
// block_*.py): references are top-level fields whose value is
// {"$ref": {"block_document_id": ...}}, reads resolve references
// recursively, updates that post back an obfuscated secret keep the stored
// one, and deletes cascade from types to schemas to documents.
package blocks
