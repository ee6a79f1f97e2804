import { describe, expect, it } from "vitest";
import type { FlowRun, TaskRun } from "../api/types";
import { buildGraph, layoutGraph } from "./graph";

function task(id: string, start: string | null, end: string | null, inputs: TaskRun["task_inputs"] = {}, state: TaskRun["state_type"] = "COMPLETED"): TaskRun {
  return {
    id,
    created: start,
    updated: null,
    name: `task-${id}`,
    flow_run_id: "fr",
    task_key: id,
    dynamic_key: "0",
    cache_key: null,
    cache_expiration: null,
    task_version: null,
    tags: [],
    task_inputs: inputs,
    state_type: state,
    state_name: state,
    run_count: 1,
    flow_run_run_count: 1,
    expected_start_time: start,
    start_time: start,
    end_time: end,
    total_run_time: 0,
    estimated_run_time: 0,
    state: null,
  };
}

const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

describe("buildGraph", () => {
  it("makes edges from task_run inputs, wait_for and __parents__, dropping unknown and duplicate ones", () => {
    const runs = [
      task("a", t(0), t(1)),
      task("b", t(1), t(2), {
        x: [{ input_type: "task_run", id: "a" }],
        y: [{ input_type: "task_run", id: "a" }, { input_type: "parameter", name: "p" }],
        wait_for: [{ input_type: "task_run", id: "missing" }],
      }),
      task("c", t(2), t(3), { wait_for: [{ input_type: "task_run", id: "b" }], __parents__: [{ input_type: "task_run", id: "a" }] }),
    ];
    const g = buildGraph(runs);
    expect(g.nodes.map((n) => n.id)).toEqual(["a", "b", "c"]);
    expect(g.edges).toEqual([
      { from: "a", to: "b", kind: "data" },
      { from: "b", to: "c", kind: "wait" },
      { from: "a", to: "c", kind: "nested" },
    ]);
  });

  it("turns a subflow's wrapper task into a subflow node linking to the child run", () => {
    const sub = { id: "child", name: "child-run", parent_task_run_id: "w", state_type: "FAILED", state_name: "Failed", start_time: t(5), end_time: t(9), expected_start_time: t(5) } as FlowRun;
    const g = buildGraph([task("w", t(4), t(10)), task("d", t(11), t(12), { x: [{ input_type: "flow_run", id: "child" }] })], [sub]);
    const w = g.nodes.find((n) => n.id === "w");
    expect(w?.kind).toBe("subflow");
    expect(w?.href).toBe("/runs/flow-run/child");
    expect(w?.state).toBe("FAILED");
    expect(g.edges).toEqual([{ from: "w", to: "d", kind: "data" }]);
  });

  it("extends running nodes to now and skips nodes with no time", () => {
    const now = Date.parse(t(30));
    const g = buildGraph([task("r", t(10), null, {}, "RUNNING"), { ...task("n", null, null), created: null }], [], now);
    expect(g.nodes).toHaveLength(1);
    expect(g.nodes[0]?.end).toBe(now);
    expect(g.nodes[0]?.open).toBe(true);
  });
});

describe("layoutGraph", () => {
  it("puts sequential tasks in one row and parallel ones in separate rows", () => {
    const runs = [task("a", t(0), t(10)), task("b", t(10), t(20), { x: [{ input_type: "task_run", id: "a" }] }), task("p1", t(0), t(10)), task("p2", t(0), t(10))];
    const l = layoutGraph(buildGraph(runs), 0);
    const row = (id: string) => l.nodes.find((n) => n.id === id)?.row;
    expect(row("b")).toBe(row("a"));
    expect(new Set([row("a"), row("p1"), row("p2")]).size).toBe(3);
    expect(l.rows).toBe(3);
    expect(l.start).toBe(Date.parse(t(0)));
    expect(l.end).toBe(Date.parse(t(20)));
  });

  it("never overlaps bars in a row, at scale", () => {
    const runs: TaskRun[] = [];
    for (let i = 0; i < 3000; i++) {
      const s = (i * 7) % 600;
      runs.push(task(`n${i}`, t(s), t(s + 1 + (i % 13)), i > 0 ? { x: [{ input_type: "task_run", id: `n${i - 1}` }] } : {}));
    }
    const started = performance.now();
    const l = layoutGraph(buildGraph(runs), 0);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(l.nodes).toHaveLength(3000);
    const byRow = new Map<number, { start: number; end: number }[]>();
    for (const n of l.nodes) byRow.set(n.row, [...(byRow.get(n.row) ?? []), n]);
    for (const list of byRow.values()) {
      list.sort((a, b) => a.start - b.start);
      for (let i = 1; i < list.length; i++) {
        const prev = list[i - 1];
        const cur = list[i];
        if (prev && cur) expect(cur.start).toBeGreaterThanOrEqual(prev.end);
      }
    }
  });

  it("handles an empty graph", () => {
    expect(layoutGraph({ nodes: [], edges: [] }).rows).toBe(0);
  });
});
