-- 0008: flow-run inputs (pause/suspend with wait_for_input, send/receive
-- input) and saved searches (issue 17).

-- A key/value input of a flow run; keys are unique per run. Deleting the run
-- deletes its inputs.
CREATE TABLE flow_run_inputs (
    workspace_id BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           BLOB PRIMARY KEY NOT NULL,
    flow_run_id  BLOB NOT NULL REFERENCES flow_runs (id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    created      INTEGER NOT NULL,
    body         TEXT NOT NULL,
    UNIQUE (flow_run_id, key)
);
CREATE INDEX flow_run_inputs_ws_run ON flow_run_inputs (workspace_id, flow_run_id, key);

-- A named set of UI filters; PUT upserts by name.
CREATE TABLE saved_searches (
    workspace_id BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           BLOB PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    created      INTEGER NOT NULL,
    body         TEXT NOT NULL,
    UNIQUE (workspace_id, name)
);
