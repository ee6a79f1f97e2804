// The flow-run dependency graph, from the server's run graph (graph-v2):
// nodes are task runs (a task run that wraps a subflow becomes a subflow
// node carrying the subflow run's id), edges come from task_inputs. Layout puts
// x on a time axis and packs nodes into rows so bars never overlap, keeping a
// node near its first parent's row where it can.

import type { RunGraphData, StateType } from "../api/types";

export type EdgeKind = "data" | "nested";

export interface GraphNode {
  id: string;
  label: string;
  state: StateType | null;
  stateName: string | null;
  /** Start in ms: start_time, else expected start, else created. */
  start: number;
  /** End in ms: end_time, else now while it runs, else start. */
  end: number;
  /** Whether the end is still moving (the run has not finished). */
  open: boolean;
  kind: "task" | "subflow";
  /** Where a click goes: the task run page, or the subflow's own flow run page. */
  href: string;
  row: number;
}

export interface GraphEdge {
  from: string;
  to: string;
  kind: EdgeKind;
}

export interface GraphLayout {
  nodes: GraphNode[];
  edges: GraphEdge[];
  rows: number;
  start: number;
  end: number;
  /** Whether any node is still running, so the graph keeps growing. */
  open: boolean;
}

const OPEN_STATES = new Set<string>(["RUNNING", "PENDING", "CANCELLING"]);

/**
 * Builds nodes and edges from the server's slim run graph (GET
 * /flow_runs/{id}/graph-v2): one call with only what the graph draws, instead
 * of every task run in full. A subflow node carries the subflow run's id.
 * Parent edges are drawn as data edges (the graph does not tell wait_for
 * apart), encapsulating ones as nested; edges to nodes not in the graph are
 * dropped.
 */
export function buildGraphFromServer(data: RunGraphData, now: number = Date.now()): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const nodes: GraphNode[] = [];
  const ids = new Set<string>();
  for (const [, n] of data.nodes) {
    const start = Date.parse(n.start_time);
    if (Number.isNaN(start)) continue;
    const endTime = n.end_time ? Date.parse(n.end_time) : NaN;
    const open = Number.isNaN(endTime) && OPEN_STATES.has(n.state_type);
    const end = !Number.isNaN(endTime) ? endTime : open ? Math.max(start, now) : start;
    const subflow = n.kind === "flow-run";
    nodes.push({
      id: n.id,
      label: n.label,
      state: n.state_type === "" ? null : n.state_type,
      stateName: null,
      start,
      end: Math.max(start, end),
      open,
      kind: subflow ? "subflow" : "task",
      href: subflow ? `/runs/flow-run/${n.id}` : `/runs/task-run/${n.id}`,
      row: 0,
    });
    ids.add(n.id);
  }
  const edges: GraphEdge[] = [];
  const seen = new Set<string>();
  const add = (from: string, to: string, kind: EdgeKind) => {
    if (from === to || !ids.has(from) || !ids.has(to)) return;
    const k = `${from}>${to}`;
    if (seen.has(k)) return;
    seen.add(k);
    edges.push({ from, to, kind });
  };
  for (const [, n] of data.nodes) {
    if (!ids.has(n.id)) continue;
    for (const p of n.parents) add(p.id, n.id, "data");
    for (const p of n.encapsulating) add(p.id, n.id, "nested");
  }
  return { nodes, edges };
}

/**
 * Assigns each node a row so that no two bars in a row overlap in time.
 * Bars shorter than minSpan (ms) are treated as minSpan wide so labels get
 * room. A node tries its first placed parent's row, then the rows next to it,
 * then opens a new row. Runs in O(nodes × rows).
 */
export function layoutGraph(
  graph: { nodes: GraphNode[]; edges: GraphEdge[] },
  minSpanFraction = 0.05,
): GraphLayout {
  const nodes = [...graph.nodes].sort((a, b) => a.start - b.start || a.end - b.end || a.id.localeCompare(b.id));
  if (nodes.length === 0) return { nodes: [], edges: [], rows: 0, start: 0, end: 0, open: false };
  let start = Infinity;
  let end = -Infinity;
  for (const n of nodes) {
    start = Math.min(start, n.start);
    end = Math.max(end, n.end);
  }
  if (end <= start) end = start + 1000;
  const minSpan = (end - start) * minSpanFraction;
  const parents = new Map<string, string[]>();
  for (const e of graph.edges) {
    const list = parents.get(e.to);
    if (list) list.push(e.from);
    else parents.set(e.to, [e.from]);
  }
  const rowOf = new Map<string, number>();
  const rowEnd: number[] = [];
  const out: GraphNode[] = [];
  for (const n of nodes) {
    const effEnd = Math.max(n.end, n.start + minSpan);
    let preferred = 0;
    for (const p of parents.get(n.id) ?? []) {
      const r = rowOf.get(p);
      if (r !== undefined) {
        preferred = r;
        break;
      }
    }
    let row = -1;
    for (let d = 0; d <= rowEnd.length; d++) {
      const below = preferred + d;
      if (below < rowEnd.length && (rowEnd[below] ?? Infinity) <= n.start) {
        row = below;
        break;
      }
      const above = preferred - d;
      if (d > 0 && above >= 0 && above < rowEnd.length && (rowEnd[above] ?? Infinity) <= n.start) {
        row = above;
        break;
      }
    }
    if (row === -1) {
      row = rowEnd.length;
      rowEnd.push(effEnd);
    } else {
      rowEnd[row] = effEnd;
    }
    rowOf.set(n.id, row);
    out.push({ ...n, row });
  }
  return { nodes: out, edges: graph.edges, rows: rowEnd.length, start, end, open: out.some((n) => n.open) };
}
