import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useSearchParams } from "react-router";
import { api } from "../api/client";
import { useFlowNames, useFlowRunsPage } from "../api/queries";
import type { FlowRun, FlowRunSort } from "../api/types";
import { Empty, ErrorBox, FlowRunLink, Loading, Pager, StateBadge, Tags, Time } from "../components/common";
import {
  LATE,
  PAGE_SIZES,
  SORTS,
  STATE_CHOICES,
  WINDOWS,
  parseRunFilters,
  serializeRunFilters,
  toFlowRunQuery,
  type RunFilters,
  type StateChoice,
  type WindowKey,
} from "../lib/filters";
import { formatCount, formatDuration, fromLocalInput, runDuration, toLocalInput } from "../lib/format";
import { stateLabel } from "../lib/states";
import { useNow } from "../lib/useNow";

const SORT_LABEL: Record<FlowRunSort, string> = {
  EXPECTED_START_TIME_DESC: "Newest scheduled first",
  EXPECTED_START_TIME_ASC: "Oldest scheduled first",
  START_TIME_DESC: "Latest started first",
  START_TIME_ASC: "Earliest started first",
  END_TIME_DESC: "Latest finished first",
  NAME_ASC: "Name A→Z",
  NAME_DESC: "Name Z→A",
  ID_DESC: "ID",
  NEXT_SCHEDULED_START_TIME_ASC: "Next scheduled",
};

const WINDOW_LABEL: Record<WindowKey, string> = { "1h": "Past hour", "6h": "Past 6 hours", "24h": "Past day", "7d": "Past week", "30d": "Past 30 days", all: "Any time" };

function choiceLabel(c: StateChoice): string {
  return c === LATE ? "Late" : stateLabel(c);
}

/**
 * The flow-runs table with its filters held in the URL. With fixedFlow set
 * (the flow detail page) the flow filter is locked to that flow.
 */
export function FlowRunsList({ fixedFlow }: { fixedFlow?: string }) {
  const [params, setParams] = useSearchParams();
  const filters = parseRunFilters(params);
  if (fixedFlow) filters.flows = [fixedFlow];
  const now = useNow(30_000);
  const anchor = Math.floor(now / 60_000) * 60_000;
  const query = toFlowRunQuery(filters, anchor);
  const runs = useFlowRunsPage(query, filters.sort, filters.page, filters.pageSize);
  const flows = useFlowNames(runs.data?.results.map((r) => r.flow_id) ?? []);

  const update = (patch: Partial<RunFilters>) => {
    const next = { ...filters, page: 1, ...patch };
    if (fixedFlow) next.flows = [];
    setParams(serializeRunFilters(next), { replace: !("page" in patch) });
  };

  return (
    <div className="runs-list">
      <FilterBar filters={filters} update={update} fixedFlow={fixedFlow} />
      {runs.isError ? (
        <ErrorBox error={runs.error} retry={() => void runs.refetch()} />
      ) : runs.isPending ? (
        <Loading />
      ) : runs.data.results.length === 0 ? (
        <Empty title="No flow runs match">
          <p>Try a wider time range or fewer filters.</p>
        </Empty>
      ) : (
        <>
          <p className="muted small" aria-live="polite" data-testid="runs-count">
            {formatCount(runs.data.count)} flow run{runs.data.count === 1 ? "" : "s"}
            {runs.isPlaceholderData ? " · updating…" : ""}
          </p>
          <RunsTable runs={runs.data.results} flowName={(id) => flows.get(id)?.name} now={now} />
          <Pager page={filters.page} pages={runs.data.pages} onPage={(p) => update({ page: p })} />
        </>
      )}
    </div>
  );
}

