// Maps a server's 422 answer onto form fields. Baton names the field in a
// string detail ('field "name": ...', 'parameter "cfg.retries" is required');
// FastAPI-style servers send [{loc: ["body","name"], msg}]. Either way the
// form shows the message next to the field it names, and the rest on top.

export interface FieldErrors {
  /** Field path ("name", "parameters.cfg.retries") → message. */
  fields: Record<string, string>;
  /** Messages no field claimed. */
  general: string[];
}

const QUOTED = /\b(?:field|parameter|property)\s+"([^"]+)"/i;

/** Splits an API error into per-field messages; paths are dotted, "body." dropped. */
export function toFieldErrors(detail: unknown, message: string): FieldErrors {
  const out: FieldErrors = { fields: {}, general: [] };
  if (Array.isArray(detail)) {
    for (const d of detail as { loc?: unknown[]; msg?: string }[]) {
      const loc = (d.loc ?? []).filter((p) => p !== "body").map(String);
      const msg = d.msg ?? "invalid value";
      if (loc.length) out.fields[loc.join(".")] = msg;
      else out.general.push(msg);
    }
    return out;
  }
  const text = typeof detail === "string" ? detail : message;
  const m = QUOTED.exec(text);
  if (m?.[1]) out.fields[m[1]] = text;
  else out.general.push(text);
  return out;
}

/** The message for a field, also matching "parameters.x" against "x" and vice versa. */
export function errorFor(errs: FieldErrors | null, path: string, prefix = ""): string | undefined {
  if (!errs) return undefined;
  return errs.fields[path] ?? (prefix ? errs.fields[`${prefix}.${path}`] : undefined);
}
