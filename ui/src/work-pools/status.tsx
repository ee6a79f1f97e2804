import type { WorkPool, WorkQueue, Worker } from "../api/types";

/** Ready / not ready / paused, as Prefect reports a pool or a queue. */
export function PoolStatus({ pool }: { pool: Pick<WorkPool, "is_paused" | "status"> | Pick<WorkQueue, "is_paused" | "status"> }) {
  if (pool.is_paused || pool.status === "PAUSED") return <span className="pill paused">Paused</span>;
  if (pool.status === "READY") return <span className="pill ok">Ready</span>;
  return <span className="pill warn">Not ready</span>;
}

export function WorkerStatus({ worker }: { worker: Worker }) {
  return worker.status === "ONLINE" ? (
    <span className="pill ok" data-status="ONLINE">
      Online
    </span>
  ) : (
    <span className="pill off" data-status="OFFLINE">
      Offline
    </span>
  );
}
