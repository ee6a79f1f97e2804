import { describe, expect, it } from "vitest";
import type { RunGraphData, RunGraphNode } from "../api/types";
import { buildGraphFromServer, layoutGraph } from "./graph";

const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

function node(id: string, start: string, end: string | null, more: Partial<RunGraphNode> = {}): [string, RunGraphNode] {
  return [id, { kind: "task-run", id, label: `task-${id}`, state_type: "COMPLETED", start_time: start, end_time: end, parents: [], children: [], encapsulating: [], ...more }];
}

function graph(...nodes: [string, RunGraphNode][]): RunGraphData {
  return { start_time: null, end_time: null, root_node_ids: [], nodes };
}

describe("buildGraphFromServer", () => {
  it("makes data edges from parents and nested ones from encapsulating, dropping unknown and duplicate ones", () => {
    const g = buildGraphFromServer(
      graph(
        node("a", t(0), t(1)),
        node("b", t(1), t(2), { parents: [{ id: "a" }, { id: "a" }, { id: "missing" }] }),
        node("c", t(2), t(3), { parents: [{ id: "b" }], encapsulating: [{ id: "a" }] }),
      ),
    );
    expect(g.nodes.map((n) => n.id)).toEqual(["a", "b", "c"]);
    expect(g.edges).toEqual([
      { from: "a", to: "b", kind: "data" },
      { from: "b", to: "c", kind: "data" },
      { from: "a", to: "c", kind: "nested" },
    ]);
  });

  it("links a subflow node to the subflow run's page and a task node to the task run's", () => {
    const g = buildGraphFromServer(graph(node("child", t(5), t(9), { kind: "flow-run", label: "flow / child-run", state_type: "FAILED" }), node("d", t(11), t(12), { parents: [{ id: "child" }] })));
    const sub = g.nodes.find((n) => n.id === "child");
    expect(sub?.kind).toBe("subflow");
    expect(sub?.href).toBe("/runs/flow-run/child");
    expect(sub?.state).toBe("FAILED");
    expect(g.nodes.find((n) => n.id === "d")?.href).toBe("/runs/task-run/d");
    expect(g.edges).toEqual([{ from: "child", to: "d", kind: "data" }]);
  });

  it("extends running nodes to now, treats an empty state type as none and skips nodes with no valid time", () => {
    const now = Date.parse(t(30));
    const g = buildGraphFromServer(graph(node("r", t(10), null, { state_type: "RUNNING" }), node("x", t(12), null, { state_type: "" }), node("bad", "not a time", null)), now);
    expect(g.nodes.map((n) => n.id)).toEqual(["r", "x"]);
    expect(g.nodes[0]?.end).toBe(now);
    expect(g.nodes[0]?.open).toBe(true);
    expect(g.nodes[1]?.state).toBeNull();
    expect(g.nodes[1]?.open).toBe(false);
    expect(g.nodes[1]?.end).toBe(Date.parse(t(12)));
  });
});

describe("layoutGraph", () => {
  it("puts sequential tasks in one row and parallel ones in separate rows", () => {
    const g = graph(node("a", t(0), t(10)), node("b", t(10), t(20), { parents: [{ id: "a" }] }), node("p1", t(0), t(10)), node("p2", t(0), t(10)));
    const l = layoutGraph(buildGraphFromServer(g), 0);
    const row = (id: string) => l.nodes.find((n) => n.id === id)?.row;
    expect(row("b")).toBe(row("a"));
    expect(new Set([row("a"), row("p1"), row("p2")]).size).toBe(3);
    expect(l.rows).toBe(3);
    expect(l.start).toBe(Date.parse(t(0)));
    expect(l.end).toBe(Date.parse(t(20)));
  });

  it("never overlaps bars in a row, at 10,000 nodes", () => {
    const nodes: [string, RunGraphNode][] = [];
    for (let i = 0; i < 10_000; i++) {
      const s = (i * 7) % 600;
      nodes.push(node(`n${i}`, t(s), t(s + 1 + (i % 13)), i >= 50 ? { parents: [{ id: `n${i - 50}` }] } : {}));
    }
    const l = layoutGraph(buildGraphFromServer(graph(...nodes)));
    expect(l.nodes).toHaveLength(10_000);
    expect(l.edges).toHaveLength(9_950);
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
