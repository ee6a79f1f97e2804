-- 0022: fewer index pages written per run write (issue 12).
--
-- Every index on a table costs one B-tree page per inserted row, and an
-- update moves the row's entry in every index holding a changed column. A
-- flow run's lifecycle (create, Running, Completed) wrote ~21 WAL frames per
-- write, one per index touched. Four flow_runs indexes exist for columns
-- that most runs leave NULL and that every query reading through them
-- compares to a value (=, IN, <, <=), so they become partial indexes that
-- hold only the runs with a value: an ad-hoc run (no deployment, no work
-- queue, not a subflow, not scheduled) no longer writes them at all.
--   deployment_id        flows run from a deployment
--   parent_task_run_id   subflows
--   work_queue_ref       runs of a work queue (the dispatch and slot queries)
--   next_scheduled_start_time  set only while a run is SCHEDULED (late runs,
--                        the gauges; the sweep of other states reads
--                        flow_runs_state_ts)
-- A filter for "no deployment" (is_null_) reads the workspace instead; that
-- is rare, and the run listings' sort indexes still bound it.
--
-- task_runs_ws_state_type (workspace_id, state_type) is a prefix of
-- task_runs_ws_state_ts (workspace_id, state_type, state_timestamp), which
-- serves every query it did; every task-run state change moved an entry in
-- both.
DROP INDEX flow_runs_ws_deployment;
CREATE INDEX flow_runs_ws_deployment ON flow_runs (workspace_id, deployment_id) WHERE deployment_id IS NOT NULL;
DROP INDEX flow_runs_ws_parent_task;
CREATE INDEX flow_runs_ws_parent_task ON flow_runs (workspace_id, parent_task_run_id) WHERE parent_task_run_id IS NOT NULL;
DROP INDEX flow_runs_ws_queue_state;
CREATE INDEX flow_runs_ws_queue_state ON flow_runs (workspace_id, work_queue_ref, state_type, next_scheduled_start_time)
    WHERE work_queue_ref IS NOT NULL;
DROP INDEX flow_runs_state_next;
CREATE INDEX flow_runs_state_next ON flow_runs (state_type, next_scheduled_start_time) WHERE next_scheduled_start_time IS NOT NULL;
DROP INDEX task_runs_ws_state_type;
