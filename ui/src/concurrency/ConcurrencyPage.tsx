// Concurrency limits: global limits (v2: name, limit, slots in use, decay,
// active) and tag limits on task runs (v1: tag, limit, the task runs holding
// slots). Create, edit, reset and delete, each confirmed where it destroys.

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useSearchParams } from "react-router";
import { ApiError, api } from "../api/client";
import type { GlobalConcurrencyLimit, TagConcurrencyLimit } from "../api/types";
import { Empty, ErrorBox, Loading } from "../components/common";
import { ConfirmDialog, Dialog } from "../components/Dialog";
import { Tabs } from "../components/Tabs";
import { notify, notifyError } from "../components/toast";
import { toFieldErrors, type FieldErrors } from "../lib/fieldErrors";
import { shortId } from "../lib/format";

const TABS = [
  { id: "global", label: "Global" },
  { id: "tags", label: "Task run tags" },
] as const;

export function ConcurrencyPage() {
  const [params, setParams] = useSearchParams();
  const tab = params.get("tab") === "tags" ? "tags" : "global";
  return (
    <div className="page">
      <header className="page-head">
        <h1>Concurrency limits</h1>
      </header>
      <Tabs tabs={TABS} active={tab} onChange={(t) => setParams(t === "global" ? {} : { tab: t }, { replace: true })} />
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="tab-panel">
        {tab === "global" ? <GlobalLimits /> : <TagLimits />}
      </div>
    </div>
  );
}

function errsOf(err: unknown): FieldErrors {
  if (err instanceof ApiError) {
    const fe = toFieldErrors(err.detail, err.message);
    if (err.status === 409 && fe.general.length) return { fields: { name: fe.general.join("; "), tag: fe.general.join("; ") }, general: [] };
    return fe;
  }
  return { fields: {}, general: [String(err)] };
}

