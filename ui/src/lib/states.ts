// State presentation shared by every view: one palette and one order so a
// colour means the same thing on the chart, the badges and the graph.

import type { StateType } from "../api/types";

/** The order states are stacked and listed in: problems first at the top of charts. */
export const STATE_ORDER: readonly StateType[] = [
  "COMPLETED",
  "RUNNING",
  "PENDING",
  "SCHEDULED",
  "PAUSED",
  "CANCELLING",
  "CANCELLED",
  "CRASHED",
  "FAILED",
];

/** CSS custom property that holds each state's colour (defined per theme in styles.css). */
export function stateVar(type: StateType | null | undefined): string {
  return `var(--state-${(type ?? "unknown").toLowerCase()})`;
}

/** Fallback colours for canvas drawing, where CSS variables are read at draw time. */
export const STATE_COLORS: Record<StateType, string> = {
  COMPLETED: "#2f9e44",
  RUNNING: "#1c7ed6",
  PENDING: "#868e96",
  SCHEDULED: "#d4a017",
  PAUSED: "#adb5bd",
  CANCELLING: "#495057",
  CANCELLED: "#495057",
  CRASHED: "#e8590c",
  FAILED: "#e03131",
};

/** Title-cases a state type for display: "COMPLETED" → "Completed". */
export function stateLabel(type: StateType): string {
  return type.charAt(0) + type.slice(1).toLowerCase();
}

/** Whether a run in this state may still change (poll it; allow cancel). */
export function isActive(type: StateType | null | undefined): boolean {
  return type === "RUNNING" || type === "PENDING" || type === "CANCELLING" || type === "PAUSED" || type === "SCHEDULED";
}

/** Whether a run in this state is executing now (logs and graph are live). */
export function isRunning(type: StateType | null | undefined): boolean {
  return type === "RUNNING" || type === "PENDING" || type === "CANCELLING";
}

/** Whether the run can be asked to cancel. */
export function isCancellable(type: StateType | null | undefined): boolean {
  return type === "RUNNING" || type === "PENDING" || type === "SCHEDULED" || type === "PAUSED";
}
