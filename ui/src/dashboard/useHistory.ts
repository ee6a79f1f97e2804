import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { ApiError, api, readAll } from "../api/client";
import { POLL_MS } from "../api/queries";
import type { FlowRunQuery } from "../api/types";
import { bucketEdges, bucketRuns, bucketsFromHistory, pickInterval, type Bucket } from "../lib/history";

/** How many runs the client-side fallback reads at most to build the chart. */
const FALLBACK_CAP = 1000;

export interface HistoryResult {
  buckets: Bucket[];
  /** True when the server has no history endpoint and the chart covers only the newest FALLBACK_CAP runs. */
  approximate: boolean;
}

/**
 * Run history for the dashboard chart. Asks the server's /flow_runs/history
 * for per-state counts; if the server does not offer it (404/405/501), reads
 * runs through /flow_runs/filter and buckets them here.
 */
export function useRunHistory(anchorMs: number, spanSeconds: number, base: FlowRunQuery) {
  return useQuery({
    queryKey: ["flow_runs", "history", anchorMs, spanSeconds, base],
    placeholderData: keepPreviousData,
    refetchInterval: POLL_MS * 2,
    queryFn: async ({ signal }): Promise<HistoryResult> => {
      const interval = pickInterval(spanSeconds, 60);
      const { start, end, n } = bucketEdges(anchorMs, spanSeconds, interval);
      try {
        const intervals = await api.flowRunHistory(
          {
            ...base,
            history_start: new Date(start).toISOString(),
            history_end: new Date(end).toISOString(),
            history_interval_seconds: interval,
          },
          signal,
        );
        const buckets = bucketsFromHistory(intervals);
        if (buckets.length > 0) return { buckets, approximate: false };
      } catch (err) {
        if (!(err instanceof ApiError) || ![404, 405, 422, 501].includes(err.status)) throw err;
      }
      const query: FlowRunQuery = {
        ...base,
        flow_runs: {
          ...base.flow_runs,
          expected_start_time: { after_: new Date(start).toISOString(), before_: new Date(end).toISOString() },
        },
      };
      const { items, truncated } = await readAll(
        (offset, limit) => api.flowRuns({ ...query, sort: "EXPECTED_START_TIME_DESC", offset, limit }, signal),
        FALLBACK_CAP,
      );
      return { buckets: bucketRuns(items, start, end, n), approximate: truncated };
    },
  });
}
