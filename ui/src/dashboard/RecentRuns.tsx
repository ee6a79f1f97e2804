// The runs behind the dashboard's counts: a tab per state group (with its
// count), listing the newest runs of the range; plus work pool health and
// the deployments whose runs failed in the range.

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api } from "../api/client";
import { POLL_MS, useFlowNames } from "../api/queries";
import type { FlowRunQuery, StateType, WorkPool } from "../api/types";
import { Card, ErrorBox, FlowRunLink, Loading, StateBadge, Time } from "../components/common";
import { Tabs } from "../components/Tabs";
import { formatCount } from "../lib/format";
import { PoolStatus } from "../work-pools/status";

interface Group {
  id: string;
  label: string;
  types: StateType[] | null;
  param: string;
}

const GROUPS: Group[] = [
  { id: "all", label: "All", types: null, param: "" },
  { id: "failed", label: "Failed", types: ["FAILED", "CRASHED"], param: "FAILED,CRASHED" },
  { id: "running", label: "Running", types: ["RUNNING", "PENDING", "CANCELLING"], param: "RUNNING,PENDING,CANCELLING" },
  { id: "completed", label: "Completed", types: ["COMPLETED"], param: "COMPLETED" },
  { id: "scheduled", label: "Scheduled", types: ["SCHEDULED", "PAUSED"], param: "SCHEDULED,PAUSED" },
  { id: "cancelled", label: "Cancelled", types: ["CANCELLED"], param: "CANCELLED" },
];

/** Runs of the group in the range; only Scheduled looks past now (the upcoming ones). */
function query(g: Group, after: string): FlowRunQuery {
  const window = g.id === "scheduled" ? { after_: after } : { after_: after, before_: new Date(Math.ceil(Date.now() / 60_000) * 60_000).toISOString() };
  return { flow_runs: { expected_start_time: window, ...(g.types ? { state: { type: { any_: g.types } } } : {}) } };
}

function GroupCount({ g, after }: { g: Group; after: string }) {
  const q = useQuery({
    queryKey: ["flow_runs", "count", "recent-tab", g.id, after],
    queryFn: ({ signal }) => api.flowRunsCount(query(g, after), signal),
    placeholderData: keepPreviousData,
    refetchInterval: POLL_MS,
  });
  return <>{q.data === undefined ? "…" : formatCount(q.data)}</>;
}

export function RecentRunsCard({ after, range }: { after: string; range: string }) {
  const [tab, setTab] = useState("all");
  const g = GROUPS.find((x) => x.id === tab) ?? GROUPS[0];
  const group = g ?? { id: "all", label: "All", types: null, param: "" };
  const runs = useQuery({
    queryKey: ["flow_runs", "filter", "recent-tab", group.id, after],
    queryFn: ({ signal }) => api.flowRuns({ ...query(group, after), sort: group.id === "scheduled" ? "EXPECTED_START_TIME_ASC" : "EXPECTED_START_TIME_DESC", limit: 10 }, signal),
    placeholderData: keepPreviousData,
    refetchInterval: POLL_MS,
  });
  const flows = useFlowNames(runs.data?.map((r) => r.flow_id) ?? []);
  return (
    <Card title="Recent flow runs" actions={<Link to={`/runs?window=${range}${group.param ? `&state=${group.param}` : ""}`}>View all</Link>}>
      <div className="dash-tabs">
        <Tabs tabs={GROUPS.map((x) => ({ id: x.id, label: x.label }))} active={group.id} onChange={setTab} labels={(id) => {
          const x = GROUPS.find((y) => y.id === id);
          return x ? <>{x.label} <span className="muted">(<GroupCount g={x} after={after} />)</span></> : id;
        }} />
      </div>
      <div role="tabpanel" id={`panel-${group.id}`} aria-labelledby={`tab-${group.id}`} data-testid="recent-runs">
        {runs.isError ? (
          <ErrorBox error={runs.error} retry={() => void runs.refetch()} />
        ) : !runs.data ? (
          <Loading />
        ) : runs.data.length === 0 ? (
          <p className="muted pad">No {group.id === "all" ? "" : `${group.label.toLowerCase()} `}runs in this range.</p>
        ) : (
          <ul className="run-rows" data-keynav>
            {runs.data.map((r) => (
              <li key={r.id}>
                <StateBadge type={r.state_type} name={r.state_name} />
                <FlowRunLink id={r.id} name={r.name} flowName={flows.get(r.flow_id)?.name} />
                <span className="muted right">
                  <Time iso={r.start_time ?? r.expected_start_time} />
                </span>
              </li>
            ))}
          </ul>
        )}
      </div>
    </Card>
  );
}

