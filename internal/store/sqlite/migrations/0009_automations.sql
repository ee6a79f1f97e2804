-- Automations: definitions, the resources they relate to, the evaluation
-- state of their triggers, and the queue of their actions.

CREATE TABLE automations (
    workspace_id BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           BLOB NOT NULL,
    name         TEXT NOT NULL,
    enabled      INTEGER NOT NULL,
    created      INTEGER NOT NULL,
    updated      INTEGER NOT NULL,
    body         TEXT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

CREATE TABLE automation_related_resources (
    workspace_id  BLOB NOT NULL,
    automation_id BLOB NOT NULL,
    resource_id   TEXT NOT NULL,
    owned         INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, automation_id, resource_id),
    FOREIGN KEY (workspace_id, automation_id) REFERENCES automations (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX automation_related_by_resource ON automation_related_resources (workspace_id, resource_id);

-- An event trigger's count of matching events in its current window, one
-- row per trigger and bucketing key (the values of its for_each labels).
CREATE TABLE automation_buckets (
    workspace_id  BLOB NOT NULL,
    automation_id BLOB NOT NULL,
    trigger_id    BLOB NOT NULL,
    bucketing_key TEXT NOT NULL,
    start         INTEGER NOT NULL,
    "end"         INTEGER NOT NULL,
    count         INTEGER NOT NULL,
    last_event    TEXT,
    PRIMARY KEY (workspace_id, automation_id, trigger_id, bucketing_key),
    FOREIGN KEY (workspace_id, automation_id) REFERENCES automations (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX automation_buckets_end ON automation_buckets ("end");

-- The latest firing of each child of a compound or sequence trigger.
CREATE TABLE automation_child_firings (
    workspace_id      BLOB NOT NULL,
    automation_id     BLOB NOT NULL,
    parent_trigger_id BLOB NOT NULL,
    child_trigger_id  BLOB NOT NULL,
    firing_id         BLOB NOT NULL,
    fired_at          INTEGER NOT NULL,
    firing            TEXT NOT NULL,
    PRIMARY KEY (workspace_id, automation_id, parent_trigger_id, child_trigger_id),
    FOREIGN KEY (workspace_id, automation_id) REFERENCES automations (workspace_id, id) ON DELETE CASCADE
);

-- A trigger's own state besides buckets (a metric trigger's breach, a
-- proactive trigger's next evaluation).
CREATE TABLE automation_trigger_states (
    workspace_id  BLOB NOT NULL,
    automation_id BLOB NOT NULL,
    trigger_id    BLOB NOT NULL,
    state         TEXT NOT NULL,
    PRIMARY KEY (workspace_id, automation_id, trigger_id),
    FOREIGN KEY (workspace_id, automation_id) REFERENCES automations (workspace_id, id) ON DELETE CASCADE
);

-- The engine's position in the stream of every workspace's events. It is
-- the one row that belongs to no workspace: the engine reads all of them.
CREATE TABLE automation_engine (
    name     TEXT PRIMARY KEY NOT NULL,
    position INTEGER NOT NULL
);

-- Actions queued by firings, carried out at least once. Rows outlive their
-- automation (a firing's actions still run after it is deleted).
CREATE TABLE automation_actions (
    workspace_id  BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id            BLOB NOT NULL,
    automation_id BLOB NOT NULL,
    status        TEXT NOT NULL,
    attempts      INTEGER NOT NULL,
    next_attempt  INTEGER NOT NULL,
    created       INTEGER NOT NULL,
    updated       INTEGER NOT NULL,
    body          TEXT NOT NULL,
    result        TEXT,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX automation_actions_due ON automation_actions (status, next_attempt);
CREATE INDEX automation_actions_by_automation ON automation_actions (workspace_id, automation_id, created);

-- Every event gets a position in commit order, so the automations engine
-- can resume exactly where it stopped. rowid is not enough: SQLite reuses
-- the largest rowid once its row is deleted.
ALTER TABLE events ADD COLUMN seq INTEGER;
UPDATE events SET seq = rowid;
CREATE INDEX events_seq ON events (seq);
