// The one typed client for Baton's Prefect-compatible REST API. Every page
// reads through these functions so URLs, bodies and error handling live in
// one place. The API is served from the same origin under /api.

import type {
  EventCount,
  EventFilter,
  EventPage,
  Flow,
  FlowFilter,
  FlowRun,
  FlowRunQuery,
  FlowRunSort,
  HistoryInterval,
  Log,
  LogFilter,
  Paginated,
  State,
  StateType,
  TaskRun,
  TaskRunFilter,
} from "./types";

/** An HTTP error from the API, carrying the status so callers can branch (404 vs 5xx). */
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

let apiBase = "/api";
let apiHeaders: Record<string, string> = {};

/** Points every request at a workspace's API (cloud mode) and adds headers such as the CSRF token. */
export function configureApi(base: string, headers: Record<string, string> = {}) {
  apiBase = base;
  apiHeaders = headers;
}

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", ...apiHeaders };
  const init: RequestInit = { method, headers };
  if (signal) init.signal = signal;
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  let res: Response;
  try {
    res = await fetch(apiBase + path, init);
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new ApiError(0, "Can't reach the Baton server");
  }
  if (!res.ok) {
    let detail = `${res.status} ${res.statusText}`;
    try {
      const data = (await res.json()) as { detail?: unknown };
      if (typeof data.detail === "string") detail = data.detail;
      else if (data.detail !== undefined) detail = JSON.stringify(data.detail);
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(res.status, detail);
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** The largest page the server's filter endpoints are expected to accept. */
export const PAGE_LIMIT = 200;

export const api = {
  health: (signal?: AbortSignal) => request<unknown>("GET", "/health", undefined, signal),

  flows: (body: { flows?: FlowFilter; limit?: number; offset?: number; sort?: string }, signal?: AbortSignal) =>
    request<Flow[]>("POST", "/flows/filter", body, signal),
  flow: (id: string, signal?: AbortSignal) => request<Flow>("GET", `/flows/${encodeURIComponent(id)}`, undefined, signal),

  flowRuns: (body: FlowRunQuery & { sort?: FlowRunSort; limit?: number; offset?: number }, signal?: AbortSignal) =>
    request<FlowRun[]>("POST", "/flow_runs/filter", body, signal),
  flowRunsCount: (body: FlowRunQuery, signal?: AbortSignal) => request<number>("POST", "/flow_runs/count", body, signal),
  flowRunsPage: (body: FlowRunQuery & { sort?: FlowRunSort; limit: number; page: number }, signal?: AbortSignal) =>
    request<Paginated<FlowRun>>("POST", "/flow_runs/paginate", body, signal),
  flowRun: (id: string, signal?: AbortSignal) =>
    request<FlowRun>("GET", `/flow_runs/${encodeURIComponent(id)}`, undefined, signal),
  flowRunStates: (id: string, signal?: AbortSignal) =>
    request<State[]>("GET", `/flow_run_states/?flow_run_id=${encodeURIComponent(id)}`, undefined, signal),
  flowRunHistory: (
    body: FlowRunQuery & { history_start: string; history_end: string; history_interval_seconds: number },
    signal?: AbortSignal,
  ) => request<HistoryInterval[]>("POST", "/flow_runs/history", body, signal),
  setFlowRunState: (id: string, state: { type: StateType; name: string; message?: string }, force = false) =>
    request<{ status: string; details?: { reason?: string } }>(
      "POST",
      `/flow_runs/${encodeURIComponent(id)}/set_state`,
      { state, force },
    ),

  taskRuns: (
    body: { flow_runs?: FlowRunQuery["flow_runs"]; task_runs?: TaskRunFilter; sort?: string; limit?: number; offset?: number },
    signal?: AbortSignal,
  ) => request<TaskRun[]>("POST", "/task_runs/filter", body, signal),
  taskRunsCount: (body: { task_runs?: TaskRunFilter; flow_runs?: FlowRunQuery["flow_runs"] }, signal?: AbortSignal) =>
    request<number>("POST", "/task_runs/count", body, signal),
  taskRun: (id: string, signal?: AbortSignal) =>
    request<TaskRun>("GET", `/task_runs/${encodeURIComponent(id)}`, undefined, signal),
  taskRunStates: (id: string, signal?: AbortSignal) =>
    request<State[]>("GET", `/task_run_states/?task_run_id=${encodeURIComponent(id)}`, undefined, signal),

  logs: (body: { logs?: LogFilter; sort?: "TIMESTAMP_ASC" | "TIMESTAMP_DESC"; limit?: number; offset?: number }, signal?: AbortSignal) =>
    request<Log[]>("POST", "/logs/filter", body, signal),

  events: (body: { filter?: EventFilter; limit?: number }, signal?: AbortSignal) =>
    request<EventPage>("POST", "/events/filter", body, signal),
  eventsNext: (pageToken: string, signal?: AbortSignal) =>
    request<EventPage>("GET", `/events/filter/next?page-token=${encodeURIComponent(pageToken)}`, undefined, signal),
  eventCounts: (countable: "day" | "time" | "event" | "resource", body: { filter: EventFilter; time_unit?: string; time_interval?: number }, signal?: AbortSignal) =>
    request<EventCount[]>("POST", `/events/count-by/${countable}`, body, signal),
};

/**
 * Reads every page of a filter endpoint by offset until a short page or the
 * cap, for views that need a whole set (a flow run's task runs for its graph).
 */
export async function readAll<T>(
  fetchPage: (offset: number, limit: number) => Promise<T[]>,
  cap = 10_000,
  limit = PAGE_LIMIT,
): Promise<{ items: T[]; truncated: boolean }> {
  const items: T[] = [];
  for (;;) {
    const page = await fetchPage(items.length, limit);
    items.push(...page);
    if (page.length < limit) return { items, truncated: false };
    if (items.length >= cap) return { items: items.slice(0, cap), truncated: true };
  }
}
