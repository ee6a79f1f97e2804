// The dashboard's state groups: one definition for the count tiles and the
// tabs of recent runs under them, so a tab lists exactly the runs its count
// counts (and shares the count's request).

import type { FlowRunQuery, StateType } from "../api/types";

export interface Group {
  key: string;
  label: string;
  types?: StateType[];
  late?: boolean;
  color: StateType;
  /** The runs-list state filter this tile links to. */
  param: string;
}

export const GROUPS: Group[] = [
  { key: "completed", label: "Completed", types: ["COMPLETED"], color: "COMPLETED", param: "COMPLETED" },
  { key: "running", label: "Running", types: ["RUNNING", "PENDING", "CANCELLING"], color: "RUNNING", param: "RUNNING,PENDING,CANCELLING" },
  { key: "scheduled", label: "Scheduled", types: ["SCHEDULED", "PAUSED"], color: "SCHEDULED", param: "SCHEDULED,PAUSED" },
  { key: "late", label: "Late", late: true, color: "CRASHED", param: "LATE" },
  { key: "failed", label: "Failed", types: ["FAILED", "CRASHED"], color: "FAILED", param: "FAILED,CRASHED" },
  { key: "cancelled", label: "Cancelled", types: ["CANCELLED"], color: "CANCELLED", param: "CANCELLED" },
];

export function groupQuery(g: Group, after: string): FlowRunQuery {
  if (g.late) return { flow_runs: { state: { name: { any_: ["Late"] } } } };
  // Late runs are SCHEDULED too; they have their own tile, so the Scheduled tile leaves them out.
  const name = g.key === "scheduled" ? { name: { not_any_: ["Late"] } } : {};
  return { flow_runs: { state: { type: { any_: g.types ?? [] }, ...name }, expected_start_time: { after_: after } } };
}

/** The query key of a group's count, shared by the tile and the tab. */
export function groupCountKey(g: Group, after: string): unknown[] {
  return ["flow_runs", "count", "group", g.key, g.late ? "" : after];
}
