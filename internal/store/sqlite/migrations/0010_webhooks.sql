-- Inbound webhooks (a Prefect Cloud feature): a URL whose calls become
-- events through a template. The slug is the URL's secret and unique across
-- workspaces, so a call finds its workspace from the slug alone.
CREATE TABLE webhooks (
    workspace_id BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           BLOB NOT NULL,
    slug         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    created      INTEGER NOT NULL,
    updated      INTEGER NOT NULL,
    body         TEXT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
