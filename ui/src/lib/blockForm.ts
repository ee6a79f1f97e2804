// Pure helpers for block forms: which fields of a block schema reference
// another block (shown as a picker of saved blocks, sent as
// {"$ref": {"block_document_id": ...}}), which are secret (masked inputs),
// and the form values of a saved document (its references in $ref form).

import type { BlockDocument, BlockFields } from "../api/content";
import type { JsonSchema } from "../api/types";

function definition(ref: string, root: BlockFields): (JsonSchema & { block_type_slug?: string }) | undefined {
  const name = ref.replace(/^#\/(definitions|\$defs)\//, "");
  const d: (JsonSchema & { block_type_slug?: string }) | undefined = root.definitions?.[name] ?? root.$defs?.[name];
  return d;
}

/** The block type slug a property references (directly or through anyOf), or null. */
export function blockRefSlug(prop: JsonSchema & { block_type_slug?: string }, root: BlockFields): string | null {
  if (prop.block_type_slug) return prop.block_type_slug;
  if (prop.$ref) return definition(prop.$ref, root)?.block_type_slug ?? null;
  for (const alt of [...(prop.anyOf ?? []), ...(prop.allOf ?? [])]) {
    const s = blockRefSlug(alt, root);
    if (s) return s;
  }
  return null;
}

/** A field shown masked: listed in secret_fields, or a password-format string. */
export function isSecretField(name: string, prop: JsonSchema, root: BlockFields): boolean {
  return (root.secret_fields ?? []).includes(name) || prop.format === "password";
}

/** The form's fields split into block references, secrets and the rest (a schema for SchemaForm). */
export function splitFields(root: BlockFields): { refs: [string, string][]; secrets: string[]; rest: JsonSchema } {
  const refs: [string, string][] = [];
  const secrets: string[] = [];
  const props: Record<string, JsonSchema> = {};
  for (const [name, prop] of Object.entries(root.properties ?? {})) {
    const slug = blockRefSlug(prop, root);
    if (slug) refs.push([name, slug]);
    else if (isSecretField(name, prop, root) && prop.type !== "object") secrets.push(name);
    else props[name] = prop;
  }
  const rest: JsonSchema = { ...root, properties: props, required: (root.required ?? []).filter((r) => r in props) };
  return { refs, secrets, rest };
}

/** A saved document's data as form values: referenced blocks become $ref values. */
export function formValues(doc: BlockDocument): Record<string, unknown> {
  const out: Record<string, unknown> = { ...doc.data };
  for (const [name, ref] of Object.entries(doc.block_document_references)) {
    out[name] = { $ref: { block_document_id: ref.block_document.id } };
  }
  return out;
}

/** The block document id a $ref value points at, or "". */
export function refId(v: unknown): string {
  if (v && typeof v === "object" && "$ref" in v) {
    const r = (v as { $ref?: { block_document_id?: unknown } }).$ref;
    return typeof r?.block_document_id === "string" ? r.block_document_id : "";
  }
  return "";
}
