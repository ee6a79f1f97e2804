// Pieces the deployment pages share: a row of state dots for the latest
// runs, the next scheduled run, the status pill, and the quick-run action.

import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "react-router";
import { api } from "../api/client";
import type { Deployment, RunDot } from "../api/types";
import { Time } from "../components/common";
import { notify, notifyError } from "../components/toast";
import { stateLabel, stateVar } from "../lib/states";

/** The latest runs of one deployment as coloured dots, newest on the right (a deployment's page). */
export function RecentRunDots({ deploymentId, count = 8 }: { deploymentId: string; count?: number }) {
  const q = useQuery({
    queryKey: ["flow_runs", "deployment-recent", deploymentId, count],
    queryFn: ({ signal }) =>
      api.flowRuns(
        { flow_runs: { deployment_id: { any_: [deploymentId] }, state: { type: { not_any_: ["SCHEDULED"] } } }, sort: "EXPECTED_START_TIME_DESC", limit: count },
        signal,
      ),
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
  });
  return q.data ? <RunDots runs={q.data} /> : null;
}

/** Runs (newest first) as coloured dots, newest on the right. */
export function RunDots({ runs }: { runs: RunDot[] }) {
  const ordered = [...runs].reverse();
  if (ordered.length === 0) return <span className="muted small">No runs yet</span>;
  return (
    <span className="dots" role="img" aria-label={`Latest runs: ${ordered.map((r) => (r.state_type ? stateLabel(r.state_type) : "unknown")).join(", ")}`}>
      {ordered.map((r) => (
        <span key={r.id} className="dot" style={{ "--dot": stateVar(r.state_type) } as React.CSSProperties} title={`${r.name}: ${r.state_name ?? ""}`} />
      ))}
    </span>
  );
}

/**
 * The next run and latest runs of every deployment on a list page, in one
 * request (two per row before: a page of 25 made 50 calls).
 */
export function useDeploymentRuns(ids: string[]) {
  return useQuery({
    queryKey: ["flow_runs", "deployment-summaries", ids],
    queryFn: ({ signal }) => api.deploymentRuns({ deployment_ids: ids, recent: 8 }, signal),
    enabled: ids.length > 0,
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
  });
}

/** A deployment's next scheduled run, or a dash. */
export function NextRun({ next }: { next: RunDot | null | undefined }) {
  if (!next) return <span className="muted">—</span>;
  return <Time iso={next.expected_start_time} />;
}

export function DeploymentStatus({ d }: { d: Deployment }) {
  if (d.paused) return <span className="pill paused">Paused</span>;
  return d.status === "READY" ? <span className="pill ok">Ready</span> : <span className="pill warn" title="No worker or serve process has polled for this deployment in the last minute">Not ready</span>;
}

/** Starts a run now with the deployment's defaults, then opens it. */
export function useQuickRun(d: Deployment) {
  const qc = useQueryClient();
  const navigate = useNavigate();
  return useMutation({
    mutationFn: () => api.createDeploymentFlowRun(d.id, {}),
    onSuccess: async (run) => {
      notify(`Started ${run.name}`);
      await qc.invalidateQueries({ queryKey: ["flow_runs"] });
      void navigate(`/runs/flow-run/${run.id}`);
    },
    onError: (err) => notifyError(`Could not run ${d.name}`, err),
  });
}