function RunsTable({ runs, flowName, now }: { runs: FlowRun[]; flowName: (id: string) => string | undefined; now: number }) {
  return (
    <div className="table-wrap">
      <table className="table" data-testid="runs-table">
        <thead>
          <tr>
            <th scope="col">State</th>
            <th scope="col">Run</th>
            <th scope="col">Scheduled</th>
            <th scope="col">Started</th>
            <th scope="col" className="num">Duration</th>
            <th scope="col">Tags</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.id} data-state={r.state_type ?? ""}>
              <td>
                <StateBadge type={r.state_type} name={r.state_name} />
              </td>
              <td>
                <FlowRunLink id={r.id} name={r.name} flowName={flowName(r.flow_id)} />
              </td>
              <td>
                <Time iso={r.expected_start_time} now={now} />
              </td>
              <td>
                <Time iso={r.start_time} now={now} />
              </td>
              <td className="num">{formatDuration(runDuration(r, now))}</td>
              <td>
                <Tags tags={r.tags} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function FilterBar({ filters, update, fixedFlow }: { filters: RunFilters; update: (p: Partial<RunFilters>) => void; fixedFlow: string | undefined }) {
  const [search, setSearch] = useState(filters.search);
  const [tags, setTags] = useState(filters.tags.join(", "));
  const flowOptions = useQuery({
    queryKey: ["flows", "options"],
    queryFn: ({ signal }) => api.flows({ sort: "NAME_ASC", limit: 200 }, signal),
    enabled: !fixedFlow,
    staleTime: 30_000,
  });
  // Keep the inputs in step when the URL changes (back/forward).
  useEffect(() => {
    setSearch(filters.search);
  }, [filters.search]);
  const tagKey = filters.tags.join(",");
  useEffect(() => {
    setTags(tagKey.split(",").filter(Boolean).join(", "));
  }, [tagKey]);
  // Debounce the name search so typing does not fire a request per key.
  useEffect(() => {
    if (search === filters.search) return undefined;
    const id = window.setTimeout(() => {
      update({ search });
    }, 300);
    return () => {
      window.clearTimeout(id);
    };
  });

  const toggleState = (c: StateChoice) => {
    const has = filters.states.includes(c);
    update({ states: has ? filters.states.filter((s) => s !== c) : [...filters.states, c] });
  };

  return (
    <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Flow run filters">
      <label className="field">
        <span>Search</span>
        <input type="search" placeholder="Run name" value={search} onChange={(e) => setSearch(e.target.value)} />
      </label>
      <div className="field">
      <span id="state-filter-label">State</span>
      <details className="multi">
        <summary aria-describedby="state-filter-label">
          {filters.states.length === 0 ? "All states" : filters.states.map(choiceLabel).join(", ")}
        </summary>
        <fieldset>
          <legend className="sr-only">States</legend>
          {STATE_CHOICES.map((c) => (
            <label key={c} className="check">
              <input type="checkbox" checked={filters.states.includes(c)} onChange={() => toggleState(c)} name={`state-${c}`} />
              {choiceLabel(c)}
            </label>
          ))}
          {filters.states.length > 0 && (
            <button type="button" className="ghost" onClick={() => update({ states: [] })}>
              Clear
            </button>
          )}
        </fieldset>
      </details>
      </div>
      {!fixedFlow && (
        <label className="field">
          <span>Flow</span>
          <select
            value={filters.flows[0] ?? ""}
            onChange={(e) => update({ flows: e.target.value ? [e.target.value] : [] })}
          >
            <option value="">All flows</option>
            {(flowOptions.data ?? []).map((f) => (
              <option key={f.id} value={f.id}>
                {f.name}
              </option>
            ))}
          </select>
        </label>
      )}
      <label className="field">
        <span>Tags</span>
        <input
          type="text"
          placeholder="tag1, tag2"
          value={tags}
          onChange={(e) => setTags(e.target.value)}
          onBlur={() => update({ tags: tags.split(",").map((t) => t.trim()).filter(Boolean) })}
          onKeyDown={(e) => {
            if (e.key === "Enter") update({ tags: tags.split(",").map((t) => t.trim()).filter(Boolean) });
          }}
        />
      </label>
      <label className="field">
        <span>Time</span>
        <select
          value={filters.window}
          onChange={(e) => {
            if (e.target.value === "custom") {
              const to = new Date();
              update({ window: "custom", from: new Date(to.getTime() - 86_400_000).toISOString(), to: to.toISOString() });
            } else {
              update({ window: e.target.value as WindowKey, from: null, to: null });
            }
          }}
        >
          {(Object.keys(WINDOWS) as WindowKey[]).map((k) => (
            <option key={k} value={k}>
              {WINDOW_LABEL[k]}
            </option>
          ))}
          <option value="custom">Custom range…</option>
        </select>
      </label>
      {filters.window === "custom" && (
        <>
          <label className="field">
            <span>From</span>
            <input
              type="datetime-local"
              value={toLocalInput(filters.from)}
              onChange={(e) => update({ from: fromLocalInput(e.target.value) })}
            />
          </label>
          <label className="field">
            <span>To</span>
            <input type="datetime-local" value={toLocalInput(filters.to)} onChange={(e) => update({ to: fromLocalInput(e.target.value) })} />
          </label>
        </>
      )}
      <label className="field">
        <span>Sort</span>
        <select value={filters.sort} onChange={(e) => update({ sort: e.target.value as FlowRunSort })}>
          {SORTS.map((s) => (
            <option key={s} value={s}>
              {SORT_LABEL[s]}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>Per page</span>
        <select value={filters.pageSize} onChange={(e) => update({ pageSize: Number(e.target.value) })}>
          {PAGE_SIZES.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </label>
    </form>
  );
}