function PoolHealth({ pool }: { pool: WorkPool }) {
  const workers = useQuery({ queryKey: ["work_pools", "workers", pool.name], queryFn: ({ signal }) => api.workers(pool.name, signal), refetchInterval: 15_000 });
  const late = useQuery({
    queryKey: ["flow_runs", "count", "late-pool", pool.name],
    queryFn: ({ signal }) => api.flowRunsCount({ work_pools: { name: { any_: [pool.name] } }, flow_runs: { state: { name: { any_: ["Late"] } } } }, signal),
    refetchInterval: 15_000,
  });
  const online = (workers.data ?? []).filter((w) => w.status === "ONLINE").length;
  return (
    <li>
      <Link to={`/work-pools/work-pool/${encodeURIComponent(pool.name)}`}>{pool.name}</Link>
      <PoolStatus pool={pool} />
      <span className="muted right">
        {workers.data ? `${online} worker${online === 1 ? "" : "s"} online` : "…"}
        {late.data ? <span className="late"> · {late.data} late</span> : null}
      </span>
    </li>
  );
}

export function WorkPoolHealthCard() {
  const pools = useQuery({ queryKey: ["work_pools", "list"], queryFn: ({ signal }) => api.workPools({ limit: 200 }, signal), refetchInterval: 15_000 });
  return (
    <Card title="Work pools">
      {pools.isError ? (
        <ErrorBox error={pools.error} retry={() => void pools.refetch()} />
      ) : !pools.data ? (
        <Loading />
      ) : pools.data.length === 0 ? (
        <p className="muted small">
          No work pools. <Link to="/work-pools">Create one</Link>
        </p>
      ) : (
        <ul className="health-rows" data-testid="pool-health">
          {pools.data.slice(0, 8).map((p) => (
            <PoolHealth key={p.id} pool={p} />
          ))}
        </ul>
      )}
    </Card>
  );
}

export function FailingDeploymentsCard({ after }: { after: string }) {
  const failed = useQuery({
    queryKey: ["flow_runs", "filter", "failed-deployments", after],
    queryFn: ({ signal }) =>
      api.flowRuns({ flow_runs: { expected_start_time: { after_: after }, state: { type: { any_: ["FAILED", "CRASHED"] } }, deployment_id: { is_null_: false } }, sort: "EXPECTED_START_TIME_DESC", limit: 200 }, signal),
    refetchInterval: POLL_MS * 3,
    placeholderData: keepPreviousData,
  });
  const counts = new Map<string, number>();
  for (const r of failed.data ?? []) if (r.deployment_id) counts.set(r.deployment_id, (counts.get(r.deployment_id) ?? 0) + 1);
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6);
  const names = useQuery({
    queryKey: ["deployments", "by-id", top.map(([id]) => id)],
    queryFn: ({ signal }) => api.deployments({ deployments: { id: { any_: top.map(([id]) => id) } }, limit: top.length }, signal),
    enabled: top.length > 0,
    staleTime: 60_000,
  });
  const byId = new Map((names.data ?? []).map((d) => [d.id, d]));
  return (
    <Card title="Deployments with failures">
      {failed.isError ? (
        <ErrorBox error={failed.error} />
      ) : !failed.data ? (
        <Loading />
      ) : top.length === 0 ? (
        <p className="muted small">No deployment runs failed in this range.</p>
      ) : (
        <ul className="health-rows" data-testid="failing-deployments">
          {top.map(([id, n]) => (
            <li key={id}>
              <Link to={`/deployments/deployment/${id}`}>{byId.get(id)?.name ?? id.slice(0, 8)}</Link>
              <span className="late right">
                {n} failed{n === 200 ? "+" : ""}
              </span>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
