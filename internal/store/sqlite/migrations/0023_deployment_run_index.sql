-- 0023: a deployment's next and latest runs read through one index (issue 15).
--
-- The deployments list asks, for each of its 25 rows, for the deployment's
-- next scheduled run (deployment + SCHEDULED, earliest expected start) and
-- its latest other runs (deployment + not SCHEDULED, latest expected start
-- first): POST /ui/deployments/runs. Through (workspace_id, deployment_id)
-- alone, each query read every run of the deployment from the table to test
-- its state and sort it: 1.8 s for a page at 100,000 runs where the
-- deployments had 1,000-26,000 runs each. With the state type and expected
-- start in the index (and id, the listings' tie-breaker), the state test,
-- the count that picks the plan and the sort are index-only: about 0.09 s.
-- Still partial (0022): runs without a deployment hold no entry.
DROP INDEX flow_runs_ws_deployment;
CREATE INDEX flow_runs_ws_deployment ON flow_runs (workspace_id, deployment_id, state_type, expected_start_time, id)
    WHERE deployment_id IS NOT NULL;
