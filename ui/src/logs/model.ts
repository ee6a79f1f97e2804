// The log view's pure logic: merging pages of logs (deduplicated by id, kept
// in display order), the visible window of a virtualized list, and the text
// file of the download fallback.

import type { Log } from "../api/types";
import { levelName } from "../lib/format";

export type LogOrder = "asc" | "desc";

function cmp(a: Log, b: Log): number {
  return a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Adds logs to a list in display order, skipping ids already there. */
export function mergeLogs(current: readonly Log[], incoming: readonly Log[], order: LogOrder): Log[] {
  const seen = new Set(current.map((l) => l.id));
  const fresh = incoming.filter((l) => !seen.has(l.id));
  if (fresh.length === 0) return current as Log[];
  const all = [...current, ...fresh];
  all.sort(order === "asc" ? cmp : (a, b) => cmp(b, a));
  return all;
}

/** The newest timestamp in a list (for "logs after" polling), or null. */
export function newestTimestamp(logs: readonly Log[]): string | null {
  let max: string | null = null;
  for (const l of logs) if (max === null || l.timestamp > max) max = l.timestamp;
  return max;
}

/** Which rows of a fixed-height list to render for a scroll position, with overscan. */
export function visibleWindow(scrollTop: number, viewport: number, rowHeight: number, total: number, overscan = 20): { start: number; end: number } {
  const start = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const end = Math.min(total, Math.ceil((scrollTop + viewport) / rowHeight) + overscan);
  return { start, end };
}

/** Keeps logs by logger name ("" keeps all). */
export function byLogger(logs: readonly Log[], logger: string): Log[] {
  return logger === "" ? [...logs] : logs.filter((l) => l.name === logger);
}

/** Builds the plain-text log file: one line per record. */
export function logsToText(logs: readonly Log[]): string {
  return logs.map((l) => `${l.timestamp} ${levelName(l.level).padEnd(8)} ${l.name}: ${l.message}`).join("\n") + (logs.length ? "\n" : "");
}
