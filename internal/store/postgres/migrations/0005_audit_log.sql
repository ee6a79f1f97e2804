-- 0005: cloud mode's audit log (issue 13). Append-only: a trigger refuses
-- every UPDATE; only retention deletes (old entries). No foreign keys: an
-- entry outlives the user, key or workspace it names.
CREATE TABLE audit_log (
    id           uuid PRIMARY KEY,
    account_id   uuid NOT NULL,
    occurred     bigint NOT NULL,
    workspace_id uuid,
    actor_id     uuid,
    actor_name   text NOT NULL DEFAULT '',
    actor_key_id uuid,
    action       text NOT NULL,
    outcome      text NOT NULL,
    target_type  text NOT NULL DEFAULT '',
    target_id    text NOT NULL DEFAULT '',
    target_name  text NOT NULL DEFAULT '',
    source_addr  text NOT NULL DEFAULT '',
    detail       text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_account ON audit_log (account_id, occurred);
CREATE INDEX audit_log_occurred ON audit_log (occurred);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
