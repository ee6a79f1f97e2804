// Flow-run list filters held in the URL, so every view of the list is a
// shareable link. parseRunFilters/serializeRunFilters round-trip the query
// string; toFlowRunQuery turns the filters into a Prefect filter body.

import type { FlowRunQuery, FlowRunSort, StateType } from "../api/types";
import { STATE_TYPES } from "../api/types";

/** The pseudo-state "Late" is a SCHEDULED run the server has marked late (state name "Late"). */
export const LATE = "LATE";

export type StateChoice = StateType | typeof LATE;

export const STATE_CHOICES: readonly StateChoice[] = [...STATE_TYPES, LATE];

export const SORTS: readonly FlowRunSort[] = [
  "EXPECTED_START_TIME_DESC",
  "EXPECTED_START_TIME_ASC",
  "START_TIME_DESC",
  "START_TIME_ASC",
  "END_TIME_DESC",
  "NAME_ASC",
  "NAME_DESC",
  "ID_DESC",
];

export const DEFAULT_SORT: FlowRunSort = "EXPECTED_START_TIME_DESC";
export const PAGE_SIZES = [10, 25, 50, 100] as const;
export const DEFAULT_PAGE_SIZE = 25;

/** Time windows the list can be limited to; "all" means no window. */
export const WINDOWS = { "1h": 3600, "6h": 6 * 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400, all: 0 } as const;
export type WindowKey = keyof typeof WINDOWS;

export interface RunFilters {
  states: StateChoice[];
  flows: string[];
  tags: string[];
  /** Relative window, or "custom" with from/to as ISO strings. */
  window: WindowKey | "custom";
  from: string | null;
  to: string | null;
  search: string;
  sort: FlowRunSort;
  page: number;
  pageSize: number;
}

export const DEFAULT_FILTERS: RunFilters = {
  states: [],
  flows: [],
  tags: [],
  window: "all",
  from: null,
  to: null,
  search: "",
  sort: DEFAULT_SORT,
  page: 1,
  pageSize: DEFAULT_PAGE_SIZE,
};

function list(v: string | null): string[] {
  if (!v) return [];
  return [...new Set(v.split(",").map((s) => s.trim()).filter((s) => s !== ""))];
}

function isStateChoice(v: string): v is StateChoice {
  return (STATE_CHOICES as readonly string[]).includes(v);
}

function isSort(v: string | null): v is FlowRunSort {
  return v !== null && (SORTS as readonly string[]).includes(v);
}

function isIso(v: string | null): v is string {
  return v !== null && !Number.isNaN(Date.parse(v));
}

function positiveInt(v: string | null, fallback: number, max = 1_000_000): number {
  if (v === null || !/^\d+$/.test(v)) return fallback;
  const n = Number(v);
  return n >= 1 && n <= max ? n : fallback;
}

/** Reads filters from a query string, ignoring values it does not understand. */
export function parseRunFilters(params: URLSearchParams): RunFilters {
  const window = params.get("window");
  const from = params.get("from");
  const to = params.get("to");
  const custom = isIso(from) || isIso(to);
  const size = positiveInt(params.get("size"), DEFAULT_PAGE_SIZE, 200);
  return {
    states: list(params.get("state"))
      .map((s) => s.toUpperCase())
      .filter(isStateChoice),
    flows: list(params.get("flow")),
    tags: list(params.get("tag")),
    window: custom ? "custom" : window !== null && Object.hasOwn(WINDOWS, window) ? (window as WindowKey) : "all",
    from: custom && isIso(from) ? from : null,
    to: custom && isIso(to) ? to : null,
    search: params.get("q") ?? "",
    sort: isSort(params.get("sort")) ? (params.get("sort") as FlowRunSort) : DEFAULT_SORT,
    page: positiveInt(params.get("page"), 1),
    pageSize: (PAGE_SIZES as readonly number[]).includes(size) ? size : DEFAULT_PAGE_SIZE,
  };
}

/** Writes filters to a query string, leaving out defaults so links stay short. */
export function serializeRunFilters(f: RunFilters): URLSearchParams {
  const p = new URLSearchParams();
  if (f.states.length) p.set("state", f.states.join(","));
  if (f.flows.length) p.set("flow", f.flows.join(","));
  if (f.tags.length) p.set("tag", f.tags.join(","));
  if (f.window === "custom") {
    if (f.from) p.set("from", f.from);
    if (f.to) p.set("to", f.to);
  } else if (f.window !== "all") {
    p.set("window", f.window);
  }
  if (f.search.trim() !== "") p.set("q", f.search.trim());
  if (f.sort !== DEFAULT_SORT) p.set("sort", f.sort);
  if (f.page !== 1) p.set("page", String(f.page));
  if (f.pageSize !== DEFAULT_PAGE_SIZE) p.set("size", String(f.pageSize));
  return p;
}

/** Builds the state part of a flow-run filter from chosen states (types plus the "Late" name). */
export function stateFilter(states: readonly StateChoice[]): FlowRunQuery["flow_runs"] {
  const types = states.filter((s): s is StateType => s !== LATE);
  const late = states.includes(LATE);
  if (types.length === 0 && !late) return undefined;
  if (!late) return { state: { type: { any_: types } } };
  if (types.length === 0) return { state: { name: { any_: ["Late"] } } };
  return { state: { operator: "or_", type: { any_: types }, name: { any_: ["Late"] } } };
}

/** Turns filters into the body of /flow_runs/filter, /count and /paginate (without paging). */
export function toFlowRunQuery(f: RunFilters, now: number = Date.now()): FlowRunQuery {
  const flowRuns: NonNullable<FlowRunQuery["flow_runs"]> = { ...stateFilter(f.states) };
  if (f.tags.length) flowRuns.tags = { all_: f.tags };
  if (f.search.trim() !== "") flowRuns.name = { like_: f.search.trim() };
  if (f.window === "custom") {
    const range: { after_?: string; before_?: string } = {};
    if (f.from) range.after_ = new Date(f.from).toISOString();
    if (f.to) range.before_ = new Date(f.to).toISOString();
    flowRuns.expected_start_time = range;
  } else if (f.window !== "all") {
    flowRuns.expected_start_time = { after_: new Date(now - WINDOWS[f.window] * 1000).toISOString() };
  }
  const q: FlowRunQuery = {};
  if (Object.keys(flowRuns).length) q.flow_runs = flowRuns;
  if (f.flows.length) q.flows = { id: { any_: f.flows } };
  return q;
}
