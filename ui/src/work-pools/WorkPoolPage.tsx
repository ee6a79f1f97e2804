import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { api } from "../api/client";
import type { WorkPool, WorkQueue, Worker } from "../api/types";
import { Card, Empty, ErrorBox, JsonBlock, Loading, Time, TimeFull } from "../components/common";
import { ConfirmDialog } from "../components/Dialog";
import { Tabs } from "../components/Tabs";
import { notify, notifyError } from "../components/toast";
import { FlowRunsList } from "../flow-runs/FlowRunsList";
import { formatCount } from "../lib/format";
import { WorkPoolForm, WorkQueueForm } from "./forms";
import { PoolStatus, WorkerStatus } from "./status";

const TABS = [
  { id: "queues", label: "Work queues" },
  { id: "workers", label: "Workers" },
  { id: "runs", label: "Runs" },
  { id: "deployments", label: "Deployments" },
  { id: "template", label: "Base job template" },
] as const;
type TabId = (typeof TABS)[number]["id"];

export function WorkPoolPage() {
  const { name = "" } = useParams();
  const q = useQuery({ queryKey: ["work_pools", "one", name], queryFn: ({ signal }) => api.workPool(name, signal), refetchInterval: 5000 });
  if (q.isPending) return <div className="page"><Loading /></div>;
  if (q.isError) return <div className="page"><ErrorBox error={q.error} retry={() => void q.refetch()} /></div>;
  return <PoolView pool={q.data} />;
}

function PoolView({ pool }: { pool: WorkPool }) {
  const [params, setParams] = useSearchParams();
  const tabParam = params.get("tab");
  const tab: TabId = TABS.some((t) => t.id === tabParam) ? (tabParam as TabId) : "queues";
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  useEffect(() => {
    document.title = `${pool.name} · Work pools · Baton`;
  }, [pool.name]);
  const pause = useMutation({
    mutationFn: () => api.updateWorkPool(pool.name, { is_paused: !pool.is_paused }),
    onSuccess: async () => {
      notify(pool.is_paused ? `Resumed ${pool.name}` : `Paused ${pool.name}`);
      await qc.invalidateQueries({ queryKey: ["work_pools"] });
    },
    onError: (err) => notifyError(`Could not change ${pool.name}`, err),
  });
  const remove = useMutation({
    mutationFn: () => api.deleteWorkPool(pool.name),
    onSuccess: async () => {
      notify(`Deleted ${pool.name}`);
      await qc.invalidateQueries({ queryKey: ["work_pools"] });
      void navigate("/work-pools");
    },
  });
  return (
    <div className="page">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/work-pools">Work pools</Link>
      </nav>
      <header className="page-head">
        <h1>
          {pool.name} <PoolStatus pool={pool} />
        </h1>
        <div className="actions">
          <button type="button" onClick={() => pause.mutate()} disabled={pause.isPending}>
            {pool.is_paused ? "Resume pool" : "Pause pool"}
          </button>
          <button type="button" onClick={() => setEditing(true)}>
            Edit
          </button>
          <button type="button" className="ghost danger-text" onClick={() => setDeleting(true)}>
            Delete
          </button>
        </div>
      </header>
      {editing && <WorkPoolForm pool={pool} onClose={() => setEditing(false)} />}
      <ConfirmDialog
        open={deleting}
        title={`Delete ${pool.name}?`}
        body={<p>The pool, its queues and its worker records are removed; deployments that use it stop getting runs picked up.</p>}
        confirmLabel="Delete work pool"
        danger
        busy={remove.isPending}
        error={remove.error}
        onConfirm={() => remove.mutate()}
        onClose={() => setDeleting(false)}
      />
      <div className="summary-row">
        <div>
          <span className="stat-label">Type</span>
          <span>{pool.type}</span>
        </div>
        <div>
          <span className="stat-label">Concurrency</span>
          <span>
            {pool.concurrency_limit ?? "Unlimited"}
            {pool.active_slots != null && pool.concurrency_limit != null && ` (${pool.active_slots} in use)`}
          </span>
        </div>
        <div>
          <span className="stat-label">Description</span>
          <span>{pool.description || "—"}</span>
        </div>
        <div>
          <span className="stat-label">Created</span>
          <TimeFull iso={pool.created} />
        </div>
      </div>
      <Tabs
        tabs={TABS}
        active={tab}
        onChange={(t) => {
          const next = new URLSearchParams();
          next.set("tab", t);
          setParams(next, { replace: true });
        }}
      />
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="tab-panel">
        {tab === "queues" && <Queues pool={pool} />}
        {tab === "workers" && <Workers pool={pool} />}
        {tab === "runs" && <FlowRunsList scope={{ work_pools: { name: { any_: [pool.name] } } }} />}
        {tab === "deployments" && <PoolDeployments pool={pool} />}
        {tab === "template" && (pool.base_job_template && Object.keys(pool.base_job_template).length ? <JsonBlock value={pool.base_job_template} /> : <Empty title="No base job template" />)}
      </div>
      {tab !== "workers" && (
        <Card title="Workers">
          <WorkersSummary pool={pool} />
        </Card>
      )}
    </div>
  );
}

