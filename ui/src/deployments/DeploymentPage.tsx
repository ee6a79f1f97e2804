import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { api } from "../api/client";
import type { Deployment, DeploymentSchedule } from "../api/types";
import { Card, Empty, ErrorBox, JsonBlock, KeyValues, Loading, Tags, TimeFull } from "../components/common";
import { ConfirmDialog } from "../components/Dialog";
import { Markdown } from "../components/Markdown";
import { Tabs } from "../components/Tabs";
import { notify, notifyError } from "../components/toast";
import { FlowRunsList } from "../flow-runs/FlowRunsList";
import { describeSchedule } from "../lib/schedules";
import { fieldKind, orderedProperties, unwrapNullable } from "../lib/schemaForm";
import { DeploymentStatus, RecentRunDots, useQuickRun } from "./common";
import { ScheduleEditor } from "./ScheduleEditor";
import { NotifyOnFailure } from "../automations/NotifyOnFailure";

const TABS = [
  { id: "runs", label: "Runs" },
  { id: "upcoming", label: "Upcoming" },
  { id: "parameters", label: "Parameters" },
  { id: "configuration", label: "Configuration" },
  { id: "description", label: "Description" },
] as const;
type TabId = (typeof TABS)[number]["id"];

export function DeploymentPage() {
  const { id = "" } = useParams();
  const q = useQuery({ queryKey: ["deployments", "one", id], queryFn: ({ signal }) => api.deployment(id, signal), refetchInterval: 10_000 });
  if (q.isPending) return <div className="page"><Loading /></div>;
  if (q.isError) return <div className="page"><ErrorBox error={q.error} retry={() => void q.refetch()} /></div>;
  return <DeploymentView d={q.data} />;
}

