import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { ApiError } from "../api/client";
import { Empty, ErrorBox, Loading, TimeFull } from "../components/common";
import { cloudApi } from "./cloudApi";
import { useAccount } from "./useAccount";

const AREAS = ["", "auth.", "api_key.", "member.", "invitation.", "team.", "workspace.", "service_account.", "deployment.", "block.", "automation.", "flow_run.", "access."];

/**
 * An account's audit log (owners and admins): who did what to what, when,
 * from where, and whether it was allowed, newest first, with filters.
 */
export function AuditLogPage() {
  const { cloud, accountId, picker } = useAccount();
  const [area, setArea] = useState("");
  const [outcome, setOutcome] = useState("");
  const [actor, setActor] = useState("");
  const q = new URLSearchParams();
  if (area) q.set("action_prefix", area);
  if (outcome) q.set("outcome", outcome);
  q.set("limit", "500");
  const query = "?" + q.toString();
  const log = useQuery({ queryKey: ["cloud", "audit", accountId, query], queryFn: () => cloudApi.auditLog(accountId, query), enabled: !!accountId, retry: false });
  if (!cloud) {
    return (
      <div className="page">
        <h1>Audit log</h1>
        <Empty title="The audit log needs cloud mode">Start the server with baton server start --mode cloud.</Empty>
      </div>
    );
  }
  const forbidden = log.error instanceof ApiError && (log.error.status === 403 || log.error.status === 404);
  const needle = actor.trim().toLowerCase();
  const rows = (log.data ?? []).filter((e) => !needle || e.actor_name.toLowerCase().includes(needle));
  return (
    <div className="page">
      <div className="page-head">
        <h1>Audit log</h1>
        {picker}
      </div>
      <p className="muted">Every change in this account and every refused request, kept for the server's audit retention (BATON_RETENTION_AUDIT_LOG).</p>
      <div style={{ display: "flex", gap: 12, flexWrap: "wrap", alignItems: "flex-end" }}>
        <label className="field">
          Area
          <select aria-label="Area" value={area} onChange={(e) => setArea(e.target.value)}>
            {AREAS.map((a) => (
              <option key={a} value={a}>
                {a ? a.slice(0, -1) : "everything"}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          Outcome
          <select aria-label="Outcome" value={outcome} onChange={(e) => setOutcome(e.target.value)}>
            <option value="">any</option>
            <option value="success">success</option>
            <option value="failure">failure</option>
            <option value="denied">denied</option>
          </select>
        </label>
        <label className="field">
          Actor
          <input aria-label="Actor" placeholder="e-mail contains" value={actor} onChange={(e) => setActor(e.target.value)} />
        </label>
      </div>
      {log.isPending && <Loading />}
      {log.isError && (forbidden ? <Empty title="Only account owners and admins read the audit log" /> : <ErrorBox error={log.error} retry={() => void log.refetch()} />)}
      {log.data && rows.length === 0 && <Empty title="Nothing recorded matches" />}
      {rows.length > 0 && (
        <table className="table" data-testid="audit-log">
          <thead>
            <tr>
              <th>When</th>
              <th>Actor</th>
              <th>Action</th>
              <th>Outcome</th>
              <th>Target</th>
              <th>From</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((e) => (
              <tr key={e.id} data-action={e.action}>
                <td>
                  <TimeFull iso={e.occurred} />
                </td>
                <td>{e.actor_name || "anonymous"}</td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td className={e.outcome === "success" ? "" : "error"}>{e.outcome}</td>
                <td>
                  {e.target_type} {e.target_name || e.target_id}
                </td>
                <td>{e.source_address}</td>
                <td>{e.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
