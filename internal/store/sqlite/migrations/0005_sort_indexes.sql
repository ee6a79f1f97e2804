-- Indexes for the listing sorts that had none, found by profiling /flow_runs/filter
-- with 100,000 runs (bench/FINDINGS.md): without them SQLite visits and sorts every
-- row of the workspace to return one page.

-- START_TIME_ASC|DESC sort on coalesce(start_time, expected_start_time), id.
CREATE INDEX flow_runs_ws_start_sort ON flow_runs (workspace_id, coalesce(start_time, expected_start_time), id);

-- ID_DESC, the default sort (id is not the rowid, so it needs its own index).
CREATE INDEX flow_runs_ws_id ON flow_runs (workspace_id, id);
CREATE INDEX task_runs_ws_id ON task_runs (workspace_id, id);
