-- 0001: the whole initial schema. Every tenant-owned table carries
-- workspace_id, and it leads every index that serves a scoped query.
-- Ids are 16-byte BLOBs; instants are INTEGER unix microseconds; tags are a
-- JSON array; body holds the full serialized model object that reads return.
-- Indexes are kept to the filters that need them: every index is paid for
-- on each insert, and run/task-run/event inserts are the hot path.

CREATE TABLE accounts (
    id      BLOB PRIMARY KEY NOT NULL,
    name    TEXT NOT NULL,
    handle  TEXT NOT NULL UNIQUE,
    created INTEGER NOT NULL
);

CREATE TABLE workspaces (
    id         BLOB PRIMARY KEY NOT NULL,
    account_id BLOB NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    handle     TEXT NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0,
    created    INTEGER NOT NULL,
    UNIQUE (account_id, handle)
);

-- The default tenant (store.DefaultAccountID / store.DefaultWorkspaceID).
INSERT INTO accounts (id, name, handle, created)
VALUES (X'0000000000004000800000000000a001', 'default', 'default', 0);
INSERT INTO workspaces (id, account_id, name, handle, is_default, created)
VALUES (X'0000000000004000800000000000b001', X'0000000000004000800000000000a001', 'default', 'default', 1, 0);

CREATE TABLE flows (
    workspace_id BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           BLOB PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    created      INTEGER NOT NULL,
    updated      INTEGER NOT NULL,
    tags         TEXT NOT NULL DEFAULT '[]',
    body         TEXT NOT NULL,
    UNIQUE (workspace_id, name)
);
CREATE INDEX flows_ws_created ON flows (workspace_id, created);
CREATE INDEX flows_ws_updated ON flows (workspace_id, updated);

