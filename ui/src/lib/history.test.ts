import { describe, expect, it } from "vitest";
import { bucketEdges, bucketRuns, bucketsFromHistory, pickInterval, totalsByState } from "./history";

describe("pickInterval", () => {
  it.each([
    [3600, 60, 60],
    [86400, 60, 1800],
    [7 * 86400, 60, 3 * 3600],
    [30 * 86400, 60, 12 * 3600],
    [30 * 86400, 30, 86400],
  ])("span %d max %d → %d", (span, max, want) => {
    expect(pickInterval(span, max)).toBe(want);
  });
});

describe("bucketEdges", () => {
  it("aligns the end up to the interval", () => {
    const end = Date.parse("2026-01-10T12:07:00Z");
    const e = bucketEdges(end, 3600, 600);
    expect(new Date(e.end).toISOString()).toBe("2026-01-10T12:10:00.000Z");
    expect(e.n).toBe(6);
    expect(new Date(e.start).toISOString()).toBe("2026-01-10T11:10:00.000Z");
  });
});

describe("bucketRuns", () => {
  const start = Date.parse("2026-01-10T00:00:00Z");
  const end = Date.parse("2026-01-10T04:00:00Z");
  const runs = [
    { start_time: "2026-01-10T00:30:00Z", expected_start_time: null, state_type: "COMPLETED" as const },
    { start_time: "2026-01-10T00:45:00Z", expected_start_time: null, state_type: "FAILED" as const },
    { start_time: null, expected_start_time: "2026-01-10T03:59:59Z", state_type: "SCHEDULED" as const },
    { start_time: "2026-01-10T04:00:00Z", expected_start_time: null, state_type: "COMPLETED" as const },
    { start_time: "2026-01-09T23:59:59Z", expected_start_time: null, state_type: "COMPLETED" as const },
    { start_time: "2026-01-10T01:00:00Z", expected_start_time: null, state_type: null },
  ];
  const buckets = bucketRuns(runs, start, end, 4);
  it("puts runs in the right bucket and drops ones outside [start, end)", () => {
    expect(buckets.map((b) => b.total)).toEqual([2, 0, 0, 1]);
    expect(buckets[0]?.counts).toEqual({ COMPLETED: 1, FAILED: 1 });
    expect(buckets[3]?.counts).toEqual({ SCHEDULED: 1 });
  });
  it("totals per state", () => {
    expect(totalsByState(buckets)).toEqual({ COMPLETED: 1, FAILED: 1, SCHEDULED: 1 });
  });
});

describe("bucketsFromHistory", () => {
  it("sums state names of the same type", () => {
    const b = bucketsFromHistory([
      {
        interval_start: "2026-01-10T00:00:00Z",
        interval_end: "2026-01-10T01:00:00Z",
        states: [
          { state_type: "SCHEDULED", state_name: "Scheduled", count_runs: 2, sum_estimated_run_time: 0, sum_estimated_lateness: 0 },
          { state_type: "SCHEDULED", state_name: "Late", count_runs: 3, sum_estimated_run_time: 0, sum_estimated_lateness: 0 },
          { state_type: "FAILED", state_name: "Failed", count_runs: 1, sum_estimated_run_time: 0, sum_estimated_lateness: 0 },
        ],
      },
    ]);
    expect(b).toHaveLength(1);
    expect(b[0]?.counts).toEqual({ SCHEDULED: 5, FAILED: 1 });
    expect(b[0]?.total).toBe(6);
    expect(b[0]?.end).toBe(Date.parse("2026-01-10T01:00:00Z"));
  });
});
