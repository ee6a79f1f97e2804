import { describe, expect, it } from "vitest";
import type { Log } from "../api/types";
import { byLogger, logsToText, mergeLogs, newestTimestamp, visibleWindow } from "./model";

const log = (id: string, message: string, level = 20, name = "prefect.flow_runs", ts = "2026-01-10T12:00:00.000Z"): Log => ({
  id,
  name,
  level,
  message,
  timestamp: ts,
  flow_run_id: "f",
  task_run_id: null,
});

describe("logs", () => {
  const logs = [log("1", "Hello from the flow"), log("2", "Task failed: boom", 40, "prefect.task_runs")];
  it("filters by logger name", () => {
    expect(byLogger(logs, "prefect.task_runs").map((l) => l.id)).toEqual(["2"]);
    expect(byLogger(logs, "")).toHaveLength(2);
  });
  it("renders a text file", () => {
    expect(logsToText(logs)).toBe(
      "2026-01-10T12:00:00.000Z INFO     prefect.flow_runs: Hello from the flow\n2026-01-10T12:00:00.000Z ERROR    prefect.task_runs: Task failed: boom\n",
    );
    expect(logsToText([])).toBe("");
  });
  it("merges pages without duplicates, in display order", () => {
    const a = log("a", "1", 20, "x", "2026-01-10T12:00:01Z");
    const b = log("b", "2", 20, "x", "2026-01-10T12:00:02Z");
    const c = log("c", "3", 20, "x", "2026-01-10T12:00:03Z");
    expect(mergeLogs([a, b], [b, c], "asc").map((l) => l.id)).toEqual(["a", "b", "c"]);
    expect(mergeLogs([b, a], [c, b], "desc").map((l) => l.id)).toEqual(["c", "b", "a"]);
    const same = [a];
    expect(mergeLogs(same, [a], "asc")).toBe(same);
    expect(newestTimestamp([a, c, b])).toBe("2026-01-10T12:00:03Z");
    expect(newestTimestamp([])).toBeNull();
  });
  it("windows a long list", () => {
    expect(visibleWindow(0, 400, 20, 100_000)).toEqual({ start: 0, end: 40 });
    expect(visibleWindow(20 * 50_000, 400, 20, 100_000)).toEqual({ start: 49_980, end: 50_040 });
    expect(visibleWindow(20 * 99_990, 400, 20, 100_000).end).toBe(100_000);
  });
});
