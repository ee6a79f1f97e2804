-- 0002: deployments (schedules inline in body), work pools, work queues and
-- workers, plus the flow-run indexes the dispatch query and the background
-- services (late runs, crash detection, cancellation) need.

CREATE TABLE deployments (
    workspace_id      BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id                BLOB PRIMARY KEY NOT NULL,
    flow_id           BLOB NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    created           INTEGER NOT NULL,
    updated           INTEGER NOT NULL,
    paused            INTEGER NOT NULL DEFAULT 0,
    tags              TEXT NOT NULL DEFAULT '[]',
    work_queue_name   TEXT,
    work_queue_id     BLOB,
    concurrency_limit INTEGER,
    -- 1 when at least one schedule is active (the scheduler's filter).
    scheduled         INTEGER NOT NULL DEFAULT 0,
    -- Bumped whenever what scheduled runs derive from changes; the
    -- scheduler inserts runs only for the generation it read.
    generation        INTEGER NOT NULL DEFAULT 0,
    -- When the scheduler must look at this deployment again (NULL: now).
    next_check        INTEGER,
    last_polled       INTEGER,
    status            TEXT NOT NULL DEFAULT 'NOT_READY',
    body              TEXT NOT NULL,
    UNIQUE (workspace_id, flow_id, name)
);
CREATE INDEX deployments_ws_created ON deployments (workspace_id, created);
CREATE INDEX deployments_ws_name ON deployments (workspace_id, name);
CREATE INDEX deployments_due ON deployments (scheduled, paused, next_check);

CREATE TABLE work_pools (
    workspace_id     BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id               BLOB PRIMARY KEY NOT NULL,
    name             TEXT NOT NULL,
    type             TEXT NOT NULL,
    created          INTEGER NOT NULL,
    updated          INTEGER NOT NULL,
    is_paused        INTEGER NOT NULL DEFAULT 0,
    status           TEXT NOT NULL,
    concurrency_limit INTEGER,
    body             TEXT NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE work_queues (
    workspace_id      BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id                BLOB PRIMARY KEY NOT NULL,
    work_pool_id      BLOB NOT NULL REFERENCES work_pools (id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    created           INTEGER NOT NULL,
    updated           INTEGER NOT NULL,
    priority          INTEGER NOT NULL,
    is_paused         INTEGER NOT NULL DEFAULT 0,
    concurrency_limit INTEGER,
    last_polled       INTEGER,
    status            TEXT NOT NULL,
    body              TEXT NOT NULL,
    UNIQUE (work_pool_id, name)
);
CREATE INDEX work_queues_ws ON work_queues (workspace_id, work_pool_id, priority);

CREATE TABLE workers (
    workspace_id       BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id                 BLOB PRIMARY KEY NOT NULL,
    work_pool_id       BLOB NOT NULL REFERENCES work_pools (id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    created            INTEGER NOT NULL,
    last_heartbeat     INTEGER NOT NULL,
    heartbeat_interval INTEGER,
    status             TEXT NOT NULL,
    UNIQUE (work_pool_id, name)
);
CREATE INDEX workers_status ON workers (status, last_heartbeat);

-- Flow runs: the queue a run waits in lives in the JSON body; a virtual
-- generated column exposes it so the dispatch query is an index lookup.
ALTER TABLE flow_runs ADD COLUMN work_queue_ref TEXT GENERATED ALWAYS AS (json_extract(body, '$.work_queue_id')) VIRTUAL;
CREATE INDEX flow_runs_ws_queue_state ON flow_runs (workspace_id, work_queue_ref, state_type, next_scheduled_start_time);
-- Cross-workspace sweeps of the background services.
CREATE INDEX flow_runs_state_next ON flow_runs (state_type, next_scheduled_start_time);
CREATE INDEX flow_runs_state_ts ON flow_runs (state_type, state_timestamp);
