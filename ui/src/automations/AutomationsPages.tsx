// Automations: the list (with an enabled switch), an automation's page
// (definition and firing history), and the create form (templates for the
// common cases) and edit form (the definition as JSON).

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, ApiError } from "../api/client";
import type { PrefectEvent } from "../api/types";
import { Card, Empty, ErrorBox, KeyValues, Loading, Time, TimeFull } from "../components/common";
import { ConfirmDialog } from "../components/Dialog";
import { notify } from "../components/toast";
import { actionLabel, type Action, type Automation, type AutomationCore, automationsApi, describeTrigger } from "./api";
import { useNotificationBlocks } from "./NotifyOnFailure";
import { buildTrigger, defaultName, notificationAction, TEMPLATES, type TemplateInputs, type TemplateKind } from "./templates";

function EnabledSwitch({ a }: { a: Automation }) {
  const qc = useQueryClient();
  const toggle = useMutation({
    mutationFn: () => automationsApi.setEnabled(a.id, !a.enabled),
    onSuccess: async () => {
      notify(a.enabled ? `${a.name} disabled` : `${a.name} enabled`);
      await qc.invalidateQueries({ queryKey: ["automations"] });
    },
  });
  return (
    <label className="switch">
      <input type="checkbox" role="switch" checked={a.enabled} disabled={toggle.isPending} onChange={() => toggle.mutate()}
        aria-label={`${a.name} enabled`} />
      <span>{a.enabled ? "On" : "Off"}</span>
    </label>
  );
}