function DeploymentView({ d }: { d: Deployment }) {
  const [params, setParams] = useSearchParams();
  const tabParam = params.get("tab");
  const tab: TabId = TABS.some((t) => t.id === tabParam) ? (tabParam as TabId) : "runs";
  const qc = useQueryClient();
  const navigate = useNavigate();
  const run = useQuickRun(d);
  const [confirmDelete, setConfirmDelete] = useState(false);
  useEffect(() => {
    document.title = `${d.name} · Deployments · Baton`;
  }, [d.name]);
  const pause = useMutation({
    mutationFn: () => api.pauseDeployment(d.id, !d.paused),
    onSuccess: async () => {
      notify(d.paused ? `Resumed ${d.name}` : `Paused ${d.name}`);
      await qc.invalidateQueries({ queryKey: ["deployments"] });
    },
    onError: (err) => notifyError("Could not change the deployment", err),
  });
  const remove = useMutation({
    mutationFn: () => api.deleteDeployment(d.id),
    onSuccess: async () => {
      notify(`Deleted ${d.name}`);
      await qc.invalidateQueries({ queryKey: ["deployments"] });
      void navigate("/deployments");
    },
  });
  const related = useQuery({
    queryKey: ["automations", "related", d.id],
    queryFn: ({ signal }) => api.relatedAutomations(`prefect.deployment.${d.id}`, signal),
    staleTime: 60_000,
    retry: false,
  });

  return (
    <div className="page">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/deployments">Deployments</Link>
        <span aria-hidden="true">›</span>
        <Link to={`/flows/flow/${d.flow_id}`}>{d.flow_name ?? "flow"}</Link>
      </nav>
      <header className="page-head">
        <h1>
          {d.name} <DeploymentStatus d={d} />
        </h1>
        <div className="actions">
          <button type="button" className="primary" onClick={() => run.mutate()} disabled={run.isPending}>
            {run.isPending ? "Starting…" : "Run"}
          </button>
          <Link className="button" to={`/deployments/deployment/${d.id}/run`}>
            Custom run
          </Link>
          <button type="button" onClick={() => pause.mutate()} disabled={pause.isPending} aria-pressed={d.paused}>
            {d.paused ? "Resume deployment" : "Pause deployment"}
          </button>
          <NotifyOnFailure kind="deployment" id={d.id} name={d.name} />
          <button type="button" className="ghost danger-text" onClick={() => setConfirmDelete(true)}>
            Delete
          </button>
        </div>
      </header>
      <ConfirmDialog
        open={confirmDelete}
        title={`Delete ${d.name}?`}
        body={<p>The deployment and its scheduled runs are removed. Past runs stay.</p>}
        confirmLabel="Delete deployment"
        danger
        busy={remove.isPending}
        error={remove.error}
        onConfirm={() => remove.mutate()}
        onClose={() => setConfirmDelete(false)}
      />
      <div className="detail-grid">
        <div className="detail-main">
          <Tabs
            tabs={TABS}
            active={tab}
            onChange={(t) => {
              const next = new URLSearchParams();
              next.set("tab", t);
              setParams(next, { replace: true });
            }}
          />
          <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="tab-panel">
            {tab === "runs" && <FlowRunsList scope={{ flow_runs: { deployment_id: { any_: [d.id] } } }} />}
            {tab === "upcoming" && <FlowRunsList scope={{ flow_runs: { deployment_id: { any_: [d.id] }, state: { type: { any_: ["SCHEDULED"] } } } }} />}
            {tab === "parameters" && <ParametersTable d={d} />}
            {tab === "configuration" && (
              <div className="stack">
                <h3>Job variables</h3>
                {d.job_variables && Object.keys(d.job_variables).length ? <JsonBlock value={d.job_variables} /> : <p className="muted">None</p>}
                <h3>Pull steps</h3>
                {d.pull_steps?.length ? <JsonBlock value={d.pull_steps} /> : <p className="muted">None</p>}
              </div>
            )}
            {tab === "description" && (d.description ? <Markdown text={d.description} /> : <Empty title="No description" />)}
          </div>
        </div>
        <aside className="detail-side">
          <SchedulesCard d={d} />
          <Card title="Details">
            <KeyValues
              items={[
                ["Flow", <Link key="f" to={`/flows/flow/${d.flow_id}`}>{d.flow_name ?? d.flow_id}</Link>],
                ["Latest runs", <RecentRunDots key="r" deploymentId={d.id} />],
                ["Work pool", d.work_pool_name ? <Link key="p" to={`/work-pools/work-pool/${encodeURIComponent(d.work_pool_name)}`}>{d.work_pool_name}</Link> : "—"],
                ["Work queue", d.work_queue_name ?? "—"],
                ["Concurrency limit", d.global_concurrency_limit ? `${d.global_concurrency_limit.limit}${d.concurrency_options?.collision_strategy ? ` (${d.concurrency_options.collision_strategy})` : ""}` : d.concurrency_limit !== null ? String(d.concurrency_limit) : "None"],
                ["Tags", d.tags.length ? <Tags key="t" tags={d.tags} /> : "—"],
                ["Entrypoint", d.entrypoint ? <code key="e">{d.entrypoint}</code> : "—"],
                ["Path", d.path ?? "—"],
                ["Version", d.version ?? "—"],
                ["Last polled", <TimeFull key="lp" iso={d.last_polled} />],
                ["Created", <TimeFull key="c" iso={d.created} />],
                ["Updated", <TimeFull key="u" iso={d.updated} />],
                ["Deployment ID", <code key="id">{d.id}</code>],
              ]}
            />
          </Card>
          <Card title="Automations">
            {related.isError ? (
              <p className="muted small">Not available: {related.error.message}</p>
            ) : !related.data ? (
              <Loading />
            ) : related.data.length === 0 ? (
              <p className="muted small">No automations act on this deployment.</p>
            ) : (
              <ul className="plain">
                {related.data.map((a) => (
                  <li key={a.id}>
                    <Link to={`/automations/automation/${a.id}`}>{a.name}</Link> {!a.enabled && <span className="muted">(disabled)</span>}
                  </li>
                ))}
              </ul>
            )}
          </Card>
        </aside>
      </div>
    </div>
  );
}

