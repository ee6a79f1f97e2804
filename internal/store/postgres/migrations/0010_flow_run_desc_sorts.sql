-- 0010: indexes in the exact order of the newest-first flow-run sorts
-- (DESC NULLS LAST, as on SQLite). The ascending indexes of 0001, read
-- backwards, give DESC NULLS FIRST, so PostgreSQL sorted the whole
-- workspace for the UI's runs page (START_TIME_DESC): a sequential scan of
-- every run at each request. The state-type one serves the runs page
-- filtered by state (e.g. FAILED, newest expected start first).
CREATE INDEX flow_runs_ws_start_desc ON flow_runs (workspace_id, (coalesce(start_time, expected_start_time)) DESC NULLS LAST, id DESC);
CREATE INDEX flow_runs_ws_expected_desc ON flow_runs (workspace_id, expected_start_time DESC NULLS LAST, id DESC);
CREATE INDEX flow_runs_ws_state_expected_desc ON flow_runs (workspace_id, state_type, expected_start_time DESC NULLS LAST, id DESC);
CREATE INDEX flow_runs_ws_end_desc ON flow_runs (workspace_id, end_time DESC NULLS LAST, id DESC);
