-- 0004: indexes for the dashboard's counts at scale (measured with 100,000
-- flow runs and 1,000,000 task runs, docs/benchmarks-ui-scale.md). Each one
-- covers its query, so SQLite counts from the index without reading the
-- rows (whose JSON bodies make every row read expensive).

-- Task runs started in the dashboard's range, by state: the range scan on
-- start_time replaces a scan of every task run of the workspace.
CREATE INDEX task_runs_ws_start_state ON task_runs (workspace_id, start_time, state_type);

-- Runs by state name ("Late"), oldest due first: the late-runs count and list.
CREATE INDEX flow_runs_ws_state_name ON flow_runs (workspace_id, state_name, expected_start_time, id);

-- The state tiles and the history chart: runs due in the range, by state
-- type and name, with the start and end times the chart sums up.
CREATE INDEX flow_runs_ws_expected_state ON flow_runs (workspace_id, expected_start_time, state_type, state_name, start_time, end_time);
