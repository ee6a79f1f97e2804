import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useSearchParams } from "react-router";
import { api } from "../api/client";
import { useFlowNames, useFlowRunsPage } from "../api/queries";
import type { FlowRun, FlowRunQuery, FlowRunSort } from "../api/types";
import { ConfirmDialog } from "../components/Dialog";
import { notify } from "../components/toast";
import { bulkDelete, bulkSetState, canCancel, cancelState, type BulkOutcome } from "./operations";
import { SavedFilters } from "./SavedFilters";
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

/** Merges a fixed scope (a deployment's or pool's runs) into the list's own filter. */
function withScope(q: FlowRunQuery, scope: FlowRunQuery | undefined): FlowRunQuery {
  if (!scope) return q;
  return {
    ...q,
    ...scope,
    flow_runs: { ...q.flow_runs, ...scope.flow_runs },
  };
}

/**
 * The flow-runs table with its filters held in the URL. With fixedFlow set
 * (the flow detail page) the flow filter is locked to that flow; scope
 * narrows the list further (a deployment's or a work pool's runs). Rows can
 * be selected (click or x) for bulk cancel, delete or state changes.
 */
export function FlowRunsList({ fixedFlow, scope, saved = false }: { fixedFlow?: string; scope?: FlowRunQuery; saved?: boolean }) {
  const [params, setParams] = useSearchParams();
  const filters = parseRunFilters(params);
  if (fixedFlow) filters.flows = [fixedFlow];
  const now = useNow(30_000);
  const anchor = Math.floor(now / 60_000) * 60_000;
  const query = withScope(toFlowRunQuery(filters, anchor), scope);
  const runs = useFlowRunsPage(query, filters.sort, filters.page, filters.pageSize);
  const flows = useFlowNames(runs.data?.results.map((r) => r.flow_id) ?? []);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const pageRuns = runs.data?.results ?? [];
  const chosen = pageRuns.filter((r) => selected.has(r.id));

  const update = (patch: Partial<RunFilters>) => {
    const next = { ...filters, page: 1, ...patch };
    if (fixedFlow) next.flows = [];
    setParams(serializeRunFilters(next), { replace: !("page" in patch) });
  };

  return (
    <div className="runs-list">
      {saved && <SavedFilters />}
      <FilterBar filters={filters} update={update} fixedFlow={fixedFlow} />
      {chosen.length > 0 && <BulkBar runs={chosen} clear={() => setSelected(new Set())} />}
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
          <RunsTable
            runs={runs.data.results}
            flowName={(id) => flows.get(id)?.name}
            now={now}
            selected={selected}
            onSelect={(ids, on) => {
              const next = new Set(selected);
              for (const id of ids) {
                if (on) next.add(id);
                else next.delete(id);
              }
              setSelected(next);
            }}
          />
          <Pager page={filters.page} pages={runs.data.pages} onPage={(p) => update({ page: p })} />
        </>
      )}
    </div>
  );
}

function RunsTable({
  runs,
  flowName,
  now,
  selected,
  onSelect,
}: {
  runs: FlowRun[];
  flowName: (id: string) => string | undefined;
  now: number;
  selected: Set<string>;
  onSelect: (ids: string[], on: boolean) => void;
}) {
  const all = runs.length > 0 && runs.every((r) => selected.has(r.id));
  return (
    <div className="table-wrap">
      <table className="table" data-testid="runs-table" data-keynav>
        <thead>
          <tr>
            <th scope="col" className="select-col">
              <input type="checkbox" aria-label="Select all runs on this page" checked={all} onChange={(e) => onSelect(runs.map((r) => r.id), e.target.checked)} />
            </th>
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
            <tr key={r.id} data-state={r.state_type ?? ""} className={selected.has(r.id) ? "selected" : undefined}>
              <td className="select-col">
                <input type="checkbox" aria-label={`Select ${r.name}`} checked={selected.has(r.id)} onChange={(e) => onSelect([r.id], e.target.checked)} />
              </td>
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

type BulkAction = "cancel" | "delete" | "state";

const SETTABLE: { type: FlowRun["state_type"] & string; name: string }[] = [
  { type: "COMPLETED", name: "Completed" },
  { type: "FAILED", name: "Failed" },
  { type: "CANCELLED", name: "Cancelled" },
  { type: "CRASHED", name: "Crashed" },
  { type: "SCHEDULED", name: "Scheduled" },
];

/** The bar over the table while runs are selected: cancel, delete or change state, each confirmed. */
function BulkBar({ runs, clear }: { runs: FlowRun[]; clear: () => void }) {
  const qc = useQueryClient();
  const [action, setAction] = useState<BulkAction | null>(null);
  const [target, setTarget] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const cancellable = runs.filter((r) => canCancel(r.state_type));
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      let res: BulkOutcome;
      if (action === "cancel") res = await bulkSetState(cancellable, cancelState);
      else if (action === "delete") res = await bulkDelete(runs.map((r) => r.id));
      else {
        const s = SETTABLE[target] ?? { type: "COMPLETED" as const, name: "Completed" };
        res = await bulkSetState(runs, () => ({ type: s.type, name: s.name, message: "Set from the Baton UI" }));
      }
      const verb = action === "cancel" ? "cancelled" : action === "delete" ? "deleted" : "updated";
      notify(`${res.ok} flow run${res.ok === 1 ? "" : "s"} ${verb}${res.failed.length ? `; ${res.failed.length} refused (${res.failed[0]?.message ?? ""})` : ""}`, res.failed.length ? "error" : "ok");
      setAction(null);
      clear();
      await qc.invalidateQueries({ queryKey: ["flow_runs"] });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const n = runs.length;
  return (
    <div className="bulk-bar" role="region" aria-label="Selected runs" data-testid="bulk-bar">
      <strong>{n} selected</strong>
      <button type="button" onClick={() => setAction("cancel")} disabled={cancellable.length === 0}>
        Cancel {cancellable.length === n ? "" : `(${cancellable.length})`}
      </button>
      <button type="button" onClick={() => setAction("state")}>
        Change state…
      </button>
      <button type="button" className="danger" onClick={() => setAction("delete")}>
        Delete
      </button>
      <button type="button" className="ghost" onClick={clear}>
        Clear selection
      </button>
      <ConfirmDialog
        open={action !== null}
        title={action === "cancel" ? `Cancel ${cancellable.length} flow runs?` : action === "delete" ? `Delete ${n} flow runs?` : `Change the state of ${n} flow runs?`}
        body={
          action === "state" ? (
            <label className="field">
              <span>New state (forced past orchestration rules only where Prefect allows)</span>
              <select value={target} onChange={(e) => setTarget(Number(e.target.value))} name="bulk-state">
                {SETTABLE.map((s, i) => (
                  <option key={s.type} value={i}>
                    {s.name}
                  </option>
                ))}
              </select>
            </label>
          ) : action === "delete" ? (
            <p>The runs, their task runs and logs are removed for good.</p>
          ) : (
            <p>Running runs move to Cancelling (their worker stops them); scheduled and paused runs are cancelled at once.</p>
          )
        }
        confirmLabel={action === "cancel" ? "Cancel runs" : action === "delete" ? "Delete runs" : "Change state"}
        danger={action !== "state"}
        busy={busy}
        error={error}
        onConfirm={() => void run()}
        onClose={() => setAction(null)}
      />
    </div>
  );
}
