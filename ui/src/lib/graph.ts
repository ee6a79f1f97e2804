// The flow-run dependency graph: nodes are task runs (a task run that wraps
// a subflow becomes a subflow node), edges come from task_inputs. Layout puts
// x on a time axis and packs nodes into rows so bars never overlap, keeping a
// node near its first parent's row where it can.

import type { FlowRun, StateType, TaskRun } from "../api/types";

export type EdgeKind = "data" | "wait" | "nested";

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

function firstTime(...isos: (string | null | undefined)[]): number | null {
  for (const iso of isos) {
    if (!iso) continue;
    const t = Date.parse(iso);
    if (!Number.isNaN(t)) return t;
  }
  return null;
}

/**
 * Builds nodes and edges from a flow run's task runs and its subflow runs.
 * Edges point from the upstream run to the one that consumed it; duplicates
 * and edges to runs not in the set are dropped.
 */
export function buildGraph(
  taskRuns: readonly TaskRun[],
  subflowRuns: readonly FlowRun[] = [],
  now: number = Date.now(),
): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const subflowByTask = new Map<string, FlowRun>();
  const taskBySubflow = new Map<string, string>();
  for (const fr of subflowRuns) {
    if (fr.parent_task_run_id) {
      subflowByTask.set(fr.parent_task_run_id, fr);
      taskBySubflow.set(fr.id, fr.parent_task_run_id);
    }
  }
  const nodes: GraphNode[] = [];
  const ids = new Set<string>();
  for (const tr of taskRuns) {
    const sub = subflowByTask.get(tr.id);
    const src = sub ?? tr;
    const start = firstTime(src.start_time, src.expected_start_time, tr.start_time, tr.expected_start_time, tr.created);
    if (start === null) continue;
    const endTime = firstTime(src.end_time);
    const open = endTime === null && (src.state_type === "RUNNING" || src.state_type === "PENDING" || src.state_type === "CANCELLING");
    const end = endTime ?? (open ? Math.max(start, now) : start);
    nodes.push({
      id: tr.id,
      label: sub ? sub.name : tr.name,
      state: src.state_type,
      stateName: src.state_name,
      start,
      end: Math.max(start, end),
      open,
      kind: sub ? "subflow" : "task",
      href: sub ? `/runs/flow-run/${sub.id}` : `/runs/task-run/${tr.id}`,
      row: 0,
    });
    ids.add(tr.id);
  }
  const edges: GraphEdge[] = [];
  const seen = new Set<string>();
  for (const tr of taskRuns) {
    if (!ids.has(tr.id)) continue;
    for (const [key, inputs] of Object.entries(tr.task_inputs)) {
      if (!inputs) continue;
      const kind: EdgeKind = key === "__parents__" ? "nested" : key === "wait_for" ? "wait" : "data";
      for (const input of inputs) {
        let from: string | undefined;
        if (input.input_type === "task_run") from = input.id;
        else if (input.input_type === "flow_run") from = taskBySubflow.get(input.id);
        if (!from || from === tr.id || !ids.has(from)) continue;
        const k = `${from}>${tr.id}`;
        if (seen.has(k)) continue;
        seen.add(k);
        edges.push({ from, to: tr.id, kind });
      }
    }
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
