// What "cancel", "retry", "pause" and friends mean as Prefect state
// proposals, in one place for the run page and the runs list's bulk bar.

import { ApiError, api } from "../api/client";
import type { FlowRun, OrchestrationResult, StateType } from "../api/types";

/** The state a cancel proposes: runs with a process get CANCELLING (the worker stops it); others go straight to CANCELLED. */
export function cancelState(run: Pick<FlowRun, "state_type">): { type: StateType; name: string; message: string } {
  const executing = run.state_type === "RUNNING" || run.state_type === "PENDING";
  return executing
    ? { type: "CANCELLING", name: "Cancelling", message: "Cancelled from the Baton UI" }
    : { type: "CANCELLED", name: "Cancelled", message: "Cancelled from the Baton UI" };
}

export function canCancel(t: StateType | null | undefined): boolean {
  return t === "RUNNING" || t === "PENDING" || t === "SCHEDULED" || t === "PAUSED";
}

/** A finished run that did not succeed can be retried (re-run from failed). */
export function canRetry(run: Pick<FlowRun, "state_type" | "deployment_id">): boolean {
  return (run.state_type === "FAILED" || run.state_type === "CRASHED" || run.state_type === "CANCELLED" || run.state_type === "COMPLETED") && !!run.deployment_id;
}

/** Retry as Prefect's UI does it: back to SCHEDULED, named AwaitingRetry, due now (a worker or serve process picks it up). */
export function retryState(): { type: StateType; name: string; message: string; state_details: Record<string, unknown> } {
  return { type: "SCHEDULED", name: "AwaitingRetry", message: "Retried from the Baton UI", state_details: { scheduled_time: new Date().toISOString() } };
}

/** Pausing proposes PAUSED with a timeout (Prefect's UI default: five minutes), rescheduling the run on resume. */
export function pauseState(timeoutSeconds = 300): { type: StateType; name: string; message: string; state_details: Record<string, unknown> } {
  return {
    type: "PAUSED",
    name: "Suspended",
    message: "Paused from the Baton UI",
    state_details: { pause_timeout: new Date(Date.now() + timeoutSeconds * 1000).toISOString(), pause_reschedule: true },
  };
}

/** Explains a non-ACCEPT orchestration answer, or null when accepted. */
export function rejection(r: OrchestrationResult | undefined): string | null {
  if (!r || r.status === "ACCEPT") return null;
  const reason = r.details?.reason ? `: ${r.details.reason}` : "";
  return `The server answered ${r.status}${reason}`;
}

export interface BulkOutcome {
  ok: number;
  failed: { id: string; message: string }[];
}

function missingRoute(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 404 || err.status === 405);
}

/**
 * Applies a state to many runs: Prefect's /flow_runs/bulk_set_state in
 * batches of 50, or one set_state per run on a server without that route.
 * The proposed state may depend on each run's current state.
 */
export async function bulkSetState(runs: FlowRun[], stateFor: (r: FlowRun) => { type: StateType; name: string; message?: string }): Promise<BulkOutcome> {
  const out: BulkOutcome = { ok: 0, failed: [] };
  const groups = new Map<string, { state: { type: StateType; name: string; message?: string }; runs: FlowRun[] }>();
  for (const r of runs) {
    const s = stateFor(r);
    const key = `${s.type}|${s.name}`;
    const g = groups.get(key) ?? { state: s, runs: [] };
    g.runs.push(r);
    groups.set(key, g);
  }
  let bulkRoute = true;
  for (const { state, runs: rs } of groups.values()) {
    for (let i = 0; i < rs.length; i += 50) {
      const batch = rs.slice(i, i + 50);
      if (bulkRoute) {
        try {
          const { results } = await api.bulkSetFlowRunState(batch.map((r) => r.id), state);
          results.forEach((res) => {
            const id = res.flow_run_id;
            const why = rejection(res);
            if (why) out.failed.push({ id, message: why });
            else out.ok++;
          });
          continue;
        } catch (err) {
          if (!missingRoute(err)) throw err;
          bulkRoute = false;
        }
      }
      for (const r of batch) {
        try {
          const why = rejection(await api.forceFlowRunState(r.id, state, false));
          if (why) out.failed.push({ id: r.id, message: why });
          else out.ok++;
        } catch (err) {
          out.failed.push({ id: r.id, message: err instanceof Error ? err.message : String(err) });
        }
      }
    }
  }
  return out;
}

/** Deletes many runs: /flow_runs/bulk_delete, or one DELETE per run without it. */
export async function bulkDelete(ids: string[]): Promise<BulkOutcome> {
  const out: BulkOutcome = { ok: 0, failed: [] };
  for (let i = 0; i < ids.length; i += 50) {
    const batch = ids.slice(i, i + 50);
    try {
      const res = await api.bulkDeleteFlowRuns(batch);
      out.ok += res.deleted.length;
      continue;
    } catch (err) {
      if (!missingRoute(err)) throw err;
    }
    for (const id of batch) {
      try {
        await api.deleteFlowRun(id);
        out.ok++;
      } catch (err) {
        out.failed.push({ id, message: err instanceof Error ? err.message : String(err) });
      }
    }
  }
  return out;
}
