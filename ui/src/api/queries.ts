// Query hooks over the API client: one query cache, hierarchical keys, and
// live refresh by polling (TanStack Query pauses intervals while the tab is
// hidden, so an idle background tab costs the server nothing).

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { ApiError, api } from "./client";
import type { Flow, FlowRunQuery, FlowRunSort } from "./types";

/** How often live views refresh. */
export const POLL_MS = 5000;

/** Looks up flow names for a set of flow ids in one request. */
export function useFlowNames(ids: readonly string[]): Map<string, Flow> {
  const unique = [...new Set(ids)].sort();
  const q = useQuery({
    queryKey: ["flows", "by-id", unique],
    queryFn: ({ signal }) => api.flows({ flows: { id: { any_: unique } }, limit: unique.length }, signal),
    enabled: unique.length > 0,
    staleTime: 60_000,
    placeholderData: keepPreviousData,
  });
  const out = new Map<string, Flow>();
  for (const f of q.data ?? []) out.set(f.id, f);
  return out;
}

export function useFlowRunsPage(query: FlowRunQuery, sort: FlowRunSort, page: number, limit: number) {
  return useQuery({
    queryKey: ["flow_runs", "paginate", query, sort, page, limit],
    queryFn: ({ signal }) => api.flowRunsPage({ ...query, sort, page, limit }, signal),
    placeholderData: keepPreviousData,
    refetchInterval: POLL_MS,
  });
}

export function useFlowRunsCount(query: FlowRunQuery, key: string) {
  return useQuery({
    queryKey: ["flow_runs", "count", key, query],
    queryFn: ({ signal }) => api.flowRunsCount(query, signal),
    placeholderData: keepPreviousData,
    refetchInterval: POLL_MS,
  });
}

export function useFlowRun(id: string) {
  return useQuery({
    queryKey: ["flow_runs", "one", id],
    queryFn: ({ signal }) => api.flowRun(id, signal),
    refetchInterval: POLL_MS,
  });
}

export function useFlowRunStates(id: string) {
  return useQuery({
    queryKey: ["flow_run_states", id],
    queryFn: ({ signal }) => api.flowRunStates(id, signal),
    refetchInterval: POLL_MS,
  });
}

/**
 * A flow run's graph from GET /flow_runs/{id}/graph-v2: one call carrying
 * only what the graph draws (10,000 task runs are about 3 MB instead of 16 MB
 * of full task runs in ten pages). Polled while the run is live.
 */
export function useRunGraph(flowRunId: string, live: boolean) {
  return useQuery({
    queryKey: ["flow_runs", "graph", flowRunId],
    queryFn: ({ signal }) => api.flowRunGraph(flowRunId, signal),
    refetchInterval: live ? POLL_MS : false,
    retry: (count, err) => !(err instanceof ApiError && err.status === 400) && count < 2,
  });
}

/** The number of task runs of a flow run. */
export function useTaskRunCount(flowRunId: string, live: boolean) {
  return useQuery({
    queryKey: ["task_runs", "count-of", flowRunId],
    queryFn: ({ signal }) => api.taskRunsCount({ task_runs: { flow_run_id: { any_: [flowRunId] } } }, signal),
    refetchInterval: live ? POLL_MS : false,
  });
}

/** One page of a flow run's task runs, oldest first (the run page's Task runs tab). */
export function useTaskRunsPage(flowRunId: string, page: number, perPage: number, live: boolean, enabled = true) {
  return useQuery({
    queryKey: ["task_runs", "of", flowRunId, page, perPage],
    queryFn: ({ signal }) =>
      api.taskRuns({ task_runs: { flow_run_id: { any_: [flowRunId] } }, sort: "EXPECTED_START_TIME_ASC", offset: (page - 1) * perPage, limit: perPage }, signal),
    placeholderData: keepPreviousData,
    refetchInterval: live ? POLL_MS : false,
    enabled,
  });
}

export function useSubflowRuns(flowRunId: string, live: boolean) {
  return useQuery({
    queryKey: ["flow_runs", "children", flowRunId],
    queryFn: ({ signal }) =>
      api.flowRuns({ flow_runs: { parent_flow_run_id: { any_: [flowRunId] } }, sort: "EXPECTED_START_TIME_ASC", limit: 200 }, signal),
    refetchInterval: live ? POLL_MS : false,
  });
}

export function useTaskRun(id: string | null | undefined) {
  return useQuery({
    queryKey: ["task_runs", "one", id],
    queryFn: ({ signal }) => api.taskRun(id ?? "", signal),
    enabled: Boolean(id),
    refetchInterval: POLL_MS,
  });
}

export function useTaskRunStates(id: string) {
  return useQuery({
    queryKey: ["task_run_states", id],
    queryFn: ({ signal }) => api.taskRunStates(id, signal),
    refetchInterval: POLL_MS,
  });
}

export function useFlow(id: string | null | undefined) {
  return useQuery({
    queryKey: ["flows", "one", id],
    queryFn: ({ signal }) => api.flow(id ?? "", signal),
    enabled: Boolean(id),
    staleTime: 60_000,
  });
}
