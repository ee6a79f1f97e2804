import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api } from "../api/client";
import { POLL_MS } from "../api/queries";
import type { Flow } from "../api/types";
import { Empty, ErrorBox, Loading, StateBadge, Tags, Time } from "../components/common";

const PAGE = 50;

export function FlowsPage() {
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const page = Math.max(1, Number(params.get("page") ?? "1") || 1);
  const [search, setSearch] = useState(q);
  useEffect(() => {
    if (search === q) return undefined;
    const id = window.setTimeout(() => {
      const next = new URLSearchParams();
      if (search.trim()) next.set("q", search.trim());
      setParams(next, { replace: true });
    }, 300);
    return () => {
      window.clearTimeout(id);
    };
  }, [search, q, setParams]);
  const flows = useQuery({
    queryKey: ["flows", "list", q, page],
    queryFn: ({ signal }) =>
      api.flows({ ...(q ? { flows: { name: { like_: q } } } : {}), sort: "NAME_ASC", limit: PAGE + 1, offset: (page - 1) * PAGE }, signal),
    placeholderData: keepPreviousData,
    refetchInterval: POLL_MS * 3,
  });
  const setPage = (p: number) => {
    const next = new URLSearchParams(params);
    next.set("page", String(p));
    setParams(next);
  };
  return (
    <div className="page">
      <header className="page-head">
        <h1>Flows</h1>
        <label className="field inline">
          <span className="sr-only">Search flows</span>
          <input type="search" placeholder="Search flows" value={search} onChange={(e) => setSearch(e.target.value)} />
        </label>
      </header>
      {flows.isError ? (
        <ErrorBox error={flows.error} retry={() => void flows.refetch()} />
      ) : flows.isPending ? (
        <Loading />
      ) : flows.data.length === 0 ? (
        <Empty title={q ? "No flows match" : "No flows yet"}>{!q && <p>Flows appear here once the Prefect client runs one against this server.</p>}</Empty>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Flow</th>
                  <th scope="col">Last run</th>
                  <th scope="col">Created</th>
                  <th scope="col">Tags</th>
                </tr>
              </thead>
              <tbody>
                {flows.data.slice(0, PAGE).map((f) => (
                  <FlowRow key={f.id} flow={f} />
                ))}
              </tbody>
            </table>
          </div>
          <nav className="pager" aria-label="Pagination">
            <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>
              Previous
            </button>
            <span>Page {page}</span>
            <button type="button" disabled={flows.data.length <= PAGE} onClick={() => setPage(page + 1)}>
              Next
            </button>
          </nav>
        </>
      )}
    </div>
  );
}

function FlowRow({ flow }: { flow: Flow }) {
  const last = useQuery({
    queryKey: ["flow_runs", "filter", "last-of", flow.id],
    queryFn: ({ signal }) =>
      api.flowRuns({ flows: { id: { any_: [flow.id] } }, flow_runs: { start_time: { is_null_: false } }, sort: "START_TIME_DESC", limit: 1 }, signal),
    refetchInterval: POLL_MS * 3,
  });
  const run = last.data?.[0];
  return (
    <tr>
      <td>
        <Link to={`/flows/flow/${flow.id}`}>{flow.name}</Link>
      </td>
      <td>
        {run ? (
          <span className="inline-run">
            <StateBadge type={run.state_type} name={run.state_name} />
            <Link to={`/runs/flow-run/${run.id}`}>{run.name}</Link>
            <Time iso={run.start_time} />
          </span>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <td>
        <Time iso={flow.created} />
      </td>
      <td>
        <Tags tags={flow.tags} />
      </td>
    </tr>
  );
}