function SchedulesCard({ d }: { d: Deployment }) {
  const qc = useQueryClient();
  const [editing, setEditing] = useState<DeploymentSchedule | "new" | null>(null);
  const [deleting, setDeleting] = useState<DeploymentSchedule | null>(null);
  const toggle = useMutation({
    mutationFn: (s: DeploymentSchedule) => api.updateSchedule(d.id, s.id, { active: !s.active }),
    onSuccess: async (_v, s) => {
      notify(s.active ? "Schedule paused" : "Schedule resumed");
      await qc.invalidateQueries({ queryKey: ["deployments"] });
      await qc.invalidateQueries({ queryKey: ["flow_runs"] });
    },
    onError: (err) => notifyError("Could not change the schedule", err),
  });
  const remove = useMutation({
    mutationFn: (s: DeploymentSchedule) => api.deleteSchedule(d.id, s.id),
    onSuccess: async () => {
      notify("Schedule deleted");
      setDeleting(null);
      await qc.invalidateQueries({ queryKey: ["deployments"] });
    },
  });
  return (
    <Card
      title="Schedules"
      actions={
        <button type="button" className="small" onClick={() => setEditing("new")}>
          Add schedule
        </button>
      }
    >
      {d.schedules.length === 0 ? (
        <p className="muted small">No schedules: runs start only when asked.</p>
      ) : (
        <ul className="schedules" data-testid="schedules">
          {d.schedules.map((s) => (
            <li key={s.id} data-active={s.active}>
              <span className="schedule-text">
                {describeSchedule(s.schedule)}
                {!s.active && <span className="pill paused">Paused</span>}
              </span>
              <span className="row-actions">
                <button type="button" className="small" onClick={() => toggle.mutate(s)} disabled={toggle.isPending} aria-label={`${s.active ? "Pause" : "Resume"} schedule ${describeSchedule(s.schedule)}`}>
                  {s.active ? "Pause" : "Resume"}
                </button>
                <button type="button" className="small" onClick={() => setEditing(s)} aria-label={`Edit schedule ${describeSchedule(s.schedule)}`}>
                  Edit
                </button>
                <button type="button" className="small ghost danger-text" onClick={() => setDeleting(s)} aria-label={`Delete schedule ${describeSchedule(s.schedule)}`}>
                  Delete
                </button>
              </span>
            </li>
          ))}
        </ul>
      )}
      {d.paused && <p className="muted small">The deployment is paused: no schedule creates runs until it is resumed.</p>}
      {editing && <ScheduleEditor deploymentId={d.id} existing={editing === "new" ? null : editing} onClose={() => setEditing(null)} />}
      <ConfirmDialog
        open={deleting !== null}
        title="Delete this schedule?"
        body={<p>{deleting ? describeSchedule(deleting.schedule) : ""}: its future scheduled runs are removed.</p>}
        confirmLabel="Delete schedule"
        danger
        busy={remove.isPending}
        error={remove.error}
        onConfirm={() => deleting && remove.mutate(deleting)}
        onClose={() => setDeleting(null)}
      />
    </Card>
  );
}

function ParametersTable({ d }: { d: Deployment }) {
  const schema = d.parameter_openapi_schema;
  const props = schema ? orderedProperties(schema, schema) : [];
  if (!schema || props.length === 0) return <Empty title="This flow takes no parameters" />;
  return (
    <div className="table-wrap">
      <table className="table" data-testid="parameters-table">
        <thead>
          <tr>
            <th scope="col">Parameter</th>
            <th scope="col">Type</th>
            <th scope="col">Default</th>
            <th scope="col">Deployment value</th>
          </tr>
        </thead>
        <tbody>
          {props.map(([name, p]) => {
            const { schema: s } = unwrapNullable(p, schema);
            const required = (schema.required ?? []).includes(name);
            const value = d.parameters?.[name];
            return (
              <tr key={name}>
                <td>
                  <code>{name}</code>
                  {required && <span className="muted"> (required)</span>}
                  {s.description && <div className="muted small">{s.description}</div>}
                </td>
                <td>{s.enum ? `one of ${s.enum.map((e) => JSON.stringify(e)).join(", ")}` : fieldKind(p, schema)}</td>
                <td>{s.default === undefined ? <span className="muted">—</span> : <code>{JSON.stringify(s.default)}</code>}</td>
                <td>{value === undefined ? <span className="muted">—</span> : <code>{JSON.stringify(value)}</code>}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
