import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api } from "../api/client";
import type { WorkPool } from "../api/types";
import { Empty, ErrorBox, Loading, Time } from "../components/common";
import { notify, notifyError } from "../components/toast";
import { WorkPoolForm } from "./forms";
import { PoolStatus } from "./status";

/** Work pools: type, status, concurrency and workers online, with pause and create. */
export function WorkPoolsPage() {
  const [creating, setCreating] = useState(false);
  const pools = useQuery({ queryKey: ["work_pools", "list"], queryFn: ({ signal }) => api.workPools({ limit: 200 }, signal), refetchInterval: 10_000, placeholderData: keepPreviousData });
  return (
    <div className="page">
      <header className="page-head">
        <h1>Work pools</h1>
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          Create work pool
        </button>
      </header>
      {creating && <WorkPoolForm pool={null} onClose={() => setCreating(false)} />}
      {pools.isError ? (
        <ErrorBox error={pools.error} retry={() => void pools.refetch()} />
      ) : pools.isPending ? (
        <Loading />
      ) : pools.data.length === 0 ? (
        <Empty title="No work pools yet">
          <p>
            Create one here or with <code>prefect work-pool create NAME --type process</code>, then start a worker on it.
          </p>
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="work-pools-table" data-keynav>
            <thead>
              <tr>
                <th scope="col">Work pool</th>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col">Workers online</th>
                <th scope="col">Last heartbeat</th>
                <th scope="col" className="num">Concurrency</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {pools.data.map((p) => (
                <PoolRow key={p.id} pool={p} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function PoolRow({ pool }: { pool: WorkPool }) {
  const qc = useQueryClient();
  const workers = useQuery({ queryKey: ["work_pools", "workers", pool.name], queryFn: ({ signal }) => api.workers(pool.name, signal), refetchInterval: 10_000 });
  const online = (workers.data ?? []).filter((w) => w.status === "ONLINE").length;
  const last = (workers.data ?? []).map((w) => w.last_heartbeat_time).filter((t): t is string => !!t).sort().at(-1) ?? null;
  const pause = useMutation({
    mutationFn: () => api.updateWorkPool(pool.name, { is_paused: !pool.is_paused }),
    onSuccess: async () => {
      notify(pool.is_paused ? `Resumed ${pool.name}` : `Paused ${pool.name}`);
      await qc.invalidateQueries({ queryKey: ["work_pools"] });
    },
    onError: (err) => notifyError(`Could not change ${pool.name}`, err),
  });
  return (
    <tr>
      <td>
        <Link to={`/work-pools/work-pool/${encodeURIComponent(pool.name)}`}>{pool.name}</Link>
        {pool.description && <div className="muted small">{pool.description}</div>}
      </td>
      <td>
        <span className="tag">{pool.type}</span>
      </td>
      <td>
        <PoolStatus pool={pool} />
      </td>
      <td>{workers.data ? `${online} of ${workers.data.length}` : "…"}</td>
      <td>
        <Time iso={last} />
      </td>
      <td className="num">
        {pool.concurrency_limit ?? "∞"}
        {pool.active_slots != null && pool.concurrency_limit != null && <span className="muted"> ({pool.active_slots} in use)</span>}
      </td>
      <td className="row-actions">
        <button type="button" className="small" onClick={() => pause.mutate()} disabled={pause.isPending} aria-label={`${pool.is_paused ? "Resume" : "Pause"} ${pool.name}`}>
          {pool.is_paused ? "Resume" : "Pause"}
        </button>
      </td>
    </tr>
  );
}
