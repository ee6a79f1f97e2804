// A form generated from a JSON Schema (a deployment's parameter schema):
// one input per parameter, nested fieldsets for objects, a JSON editor for
// what has no better input. Errors come in keyed by dotted path, from local
// validation or from the server's 422, and show under their field.

import { useId, useState } from "react";
import type { JsonSchema } from "../api/types";
import { fromLocalInput, toLocalInput } from "../lib/format";
import { fieldKind, getPath, orderedProperties, setPath, unwrapNullable } from "../lib/schemaForm";

interface Props {
  schema: JsonSchema;
  values: Record<string, unknown>;
  onChange: (v: Record<string, unknown>) => void;
  errors: Record<string, string>;
}

export function SchemaForm({ schema, values, onChange, errors }: Props) {
  const props = orderedProperties(schema, schema);
  if (props.length === 0) return <p className="muted">This flow takes no parameters.</p>;
  return (
    <div className="schema-form">
      {props.map(([name, s]) => (
        <SchemaField key={name} root={schema} schema={s} path={[name]} required={(schema.required ?? []).includes(name)} values={values} onChange={onChange} errors={errors} />
      ))}
    </div>
  );
}

function SchemaField({
  root,
  schema,
  path,
  required,
  values,
  onChange,
  errors,
}: {
  root: JsonSchema;
  schema: JsonSchema;
  path: string[];
  required: boolean;
  values: Record<string, unknown>;
  onChange: (v: Record<string, unknown>) => void;
  errors: Record<string, string>;
}) {
  const id = useId();
  const key = path.join(".");
  const { schema: s, nullable } = unwrapNullable(schema, root);
  const kind = fieldKind(schema, root);
  const value = getPath(values, path);
  const error = errors[key];
  const set = (v: unknown) => onChange(setPath(values, path, v));
  const label = s.title && s.title !== path[path.length - 1] ? `${s.title} (${path[path.length - 1]})` : (path[path.length - 1] ?? "");
  const describedBy = [s.description ? `${id}-d` : "", error ? `${id}-e` : ""].filter(Boolean).join(" ") || undefined;
  const common = { id, name: key, "aria-invalid": error ? true : undefined, "aria-describedby": describedBy, "aria-required": required || undefined };

  if (kind === "object") {
    return (
      <fieldset className="schema-object">
        <legend>
          {label}
          {required && <span className="req"> *</span>}
        </legend>
        {s.description && <p className="muted small">{s.description}</p>}
        {orderedProperties(s, root).map(([n, p]) => (
          <SchemaField key={n} root={root} schema={p} path={[...path, n]} required={(s.required ?? []).includes(n)} values={values} onChange={onChange} errors={errors} />
        ))}
        {error && <span className="field-error">{error}</span>}
      </fieldset>
    );
  }

  let input;
  switch (kind) {
    case "boolean":
      input = <input type="checkbox" {...common} checked={value === true} onChange={(e) => set(e.target.checked)} />;
      break;
    case "enum":
      input = (
        <select {...common} value={value === undefined ? "" : JSON.stringify(value)} onChange={(e) => set(e.target.value === "" ? (nullable ? null : undefined) : JSON.parse(e.target.value))}>
          <option value="">{nullable ? "None" : "—"}</option>
          {(s.enum ?? []).map((opt) => (
            <option key={JSON.stringify(opt)} value={JSON.stringify(opt)}>
              {String(opt)}
            </option>
          ))}
        </select>
      );
      break;
    case "integer":
    case "number":
      input = <NumberInput common={common} value={value} integer={kind === "integer"} onChange={set} nullable={nullable} />;
      break;
    case "datetime":
      input = (
        <input
          type="datetime-local"
          {...common}
          value={typeof value === "string" ? toLocalInput(value) : ""}
          onChange={(e) => set(fromLocalInput(e.target.value) ?? (nullable ? null : undefined))}
        />
      );
      break;
    case "string":
      input = (
        <input
          type="text"
          {...common}
          value={typeof value === "string" ? value : ""}
          onChange={(e) => set(e.target.value === "" ? (nullable ? null : undefined) : e.target.value)}
        />
      );
      break;
    default:
      input = <JsonInput common={common} value={value} onChange={set} />;
  }
  return (
    <div className={kind === "boolean" ? "field check-field" : "field"}>
      <label htmlFor={id}>
        {label}
        {required && <span className="req"> *</span>}
        {kind === "json" && <span className="muted"> (JSON)</span>}
      </label>
      {input}
      {s.description && (
        <span id={`${id}-d`} className="muted small">
          {s.description}
        </span>
      )}
      {error && (
        <span id={`${id}-e`} className="field-error">
          {error}
        </span>
      )}
    </div>
  );
}

type Common = Record<string, unknown> & { id: string; name: string };

function NumberInput({ common, value, integer, onChange, nullable }: { common: Common; value: unknown; integer: boolean; onChange: (v: unknown) => void; nullable: boolean }) {
  const [text, setText] = useState(typeof value === "number" ? String(value) : "");
  return (
    <input
      type="number"
      step={integer ? 1 : "any"}
      {...common}
      value={text}
      onChange={(e) => {
        setText(e.target.value);
        if (e.target.value === "") onChange(nullable ? null : undefined);
        else onChange(Number(e.target.value));
      }}
    />
  );
}

function JsonInput({ common, value, onChange }: { common: Common; value: unknown; onChange: (v: unknown) => void }) {
  const [text, setText] = useState(value === undefined ? "" : JSON.stringify(value, null, 2));
  const [bad, setBad] = useState<string | null>(null);
  return (
    <>
      <textarea
        {...common}
        rows={Math.min(10, Math.max(2, text.split("\n").length))}
        className="code"
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value.trim() === "") {
            setBad(null);
            onChange(undefined);
            return;
          }
          try {
            onChange(JSON.parse(e.target.value));
            setBad(null);
          } catch (err) {
            setBad(err instanceof Error ? err.message : "not valid JSON");
          }
        }}
      />
      {bad && <span className="field-error">Not valid JSON: {bad}</span>}
    </>
  );
}
