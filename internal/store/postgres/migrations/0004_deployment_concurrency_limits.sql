-- A deployment's concurrency_limit is enforced, as in Prefect, through the
-- global concurrency limit "deployment:<id>" (whose id is the deployment's):
-- orchestration takes one of its slots when a run moves to PENDING and gives
-- it back when the run stops. Deployments that had a limit before get theirs
-- now, with the slots their PENDING, RUNNING and CANCELLING runs occupy, so
-- those runs give back a slot when they stop (a run without a lease releases
-- by decrementing the limit).
INSERT INTO concurrency_limits (workspace_id, id, name, created, updated, active, "limit", active_slots,
    denied_slots, slot_decay_per_second, avg_slot_occupancy_seconds)
SELECT d.workspace_id, d.id, 'deployment:' || d.id::text, d.updated, d.updated, true, d.concurrency_limit,
       (SELECT count(*) FROM flow_runs fr WHERE fr.workspace_id = d.workspace_id AND fr.deployment_id = d.id
            AND fr.state_type IN ('PENDING', 'RUNNING', 'CANCELLING')),
       0, 0, 0
FROM deployments d
WHERE d.concurrency_limit IS NOT NULL
ON CONFLICT DO NOTHING;
