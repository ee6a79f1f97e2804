-- 0007: blocks (issue 10): types, schemas, documents and the references
-- between documents, plus per-workspace settings (the server default result
-- storage). Document data is stored sealed (AES-256-GCM, key outside the
-- database, see internal/blocks); nothing here holds a secret in clear.
-- Cascades follow Prefect's: a type takes its schemas and documents with
-- it, a schema its documents, a document its references both ways.

CREATE TABLE block_types (
    workspace_id BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           BLOB PRIMARY KEY NOT NULL,
    slug         TEXT NOT NULL,
    name         TEXT NOT NULL,
    created      INTEGER NOT NULL,
    updated      INTEGER NOT NULL,
    body         TEXT NOT NULL
);
CREATE UNIQUE INDEX block_types_ws_slug ON block_types (workspace_id, slug);

CREATE TABLE block_schemas (
    workspace_id  BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id            BLOB PRIMARY KEY NOT NULL,
    block_type_id BLOB NOT NULL REFERENCES block_types (id) ON DELETE CASCADE,
    checksum      TEXT NOT NULL,
    version       TEXT NOT NULL,
    capabilities  TEXT NOT NULL DEFAULT '[]',
    created       INTEGER NOT NULL,
    body          TEXT NOT NULL
);
CREATE UNIQUE INDEX block_schemas_ws_checksum ON block_schemas (workspace_id, checksum, version);
CREATE INDEX block_schemas_type ON block_schemas (block_type_id);

CREATE TABLE block_documents (
    workspace_id    BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id              BLOB PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    block_type_id   BLOB NOT NULL REFERENCES block_types (id) ON DELETE CASCADE,
    block_schema_id BLOB NOT NULL REFERENCES block_schemas (id) ON DELETE CASCADE,
    block_type_name TEXT NOT NULL,
    is_anonymous    INTEGER NOT NULL DEFAULT 0,
    created         INTEGER NOT NULL,
    updated         INTEGER NOT NULL,
    -- sealed JSON of the document's own fields
    data            BLOB NOT NULL
);
CREATE UNIQUE INDEX block_documents_ws_type_name ON block_documents (workspace_id, block_type_id, name);
CREATE INDEX block_documents_ws_name ON block_documents (workspace_id, name);
CREATE INDEX block_documents_schema ON block_documents (block_schema_id);

CREATE TABLE block_document_references (
    workspace_id BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    parent_id    BLOB NOT NULL REFERENCES block_documents (id) ON DELETE CASCADE,
    ref_id       BLOB NOT NULL REFERENCES block_documents (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    PRIMARY KEY (parent_id, name)
);
CREATE INDEX block_document_references_ref ON block_document_references (ref_id);

CREATE TABLE workspace_settings (
    workspace_id BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    value        TEXT NOT NULL,
    PRIMARY KEY (workspace_id, key)
);
