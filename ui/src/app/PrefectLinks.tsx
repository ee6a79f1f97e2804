// Routes for the links Prefect prints whose paths differ from Baton's (see
// prefectLinks.ts): they redirect, so the address bar ends on Baton's page.

import { useQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import { Navigate, useLocation, useParams } from "react-router";
import { api } from "../api/client";
import { Empty, ErrorBox, Loading } from "../components/common";
import { useOptionalCloud } from "../cloud/CloudGate";
import { batonPath, splitWorkspacePath } from "./prefectLinks";
import { NotFound } from "./Shell";

/** Redirects a Prefect path to Baton's (prefectLinks.ts). */
export function PrefectRedirect() {
  const loc = useLocation();
  const to = batonPath(loc.pathname, loc.search);
  return to ? <Navigate to={to} replace /> : <NotFound />;
}

/** url_for(work_queue) names the queue by id; Baton shows queues on their pool's page. */
export function WorkQueueRedirect() {
  const { id = "" } = useParams();
  const q = useQuery({ queryKey: ["work-queue", id], queryFn: ({ signal }) => api.workQueue(id, signal), retry: false });
  if (q.isPending) return <Loading />;
  if (q.isError) return <ErrorBox error={q.error} />;
  return <Navigate to={`/work-pools/work-pool/${encodeURIComponent(q.data.work_pool_name ?? "")}?tab=queues`} replace />;
}

/**
 * A Prefect Cloud workspace URL (/account/{a}/workspace/{w}/…, what the client
 * derives from a workspace API URL after `prefect cloud login`): switch to that
 * workspace, then open the rest of the path. In server mode there is one
 * workspace and the rest of the path is opened as it is.
 */
export function WorkspaceLink() {
  const loc = useLocation();
  const cloud = useOptionalCloud();
  const parts = splitWorkspacePath(loc.pathname);
  const target = cloud && parts ? cloud.workspaces.find((w) => (w.account_id === parts.account || w.account_handle === parts.account) && (w.workspace_id === parts.workspace || w.workspace_handle === parts.workspace)) : undefined;
  const isCurrent = !!target && cloud?.current?.workspace_id === target.workspace_id && cloud.current.account_id === target.account_id;
  useEffect(() => {
    if (cloud && target && !isCurrent) cloud.select(target);
  }, [cloud, target, isCurrent]);
  if (!parts) return <NotFound />;
  if (cloud && !target) {
    return (
      <div className="page">
        <Empty title="Workspace not found">You are not a member of this workspace, or it no longer exists. Pick one of yours in the sidebar.</Empty>
      </div>
    );
  }
  if (cloud && !isCurrent) return <Loading label="Switching workspace…" />;
  return <Navigate to={parts.rest + loc.search} replace />;
}