function useWorkers(pool: string) {
  return useQuery({ queryKey: ["work_pools", "workers", pool], queryFn: ({ signal }) => api.workers(pool, signal), refetchInterval: 5000, placeholderData: keepPreviousData });
}

function WorkersSummary({ pool }: { pool: WorkPool }) {
  const w = useWorkers(pool.name);
  if (!w.data) return <Loading />;
  const online = w.data.filter((x) => x.status === "ONLINE").length;
  return (
    <p data-testid="workers-summary">
      {online} of {w.data.length} worker{w.data.length === 1 ? "" : "s"} online.
    </p>
  );
}

function Queues({ pool }: { pool: WorkPool }) {
  const qc = useQueryClient();
  const [form, setForm] = useState<WorkQueue | "new" | null>(null);
  const [deleting, setDeleting] = useState<WorkQueue | null>(null);
  const queues = useQuery({ queryKey: ["work_queues", pool.name], queryFn: ({ signal }) => api.workQueues(pool.name, signal), refetchInterval: 5000, placeholderData: keepPreviousData });
  const pause = useMutation({
    mutationFn: (q: WorkQueue) => api.updateWorkQueue(pool.name, q.name, { is_paused: !q.is_paused }),
    onSuccess: async (_v, q) => {
      notify(q.is_paused ? `Resumed queue ${q.name}` : `Paused queue ${q.name}`);
      await qc.invalidateQueries({ queryKey: ["work_queues"] });
    },
    onError: (err) => notifyError("Could not change the queue", err),
  });
  const remove = useMutation({
    mutationFn: (q: WorkQueue) => api.deleteWorkQueue(pool.name, q.name),
    onSuccess: async () => {
      notify("Queue deleted");
      setDeleting(null);
      await qc.invalidateQueries({ queryKey: ["work_queues"] });
    },
  });
  return (
    <div className="stack">
      <div className="toolbar">
        <button type="button" onClick={() => setForm("new")}>
          Add queue
        </button>
      </div>
      {form && <WorkQueueForm pool={pool.name} queue={form === "new" ? null : form} onClose={() => setForm(null)} />}
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete queue ${deleting?.name ?? ""}?`}
        body={<p>Deployments that send runs to this queue will need another one.</p>}
        confirmLabel="Delete queue"
        danger
        busy={remove.isPending}
        error={remove.error}
        onConfirm={() => deleting && remove.mutate(deleting)}
        onClose={() => setDeleting(null)}
      />
      {queues.isError ? (
        <ErrorBox error={queues.error} retry={() => void queues.refetch()} />
      ) : !queues.data ? (
        <Loading />
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="queues-table" data-keynav>
            <thead>
              <tr>
                <th scope="col">Queue</th>
                <th scope="col" className="num">Priority</th>
                <th scope="col" className="num">Concurrency</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">Late runs</th>
                <th scope="col">Last polled</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {[...queues.data]
                .sort((a, b) => a.priority - b.priority || a.name.localeCompare(b.name))
                .map((q) => (
                  <tr key={q.id} data-queue={q.name}>
                    <td>
                      <strong>{q.name}</strong>
                      {q.id === pool.default_queue_id && <span className="muted small"> (default)</span>}
                      {q.description && <div className="muted small">{q.description}</div>}
                    </td>
                    <td className="num">{q.priority}</td>
                    <td className="num">
                      {q.concurrency_limit ?? "∞"}
                      {q.active_slots != null && q.concurrency_limit != null && <span className="muted"> ({q.active_slots} in use)</span>}
                    </td>
                    <td>
                      <PoolStatus pool={q} />
                    </td>
                    <td className="num">
                      <LateCount pool={pool.name} queue={q.name} />
                    </td>
                    <td>
                      <Time iso={q.last_polled} />
                    </td>
                    <td className="row-actions">
                      <button type="button" className="small" onClick={() => pause.mutate(q)} disabled={pause.isPending} aria-label={`${q.is_paused ? "Resume" : "Pause"} queue ${q.name}`}>
                        {q.is_paused ? "Resume" : "Pause"}
                      </button>
                      <button type="button" className="small" onClick={() => setForm(q)} aria-label={`Edit queue ${q.name}`}>
                        Edit
                      </button>
                      {q.id !== pool.default_queue_id && (
                        <button type="button" className="small ghost danger-text" onClick={() => setDeleting(q)} aria-label={`Delete queue ${q.name}`}>
                          Delete
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function LateCount({ pool, queue }: { pool: string; queue: string }) {
  const q = useQuery({
    queryKey: ["flow_runs", "count", "late-queue", pool, queue],
    queryFn: ({ signal }) => api.flowRunsCount({ work_pools: { name: { any_: [pool] } }, flow_runs: { work_queue_name: { any_: [queue] }, state: { name: { any_: ["Late"] } } } }, signal),
    refetchInterval: 15_000,
  });
  if (q.data === undefined) return <span className="muted">…</span>;
  return q.data > 0 ? <Link to="/runs?state=LATE" className="late">{formatCount(q.data)}</Link> : <span className="muted">0</span>;
}

function Workers({ pool }: { pool: WorkPool }) {
  const qc = useQueryClient();
  const w = useWorkers(pool.name);
  const [deleting, setDeleting] = useState<Worker | null>(null);
  const remove = useMutation({
    mutationFn: (x: Worker) => api.deleteWorker(pool.name, x.name),
    onSuccess: async () => {
      notify("Worker removed");
      setDeleting(null);
      await qc.invalidateQueries({ queryKey: ["work_pools", "workers"] });
    },
  });
  if (w.isError) return <ErrorBox error={w.error} retry={() => void w.refetch()} />;
  if (!w.data) return <Loading />;
  if (w.data.length === 0)
    return (
      <Empty title="No workers have polled this pool">
        <p>
          Start one: <code>baton worker start --pool {pool.name}</code> or <code>prefect worker start --pool {pool.name}</code>
        </p>
      </Empty>
    );
  return (
    <>
      <div className="table-wrap">
        <table className="table" data-testid="workers-table" data-keynav>
          <thead>
            <tr>
              <th scope="col">Worker</th>
              <th scope="col">Status</th>
              <th scope="col">Last heartbeat</th>
              <th scope="col" className="num">Heartbeat every</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {w.data.map((x) => (
              <tr key={x.id} data-worker={x.name} data-status={x.status}>
                <td>{x.name}</td>
                <td>
                  <WorkerStatus worker={x} />
                </td>
                <td>
                  <Time iso={x.last_heartbeat_time} />
                </td>
                <td className="num">{x.heartbeat_interval_seconds ? `${x.heartbeat_interval_seconds}s` : "—"}</td>
                <td className="row-actions">
                  <button type="button" className="small ghost danger-text" onClick={() => setDeleting(x)} aria-label={`Remove worker ${x.name}`}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ConfirmDialog
        open={deleting !== null}
        title={`Remove worker ${deleting?.name ?? ""}?`}
        body={<p>Only the record goes; a running worker re-registers at its next heartbeat.</p>}
        confirmLabel="Remove"
        danger
        busy={remove.isPending}
        error={remove.error}
        onConfirm={() => deleting && remove.mutate(deleting)}
        onClose={() => setDeleting(null)}
      />
    </>
  );
}

function PoolDeployments({ pool }: { pool: WorkPool }) {
  const q = useQuery({
    queryKey: ["deployments", "pool", pool.name],
    queryFn: ({ signal }) => api.deployments({ work_pools: { name: { any_: [pool.name] } }, sort: "NAME_ASC", limit: 200 }, signal),
  });
  if (q.isError) return <ErrorBox error={q.error} retry={() => void q.refetch()} />;
  if (!q.data) return <Loading />;
  if (q.data.length === 0) return <Empty title="No deployments use this pool" />;
  return (
    <ul className="run-rows" data-keynav>
      {q.data.map((d) => (
        <li key={d.id}>
          <Link to={`/deployments/deployment/${d.id}`}>
            {d.flow_name && <span className="muted">{d.flow_name} / </span>}
            {d.name}
          </Link>
          <span className="muted right">{d.work_queue_name}</span>
        </li>
      ))}
    </ul>
  );
}
