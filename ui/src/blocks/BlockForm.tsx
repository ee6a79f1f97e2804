// A block's data as a form generated from its schema: saved-block pickers
// for fields that reference other blocks, masked inputs for secret fields
// (an edited block shows its secrets as ******** and keeps them unless
// retyped: the server ignores an obfuscated value posted back), and
// SchemaForm for everything else.

import { useQuery } from "@tanstack/react-query";
import { contentApi, type BlockFields } from "../api/content";
import { SchemaForm } from "../components/SchemaForm";
import { refId, splitFields } from "../lib/blockForm";

interface Props {
  fields: BlockFields;
  values: Record<string, unknown>;
  onChange: (v: Record<string, unknown>) => void;
  errors: Record<string, string>;
}

export function BlockForm({ fields, values, onChange, errors }: Props) {
  const { refs, secrets, rest } = splitFields(fields);
  const required = fields.required ?? [];
  return (
    <div className="block-form">
      {refs.map(([name, slug]) => (
        <RefPicker key={name} name={name} slug={slug} title={fields.properties?.[name]?.title ?? name} required={required.includes(name)}
          value={refId(values[name])} error={errors[`data.${name}`] ?? errors[name]}
          onChange={(id) => {
            const next = Object.fromEntries(Object.entries(values).filter(([k]) => k !== name));
            if (id) next[name] = { $ref: { block_document_id: id } };
            onChange(next);
          }} />
      ))}
      {secrets.map((name) => {
        const p = fields.properties?.[name];
        const v = values[name];
        const err = errors[`data.${name}`] ?? errors[name];
        return (
          <div className="field" key={name}>
            <label htmlFor={`secret-${name}`}>
              {p?.title ?? name}
              {required.includes(name) && <span className="req"> *</span>}
              <span className="muted"> (secret)</span>
            </label>
            <input id={`secret-${name}`} name={name} type="password" autoComplete="off" data-testid={`secret-${name}`}
              value={typeof v === "string" ? v : v === undefined || v === null ? "" : JSON.stringify(v)}
              onChange={(e) => onChange({ ...values, [name]: e.target.value })} aria-invalid={err ? true : undefined} />
            {p?.description && <span className="muted small">{p.description}</span>}
            {err && <span className="field-error">{err}</span>}
          </div>
        );
      })}
      {Object.keys(rest.properties ?? {}).length > 0 && (
        <SchemaForm schema={rest} values={values} onChange={(v) => onChange({ ...values, ...v })} errors={errors} />
      )}
    </div>
  );
}

function RefPicker({ name, slug, title, required, value, error, onChange }: {
  name: string; slug: string; title: string; required: boolean; value: string; error: string | undefined; onChange: (id: string) => void;
}) {
  const docs = useQuery({ queryKey: ["blocks", "of-type", slug], queryFn: ({ signal }) => contentApi.blockDocumentsOfType(slug, signal) });
  const id = `ref-${name}`;
  return (
    <div className="field">
      <label htmlFor={id}>
        {title}
        {required && <span className="req"> *</span>}
        <span className="muted"> ({slug} block)</span>
      </label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)} aria-invalid={error ? true : undefined}>
        <option value="">{docs.isPending ? "Loading…" : "— choose a saved block —"}</option>
        {(docs.data ?? []).map((d) => (
          <option key={d.id} value={d.id}>{d.name}</option>
        ))}
      </select>
      {docs.data?.length === 0 && <span className="muted small">No saved {slug} block yet: create one first.</span>}
      {error && <span className="field-error">{error}</span>}
    </div>
  );
}
