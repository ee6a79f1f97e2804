// Run-history bucketing for the dashboard chart. The server's
// /flow_runs/history answers with intervals of per-state counts; when it is
// missing the same buckets are computed here from a page of runs.

import type { HistoryInterval, StateType } from "../api/types";

/** One bar of the history chart: a time interval and its run count per state. */
export interface Bucket {
  start: number;
  end: number;
  counts: Partial<Record<StateType, number>>;
  total: number;
}

/** The time ranges the dashboard offers, in seconds, keyed by their URL value. */
export const RANGES = {
  "1h": 3600,
  "6h": 6 * 3600,
  "24h": 86400,
  "7d": 7 * 86400,
  "30d": 30 * 86400,
} as const;

export type RangeKey = keyof typeof RANGES;

export function isRangeKey(v: string | null): v is RangeKey {
  return v !== null && Object.hasOwn(RANGES, v);
}

const NICE_INTERVALS = [60, 120, 300, 600, 900, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400];

/**
 * Picks a round bucket size (1 min, 5 min, 1 h, ...) giving at most
 * maxBuckets buckets over spanSeconds.
 */
export function pickInterval(spanSeconds: number, maxBuckets = 60): number {
  for (const s of NICE_INTERVALS) {
    if (spanSeconds / s <= maxBuckets) return s;
  }
  return Math.ceil(spanSeconds / maxBuckets);
}

/**
 * Aligns a range to the interval so buckets start on round times, and
 * returns the bucket edges [start, end) in milliseconds.
 */
export function bucketEdges(endMs: number, spanSeconds: number, intervalSeconds: number): { start: number; end: number; n: number } {
  const step = intervalSeconds * 1000;
  const end = Math.ceil(endMs / step) * step;
  const n = Math.max(1, Math.ceil((spanSeconds * 1000) / step));
  return { start: end - n * step, end, n };
}

function emptyBuckets(start: number, end: number, n: number): Bucket[] {
  const step = (end - start) / n;
  return Array.from({ length: n }, (_, i) => ({ start: start + i * step, end: start + (i + 1) * step, counts: {}, total: 0 }));
}

/**
 * Counts runs into n equal buckets over [start, end) by their start time
 * (or expected start when they have not started). Runs outside are dropped.
 */
export function bucketRuns(
  runs: readonly { start_time: string | null; expected_start_time: string | null; state_type: StateType | null }[],
  start: number,
  end: number,
  n: number,
): Bucket[] {
  const buckets = emptyBuckets(start, end, n);
  const step = (end - start) / n;
  for (const run of runs) {
    const iso = run.start_time ?? run.expected_start_time;
    if (!iso || !run.state_type) continue;
    const t = Date.parse(iso);
    if (Number.isNaN(t) || t < start || t >= end) continue;
    const b = buckets[Math.min(n - 1, Math.floor((t - start) / step))];
    if (!b) continue;
    b.counts[run.state_type] = (b.counts[run.state_type] ?? 0) + 1;
    b.total += 1;
  }
  return buckets;
}

/** Converts the server's history intervals into chart buckets, summing state names per type. */
export function bucketsFromHistory(intervals: readonly HistoryInterval[]): Bucket[] {
  return intervals.map((iv) => {
    const b: Bucket = { start: Date.parse(iv.interval_start), end: Date.parse(iv.interval_end), counts: {}, total: 0 };
    for (const s of iv.states) {
      b.counts[s.state_type] = (b.counts[s.state_type] ?? 0) + s.count_runs;
      b.total += s.count_runs;
    }
    return b;
  });
}

/** Sums bucket counts per state over the whole range. */
export function totalsByState(buckets: readonly Bucket[]): Partial<Record<StateType, number>> {
  const out: Partial<Record<StateType, number>> = {};
  for (const b of buckets) {
    for (const [k, v] of Object.entries(b.counts) as [StateType, number][]) {
      out[k] = (out[k] ?? 0) + v;
    }
  }
  return out;
}
