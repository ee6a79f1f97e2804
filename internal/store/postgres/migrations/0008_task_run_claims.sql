-- 0008: claims on background task runs (`prefect task serve`), shared by the
-- replicas so that each such run goes to exactly one task worker even when
-- the workers are connected to different replicas. A claim that was never
-- acknowledged may be taken over once it is stale (its replica died).
CREATE TABLE task_run_claims (
    task_run_id uuid PRIMARY KEY REFERENCES task_runs (id) ON DELETE CASCADE,
    holder      text NOT NULL,
    claimed     bigint NOT NULL,
    acked       boolean NOT NULL DEFAULT false
);
