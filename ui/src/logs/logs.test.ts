import { describe, expect, it } from "vitest";
import type { Log } from "../api/types";
import { logsToText, searchLogs } from "./LogsPanel";

const log = (id: string, message: string, level = 20, name = "prefect.flow_runs"): Log => ({
  id,
  name,
  level,
  message,
  timestamp: "2026-01-10T12:00:00.000Z",
  flow_run_id: "f",
  task_run_id: null,
});

describe("logs", () => {
  const logs = [log("1", "Hello from the flow"), log("2", "Task failed: boom", 40, "prefect.task_runs")];
  it("searches messages and logger names case-insensitively", () => {
    expect(searchLogs(logs, "HELLO").map((l) => l.id)).toEqual(["1"]);
    expect(searchLogs(logs, "task_runs").map((l) => l.id)).toEqual(["2"]);
    expect(searchLogs(logs, "  ")).toHaveLength(2);
  });
  it("renders a text file", () => {
    expect(logsToText(logs)).toBe(
      "2026-01-10T12:00:00.000Z INFO     prefect.flow_runs: Hello from the flow\n2026-01-10T12:00:00.000Z ERROR    prefect.task_runs: Task failed: boom\n",
    );
    expect(logsToText([])).toBe("");
  });
});
