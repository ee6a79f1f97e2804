-- 0003: indexes the retention service's deletes seek by (issue 16): terminal
-- task runs by the time they entered their state, artifacts by creation.
-- (Flow runs have flow_runs_state_ts; logs logs_ws_timestamp; events
-- events_ws_occurred.)
CREATE INDEX task_runs_ws_state_ts ON task_runs (workspace_id, state_type, state_timestamp);
CREATE INDEX artifacts_ws_created ON artifacts (workspace_id, created);
