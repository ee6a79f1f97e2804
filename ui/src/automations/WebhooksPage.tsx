// Inbound webhooks (a Prefect Cloud feature, served by Baton): each one is a
// URL whose calls become events through its template, so other systems can
// trigger automations. The list shows every URL with its enabled switch; a
// dialog creates or edits one (the server's 422 for a template that does not
// parse shows next to the field); rotating gives a new URL.

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { ApiError, request } from "../api/client";
import { Empty, ErrorBox, Loading, Time } from "../components/common";
import { ConfirmDialog, Dialog } from "../components/Dialog";
import { notify } from "../components/toast";

export interface Webhook {
  id: string;
  created: string;
  updated: string;
  name: string;
  description: string;
  enabled: boolean;
  template: string;
  slug: string;
}

type WebhookInput = Pick<Webhook, "name" | "description" | "template">;

const webhooksApi = {
  list: (signal?: AbortSignal) => request<Webhook[]>("POST", "/webhooks/filter", {}, signal),
  create: (body: WebhookInput) => request<Webhook>("POST", "/webhooks", body),
  replace: (id: string, body: WebhookInput) => request<undefined>("PUT", `/webhooks/${encodeURIComponent(id)}`, body),
  setEnabled: (id: string, enabled: boolean) => request<undefined>("PATCH", `/webhooks/${encodeURIComponent(id)}`, { enabled }),
  rotate: (id: string) => request<Webhook>("POST", `/webhooks/${encodeURIComponent(id)}/rotate`),
  remove: (id: string) => request<undefined>("DELETE", `/webhooks/${encodeURIComponent(id)}`),
};

/** The template a new webhook starts with: the call's JSON body names the event and the resource. */
export const DEFAULT_WEBHOOK_TEMPLATE = `{
  "event": "{{ body.event }}",
  "resource": {
    "prefect.resource.id": "external.{{ body.id }}",
    "prefect.resource.name": "{{ body.name }}"
  }
}`;

export function hookURL(slug: string): string {
  return `${window.location.origin}/hooks/${slug}`;
}

function EnabledSwitch({ w }: { w: Webhook }) {
  const qc = useQueryClient();
  const toggle = useMutation({
    mutationFn: () => webhooksApi.setEnabled(w.id, !w.enabled),
    onSuccess: async () => {
      notify(w.enabled ? `${w.name} disabled` : `${w.name} enabled`);
      await qc.invalidateQueries({ queryKey: ["webhooks"] });
    },
  });
  return (
    <label className="switch">
      <input type="checkbox" role="switch" checked={w.enabled} disabled={toggle.isPending} onChange={() => toggle.mutate()}
        aria-label={`${w.name} enabled`} />
      <span>{w.enabled ? "On" : "Off"}</span>
    </label>
  );
}

