// Pieces the deployment pages share: a row of state dots for the latest
// runs, the next scheduled run, the status pill, and the quick-run action.

import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "react-router";
import { api } from "../api/client";
import type { Deployment } from "../api/types";
import { Time } from "../components/common";
import { notify, notifyError } from "../components/toast";
import { stateLabel, stateVar } from "../lib/states";

/** The latest runs of a deployment as coloured dots, newest on the right. */
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
  const runs = [...(q.data ?? [])].reverse();
  if (q.data && runs.length === 0) return <span className="muted small">No runs yet</span>;
  return (
    <span className="dots" role="img" aria-label={`Latest runs: ${runs.map((r) => (r.state_type ? stateLabel(r.state_type) : "unknown")).join(", ")}`}>
      {runs.map((r) => (
        <span key={r.id} className="dot" style={{ "--dot": stateVar(r.state_type) } as React.CSSProperties} title={`${r.name}: ${r.state_name ?? ""}`} />
      ))}
    </span>
  );
}

/** The deployment's next scheduled run, from the runs the scheduler created. */
export function NextRun({ deploymentId }: { deploymentId: string }) {
  const q = useQuery({
    queryKey: ["flow_runs", "deployment-next", deploymentId],
    queryFn: ({ signal }) =>
      api.flowRuns({ flow_runs: { deployment_id: { any_: [deploymentId] }, state: { type: { any_: ["SCHEDULED"] } } }, sort: "EXPECTED_START_TIME_ASC", limit: 1 }, signal),
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
  });
  const next = q.data?.[0];
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