export function AutomationsPage() {
  const q = useQuery({ queryKey: ["automations"], queryFn: ({ signal }) => automationsApi.list(signal), refetchInterval: 5000 });
  return (
    <div className="page">
      <header className="page-head">
        <h1>Automations</h1>
        <div className="actions">
          <Link className="button" to="/automations/webhooks">Webhooks</Link>
          <Link className="button primary" to="/automations/create">Add automation</Link>
        </div>
      </header>
      {q.isError ? <ErrorBox error={q.error} retry={() => void q.refetch()} /> : !q.data ? <Loading /> : q.data.length === 0 ? (
        <Empty title="No automations yet">
          <p>Be told, or act, when something happens — or fails to happen: add one here, with <code>Automation(...).create()</code>,
            or with <code>triggers=[...]</code> on <code>flow.serve</code> and in <code>prefect.yaml</code>.</p>
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="automations" data-keynav>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Trigger</th>
                <th scope="col">Actions</th>
                <th scope="col">Enabled</th>
              </tr>
            </thead>
            <tbody>
              {q.data.map((a) => (
                <tr key={a.id}>
                  <td><Link to={`/automations/automation/${a.id}`}>{a.name}</Link></td>
                  <td>{describeTrigger(a.trigger)}</td>
                  <td>{a.actions.map(actionLabel).join(", ")}</td>
                  <td><EnabledSwitch a={a} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function eventSummary(e: PrefectEvent): string {
  const p = e.payload;
  switch (e.event) {
    case "prefect.automation.triggered":
    case "prefect.automation.resolved": {
      const trig = p.triggering_event as { event?: string; resource?: Record<string, string> } | null | undefined;
      const labels = p.triggering_labels as Record<string, string> | undefined;
      const on = trig?.event ? ` by ${trig.event}${trig.resource?.["prefect.resource.name"] ? ` of ${trig.resource["prefect.resource.name"]}` : ""}` : "";
      const per = labels && Object.keys(labels).length ? ` (${Object.values(labels).join(", ")})` : "";
      return `${e.event === "prefect.automation.triggered" ? "Triggered" : "Resolved"}${on}${per}`;
    }
    case "prefect.automation.action.failed":
      return `Action ${String(p.action_index)} (${String(p.action_type)}) failed: ${typeof p.reason === "string" ? p.reason : ""}`;
    case "prefect.automation.action.executed":
      return `Action ${String(p.action_index)} (${String(p.action_type)}) done`;
    case "prefect.automation.action.triggered":
      return `Action ${String(p.action_index)} (${String(p.action_type)}) started`;
  }
  return e.event;
}

export function AutomationPage() {
  const { id = "" } = useParams();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const a = useQuery({ queryKey: ["automations", id], queryFn: ({ signal }) => automationsApi.get(id, signal) });
  const history = useQuery({ queryKey: ["automations", id, "history"], queryFn: ({ signal }) => automationsApi.history(id, signal), refetchInterval: 5000 });
  const remove = useMutation({
    mutationFn: () => automationsApi.remove(id),
    onSuccess: async () => {
      notify("Automation deleted");
      await qc.invalidateQueries({ queryKey: ["automations"] });
      void navigate("/automations");
    },
  });
  if (a.isPending) return <div className="page"><Loading /></div>;
  if (a.isError) return <div className="page"><ErrorBox error={a.error} retry={() => void a.refetch()} /></div>;
  const d = a.data;
  const evs = history.data?.events ?? [];
  return (
    <div className="page">
      <nav className="crumbs" aria-label="Breadcrumb"><Link to="/automations">Automations</Link></nav>
      <header className="page-head">
        <h1>{d.name}</h1>
        <div className="actions">
          <EnabledSwitch a={d} />
          <Link className="button" to={`/automations/automation/${d.id}/edit`}>Edit</Link>
          <button type="button" className="ghost danger-text" onClick={() => setConfirmDelete(true)}>Delete</button>
        </div>
      </header>
      <ConfirmDialog open={confirmDelete} title={`Delete automation ${d.name}?`} body={<p>Its trigger stops being evaluated; actions already started still finish.</p>}
        confirmLabel="Delete" danger busy={remove.isPending} error={remove.error} onConfirm={() => remove.mutate()} onClose={() => setConfirmDelete(false)} />
      <KeyValues items={[
        ["Trigger", describeTrigger(d.trigger)],
        ["Actions", d.actions.map(actionLabel).join(", ") || "—"],
        ["Description", d.description || "—"],
        ["Created", <TimeFull key="c" iso={d.created} />],
        ["Automation ID", <code key="id">{d.id}</code>],
      ]} />
      <h2 className="section-title">Firing history</h2>
      {history.isError ? <ErrorBox error={history.error} /> : !history.data ? <Loading /> : evs.length === 0 ? (
        <p className="muted">It has not fired in the last 7 days.</p>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="automation-history">
            <thead><tr><th scope="col">When</th><th scope="col">What</th></tr></thead>
            <tbody>
              {evs.map((e) => (
                <tr key={e.id}><td><Time iso={e.occurred} /></td><td>{eventSummary(e)}</td></tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Card title="Definition">
        {/* Focusable so the scrollable block can be scrolled from the keyboard. */}
        <pre className="json" tabIndex={0} aria-label="Trigger and actions (JSON)">
          {JSON.stringify({ trigger: d.trigger, actions: d.actions, actions_on_trigger: d.actions_on_trigger, actions_on_resolve: d.actions_on_resolve }, null, 2)}
        </pre>
      </Card>
    </div>
  );
}

type ActionKind = "send-notification" | "do-nothing" | "cancel-flow-run";

export function AutomationCreatePage() {
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [kind, setKind] = useState<TemplateKind>("flow-run-state");
  const [inputs, setInputs] = useState<TemplateInputs>({ states: ["Failed"], minutes: 10 });
  const [name, setName] = useState("");
  const [actionKind, setActionKind] = useState<ActionKind>("send-notification");
  const [block, setBlock] = useState("");
  const flows = useQuery({ queryKey: ["flows", "all"], queryFn: ({ signal }) => api.flows({ limit: 200, sort: "NAME_ASC" }, signal) });
  const deployments = useQuery({ queryKey: ["deployments", "all"], queryFn: ({ signal }) => api.deployments({ limit: 200, sort: "NAME_ASC" }, signal) });
  const pools = useQuery({ queryKey: ["work-pools", "all"], queryFn: ({ signal }) => api.workPools({ limit: 200 }, signal) });
  const blocks = useNotificationBlocks();
  const set = (patch: Partial<TemplateInputs>) => setInputs((i) => ({ ...i, ...patch }));
  const save = useMutation({
    mutationFn: () => {
      let action: Action;
      if (actionKind === "send-notification") {
        const b = block || blocks.data?.[0]?.id;
        if (!b) throw new Error("Choose a notification block (create one in the block catalogue first).");
        action = notificationAction(b);
        if (kind !== "flow-run-state" && kind !== "deployment-not-started") {
          action = { ...action, subject: "Automation {{ automation.name }} fired", body: "{{ event.event }} on {{ event.resource.id }} at {{ event.occurred }}" };
        }
      } else {
        action = { type: actionKind };
      }
      return automationsApi.create({ name: name.trim() || defaultName(kind, inputs), trigger: buildTrigger(kind, inputs), actions: [action] });
    },
    onSuccess: async (a) => {
      notify("Automation created");
      await qc.invalidateQueries({ queryKey: ["automations"] });
      void navigate(`/automations/automation/${a.id}`);
    },
  });
  const states = ["Failed", "Crashed", "Late", "Cancelled", "Completed", "Running"];
  const notifyBlocks = blocks.data ?? [];
  return (
    <div className="page">
      <nav className="crumbs" aria-label="Breadcrumb"><Link to="/automations">Automations</Link></nav>
      <header className="page-head"><h1>Add automation</h1></header>
      <form className="form narrow" onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
        <div className="field">
          <label htmlFor="auto-template">When</label>
          <select id="auto-template" value={kind} onChange={(e) => setKind(e.target.value as TemplateKind)}>
            {TEMPLATES.map((t) => <option key={t.kind} value={t.kind}>{t.label}</option>)}
          </select>
        </div>
        {kind === "flow-run-state" && (
          <>
            <div className="field">
              <label htmlFor="auto-flow">Flow</label>
              <select id="auto-flow" value={inputs.flowId ?? ""} onChange={(e) => {
                const f = flows.data?.find((x) => x.id === e.target.value);
                set({ flowId: f?.id ?? "", flowName: f?.name ?? "" });
              }}>
                <option value="">Any flow</option>
                {(flows.data ?? []).map((f) => <option key={f.id} value={f.id}>{f.name}</option>)}
              </select>
            </div>
            <fieldset className="field">
              <legend>Enters</legend>
              {states.map((s) => (
                <label key={s} className="inline">
                  <input type="checkbox" checked={inputs.states?.includes(s) ?? false}
                    onChange={(e) => set({ states: e.target.checked ? [...(inputs.states ?? []), s] : (inputs.states ?? []).filter((x) => x !== s) })} /> {s}
                </label>
              ))}
            </fieldset>
          </>
        )}
        {kind === "work-pool-not-ready" && (
          <div className="field">
            <label htmlFor="auto-pool">Work pool</label>
            <select id="auto-pool" value={inputs.workPoolId ?? ""} onChange={(e) => {
              const p = pools.data?.find((x) => x.id === e.target.value);
              set({ workPoolId: p?.id ?? "", workPoolName: p?.name ?? "" });
            }}>
              <option value="">Any work pool</option>
              {(pools.data ?? []).map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
            </select>
          </div>
        )}
        {kind === "deployment-not-started" && (
          <>
            <div className="field">
              <label htmlFor="auto-deployment">Deployment</label>
              <select id="auto-deployment" value={inputs.deploymentId ?? ""} onChange={(e) => {
                const d = deployments.data?.find((x) => x.id === e.target.value);
                set({ deploymentId: d?.id ?? "", deploymentName: d?.name ?? "" });
              }}>
                <option value="">Any deployment</option>
                {(deployments.data ?? []).map((d) => <option key={d.id} value={d.id}>{d.flow_name ? `${d.flow_name}/` : ""}{d.name}</option>)}
              </select>
            </div>
            <div className="field">
              <label htmlFor="auto-minutes">Start within (minutes)</label>
              <input id="auto-minutes" type="number" min={1} value={inputs.minutes ?? 10} onChange={(e) => set({ minutes: Number(e.target.value) })} />
            </div>
          </>
        )}
        {kind === "custom-event" && (
          <>
            <div className="field">
              <label htmlFor="auto-event">Event name <span className="muted">(wildcards: acme.order.*)</span></label>
              <input id="auto-event" value={inputs.eventName ?? ""} onChange={(e) => set({ eventName: e.target.value })} required />
            </div>
            <div className="field">
              <label htmlFor="auto-resource">Resource id <span className="muted">(optional, wildcards allowed)</span></label>
              <input id="auto-resource" value={inputs.resourceId ?? ""} onChange={(e) => set({ resourceId: e.target.value })} />
            </div>
            <div className="field">
              <label htmlFor="auto-threshold">How many times</label>
              <input id="auto-threshold" type="number" min={1} value={inputs.threshold ?? 1} onChange={(e) => set({ threshold: Number(e.target.value) })} />
            </div>
            <div className="field">
              <label htmlFor="auto-within">Within (seconds, 0: no window)</label>
              <input id="auto-within" type="number" min={0} value={inputs.withinSeconds ?? 0} onChange={(e) => set({ withinSeconds: Number(e.target.value) })} />
            </div>
          </>
        )}
        <div className="field">
          <label htmlFor="auto-action">Then</label>
          <select id="auto-action" value={actionKind} onChange={(e) => setActionKind(e.target.value as ActionKind)}>
            <option value="send-notification">Send a notification</option>
            <option value="cancel-flow-run">Cancel the flow run</option>
            <option value="do-nothing">Do nothing (record the firing only)</option>
          </select>
        </div>
        {actionKind === "send-notification" && (
          <div className="field">
            <label htmlFor="auto-block">Notification block</label>
            {notifyBlocks.length === 0 ? (
              <p className="muted small" id="auto-block">No notification block yet: <Link to="/blocks/catalog">create one</Link> (Slack, Teams, custom webhook, SMTP email…).</p>
            ) : (
              <select id="auto-block" value={block || notifyBlocks[0]?.id} onChange={(e) => setBlock(e.target.value)}>
                {notifyBlocks.map((b) => <option key={b.id} value={b.id}>{b.name} ({b.block_type?.name ?? b.block_type_name})</option>)}
              </select>
            )}
          </div>
        )}
        <div className="field">
          <label htmlFor="auto-name">Name</label>
          <input id="auto-name" value={name} placeholder={defaultName(kind, inputs)} onChange={(e) => setName(e.target.value)} />
        </div>
        {save.isError && <p className="form-error" role="alert">{save.error.message}</p>}
        <div className="dialog-actions">
          <Link className="button" to="/automations">Cancel</Link>
          <button type="submit" className="primary" disabled={save.isPending}>{save.isPending ? "Creating…" : "Create automation"}</button>
        </div>
      </form>
    </div>
  );
}

export function AutomationEditPage() {
  const { id = "" } = useParams();
  const a = useQuery({ queryKey: ["automations", id], queryFn: ({ signal }) => automationsApi.get(id, signal) });
  if (a.isPending) return <div className="page"><Loading /></div>;
  if (a.isError) return <div className="page"><ErrorBox error={a.error} retry={() => void a.refetch()} /></div>;
  return <EditForm a={a.data} />;
}

function EditForm({ a }: { a: Automation }) {
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [name, setName] = useState(a.name);
  const [description, setDescription] = useState(a.description);
  const [definition, setDefinition] = useState(JSON.stringify({ trigger: a.trigger, actions: a.actions, actions_on_trigger: a.actions_on_trigger, actions_on_resolve: a.actions_on_resolve }, null, 2));
  const [error, setError] = useState("");
  const save = useMutation({
    mutationFn: () => {
      let parsed: Pick<AutomationCore, "trigger" | "actions" | "actions_on_trigger" | "actions_on_resolve">;
      try {
        parsed = JSON.parse(definition) as typeof parsed;
      } catch (err) {
        throw new Error(`The definition is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      const part = parsed as Partial<typeof parsed>;
      return automationsApi.replace(a.id, { name, description, enabled: a.enabled, tags: a.tags, trigger: parsed.trigger, actions: part.actions ?? [],
        actions_on_trigger: part.actions_on_trigger ?? [], actions_on_resolve: part.actions_on_resolve ?? [] });
    },
    onSuccess: async () => {
      notify("Automation saved");
      await qc.invalidateQueries({ queryKey: ["automations"] });
      void navigate(`/automations/automation/${a.id}`);
    },
    onError: (err) => setError(err instanceof ApiError || err instanceof Error ? err.message : String(err)),
  });
  return (
    <div className="page">
      <nav className="crumbs" aria-label="Breadcrumb"><Link to="/automations">Automations</Link><span aria-hidden="true">›</span><Link to={`/automations/automation/${a.id}`}>{a.name}</Link></nav>
      <header className="page-head"><h1>Edit {a.name}</h1></header>
      <form className="form" onSubmit={(e) => { e.preventDefault(); setError(""); save.mutate(); }}>
        <div className="field">
          <label htmlFor="edit-name">Name</label>
          <input id="edit-name" value={name} onChange={(e) => setName(e.target.value)} required />
        </div>
        <div className="field">
          <label htmlFor="edit-description">Description</label>
          <input id="edit-description" value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="edit-definition">Trigger and actions <span className="muted">(Prefect's JSON; templates use Jinja: {"{{ flow_run.name }}"})</span></label>
          <textarea id="edit-definition" className="code" rows={24} value={definition} onChange={(e) => setDefinition(e.target.value)} aria-invalid={error ? true : undefined} />
        </div>
        {error && <p className="form-error" role="alert">{error}</p>}
        <div className="dialog-actions">
          <Link className="button" to={`/automations/automation/${a.id}`}>Cancel</Link>
          <button type="submit" className="primary" disabled={save.isPending}>{save.isPending ? "Saving…" : "Save"}</button>
        </div>
      </form>
    </div>
  );
}
