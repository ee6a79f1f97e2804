import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api } from "../api/client";
import type { Deployment, DeploymentFilter, DeploymentRuns } from "../api/types";
import { Empty, ErrorBox, Loading, Pager, Tags } from "../components/common";
import { formatCount } from "../lib/format";
import { describeSchedule } from "../lib/schedules";
import { DeploymentStatus, NextRun, RunDots, useDeploymentRuns, useQuickRun } from "./common";

const PAGE = 25;

/** Deployments: search by flow or deployment name, filter by status and tag, all in the URL. */
export function DeploymentsPage() {
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const status = params.get("status") ?? "";
  const tag = params.get("tag") ?? "";
  const page = Math.max(1, Number(params.get("page") ?? "1") || 1);
  const [search, setSearch] = useState(q);
  const set = (k: string, v: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    if (k !== "page") next.delete("page");
    setParams(next, { replace: k !== "page" });
  };
  useEffect(() => {
    if (search === q) return undefined;
    const id = window.setTimeout(() => set("q", search.trim()), 300);
    return () => window.clearTimeout(id);
  });
  const filter: DeploymentFilter = {};
  if (q) filter.flow_or_deployment_name = { like_: q };
  if (status === "paused") filter.paused = { eq_: true };
  if (status === "active") filter.paused = { eq_: false };
  if (tag) filter.tags = { all_: [tag] };
  const list = useQuery({
    queryKey: ["deployments", "page", filter, page],
    queryFn: ({ signal }) => api.deploymentsPage({ deployments: filter, sort: "NAME_ASC", limit: PAGE, page }, signal),
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
  });
  const runs = useDeploymentRuns(list.data?.results.map((d) => d.id) ?? []);
  return (
    <div className="page">
      <header className="page-head">
        <h1>Deployments</h1>
      </header>
      <form className="filters" role="search" aria-label="Deployment filters" onSubmit={(e) => e.preventDefault()}>
        <label className="field">
          <span>Search</span>
          <input type="search" placeholder="Flow or deployment name" value={search} onChange={(e) => setSearch(e.target.value)} name="q" />
        </label>
        <label className="field">
          <span>Status</span>
          <select value={status} onChange={(e) => set("status", e.target.value)} name="status">
            <option value="">All</option>
            <option value="active">Active</option>
            <option value="paused">Paused</option>
          </select>
        </label>
        <label className="field">
          <span>Tag</span>
          <input type="text" defaultValue={tag} key={tag} onBlur={(e) => set("tag", e.target.value.trim())} onKeyDown={(e) => e.key === "Enter" && set("tag", e.currentTarget.value.trim())} name="tag" />
        </label>
      </form>
      {list.isError ? (
        <ErrorBox error={list.error} retry={() => void list.refetch()} />
      ) : list.isPending ? (
        <Loading />
      ) : list.data.results.length === 0 ? (
        <Empty title={q || status || tag ? "No deployments match" : "No deployments yet"}>
          {!(q || status || tag) && (
            <p>
              Deploy a flow with <code>flow.serve(...)</code>, <code>flow.deploy(...)</code> or <code>prefect deploy</code> against this server.
            </p>
          )}
        </Empty>
      ) : (
        <>
          <p className="muted small">{formatCount(list.data.count)} deployments</p>
          <div className="table-wrap">
            <table className="table" data-testid="deployments-table" data-keynav>
              <thead>
                <tr>
                  <th scope="col">Deployment</th>
                  <th scope="col">Schedule</th>
                  <th scope="col">Next run</th>
                  <th scope="col">Status</th>
                  <th scope="col">Work pool</th>
                  <th scope="col">Tags</th>
                  <th scope="col">Latest runs</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.results.map((d) => (
                  <Row key={d.id} d={d} runs={runs.data?.[d.id]} />
                ))}
              </tbody>
            </table>
          </div>
          <Pager page={page} pages={list.data.pages} onPage={(p) => set("page", String(p))} />
        </>
      )}
    </div>
  );
}

function Row({ d, runs }: { d: Deployment; runs: DeploymentRuns | undefined }) {
  const run = useQuickRun(d);
  const active = d.schedules.filter((s) => s.active);
  return (
    <tr data-paused={d.paused}>
      <td>
        <Link to={`/deployments/deployment/${d.id}`}>
          {d.flow_name && <span className="muted">{d.flow_name} / </span>}
          {d.name}
        </Link>
      </td>
      <td>
        {d.schedules.length === 0 ? (
          <span className="muted">None</span>
        ) : (
          <span>
            {d.schedules[0] ? describeSchedule(d.schedules[0].schedule) : ""}
            {d.schedules.length > 1 && <span className="muted"> +{d.schedules.length - 1}</span>}
            {active.length === 0 && <span className="muted"> (paused)</span>}
          </span>
        )}
      </td>
      <td>
        <NextRun next={runs?.next} />
      </td>
      <td>
        <DeploymentStatus d={d} />
      </td>
      <td>{d.work_pool_name ? <Link to={`/work-pools/work-pool/${encodeURIComponent(d.work_pool_name)}`}>{d.work_pool_name}</Link> : <span className="muted">—</span>}</td>
      <td>
        <Tags tags={d.tags} />
      </td>
      <td>
        {runs && <RunDots runs={runs.recent} />}
      </td>
      <td className="row-actions">
        <button type="button" className="small" onClick={() => run.mutate()} disabled={run.isPending} aria-label={`Run ${d.name} now`}>
          {run.isPending ? "Starting…" : "Run"}
        </button>
        <Link className="button small" to={`/deployments/deployment/${d.id}/run`} aria-label={`Custom run of ${d.name}`}>
          Custom run
        </Link>
      </td>
    </tr>
  );
}
