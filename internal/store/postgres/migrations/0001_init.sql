-- 0001: the whole schema of the PostgreSQL engine, equal in content to the
-- SQLite engine's migrations 0001–0010. Every tenant-owned table carries
-- workspace_id, and it leads every index that serves a scoped query.
-- Ids are uuid; instants are bigint unix microseconds (the model's precision,
-- and the SQLite engine's representation, so `baton migrate copy` moves them
-- as they are); tags are jsonb arrays (containment filters); body holds the
-- full serialized model object that reads return (json: kept verbatim).

CREATE TABLE accounts (
    id      uuid PRIMARY KEY,
    name    text NOT NULL,
    handle  text NOT NULL UNIQUE,
    created bigint NOT NULL
);

CREATE TABLE workspaces (
    id          uuid PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        text NOT NULL,
    handle      text NOT NULL,
    is_default  boolean NOT NULL DEFAULT false,
    created     bigint NOT NULL,
    description text NOT NULL DEFAULT '',
    UNIQUE (account_id, handle)
);

-- The default tenant (store.DefaultAccountID / store.DefaultWorkspaceID).
INSERT INTO accounts (id, name, handle, created)
VALUES ('00000000-0000-4000-8000-00000000a001', 'default', 'default', 0);
INSERT INTO workspaces (id, account_id, name, handle, is_default, created)
VALUES ('00000000-0000-4000-8000-00000000b001', '00000000-0000-4000-8000-00000000a001', 'default', 'default', true, 0);

CREATE TABLE flows (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           uuid PRIMARY KEY,
    name         text NOT NULL,
    created      bigint NOT NULL,
    updated      bigint NOT NULL,
    tags         jsonb NOT NULL DEFAULT '[]',
    body         json NOT NULL,
    UNIQUE (workspace_id, name)
);
CREATE INDEX flows_ws_created ON flows (workspace_id, created);
CREATE INDEX flows_ws_updated ON flows (workspace_id, updated);

