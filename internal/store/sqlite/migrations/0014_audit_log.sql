-- 0014: cloud mode's audit log (issue 13). Append-only: a trigger refuses
-- every UPDATE; only retention deletes (old entries). No foreign keys: an
-- entry outlives the user, key or workspace it names.
CREATE TABLE audit_log (
    id           BLOB PRIMARY KEY NOT NULL,
    account_id   BLOB NOT NULL,
    occurred     INTEGER NOT NULL,
    workspace_id BLOB,
    actor_id     BLOB,
    actor_name   TEXT NOT NULL DEFAULT '',
    actor_key_id BLOB,
    action       TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    target_type  TEXT NOT NULL DEFAULT '',
    target_id    TEXT NOT NULL DEFAULT '',
    target_name  TEXT NOT NULL DEFAULT '',
    source_addr  TEXT NOT NULL DEFAULT '',
    detail       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_account ON audit_log (account_id, occurred);
CREATE INDEX audit_log_occurred ON audit_log (occurred);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
