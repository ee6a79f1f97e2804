// The one typed client for Baton's Prefect-compatible REST API. Every page
// reads through these functions so URLs, bodies and error handling live in
// one place. The API is served from the same origin under /api.

import type {
  Deployment,
  DeploymentFilter,
  DeploymentRuns,
  DeploymentSchedule,
  GlobalConcurrencyLimit,
  OrchestrationResult,
  SavedSearch,
  SavedSearchFilter,
  Schedule,
  TagConcurrencyLimit,
  WorkPool,
  WorkQueue,
  Worker,
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
  RunGraphData,
  TaskRun,
  TaskRunFilter,
} from "./types";

/** An HTTP error from the API, carrying the status so callers can branch (404 vs 5xx). */
export class ApiError extends Error {
  readonly status: number;
  /** The body's raw "detail" (a string, or FastAPI's list of {loc, msg}), for forms that place errors by field. */
  readonly detail: unknown;
  constructor(status: number, message: string, detail?: unknown) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
  }
}

let apiBase = "/api";
// (request is exported for the per-domain API modules: api/content.ts.)
let apiHeaders: Record<string, string> = {};

/** Points every request at a workspace's API (cloud mode) and adds headers such as the CSRF token. */
export function configureApi(base: string, headers: Record<string, string> = {}) {
  apiBase = base;
  apiHeaders = headers;
}

export async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal, as: "json" | "text" = "json"): Promise<T> {
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
    let message = `${res.status} ${res.statusText}`;
    let raw: unknown;
    try {
      const data = (await res.json()) as { detail?: unknown; exception_message?: unknown };
      raw = data.detail;
      if (typeof data.detail === "string") message = data.detail;
      else if (Array.isArray(data.detail)) message = (data.detail as { msg?: string; loc?: unknown[] }[]).map((d) => `${(d.loc ?? []).filter((p) => p !== "body").join(".")}: ${d.msg ?? ""}`).join("; ");
      else if (data.detail !== undefined) message = JSON.stringify(data.detail);
      else if (res.status >= 500) message = `The server failed (${res.status}); try again`;
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(res.status, message, raw);
  }
  if (res.status === 204) return undefined as T;
  if (as === "text") return (await res.text()) as T;
  const text = await res.text();
  return (text === "" ? undefined : JSON.parse(text)) as T;
}

/** Fetches a file from the API (a log download) with the same base and headers as every call; null when the route is missing. */
export async function apiBlob(path: string): Promise<Blob | null> {
  const res = await fetch(apiBase + path, { headers: { ...apiHeaders } });
  if (res.status === 404 || res.status === 405) return null;
  if (!res.ok) throw new ApiError(res.status, `${res.status} ${res.statusText}`);
  return res.blob();
}

/** The largest page the server's filter endpoints are expected to accept. */
export const PAGE_LIMIT = 200;

/** The largest page Baton's filter endpoints accept (Baton's own UI only; Prefect's server stops at 200). */
export const LARGEST_PAGE = 1000;