CREATE TABLE flow_runs (
    workspace_id              uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id                        uuid PRIMARY KEY,
    flow_id                   uuid NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    name                      text NOT NULL,
    created                   bigint NOT NULL,
    updated                   bigint NOT NULL,
    state_id                  uuid,
    state_type                text,
    state_name                text,
    state_timestamp           bigint,
    deployment_id             uuid,
    work_queue_name           text,
    flow_version              text,
    parent_task_run_id        uuid,
    idempotency_key           text,
    tags                      jsonb NOT NULL DEFAULT '[]',
    start_time                bigint,
    end_time                  bigint,
    expected_start_time       bigint,
    next_scheduled_start_time bigint,
    body                      json NOT NULL,
    -- The queue a run waits in lives in the body; the dispatch query looks
    -- it up through this column.
    work_queue_ref            text GENERATED ALWAYS AS (body ->> 'work_queue_id') STORED
);
CREATE UNIQUE INDEX flow_runs_ws_idempotency ON flow_runs (workspace_id, flow_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX flow_runs_ws_flow ON flow_runs (workspace_id, flow_id);
CREATE INDEX flow_runs_ws_state_type ON flow_runs (workspace_id, state_type);
CREATE INDEX flow_runs_ws_deployment ON flow_runs (workspace_id, deployment_id, state_type);
CREATE INDEX flow_runs_ws_parent_task ON flow_runs (workspace_id, parent_task_run_id) WHERE parent_task_run_id IS NOT NULL;
CREATE INDEX flow_runs_ws_queue_state ON flow_runs (workspace_id, work_queue_ref, state_type, next_scheduled_start_time);
-- Cross-workspace sweeps of the background services.
CREATE INDEX flow_runs_state_next ON flow_runs (state_type, next_scheduled_start_time);
CREATE INDEX flow_runs_state_ts ON flow_runs (state_type, state_timestamp);
-- The dashboard and the listings' sorts.
CREATE INDEX flow_runs_ws_state_name ON flow_runs (workspace_id, state_name, expected_start_time, id);
CREATE INDEX flow_runs_ws_expected_state ON flow_runs (workspace_id, expected_start_time, state_type, state_name, start_time, end_time);
CREATE INDEX flow_runs_ws_start_sort ON flow_runs (workspace_id, (coalesce(start_time, expected_start_time)), id);
CREATE INDEX flow_runs_ws_id ON flow_runs (workspace_id, id);
CREATE INDEX flow_runs_tags ON flow_runs USING gin (tags jsonb_path_ops);

CREATE TABLE flow_run_states (
    workspace_id uuid NOT NULL,
    id           uuid PRIMARY KEY,
    flow_run_id  uuid NOT NULL REFERENCES flow_runs (id) ON DELETE CASCADE,
    timestamp    bigint NOT NULL,
    -- insertion order, the tie-break of equal timestamps
    n            bigint GENERATED ALWAYS AS IDENTITY,
    body         json NOT NULL
);
CREATE INDEX flow_run_states_run ON flow_run_states (flow_run_id, timestamp, n);

-- task_runs.flow_run_id has no foreign key: client events may name a flow run
-- this server has not seen (or has deleted); deletes cascade in code.
CREATE TABLE task_runs (
    workspace_id              uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id                        uuid PRIMARY KEY,
    flow_run_id               uuid,
    name                      text NOT NULL,
    task_key                  text NOT NULL,
    dynamic_key               text NOT NULL,
    created                   bigint NOT NULL,
    updated                   bigint NOT NULL,
    state_id                  uuid,
    state_type                text,
    state_name                text,
    state_timestamp           bigint,
    tags                      jsonb NOT NULL DEFAULT '[]',
    start_time                bigint,
    end_time                  bigint,
    expected_start_time       bigint,
    next_scheduled_start_time bigint,
    body                      json NOT NULL
);
CREATE UNIQUE INDEX task_runs_ws_natural_key ON task_runs (workspace_id, flow_run_id, task_key, dynamic_key);
CREATE INDEX task_runs_ws_flow_run ON task_runs (workspace_id, flow_run_id, id);
CREATE INDEX task_runs_ws_state_type ON task_runs (workspace_id, state_type);
CREATE INDEX task_runs_ws_expected ON task_runs (workspace_id, expected_start_time);
CREATE INDEX task_runs_ws_start_state ON task_runs (workspace_id, start_time, state_type);
CREATE INDEX task_runs_ws_id ON task_runs (workspace_id, id);
-- Background tasks (no flow run) waiting for a task worker.
CREATE INDEX task_runs_ws_scheduled_bg ON task_runs (workspace_id, next_scheduled_start_time)
    WHERE flow_run_id IS NULL AND state_type = 'SCHEDULED';

CREATE TABLE task_run_states (
    workspace_id uuid NOT NULL,
    id           uuid PRIMARY KEY,
    task_run_id  uuid NOT NULL REFERENCES task_runs (id) ON DELETE CASCADE,
    timestamp    bigint NOT NULL,
    n            bigint GENERATED ALWAYS AS IDENTITY,
    body         json NOT NULL
);
CREATE INDEX task_run_states_run ON task_run_states (task_run_id, timestamp, n);

CREATE TABLE logs (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           uuid PRIMARY KEY,
    created      bigint NOT NULL,
    name         text NOT NULL,
    level        integer NOT NULL,
    message      text NOT NULL,
    timestamp    bigint NOT NULL,
    flow_run_id  uuid,
    task_run_id  uuid,
    worker_id    uuid
);
CREATE INDEX logs_ws_flow_run ON logs (workspace_id, flow_run_id, timestamp);
CREATE INDEX logs_ws_task_run ON logs (workspace_id, task_run_id, timestamp) WHERE task_run_id IS NOT NULL;
CREATE INDEX logs_ws_timestamp ON logs (workspace_id, timestamp);

-- Events are unique per workspace (a resent event is dropped). seq is the
-- event's position in the stream of every workspace's events: the id of the
-- transaction that wrote it shifted left by 20 bits plus its rank in that
-- transaction, so a reader that stops at the oldest running transaction
-- never skips an event that commits later (see EventsAfter).
CREATE TABLE events (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           uuid NOT NULL,
    occurred     bigint NOT NULL,
    received     bigint NOT NULL,
    event        text NOT NULL,
    resource_id  text NOT NULL,
    body         json NOT NULL,
    seq          bigint NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX events_ws_occurred ON events (workspace_id, occurred);
CREATE INDEX events_ws_event ON events (workspace_id, event, occurred);
CREATE INDEX events_ws_resource ON events (workspace_id, resource_id, event, occurred);
CREATE INDEX events_seq ON events (seq);

-- One row per resource of an event: the primary resource (role '') and every
-- related one, so resource/related/any_resource filters are index lookups.
CREATE TABLE event_resources (
    workspace_id uuid NOT NULL,
    resource_id  text NOT NULL,
    occurred     bigint NOT NULL,
    event_id     uuid NOT NULL,
    role         text NOT NULL,
    PRIMARY KEY (workspace_id, resource_id, occurred, event_id, role)
);
CREATE INDEX event_resources_occurred ON event_resources (occurred);

CREATE TABLE concurrency_limits (
    workspace_id               uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id                         uuid PRIMARY KEY,
    name                       text NOT NULL,
    created                    bigint NOT NULL,
    updated                    bigint NOT NULL,
    active                     boolean NOT NULL,
    "limit"                    integer NOT NULL,
    active_slots               integer NOT NULL,
    denied_slots               integer NOT NULL,
    slot_decay_per_second      double precision NOT NULL,
    avg_slot_occupancy_seconds double precision NOT NULL,
    UNIQUE (workspace_id, name)
);

-- resource_ids is a JSON array of the limit ids the lease holds slots on.
CREATE TABLE concurrency_leases (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           uuid PRIMARY KEY,
    created      bigint NOT NULL,
    expiration   bigint NOT NULL,
    slots        integer NOT NULL,
    resource_ids jsonb NOT NULL,
    holder       jsonb
);
CREATE INDEX concurrency_leases_ws ON concurrency_leases (workspace_id, expiration);
CREATE INDEX concurrency_leases_expiration ON concurrency_leases (expiration);
CREATE INDEX concurrency_leases_resources ON concurrency_leases USING gin (resource_ids jsonb_path_ops);

CREATE TABLE deployments (
    workspace_id      uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id                uuid PRIMARY KEY,
    flow_id           uuid NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    name              text NOT NULL,
    created           bigint NOT NULL,
    updated           bigint NOT NULL,
    paused            boolean NOT NULL DEFAULT false,
    tags              jsonb NOT NULL DEFAULT '[]',
    work_queue_name   text,
    work_queue_id     uuid,
    concurrency_limit integer,
    -- true when at least one schedule is active (the scheduler's filter).
    scheduled         boolean NOT NULL DEFAULT false,
    -- Bumped whenever what scheduled runs derive from changes; the
    -- scheduler inserts runs only for the generation it read.
    generation        bigint NOT NULL DEFAULT 0,
    -- When the scheduler must look at this deployment again (NULL: now).
    next_check        bigint,
    last_polled       bigint,
    status            text NOT NULL DEFAULT 'NOT_READY',
    body              json NOT NULL,
    UNIQUE (workspace_id, flow_id, name)
);
CREATE INDEX deployments_ws_created ON deployments (workspace_id, created);
CREATE INDEX deployments_ws_name ON deployments (workspace_id, name);
CREATE INDEX deployments_due ON deployments (next_check) WHERE scheduled AND NOT paused;
CREATE INDEX deployments_ws_queue ON deployments (workspace_id, work_queue_id);

CREATE TABLE work_pools (
    workspace_id      uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id                uuid PRIMARY KEY,
    name              text NOT NULL,
    type              text NOT NULL,
    created           bigint NOT NULL,
    updated           bigint NOT NULL,
    is_paused         boolean NOT NULL DEFAULT false,
    status            text NOT NULL,
    concurrency_limit integer,
    body              json NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE work_queues (
    workspace_id      uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id                uuid PRIMARY KEY,
    work_pool_id      uuid NOT NULL REFERENCES work_pools (id) ON DELETE CASCADE,
    name              text NOT NULL,
    created           bigint NOT NULL,
    updated           bigint NOT NULL,
    priority          integer NOT NULL,
    is_paused         boolean NOT NULL DEFAULT false,
    concurrency_limit integer,
    last_polled       bigint,
    status            text NOT NULL,
    body              json NOT NULL,
    UNIQUE (work_pool_id, name)
);
CREATE INDEX work_queues_ws ON work_queues (workspace_id, work_pool_id, priority);

CREATE TABLE workers (
    workspace_id       uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id                 uuid PRIMARY KEY,
    work_pool_id       uuid NOT NULL REFERENCES work_pools (id) ON DELETE CASCADE,
    name               text NOT NULL,
    created            bigint NOT NULL,
    last_heartbeat     bigint NOT NULL,
    heartbeat_interval integer,
    status             text NOT NULL,
    UNIQUE (work_pool_id, name)
);
CREATE INDEX workers_status ON workers (status, last_heartbeat);

-- Cloud-mode tenancy. Secrets are never stored: keys and session tokens as
-- SHA-256 hashes, passwords as argon2id encodings.
CREATE TABLE users (
    id             uuid PRIMARY KEY,
    -- NULL for service accounts; people sign in with it (case-insensitive).
    email          text,
    name           text NOT NULL,
    password_hash  text NOT NULL DEFAULT '',
    is_bot         boolean NOT NULL DEFAULT false,
    bot_account_id uuid REFERENCES accounts (id) ON DELETE CASCADE,
    created        bigint NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE account_members (
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text NOT NULL,
    created    bigint NOT NULL,
    PRIMARY KEY (account_id, user_id)
);
CREATE INDEX account_members_user ON account_members (user_id);

CREATE TABLE workspace_members (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         text NOT NULL,
    created      bigint NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_members_user ON workspace_members (user_id);

CREATE TABLE api_keys (
    id        uuid PRIMARY KEY,
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name      text NOT NULL,
    prefix    text NOT NULL,
    hash      bytea NOT NULL UNIQUE,
    created   bigint NOT NULL,
    expires   bigint,
    last_used bigint
);
CREATE INDEX api_keys_user ON api_keys (user_id, created);

CREATE TABLE sessions (
    hash    bytea PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created bigint NOT NULL,
    expires bigint NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Variables and artifacts.
CREATE TABLE variables (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           uuid PRIMARY KEY,
    name         text NOT NULL,
    created      bigint NOT NULL,
    updated      bigint NOT NULL,
    tags         jsonb NOT NULL DEFAULT '[]',
    body         json NOT NULL
);
CREATE UNIQUE INDEX variables_ws_name ON variables (workspace_id, name);

CREATE TABLE artifacts (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           uuid PRIMARY KEY,
    key          text,
    type         text,
    flow_run_id  uuid,
    task_run_id  uuid,
    created      bigint NOT NULL,
    updated      bigint NOT NULL,
    body         json NOT NULL
);
CREATE INDEX artifacts_ws_key ON artifacts (workspace_id, key, created);
CREATE INDEX artifacts_ws_flow_run ON artifacts (workspace_id, flow_run_id);
CREATE INDEX artifacts_ws_task_run ON artifacts (workspace_id, task_run_id);

-- One row per artifact key: the newest artifact of that key (latest_id),
-- with its fields copied so listings need no join.
CREATE TABLE artifact_collections (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           uuid PRIMARY KEY,
    key          text NOT NULL,
    latest_id    uuid NOT NULL,
    type         text,
    flow_run_id  uuid,
    task_run_id  uuid,
    created      bigint NOT NULL,
    updated      bigint NOT NULL,
    body         json NOT NULL
);
CREATE UNIQUE INDEX artifact_collections_ws_key ON artifact_collections (workspace_id, key);

-- Blocks: types, schemas, documents and the references between documents,
-- plus per-workspace settings. Document data is stored sealed (AES-256-GCM,
-- key outside the database, see internal/blocks).
CREATE TABLE block_types (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           uuid PRIMARY KEY,
    slug         text NOT NULL,
    name         text NOT NULL,
    created      bigint NOT NULL,
    updated      bigint NOT NULL,
    body         json NOT NULL
);
CREATE UNIQUE INDEX block_types_ws_slug ON block_types (workspace_id, slug);

CREATE TABLE block_schemas (
    workspace_id  uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id            uuid PRIMARY KEY,
    block_type_id uuid NOT NULL REFERENCES block_types (id) ON DELETE CASCADE,
    checksum      text NOT NULL,
    version       text NOT NULL,
    capabilities  jsonb NOT NULL DEFAULT '[]',
    created       bigint NOT NULL,
    body          json NOT NULL
);
CREATE UNIQUE INDEX block_schemas_ws_checksum ON block_schemas (workspace_id, checksum, version);
CREATE INDEX block_schemas_type ON block_schemas (block_type_id);

CREATE TABLE block_documents (
    workspace_id    uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id              uuid PRIMARY KEY,
    name            text NOT NULL,
    block_type_id   uuid NOT NULL REFERENCES block_types (id) ON DELETE CASCADE,
    block_schema_id uuid NOT NULL REFERENCES block_schemas (id) ON DELETE CASCADE,
    block_type_name text NOT NULL,
    is_anonymous    boolean NOT NULL DEFAULT false,
    created         bigint NOT NULL,
    updated         bigint NOT NULL,
    -- sealed JSON of the document's own fields
    data            bytea NOT NULL
);
CREATE UNIQUE INDEX block_documents_ws_type_name ON block_documents (workspace_id, block_type_id, name);
CREATE INDEX block_documents_ws_name ON block_documents (workspace_id, name);
CREATE INDEX block_documents_schema ON block_documents (block_schema_id);

CREATE TABLE block_document_references (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    parent_id    uuid NOT NULL REFERENCES block_documents (id) ON DELETE CASCADE,
    ref_id       uuid NOT NULL REFERENCES block_documents (id) ON DELETE CASCADE,
    name         text NOT NULL,
    PRIMARY KEY (parent_id, name)
);
CREATE INDEX block_document_references_ref ON block_document_references (ref_id);

CREATE TABLE workspace_settings (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    key          text NOT NULL,
    value        json NOT NULL,
    PRIMARY KEY (workspace_id, key)
);

-- Flow-run inputs and saved searches.
CREATE TABLE flow_run_inputs (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           uuid PRIMARY KEY,
    flow_run_id  uuid NOT NULL REFERENCES flow_runs (id) ON DELETE CASCADE,
    key          text NOT NULL,
    created      bigint NOT NULL,
    body         json NOT NULL,
    UNIQUE (flow_run_id, key)
);
CREATE INDEX flow_run_inputs_ws_run ON flow_run_inputs (workspace_id, flow_run_id, key);

CREATE TABLE saved_searches (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           uuid PRIMARY KEY,
    name         text NOT NULL,
    created      bigint NOT NULL,
    body         json NOT NULL,
    UNIQUE (workspace_id, name)
);

-- Automations: definitions, the resources they relate to, the evaluation
-- state of their triggers, and the queue of their actions.
CREATE TABLE automations (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           uuid NOT NULL,
    name         text NOT NULL,
    enabled      boolean NOT NULL,
    created      bigint NOT NULL,
    updated      bigint NOT NULL,
    body         json NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

CREATE TABLE automation_related_resources (
    workspace_id  uuid NOT NULL,
    automation_id uuid NOT NULL,
    resource_id   text NOT NULL,
    owned         boolean NOT NULL,
    PRIMARY KEY (workspace_id, automation_id, resource_id),
    FOREIGN KEY (workspace_id, automation_id) REFERENCES automations (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX automation_related_by_resource ON automation_related_resources (workspace_id, resource_id);

CREATE TABLE automation_buckets (
    workspace_id  uuid NOT NULL,
    automation_id uuid NOT NULL,
    trigger_id    uuid NOT NULL,
    bucketing_key text NOT NULL,
    start         bigint NOT NULL,
    "end"         bigint NOT NULL,
    count         integer NOT NULL,
    last_event    json,
    PRIMARY KEY (workspace_id, automation_id, trigger_id, bucketing_key),
    FOREIGN KEY (workspace_id, automation_id) REFERENCES automations (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX automation_buckets_end ON automation_buckets ("end");

CREATE TABLE automation_child_firings (
    workspace_id      uuid NOT NULL,
    automation_id     uuid NOT NULL,
    parent_trigger_id uuid NOT NULL,
    child_trigger_id  uuid NOT NULL,
    firing_id         uuid NOT NULL,
    fired_at          bigint NOT NULL,
    firing            json NOT NULL,
    PRIMARY KEY (workspace_id, automation_id, parent_trigger_id, child_trigger_id),
    FOREIGN KEY (workspace_id, automation_id) REFERENCES automations (workspace_id, id) ON DELETE CASCADE
);

CREATE TABLE automation_trigger_states (
    workspace_id  uuid NOT NULL,
    automation_id uuid NOT NULL,
    trigger_id    uuid NOT NULL,
    state         json NOT NULL,
    PRIMARY KEY (workspace_id, automation_id, trigger_id),
    FOREIGN KEY (workspace_id, automation_id) REFERENCES automations (workspace_id, id) ON DELETE CASCADE
);

-- The engine's position in the stream of every workspace's events.
CREATE TABLE automation_engine (
    name     text PRIMARY KEY,
    position bigint NOT NULL
);

CREATE TABLE automation_actions (
    workspace_id  uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id            uuid NOT NULL,
    automation_id uuid NOT NULL,
    status        text NOT NULL,
    attempts      integer NOT NULL,
    next_attempt  bigint NOT NULL,
    created       bigint NOT NULL,
    updated       bigint NOT NULL,
    body          json NOT NULL,
    result        json,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX automation_actions_due ON automation_actions (status, next_attempt);
CREATE INDEX automation_actions_by_automation ON automation_actions (workspace_id, automation_id, created);

-- Inbound webhooks; the slug is the URL's secret and unique across workspaces.
CREATE TABLE webhooks (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           uuid NOT NULL,
    slug         text NOT NULL UNIQUE,
    name         text NOT NULL,
    created      bigint NOT NULL,
    updated      bigint NOT NULL,
    body         json NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
