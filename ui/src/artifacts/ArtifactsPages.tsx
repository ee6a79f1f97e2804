// Artifacts: the list (the latest artifact of every key, and the artifacts
// without a key), a key's history, and one artifact.

import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { contentApi } from "../api/content";
import { Card, Empty, ErrorBox, KeyValues, Loading, Time } from "../components/common";
import { ConfirmDialog } from "../components/Dialog";
import { Markdown } from "../components/Markdown";
import { notify } from "../components/toast";
import { ArtifactBody, ArtifactList } from "./ArtifactView";

export function ArtifactsPage() {
  const [params, setParams] = useSearchParams();
  const search = params.get("q") ?? "";
  const keyed = useQuery({
    queryKey: ["artifacts", "collections", search],
    queryFn: ({ signal }) => contentApi.artifactCollections(search ? { artifacts: { key: { like_: search } } } : {}, signal),
    refetchInterval: 5000,
  });
  const unkeyed = useQuery({
    queryKey: ["artifacts", "unkeyed"],
    queryFn: ({ signal }) => contentApi.artifacts({ artifacts: { key: { exists_: false } }, limit: 50 }, signal),
    refetchInterval: 5000,
    enabled: !search,
  });
  return (
    <div className="page">
      <header className="page-head">
        <h1>Artifacts</h1>
      </header>
      <div className="toolbar">
        <input type="search" aria-label="Search artifact keys" placeholder="Search keys" value={search}
          onChange={(e) => setParams(e.target.value ? { q: e.target.value } : {}, { replace: true })} />
      </div>
      {keyed.isError ? (
        <ErrorBox error={keyed.error} retry={() => void keyed.refetch()} />
      ) : !keyed.data ? (
        <Loading />
      ) : keyed.data.length === 0 && (unkeyed.data ?? []).length === 0 ? (
        <Empty title="No artifacts yet">
          <p>Flows publish them with <code>create_markdown_artifact</code>, <code>create_table_artifact</code>, <code>create_link_artifact</code>, <code>create_progress_artifact</code> and <code>create_image_artifact</code>.</p>
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="artifact-keys" data-keynav>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Type</th>
                <th scope="col">Description</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {keyed.data.map((c) => (
                <tr key={c.id}>
                  <td><Link to={`/artifacts/key/${encodeURIComponent(c.key)}`}>{c.key}</Link></td>
                  <td><span className="badge">{c.type ?? "—"}</span></td>
                  <td className="muted">{c.description ?? ""}</td>
                  <td><Time iso={c.updated} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {!search && (unkeyed.data ?? []).length > 0 && (
        <Card title="Without a key (latest 50)">
          <ArtifactList artifacts={unkeyed.data ?? []} />
        </Card>
      )}
    </div>
  );
}

export function ArtifactKeyPage() {
  const { key = "" } = useParams();
  const q = useQuery({
    queryKey: ["artifacts", "key", key],
    queryFn: ({ signal }) => contentApi.artifacts({ artifacts: { key: { any_: [key] } } }, signal),
    refetchInterval: 5000,
  });
  return (
    <div className="page">
      <nav className="crumbs" aria-label="Breadcrumb"><Link to="/artifacts">Artifacts</Link></nav>
      <header className="page-head">
        <h1>{key}</h1>
      </header>
      {q.isError ? <ErrorBox error={q.error} retry={() => void q.refetch()} /> : !q.data ? <Loading /> : q.data.length === 0 ? (
        <Empty title="No artifact with this key" />
      ) : (
        <>
          <Card title={<>Latest <span className="muted small">(<Time iso={q.data[0]?.created} />)</span></>}>
            {q.data[0] && <ArtifactBody artifact={q.data[0]} />}
          </Card>
          <Card title={`History (${q.data.length})`}>
            <ArtifactList artifacts={q.data} />
          </Card>
        </>
      )}
    </div>
  );
}

export function ArtifactPage() {
  const { id = "" } = useParams();
  const nav = useNavigate();
  const [deleting, setDeleting] = useState(false);
  const q = useQuery({ queryKey: ["artifacts", "one", id], queryFn: ({ signal }) => contentApi.artifact(id, signal) });
  const remove = useMutation({
    mutationFn: () => contentApi.deleteArtifact(id),
    onSuccess: () => {
      notify("Artifact deleted");
      void nav(q.data?.key ? `/artifacts/key/${encodeURIComponent(q.data.key)}` : "/artifacts");
    },
  });
  if (q.isError) return <div className="page"><ErrorBox error={q.error} retry={() => void q.refetch()} /></div>;
  if (!q.data) return <div className="page"><Loading /></div>;
  const a = q.data;
  return (
    <div className="page">
      <nav className="crumbs" aria-label="Breadcrumb">
          <Link to="/artifacts">Artifacts</Link>
          {a.key && <> / <Link to={`/artifacts/key/${encodeURIComponent(a.key)}`}>{a.key}</Link></>}
        </nav>
      <header className="page-head">
        <h1>{a.key ?? `Artifact ${a.id.slice(0, 8)}`}</h1>
        <div className="actions">
          <button type="button" className="danger" onClick={() => setDeleting(true)}>Delete</button>
        </div>
      </header>
      <KeyValues
        items={[
          ["Type", a.type ?? "—"],
          ["Created", <Time key="c" iso={a.created} />],
          ["Flow run", a.flow_run_id ? <Link key="f" to={`/runs/flow-run/${a.flow_run_id}?tab=artifacts`}>{a.flow_run_id}</Link> : "—"],
          ["Task run", a.task_run_id ? <Link key="t" to={`/runs/task-run/${a.task_run_id}`}>{a.task_run_id}</Link> : "—"],
        ]}
      />
      {a.description && <Card title="Description"><Markdown text={a.description} /></Card>}
      <Card title="Artifact">
        <ArtifactBody artifact={a} />
      </Card>
      <ConfirmDialog open={deleting} title="Delete this artifact?" body={<p>This version is removed; the key keeps its other versions.</p>}
        confirmLabel="Delete" danger busy={remove.isPending} error={remove.error} onConfirm={() => remove.mutate()} onClose={() => setDeleting(false)} />
    </div>
  );
}