export const api = {
  health: (signal?: AbortSignal) => request<unknown>("GET", "/health", undefined, signal),

  flows: (body: { flows?: FlowFilter; limit?: number; offset?: number; sort?: string }, signal?: AbortSignal) =>
    request<Flow[]>("POST", "/flows/filter", body, signal),
  flow: (id: string, signal?: AbortSignal) => request<Flow>("GET", `/flows/${encodeURIComponent(id)}`, undefined, signal),

  flowRuns: (body: FlowRunQuery & { sort?: FlowRunSort; limit?: number; offset?: number }, signal?: AbortSignal) =>
    request<FlowRun[]>("POST", "/flow_runs/filter", body, signal),
  /** Baton's own: each deployment's next run and latest runs in one call (a list page's rows). */
  deploymentRuns: (body: { deployment_ids: string[]; recent?: number }, signal?: AbortSignal) =>
    request<Record<string, DeploymentRuns>>("POST", "/ui/deployments/runs", body, signal),
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
  /** The slim run graph (id, label, state type, times, edges per node): one call for up to 10,000 nodes. */
  flowRunGraph: (id: string, signal?: AbortSignal) => request<RunGraphData>("GET", `/flow_runs/${encodeURIComponent(id)}/graph-v2`, undefined, signal),
  taskRunsCount: (body: { task_runs?: TaskRunFilter; flow_runs?: FlowRunQuery["flow_runs"] }, signal?: AbortSignal) =>
    request<number>("POST", "/task_runs/count", body, signal),
  taskRun: (id: string, signal?: AbortSignal) =>
    request<TaskRun>("GET", `/task_runs/${encodeURIComponent(id)}`, undefined, signal),
  taskRunStates: (id: string, signal?: AbortSignal) =>
    request<State[]>("GET", `/task_run_states/?task_run_id=${encodeURIComponent(id)}`, undefined, signal),

  logs: (body: { logs?: LogFilter & { timestamp?: { after_?: string; before_?: string } }; sort?: "TIMESTAMP_ASC" | "TIMESTAMP_DESC"; limit?: number; offset?: number }, signal?: AbortSignal) =>
    request<Log[]>("POST", "/logs/filter", body, signal),

  events: (body: { filter?: EventFilter; limit?: number }, signal?: AbortSignal) =>
    request<EventPage>("POST", "/events/filter", body, signal),
  eventsNext: (pageToken: string, signal?: AbortSignal) =>
    request<EventPage>("GET", `/events/filter/next?page-token=${encodeURIComponent(pageToken)}`, undefined, signal),
  eventCounts: (countable: "day" | "time" | "event" | "resource", body: { filter: EventFilter; time_unit?: string; time_interval?: number }, signal?: AbortSignal) =>
    request<EventCount[]>("POST", `/events/count-by/${countable}`, body, signal),

  deleteFlowRun: (id: string) => request<undefined>("DELETE", `/flow_runs/${encodeURIComponent(id)}`),
  forceFlowRunState: (id: string, state: { type: StateType; name?: string; message?: string; state_details?: Record<string, unknown> }, force: boolean) =>
    request<OrchestrationResult>("POST", `/flow_runs/${encodeURIComponent(id)}/set_state`, { state, force }),
  resumeFlowRun: (id: string, runInput?: Record<string, unknown>) =>
    request<OrchestrationResult>("POST", `/flow_runs/${encodeURIComponent(id)}/resume`, runInput === undefined ? {} : { run_input: runInput }),
  /** A flow run input's value: Prefect answers with the stored text, usually JSON; returned parsed when it is. */
  flowRunInput: async (id: string, key: string, signal?: AbortSignal): Promise<unknown> => {
    const text = await request<string>("GET", `/flow_runs/${encodeURIComponent(id)}/input/${encodeURIComponent(key)}`, undefined, signal, "text");
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  },
  bulkSetFlowRunState: (ids: string[], state: { type: StateType; name?: string; message?: string }, force = false) =>
    request<{ results: (OrchestrationResult & { flow_run_id: string })[] }>("POST", "/flow_runs/bulk_set_state", { flow_runs: { id: { any_: ids } }, state, force, limit: Math.min(50, ids.length) }),
  bulkDeleteFlowRuns: (ids: string[]) => request<{ deleted: string[] }>("POST", "/flow_runs/bulk_delete", { flow_runs: { id: { any_: ids } }, limit: Math.min(50, ids.length) }),
  setTaskRunState: (id: string, state: { type: StateType; name?: string; message?: string }, force: boolean) =>
    request<OrchestrationResult>("POST", `/task_runs/${encodeURIComponent(id)}/set_state`, { state, force }),

  deployments: (body: { deployments?: DeploymentFilter; flows?: FlowFilter; work_pools?: { name?: { any_?: string[] } }; sort?: string; limit?: number; offset?: number }, signal?: AbortSignal) =>
    request<Deployment[]>("POST", "/deployments/filter", body, signal),
  deploymentsPage: (body: { deployments?: DeploymentFilter; flows?: FlowFilter; work_pools?: { name?: { any_?: string[] } }; sort?: string; limit: number; page: number }, signal?: AbortSignal) =>
    request<Paginated<Deployment>>("POST", "/deployments/paginate", body, signal),
  deploymentsCount: (body: { deployments?: DeploymentFilter }, signal?: AbortSignal) => request<number>("POST", "/deployments/count", body, signal),
  deployment: (id: string, signal?: AbortSignal) => request<Deployment>("GET", `/deployments/${encodeURIComponent(id)}`, undefined, signal),
  updateDeployment: (id: string, body: Partial<Pick<Deployment, "paused" | "description" | "tags" | "concurrency_limit" | "parameters" | "job_variables" | "work_queue_name">>) =>
    request<undefined>("PATCH", `/deployments/${encodeURIComponent(id)}`, body),
  pauseDeployment: (id: string, paused: boolean) =>
    request<undefined>("POST", `/deployments/${encodeURIComponent(id)}/${paused ? "pause_deployment" : "resume_deployment"}`),
  deleteDeployment: (id: string) => request<undefined>("DELETE", `/deployments/${encodeURIComponent(id)}`),
  createDeploymentFlowRun: (
    id: string,
    body: { name?: string; parameters?: Record<string, unknown>; tags?: string[]; job_variables?: Record<string, unknown>; work_queue_name?: string | null; state?: { type: StateType; name?: string; state_details?: { scheduled_time?: string } } },
  ) => request<FlowRun>("POST", `/deployments/${encodeURIComponent(id)}/create_flow_run`, body),
  createSchedules: (id: string, schedules: { schedule: Schedule; active: boolean; slug?: string | null }[]) =>
    request<DeploymentSchedule[]>("POST", `/deployments/${encodeURIComponent(id)}/schedules`, schedules),
  updateSchedule: (id: string, scheduleId: string, body: { schedule?: Schedule; active?: boolean }) =>
    request<undefined>("PATCH", `/deployments/${encodeURIComponent(id)}/schedules/${encodeURIComponent(scheduleId)}`, body),
  deleteSchedule: (id: string, scheduleId: string) =>
    request<undefined>("DELETE", `/deployments/${encodeURIComponent(id)}/schedules/${encodeURIComponent(scheduleId)}`),

  relatedAutomations: (resourceId: string, signal?: AbortSignal) =>
    request<{ id: string; name: string; enabled: boolean }[]>("GET", `/automations/related-to/${encodeURIComponent(resourceId)}`, undefined, signal),

  workPools: (body: { limit?: number; offset?: number; work_pools?: { name?: { any_?: string[] } } } = {}, signal?: AbortSignal) =>
    request<WorkPool[]>("POST", "/work_pools/filter", body, signal),
  workPool: (name: string, signal?: AbortSignal) => request<WorkPool>("GET", `/work_pools/${encodeURIComponent(name)}`, undefined, signal),
  createWorkPool: (body: { name: string; type: string; description?: string | null; concurrency_limit?: number | null; is_paused?: boolean; base_job_template?: Record<string, unknown> }) =>
    request<WorkPool>("POST", "/work_pools/", body),
  updateWorkPool: (name: string, body: { description?: string | null; is_paused?: boolean; concurrency_limit?: number | null; base_job_template?: Record<string, unknown> }) =>
    request<undefined>("PATCH", `/work_pools/${encodeURIComponent(name)}`, body),
  deleteWorkPool: (name: string) => request<undefined>("DELETE", `/work_pools/${encodeURIComponent(name)}`),
  workQueue: (id: string, signal?: AbortSignal) => request<WorkQueue>("GET", `/work_queues/${encodeURIComponent(id)}`, undefined, signal),
  workQueues: (pool: string, signal?: AbortSignal) =>
    request<WorkQueue[]>("POST", `/work_pools/${encodeURIComponent(pool)}/queues/filter`, { limit: PAGE_LIMIT }, signal),
  createWorkQueue: (pool: string, body: { name: string; description?: string | null; priority?: number; concurrency_limit?: number | null; is_paused?: boolean }) =>
    request<WorkQueue>("POST", `/work_pools/${encodeURIComponent(pool)}/queues`, body),
  updateWorkQueue: (pool: string, name: string, body: { name?: string; description?: string | null; priority?: number; concurrency_limit?: number | null; is_paused?: boolean }) =>
    request<undefined>("PATCH", `/work_pools/${encodeURIComponent(pool)}/queues/${encodeURIComponent(name)}`, body),
  deleteWorkQueue: (pool: string, name: string) => request<undefined>("DELETE", `/work_pools/${encodeURIComponent(pool)}/queues/${encodeURIComponent(name)}`),
  workers: (pool: string, signal?: AbortSignal) =>
    request<Worker[]>("POST", `/work_pools/${encodeURIComponent(pool)}/workers/filter`, { limit: PAGE_LIMIT }, signal),
  deleteWorker: (pool: string, name: string) => request<undefined>("DELETE", `/work_pools/${encodeURIComponent(pool)}/workers/${encodeURIComponent(name)}`),

  globalLimits: (signal?: AbortSignal) => request<GlobalConcurrencyLimit[]>("POST", "/v2/concurrency_limits/filter", { limit: PAGE_LIMIT }, signal),
  createGlobalLimit: (body: { name: string; limit: number; active?: boolean; slot_decay_per_second?: number }) =>
    request<GlobalConcurrencyLimit>("POST", "/v2/concurrency_limits/", body),
  updateGlobalLimit: (idOrName: string, body: { name?: string; limit?: number; active?: boolean; active_slots?: number; slot_decay_per_second?: number }) =>
    request<undefined>("PATCH", `/v2/concurrency_limits/${encodeURIComponent(idOrName)}`, body),
  deleteGlobalLimit: (idOrName: string) => request<undefined>("DELETE", `/v2/concurrency_limits/${encodeURIComponent(idOrName)}`),
  tagLimits: (signal?: AbortSignal) => request<TagConcurrencyLimit[]>("POST", "/concurrency_limits/filter", { limit: PAGE_LIMIT }, signal),
  createTagLimit: (body: { tag: string; concurrency_limit: number }) => request<TagConcurrencyLimit>("POST", "/concurrency_limits/", body),
  resetTagLimit: (tag: string) => request<undefined>("POST", `/concurrency_limits/tag/${encodeURIComponent(tag)}/reset`, {}),
  deleteTagLimit: (tag: string) => request<undefined>("DELETE", `/concurrency_limits/tag/${encodeURIComponent(tag)}`),

  savedSearches: (signal?: AbortSignal) => request<SavedSearch[]>("POST", "/saved_searches/filter", { limit: PAGE_LIMIT }, signal),
  saveSearch: (name: string, filters: SavedSearchFilter[]) => request<SavedSearch>("PUT", "/saved_searches/", { name, filters }),
  deleteSavedSearch: (id: string) => request<undefined>("DELETE", `/saved_searches/${encodeURIComponent(id)}`),
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
    // The last page asks for one item past the cap, so a set of exactly cap
    // items is read whole and not reported as truncated.
    const want = Math.min(limit, cap + 1 - items.length);
    const page = await fetchPage(items.length, want);
    items.push(...page);
    if (items.length > cap) return { items: items.slice(0, cap), truncated: true };
    if (page.length < want) return { items, truncated: false };
  }
}
