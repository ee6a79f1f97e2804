-- 0006: variables and artifacts (issue 10). Filterable columns are real
-- columns; the whole object is kept as JSON in body, as for the other tables.

CREATE TABLE variables (
    workspace_id BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           BLOB PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    created      INTEGER NOT NULL,
    updated      INTEGER NOT NULL,
    tags         TEXT NOT NULL DEFAULT '[]',
    body         TEXT NOT NULL
);
CREATE UNIQUE INDEX variables_ws_name ON variables (workspace_id, name);

CREATE TABLE artifacts (
    workspace_id BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           BLOB PRIMARY KEY NOT NULL,
    key          TEXT,
    type         TEXT,
    flow_run_id  BLOB,
    task_run_id  BLOB,
    created      INTEGER NOT NULL,
    updated      INTEGER NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX artifacts_ws_key ON artifacts (workspace_id, key, created);
CREATE INDEX artifacts_ws_flow_run ON artifacts (workspace_id, flow_run_id);
CREATE INDEX artifacts_ws_task_run ON artifacts (workspace_id, task_run_id);

-- One row per artifact key: the newest artifact of that key (latest_id),
-- with its fields copied so listings need no join.
CREATE TABLE artifact_collections (
    workspace_id BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           BLOB PRIMARY KEY NOT NULL,
    key          TEXT NOT NULL,
    latest_id    BLOB NOT NULL,
    type         TEXT,
    flow_run_id  BLOB,
    task_run_id  BLOB,
    created      INTEGER NOT NULL,
    updated      INTEGER NOT NULL,
    body         TEXT NOT NULL
);
CREATE UNIQUE INDEX artifact_collections_ws_key ON artifact_collections (workspace_id, key);
