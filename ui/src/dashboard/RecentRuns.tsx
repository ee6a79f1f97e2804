// The runs behind the dashboard's counts: a tab per state group (sharing the
// count tile's request), listing the newest runs of the range; plus work
// pool health and the deployments whose runs failed in the range.

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api } from "../api/client";
import { POLL_MS, useFlowNames } from "../api/queries";
import type { WorkPool } from "../api/types";
import { Card, ErrorBox, FlowRunLink, Loading, StateBadge, Time } from "../components/common";
import { Tabs } from "../components/Tabs";
import { formatCount } from "../lib/format";
import { PoolStatus } from "../work-pools/status";
import { GROUPS, groupCountKey, groupQuery, type Group } from "./groups";

/** The tab order: problems first. */
const TAB_ORDER = ["failed", "running", "completed", "scheduled", "late", "cancelled"];
const TABS = TAB_ORDER.map((k) => GROUPS.find((g) => g.key === k)).filter((g): g is Group => g !== undefined);

function GroupCount({ g, after }: { g: Group; after: string }) {
  // Same key and body as the count tile above: one request serves both.
  const q = useQuery({
    queryKey: groupCountKey(g, after),
    queryFn: ({ signal }) => api.flowRunsCount(groupQuery(g, after), signal),
    placeholderData: keepPreviousData,
    refetchInterval: POLL_MS,
  });
  return <>{q.data === undefined ? "…" : formatCount(q.data)}</>;
}

/** The runs behind each count tile: a tab per group, newest first (upcoming first for Scheduled). */
export function RecentRunsCard({ after, range }: { after: string; range: string }) {
  const [tab, setTab] = useState("failed");
  const group = TABS.find((x) => x.key === tab) ?? TABS[0];
  const g = group ?? GROUPS[0];
  const runs = useQuery({
    queryKey: ["flow_runs", "filter", "recent-tab", g?.key, g?.late ? "" : after],
    queryFn: ({ signal }) =>
      api.flowRuns({ ...(g ? groupQuery(g, after) : {}), sort: g?.key === "scheduled" || g?.late ? "EXPECTED_START_TIME_ASC" : "EXPECTED_START_TIME_DESC", limit: 10 }, signal),
    placeholderData: keepPreviousData,
    refetchInterval: POLL_MS,
  });
  const flows = useFlowNames(runs.data?.map((r) => r.flow_id) ?? []);
  if (!g) return null;
  return (
    <Card title="Runs behind the counts" actions={<Link to={g.late ? "/runs?state=LATE" : `/runs?window=${range}&state=${g.param}`}>View all {g.label.toLowerCase()}</Link>}>
      <div className="dash-tabs">
        <Tabs
          tabs={TABS.map((x) => ({ id: x.key, label: x.label }))}
          active={g.key}
          onChange={setTab}
          labels={(id) => {
            const x = TABS.find((y) => y.key === id);
            return x ? (
              <>
                {x.label} <span className="muted">(<GroupCount g={x} after={after} />)</span>
              </>
            ) : (
              id
            );
          }}
        />
      </div>
      <div role="tabpanel" id={`panel-${g.key}`} aria-labelledby={`tab-${g.key}`} data-testid="recent-runs">
        {runs.isError ? (
          <ErrorBox error={runs.error} retry={() => void runs.refetch()} />
        ) : !runs.data ? (
          <Loading />
        ) : runs.data.length === 0 ? (
          <p className="muted pad">No {g.label.toLowerCase()} runs in this range.</p>
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
      // The newest 200 failures of the range, grouped here: an is_null_ filter on deployment_id made the
      // server scan (0.5-0.9 s at 100,000 runs) where the state + time range is an index range.
      api.flowRuns({ flow_runs: { expected_start_time: { after_: after }, state: { type: { any_: ["FAILED", "CRASHED"] } } }, sort: "EXPECTED_START_TIME_DESC", limit: 200 }, signal),
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
                {n} failed{failed.data.length === 200 ? " (of the newest 200 failures)" : ""}
              </span>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