function GlobalLimits() {
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ["concurrency", "global"], queryFn: ({ signal }) => api.globalLimits(signal), refetchInterval: 5000 });
  const [form, setForm] = useState<GlobalConcurrencyLimit | "new" | null>(null);
  const [deleting, setDeleting] = useState<GlobalConcurrencyLimit | null>(null);
  const [resetting, setResetting] = useState<GlobalConcurrencyLimit | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: ["concurrency"] });
  const toggle = useMutation({
    mutationFn: (l: GlobalConcurrencyLimit) => api.updateGlobalLimit(l.id, { active: !l.active }),
    onSuccess: refresh,
    onError: (err) => notifyError("Could not change the limit", err),
  });
  const remove = useMutation({
    mutationFn: (l: GlobalConcurrencyLimit) => api.deleteGlobalLimit(l.id),
    onSuccess: async () => {
      notify("Limit deleted");
      setDeleting(null);
      await refresh();
    },
  });
  const reset = useMutation({
    mutationFn: (l: GlobalConcurrencyLimit) => api.updateGlobalLimit(l.id, { active_slots: 0 }),
    onSuccess: async () => {
      notify("Slots reset");
      setResetting(null);
      await refresh();
    },
  });
  return (
    <div className="stack">
      <div className="toolbar">
        <button type="button" onClick={() => setForm("new")}>
          Add global limit
        </button>
      </div>
      {form && <GlobalForm limit={form === "new" ? null : form} onClose={() => setForm(null)} />}
      {q.isError ? (
        <ErrorBox error={q.error} retry={() => void q.refetch()} />
      ) : !q.data ? (
        <Loading />
      ) : q.data.length === 0 ? (
        <Empty title="No global concurrency limits">
          <p>
            Flows take slots with <code>concurrency("name")</code>; deployments with a concurrency limit get one named <code>deployment:&lt;id&gt;</code>.
          </p>
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="global-limits" data-keynav>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" className="num">Limit</th>
                <th scope="col" className="num">Active slots</th>
                <th scope="col" className="num">Decay / s</th>
                <th scope="col">Active</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {q.data.map((l) => (
                <tr key={l.id}>
                  <td>
                    {l.name.startsWith("deployment:") ? <Link to={`/deployments/deployment/${l.name.slice("deployment:".length)}`}>{l.name}</Link> : <span>{l.name}</span>}
                  </td>
                  <td className="num">{l.limit}</td>
                  <td className="num">
                    <meter min={0} max={Math.max(1, l.limit)} value={l.active_slots} aria-label={`${l.active_slots} of ${l.limit} slots in use`} /> {l.active_slots}
                  </td>
                  <td className="num">{l.slot_decay_per_second}</td>
                  <td>
                    <label className="check">
                      <input type="checkbox" checked={l.active} onChange={() => toggle.mutate(l)} aria-label={`${l.name} active`} />
                      {l.active ? "On" : "Off"}
                    </label>
                  </td>
                  <td className="row-actions">
                    <button type="button" className="small" onClick={() => setForm(l)} aria-label={`Edit ${l.name}`}>
                      Edit
                    </button>
                    <button type="button" className="small" onClick={() => setResetting(l)} aria-label={`Reset ${l.name}`}>
                      Reset
                    </button>
                    <button type="button" className="small ghost danger-text" onClick={() => setDeleting(l)} aria-label={`Delete ${l.name}`}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ConfirmDialog open={deleting !== null} title={`Delete ${deleting?.name ?? ""}?`} body={<p>Code waiting on this limit stops waiting.</p>} confirmLabel="Delete" danger busy={remove.isPending} error={remove.error} onConfirm={() => deleting && remove.mutate(deleting)} onClose={() => setDeleting(null)} />
      <ConfirmDialog open={resetting !== null} title={`Reset ${resetting?.name ?? ""}?`} body={<p>Every slot is freed, including those held by running code.</p>} confirmLabel="Reset slots" danger busy={reset.isPending} error={reset.error} onConfirm={() => resetting && reset.mutate(resetting)} onClose={() => setResetting(null)} />
    </div>
  );
}

function GlobalForm({ limit, onClose }: { limit: GlobalConcurrencyLimit | null; onClose: () => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState(limit?.name ?? "");
  const [n, setN] = useState(limit ? String(limit.limit) : "1");
  const [decay, setDecay] = useState(limit ? String(limit.slot_decay_per_second) : "0");
  const [fe, setFe] = useState<FieldErrors | null>(null);
  const local = !(Number.isInteger(Number(n)) && Number(n) >= 0) ? "must be a whole number, 0 or more" : undefined;
  const save = useMutation({
    mutationFn: async () => {
      const body = { name: name.trim(), limit: Number(n), slot_decay_per_second: Number(decay) || 0 };
      if (limit) await api.updateGlobalLimit(limit.id, body);
      else await api.createGlobalLimit({ ...body, active: true });
    },
    onSuccess: async () => {
      notify(limit ? "Limit saved" : "Limit created");
      await qc.invalidateQueries({ queryKey: ["concurrency"] });
      onClose();
    },
    onError: (err) => setFe(errsOf(err)),
  });
  return (
    <Dialog open title={limit ? `Edit ${limit.name}` : "Add a global limit"} onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setFe(null);
          if (!local) save.mutate();
        }}
      >
        <label className="field">
          <span>Name</span>
          <input type="text" name="name" value={name} onChange={(e) => setName(e.target.value)} required aria-invalid={fe?.fields.name ? true : undefined} />
          {fe?.fields.name && <span className="field-error">{fe.fields.name}</span>}
        </label>
        <label className="field">
          <span>Limit</span>
          <input type="number" name="limit" value={n} onChange={(e) => setN(e.target.value)} aria-invalid={local || fe?.fields.limit ? true : undefined} />
          {(local ?? fe?.fields.limit) && <span className="field-error">{local ?? fe?.fields.limit}</span>}
        </label>
        <label className="field">
          <span>Slot decay per second (rate limits; 0 for none)</span>
          <input type="number" step="any" name="slot_decay_per_second" value={decay} onChange={(e) => setDecay(e.target.value)} />
          {fe?.fields.slot_decay_per_second && <span className="field-error">{fe.fields.slot_decay_per_second}</span>}
        </label>
        {fe && fe.general.length > 0 && <p className="form-error" role="alert">{fe.general.join("; ")}</p>}
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Close
          </button>
          <button type="submit" className="primary" disabled={save.isPending}>
            {save.isPending ? "Saving…" : "Save"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function TagLimits() {
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ["concurrency", "tags"], queryFn: ({ signal }) => api.tagLimits(signal), refetchInterval: 5000, retry: false });
  const [creating, setCreating] = useState(false);
  const [tag, setTag] = useState("");
  const [n, setN] = useState("1");
  const [fe, setFe] = useState<FieldErrors | null>(null);
  const [deleting, setDeleting] = useState<TagConcurrencyLimit | null>(null);
  const [resetting, setResetting] = useState<TagConcurrencyLimit | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: ["concurrency"] });
  const create = useMutation({
    mutationFn: () => api.createTagLimit({ tag: tag.trim(), concurrency_limit: Number(n) }),
    onSuccess: async () => {
      notify(`Limit on tag ${tag.trim()} created`);
      setCreating(false);
      setTag("");
      await refresh();
    },
    onError: (err) => setFe(errsOf(err)),
  });
  const remove = useMutation({
    mutationFn: (l: TagConcurrencyLimit) => api.deleteTagLimit(l.tag),
    onSuccess: async () => {
      notify("Limit deleted");
      setDeleting(null);
      await refresh();
    },
  });
  const reset = useMutation({
    mutationFn: (l: TagConcurrencyLimit) => api.resetTagLimit(l.tag),
    onSuccess: async () => {
      notify("Slots reset");
      setResetting(null);
      await refresh();
    },
  });
  if (q.isError && q.error instanceof ApiError && (q.error.status === 404 || q.error.status === 405))
    return <Empty title="Tag concurrency limits are not available on this server yet" />;
  return (
    <div className="stack">
      <div className="toolbar">
        <button type="button" onClick={() => setCreating(true)}>
          Add tag limit
        </button>
      </div>
      <Dialog open={creating} title="Limit task runs by tag" onClose={() => setCreating(false)}>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setFe(null);
            create.mutate();
          }}
        >
          <label className="field">
            <span>Tag</span>
            <input type="text" name="tag" value={tag} onChange={(e) => setTag(e.target.value)} required aria-invalid={fe?.fields.tag ? true : undefined} />
            {fe?.fields.tag && <span className="field-error">{fe.fields.tag}</span>}
          </label>
          <label className="field">
            <span>Concurrent task runs</span>
            <input type="number" name="concurrency_limit" value={n} onChange={(e) => setN(e.target.value)} aria-invalid={fe?.fields.concurrency_limit ? true : undefined} />
            {fe?.fields.concurrency_limit && <span className="field-error">{fe.fields.concurrency_limit}</span>}
          </label>
          {fe && fe.general.length > 0 && <p className="form-error" role="alert">{fe.general.join("; ")}</p>}
          <div className="dialog-actions">
            <button type="button" onClick={() => setCreating(false)}>
              Close
            </button>
            <button type="submit" className="primary" disabled={create.isPending}>
              Create
            </button>
          </div>
        </form>
      </Dialog>
      {q.isError ? (
        <ErrorBox error={q.error} retry={() => void q.refetch()} />
      ) : !q.data ? (
        <Loading />
      ) : q.data.length === 0 ? (
        <Empty title="No tag limits">
          <p>
            Tasks tagged with a limited tag wait for a free slot (<code>prefect concurrency-limit create TAG N</code>).
          </p>
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="tag-limits" data-keynav>
            <thead>
              <tr>
                <th scope="col">Tag</th>
                <th scope="col" className="num">Limit</th>
                <th scope="col">Task runs holding slots</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {q.data.map((l) => (
                <tr key={l.id}>
                  <td>
                    <span className="tag">{l.tag}</span>
                  </td>
                  <td className="num">
                    {l.active_slots.length} / {l.concurrency_limit}
                  </td>
                  <td>
                    {l.active_slots.length === 0 ? (
                      <span className="muted">None</span>
                    ) : (
                      <span className="tags">
                        {l.active_slots.map((id) => (
                          <Link key={id} to={`/runs/task-run/${id}`}>
                            {shortId(id)}
                          </Link>
                        ))}
                      </span>
                    )}
                  </td>
                  <td className="row-actions">
                    <button type="button" className="small" onClick={() => setResetting(l)} aria-label={`Reset ${l.tag}`}>
                      Reset
                    </button>
                    <button type="button" className="small ghost danger-text" onClick={() => setDeleting(l)} aria-label={`Delete ${l.tag}`}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ConfirmDialog open={deleting !== null} title={`Delete the limit on ${deleting?.tag ?? ""}?`} body={<p>Tasks with this tag run without a limit.</p>} confirmLabel="Delete" danger busy={remove.isPending} error={remove.error} onConfirm={() => deleting && remove.mutate(deleting)} onClose={() => setDeleting(null)} />
      <ConfirmDialog open={resetting !== null} title={`Reset ${resetting?.tag ?? ""}?`} body={<p>Every slot is freed, including those held by running task runs.</p>} confirmLabel="Reset slots" danger busy={reset.isPending} error={reset.error} onConfirm={() => resetting && reset.mutate(resetting)} onClose={() => setResetting(null)} />
    </div>
  );
}