export function WebhooksPage() {
  const qc = useQueryClient();
  const [editing, setEditing] = useState<Webhook | "new" | null>(null);
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const [rotating, setRotating] = useState<Webhook | null>(null);
  const q = useQuery({ queryKey: ["webhooks"], queryFn: ({ signal }) => webhooksApi.list(signal), refetchInterval: 5000 });
  const remove = useMutation({
    mutationFn: (w: Webhook) => webhooksApi.remove(w.id),
    onSuccess: async () => {
      notify("Webhook deleted");
      setDeleting(null);
      await qc.invalidateQueries({ queryKey: ["webhooks"] });
    },
  });
  const rotate = useMutation({
    mutationFn: (w: Webhook) => webhooksApi.rotate(w.id),
    onSuccess: async (w) => {
      notify(`${w.name} has a new URL`);
      setRotating(null);
      await qc.invalidateQueries({ queryKey: ["webhooks"] });
    },
  });
  return (
    <div className="page">
      <header className="page-head">
        <h1>Webhooks</h1>
        <div className="actions">
          <Link className="button" to="/automations">Automations</Link>
          <button type="button" className="primary" onClick={() => setEditing("new")}>Add webhook</button>
        </div>
      </header>
      <p className="muted">Each webhook is a URL: every call to it becomes an event, rendered by its template from the call&apos;s
        {" "}<code>body</code>, <code>headers</code> and <code>query</code>, that automations can trigger on.</p>
      {q.isError ? <ErrorBox error={q.error} retry={() => void q.refetch()} /> : !q.data ? <Loading /> : q.data.length === 0 ? (
        <Empty title="No webhooks yet">
          <p>Add one here, or with <code>prefect cloud webhook create</code>.</p>
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="webhooks" data-keynav>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">URL</th>
                <th scope="col">Updated</th>
                <th scope="col">Enabled</th>
                <th scope="col"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {q.data.map((w) => (
                <tr key={w.id}>
                  <td>{w.name}{w.description && <div className="muted small">{w.description}</div>}</td>
                  <td><code className="truncate" data-testid="webhook-url" title={hookURL(w.slug)}>{hookURL(w.slug)}</code></td>
                  <td><Time iso={w.updated} /></td>
                  <td><EnabledSwitch w={w} /></td>
                  <td className="row-actions">
                    <button type="button" className="small" onClick={() => setEditing(w)} aria-label={`Edit ${w.name}`}>Edit</button>
                    <button type="button" className="small" onClick={() => setRotating(w)} aria-label={`New URL for ${w.name}`}>New URL</button>
                    <button type="button" className="small danger" onClick={() => setDeleting(w)} aria-label={`Delete ${w.name}`}>Delete</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {editing && <WebhookForm webhook={editing === "new" ? null : editing} onClose={() => setEditing(null)} />}
      <ConfirmDialog open={rotating !== null} title={`Give ${rotating?.name ?? ""} a new URL?`} body={<p>The current URL stops working at once.</p>}
        confirmLabel="New URL" busy={rotate.isPending} error={rotate.error} onConfirm={() => rotating && rotate.mutate(rotating)} onClose={() => setRotating(null)} />
      <ConfirmDialog open={deleting !== null} title={`Delete webhook ${deleting?.name ?? ""}?`} body={<p>Calls to its URL will be answered 404.</p>}
        confirmLabel="Delete" danger busy={remove.isPending} error={remove.error} onConfirm={() => deleting && remove.mutate(deleting)} onClose={() => setDeleting(null)} />
    </div>
  );
}

function WebhookForm({ webhook, onClose }: { webhook: Webhook | null; onClose: () => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState(webhook?.name ?? "");
  const [description, setDescription] = useState(webhook?.description ?? "");
  const [template, setTemplate] = useState(webhook?.template ?? DEFAULT_WEBHOOK_TEMPLATE);
  const [errors, setErrors] = useState<{ name?: string; template?: string; general?: string }>({});
  const save = useMutation({
    mutationFn: () => {
      const body = { name, description, template };
      return webhook ? webhooksApi.replace(webhook.id, body) : webhooksApi.create(body);
    },
    onSuccess: async () => {
      notify(webhook ? "Webhook saved" : "Webhook created");
      await qc.invalidateQueries({ queryKey: ["webhooks"] });
      onClose();
    },
    onError: (err) => {
      const msg = err instanceof Error ? err.message : String(err);
      if (err instanceof ApiError && /template/i.test(msg)) setErrors({ template: msg });
      else if (err instanceof ApiError && /"name"/.test(msg)) setErrors({ name: msg });
      else setErrors({ general: msg });
    },
  });
  return (
    <Dialog open title={webhook ? `Edit ${webhook.name}` : "Add webhook"} onClose={onClose}>
      <form className="form" onSubmit={(e) => { e.preventDefault(); setErrors({}); save.mutate(); }}>
        <div className="field">
          <label htmlFor="hook-name">Name</label>
          <input id="hook-name" value={name} onChange={(e) => setName(e.target.value)} required aria-invalid={errors.name ? true : undefined} />
          {errors.name && <span className="field-error">{errors.name}</span>}
        </div>
        <div className="field">
          <label htmlFor="hook-description">Description</label>
          <input id="hook-description" value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="hook-template">Template <span className="muted">(Jinja rendering the event as JSON)</span></label>
          <textarea id="hook-template" className="code" rows={9} value={template} onChange={(e) => setTemplate(e.target.value)}
            aria-invalid={errors.template ? true : undefined} />
          {errors.template && <span className="field-error">{errors.template}</span>}
        </div>
        {errors.general && <p className="form-error" role="alert">{errors.general}</p>}
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="primary" disabled={save.isPending}>{save.isPending ? "Saving…" : "Save"}</button>
        </div>
      </form>
    </Dialog>
  );
}