CREATE TABLE flow_runs (
    workspace_id              BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id                        BLOB PRIMARY KEY NOT NULL,
    flow_id                   BLOB NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    name                      TEXT NOT NULL,
    created                   INTEGER NOT NULL,
    updated                   INTEGER NOT NULL,
    state_id                  BLOB,
    state_type                TEXT,
    state_name                TEXT,
    state_timestamp           INTEGER,
    deployment_id             BLOB,
    work_queue_name           TEXT,
    flow_version              TEXT,
    parent_task_run_id        BLOB,
    idempotency_key           TEXT,
    tags                      TEXT NOT NULL DEFAULT '[]',
    start_time                INTEGER,
    end_time                  INTEGER,
    expected_start_time       INTEGER,
    next_scheduled_start_time INTEGER,
    body                      TEXT NOT NULL
);
CREATE UNIQUE INDEX flow_runs_ws_idempotency ON flow_runs (workspace_id, flow_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX flow_runs_ws_flow ON flow_runs (workspace_id, flow_id);
CREATE INDEX flow_runs_ws_state_type ON flow_runs (workspace_id, state_type);
CREATE INDEX flow_runs_ws_deployment ON flow_runs (workspace_id, deployment_id);
CREATE INDEX flow_runs_ws_parent_task ON flow_runs (workspace_id, parent_task_run_id);
CREATE INDEX flow_runs_ws_expected ON flow_runs (workspace_id, expected_start_time);

CREATE TABLE flow_run_states (
    workspace_id BLOB NOT NULL,
    id           BLOB PRIMARY KEY NOT NULL,
    flow_run_id  BLOB NOT NULL REFERENCES flow_runs (id) ON DELETE CASCADE,
    timestamp    INTEGER NOT NULL,
    body         TEXT NOT NULL
);
-- History is read per run (and the run's workspace is checked in the same
-- query); one index serves that, the ordering and the cascade.
CREATE INDEX flow_run_states_run ON flow_run_states (flow_run_id, timestamp);

-- task_runs.flow_run_id has no foreign key: client events may name a flow run
-- this server has not seen (or has deleted); deletes cascade in code.
CREATE TABLE task_runs (
    workspace_id              BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id                        BLOB PRIMARY KEY NOT NULL,
    flow_run_id               BLOB,
    name                      TEXT NOT NULL,
    task_key                  TEXT NOT NULL,
    dynamic_key               TEXT NOT NULL,
    created                   INTEGER NOT NULL,
    updated                   INTEGER NOT NULL,
    state_id                  BLOB,
    state_type                TEXT,
    state_name                TEXT,
    state_timestamp           INTEGER,
    tags                      TEXT NOT NULL DEFAULT '[]',
    start_time                INTEGER,
    end_time                  INTEGER,
    expected_start_time       INTEGER,
    next_scheduled_start_time INTEGER,
    body                      TEXT NOT NULL
);
CREATE UNIQUE INDEX task_runs_ws_natural_key ON task_runs (workspace_id, flow_run_id, task_key, dynamic_key);
CREATE INDEX task_runs_ws_state_type ON task_runs (workspace_id, state_type);
CREATE INDEX task_runs_ws_expected ON task_runs (workspace_id, expected_start_time);

CREATE TABLE task_run_states (
    workspace_id BLOB NOT NULL,
    id           BLOB PRIMARY KEY NOT NULL,
    task_run_id  BLOB NOT NULL REFERENCES task_runs (id) ON DELETE CASCADE,
    timestamp    INTEGER NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX task_run_states_run ON task_run_states (task_run_id, timestamp);

CREATE TABLE logs (
    workspace_id BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           BLOB PRIMARY KEY NOT NULL,
    created      INTEGER NOT NULL,
    name         TEXT NOT NULL,
    level        INTEGER NOT NULL,
    message      TEXT NOT NULL,
    timestamp    INTEGER NOT NULL,
    flow_run_id  BLOB,
    task_run_id  BLOB,
    worker_id    BLOB
);
CREATE INDEX logs_ws_flow_run ON logs (workspace_id, flow_run_id, timestamp);
CREATE INDEX logs_ws_task_run ON logs (workspace_id, task_run_id, timestamp);
CREATE INDEX logs_ws_timestamp ON logs (workspace_id, timestamp);

-- Events are unique per workspace (a resent event is dropped).
CREATE TABLE events (
    workspace_id BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           BLOB NOT NULL,
    occurred     INTEGER NOT NULL,
    received     INTEGER NOT NULL,
    event        TEXT NOT NULL,
    resource_id  TEXT NOT NULL,
    body         TEXT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX events_ws_occurred ON events (workspace_id, occurred);
CREATE INDEX events_ws_event ON events (workspace_id, event, occurred);

-- One row per resource of an event: the primary resource (role '') and every
-- related one, so resource/related/any_resource filters are index lookups.
-- The table is its own index (no rowid, no foreign key): rows of a deleted
-- event are never matched (lookups join back to events), and retention
-- deletes them by occurred.
CREATE TABLE event_resources (
    workspace_id BLOB NOT NULL,
    resource_id  TEXT NOT NULL,
    occurred     INTEGER NOT NULL,
    event_id     BLOB NOT NULL,
    role         TEXT NOT NULL,
    PRIMARY KEY (workspace_id, resource_id, occurred, event_id, role)
) WITHOUT ROWID;

CREATE TABLE concurrency_limits (
    workspace_id               BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id                         BLOB PRIMARY KEY NOT NULL,
    name                       TEXT NOT NULL,
    created                    INTEGER NOT NULL,
    updated                    INTEGER NOT NULL,
    active                     INTEGER NOT NULL,
    "limit"                    INTEGER NOT NULL,
    active_slots               INTEGER NOT NULL,
    denied_slots               INTEGER NOT NULL,
    slot_decay_per_second      REAL NOT NULL,
    avg_slot_occupancy_seconds REAL NOT NULL,
    UNIQUE (workspace_id, name)
);

-- resource_ids is a JSON array of the limit ids the lease holds slots on.
CREATE TABLE concurrency_leases (
    workspace_id BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           BLOB PRIMARY KEY NOT NULL,
    created      INTEGER NOT NULL,
    expiration   INTEGER NOT NULL,
    slots        INTEGER NOT NULL,
    resource_ids TEXT NOT NULL,
    holder       TEXT
);
CREATE INDEX concurrency_leases_ws ON concurrency_leases (workspace_id, expiration);
-- ConcurrencyExpire sweeps every workspace at once.
CREATE INDEX concurrency_leases_expiration ON concurrency_leases (expiration);
