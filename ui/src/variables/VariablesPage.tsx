// Variables: list (searchable), create, edit and delete. Values are JSON;
// the server's 422 (name rules, value size) shows next to its field.

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useSearchParams } from "react-router";
import { ApiError } from "../api/client";
import { contentApi, type Variable } from "../api/content";
import { Empty, ErrorBox, Loading, Tags, Time } from "../components/common";
import { ConfirmDialog, Dialog } from "../components/Dialog";
import { notify } from "../components/toast";

function show(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

export function VariablesPage() {
  const [params, setParams] = useSearchParams();
  const search = params.get("q") ?? "";
  const qc = useQueryClient();
  const [editing, setEditing] = useState<Variable | "new" | null>(null);
  const [deleting, setDeleting] = useState<Variable | null>(null);
  const q = useQuery({
    queryKey: ["variables", search],
    queryFn: ({ signal }) => contentApi.variables({ sort: "NAME_ASC", ...(search ? { variables: { name: { like_: search } } } : {}) }, signal),
    refetchInterval: 5000,
  });
  const remove = useMutation({
    mutationFn: (v: Variable) => contentApi.deleteVariable(v.id),
    onSuccess: async () => {
      notify("Variable deleted");
      setDeleting(null);
      await qc.invalidateQueries({ queryKey: ["variables"] });
    },
  });
  return (
    <div className="page">
      <header className="page-head">
        <h1>Variables</h1>
        <div className="actions">
          <button type="button" className="primary" onClick={() => setEditing("new")}>Add variable</button>
        </div>
      </header>
      <div className="toolbar">
        <input type="search" aria-label="Search variables" placeholder="Search names" value={search}
          onChange={(e) => setParams(e.target.value ? { q: e.target.value } : {}, { replace: true })} />
      </div>
      {q.isError ? <ErrorBox error={q.error} retry={() => void q.refetch()} /> : !q.data ? <Loading /> : q.data.length === 0 ? (
        <Empty title={search ? "No variable matches" : "No variables yet"}>
          <p>Set one here, with <code>prefect variable set NAME VALUE</code>, or <code>Variable.set(...)</code> in a flow.</p>
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="variables" data-keynav>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Value</th>
                <th scope="col">Tags</th>
                <th scope="col">Updated</th>
                <th scope="col"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {q.data.map((v) => (
                <tr key={v.id}>
                  <td>{v.name}</td>
                  <td><code className="truncate">{show(v.value)}</code></td>
                  <td><Tags tags={v.tags} /></td>
                  <td><Time iso={v.updated} /></td>
                  <td className="row-actions">
                    <button type="button" className="small" onClick={() => setEditing(v)} aria-label={`Edit ${v.name}`}>Edit</button>
                    <button type="button" className="small danger" onClick={() => setDeleting(v)} aria-label={`Delete ${v.name}`}>Delete</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {editing && <VariableForm variable={editing === "new" ? null : editing} onClose={() => setEditing(null)} />}
      <ConfirmDialog open={deleting !== null} title={`Delete variable ${deleting?.name ?? ""}?`} body={<p>Flows that read it will get their default instead.</p>}
        confirmLabel="Delete" danger busy={remove.isPending} error={remove.error} onConfirm={() => deleting && remove.mutate(deleting)} onClose={() => setDeleting(null)} />
    </div>
  );
}

function VariableForm({ variable, onClose }: { variable: Variable | null; onClose: () => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState(variable?.name ?? "");
  const [value, setValue] = useState(variable ? JSON.stringify(variable.value, null, 2) : "");
  const [tags, setTags] = useState((variable?.tags ?? []).join(", "));
  const [errors, setErrors] = useState<{ name?: string; value?: string; general?: string }>({});
  const save = useMutation({
    mutationFn: () => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        parsed = value; // plain text is a string value, as `prefect variable set` treats it
      }
      const body = { name, value: parsed, tags: tags.split(",").map((t) => t.trim()).filter(Boolean) };
      return variable ? contentApi.updateVariable(variable.id, body) : contentApi.createVariable(body);
    },
    onSuccess: async () => {
      notify(variable ? "Variable saved" : "Variable created");
      await qc.invalidateQueries({ queryKey: ["variables"] });
      onClose();
    },
    onError: (err) => {
      const msg = err instanceof Error ? err.message : String(err);
      if (err instanceof ApiError && (err.status === 409 || /"name"/.test(msg))) setErrors({ name: msg });
      else if (err instanceof ApiError && /"value"/.test(msg)) setErrors({ value: msg });
      else setErrors({ general: msg });
    },
  });
  return (
    <Dialog open title={variable ? `Edit ${variable.name}` : "Add variable"} onClose={onClose}>
      <form className="form" onSubmit={(e) => { e.preventDefault(); setErrors({}); save.mutate(); }}>
        <div className="field">
          <label htmlFor="var-name">Name</label>
          <input id="var-name" value={name} onChange={(e) => setName(e.target.value)} required aria-invalid={errors.name ? true : undefined} />
          <span className="muted small">Lowercase letters, numbers, dashes and underscores.</span>
          {errors.name && <span className="field-error">{errors.name}</span>}
        </div>
        <div className="field">
          <label htmlFor="var-value">Value <span className="muted">(JSON, or plain text)</span></label>
          <textarea id="var-value" className="code" rows={5} value={value} onChange={(e) => setValue(e.target.value)} aria-invalid={errors.value ? true : undefined} />
          {errors.value && <span className="field-error">{errors.value}</span>}
        </div>
        <div className="field">
          <label htmlFor="var-tags">Tags <span className="muted">(comma separated)</span></label>
          <input id="var-tags" value={tags} onChange={(e) => setTags(e.target.value)} />
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
