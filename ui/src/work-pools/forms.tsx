// Create and edit forms for work pools and work queues. The server's 422 /
// 409 answers show next to the field they name (name, priority, concurrency).

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ApiError, api } from "../api/client";
import type { WorkPool, WorkQueue } from "../api/types";
import { Dialog } from "../components/Dialog";
import { notify } from "../components/toast";
import { toFieldErrors, type FieldErrors } from "../lib/fieldErrors";

function errs(err: unknown): FieldErrors {
  if (err instanceof ApiError) {
    const fe = toFieldErrors(err.detail, err.message);
    // A duplicate name (409) belongs to the name field.
    if (err.status === 409 && fe.general.length) return { fields: { name: fe.general.join("; ") }, general: [] };
    return fe;
  }
  return { fields: {}, general: [err instanceof Error ? err.message : String(err)] };
}

function Input({ label, name, value, onChange, error, type = "text", required, disabled, help }: { label: string; name: string; value: string; onChange: (v: string) => void; error?: string | undefined; type?: string; required?: boolean; disabled?: boolean; help?: string }) {
  const id = `f-${name}`;
  return (
    <div className="field">
      <label htmlFor={id}>
        {label}
        {required && <span className="req"> *</span>}
      </label>
      <input id={id} type={type} name={name} value={value} onChange={(e) => onChange(e.target.value)} required={required} disabled={disabled} aria-invalid={error ? true : undefined} aria-describedby={error ? `${id}-e` : undefined} />
      {help && <span className="muted small">{help}</span>}
      {error && (
        <span id={`${id}-e`} className="field-error">
          {error}
        </span>
      )}
    </div>
  );
}

function optionalInt(v: string): number | null {
  return v.trim() === "" ? null : Number(v);
}

export function WorkPoolForm({ pool, onClose }: { pool: WorkPool | null; onClose: () => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState(pool?.name ?? "");
  const [type, setType] = useState(pool?.type ?? "process");
  const [description, setDescription] = useState(pool?.description ?? "");
  const [limit, setLimit] = useState(pool?.concurrency_limit != null ? String(pool.concurrency_limit) : "");
  const [template, setTemplate] = useState(pool?.base_job_template ? JSON.stringify(pool.base_job_template, null, 2) : "");
  const [fe, setFe] = useState<FieldErrors | null>(null);
  const save = useMutation({
    mutationFn: async () => {
      let tpl: Record<string, unknown> | undefined;
      if (template.trim()) {
        try {
          tpl = JSON.parse(template) as Record<string, unknown>;
        } catch (err) {
          throw new ApiError(422, `field "base_job_template": not valid JSON (${err instanceof Error ? err.message : ""})`, `field "base_job_template": not valid JSON`);
        }
      }
      const body = { description: description || null, concurrency_limit: optionalInt(limit), ...(tpl ? { base_job_template: tpl } : {}) };
      if (pool) await api.updateWorkPool(pool.name, body);
      else await api.createWorkPool({ name: name.trim(), type, ...body });
    },
    onSuccess: async () => {
      notify(pool ? `Saved ${pool.name}` : `Created work pool ${name.trim()}`);
      await qc.invalidateQueries({ queryKey: ["work_pools"] });
      onClose();
    },
    onError: (err) => setFe(errs(err)),
  });
  const limitError = limit.trim() !== "" && !(Number.isInteger(Number(limit)) && Number(limit) >= 0) ? "must be a whole number, 0 or more" : undefined;
  return (
    <Dialog open title={pool ? `Edit ${pool.name}` : "Create a work pool"} onClose={onClose} wide>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setFe(null);
          if (!limitError) save.mutate();
        }}
        data-testid="work-pool-form"
      >
        <Input label="Name" name="name" value={name} onChange={setName} required disabled={!!pool} error={fe?.fields.name} />
        <Input label="Type" name="type" value={type} onChange={setType} disabled={!!pool} error={fe?.fields.type} help="process runs flows as local processes (baton worker start, prefect worker start --type process)" />
        <Input label="Description" name="description" value={description} onChange={setDescription} error={fe?.fields.description} />
        <Input label="Concurrency limit" name="concurrency_limit" type="number" value={limit} onChange={setLimit} error={limitError ?? fe?.fields.concurrency_limit} help="Empty for no limit" />
        <div className="field">
          <label htmlFor="f-template">Base job template (JSON, optional)</label>
          <textarea id="f-template" className="code" rows={8} value={template} onChange={(e) => setTemplate(e.target.value)} aria-invalid={fe?.fields.base_job_template ? true : undefined} />
          {fe?.fields.base_job_template && <span className="field-error">{fe.fields.base_job_template}</span>}
        </div>
        {fe && fe.general.length > 0 && (
          <p className="form-error" role="alert">
            {fe.general.join("; ")}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Close
          </button>
          <button type="submit" className="primary" disabled={save.isPending}>
            {save.isPending ? "Saving…" : pool ? "Save" : "Create"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function WorkQueueForm({ pool, queue, onClose }: { pool: string; queue: WorkQueue | null; onClose: () => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState(queue?.name ?? "");
  const [description, setDescription] = useState(queue?.description ?? "");
  const [priority, setPriority] = useState(queue ? String(queue.priority) : "");
  const [limit, setLimit] = useState(queue?.concurrency_limit != null ? String(queue.concurrency_limit) : "");
  const [fe, setFe] = useState<FieldErrors | null>(null);
  const local: Record<string, string> = {};
  if (priority.trim() !== "" && !(Number.isInteger(Number(priority)) && Number(priority) >= 1)) local.priority = "must be a whole number, 1 or more (1 is the highest)";
  if (limit.trim() !== "" && !(Number.isInteger(Number(limit)) && Number(limit) >= 0)) local.concurrency_limit = "must be a whole number, 0 or more";
  const save = useMutation({
    mutationFn: async () => {
      const body = {
        name: name.trim(),
        description: description || null,
        concurrency_limit: optionalInt(limit),
        ...(priority.trim() ? { priority: Number(priority) } : {}),
      };
      if (queue) await api.updateWorkQueue(pool, queue.name, body);
      else await api.createWorkQueue(pool, body);
    },
    onSuccess: async () => {
      notify(queue ? `Saved queue ${name.trim()}` : `Created queue ${name.trim()}`);
      await qc.invalidateQueries({ queryKey: ["work_queues"] });
      onClose();
    },
    onError: (err) => setFe(errs(err)),
  });
  return (
    <Dialog open title={queue ? `Edit queue ${queue.name}` : `Add a queue to ${pool}`} onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setFe(null);
          if (Object.keys(local).length === 0) save.mutate();
        }}
        data-testid="work-queue-form"
      >
        <Input label="Name" name="name" value={name} onChange={setName} required error={fe?.fields.name} />
        <Input label="Description" name="description" value={description} onChange={setDescription} error={fe?.fields.description} />
        <Input label="Priority" name="priority" type="number" value={priority} onChange={setPriority} error={local.priority ?? fe?.fields.priority} help="1 is the highest; empty for the next free priority" />
        <Input label="Concurrency limit" name="concurrency_limit" type="number" value={limit} onChange={setLimit} error={local.concurrency_limit ?? fe?.fields.concurrency_limit} help="Empty for no limit" />
        {fe && fe.general.length > 0 && (
          <p className="form-error" role="alert">
            {fe.general.join("; ")}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Close
          </button>
          <button type="submit" className="primary" disabled={save.isPending}>
            {save.isPending ? "Saving…" : queue ? "Save" : "Create"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
