// The parameter form's logic, generated from a deployment's
// parameter_openapi_schema (the JSON Schema Prefect derives from the flow's
// signature): which input each parameter gets, its default, and validation
// messages keyed by dotted path ("config.retries") so each shows next to its
// field. Kept free of React so it is unit-tested.

import type { JsonSchema } from "../api/types";

export type FieldKind = "string" | "integer" | "number" | "boolean" | "enum" | "object" | "datetime" | "json";

/** Follows local $refs ("#/definitions/X", "#/$defs/X") and single-element allOf wrappers. */
export function resolve(s: JsonSchema, root: JsonSchema): JsonSchema {
  let cur = s;
  for (let i = 0; i < 16; i++) {
    if (cur.$ref) {
      const parts = cur.$ref.replace(/^#\//, "").split("/");
      let node: unknown = root;
      for (const p of parts) node = (node as Record<string, unknown> | undefined)?.[p];
      const rest: JsonSchema = { ...cur };
      delete rest.$ref;
      cur = { ...((node as JsonSchema | undefined) ?? {}), ...rest };
      continue;
    }
    if (cur.allOf && cur.allOf.length === 1 && cur.allOf[0]) {
      const { allOf, ...rest } = cur;
      cur = { ...allOf[0], ...rest };
      continue;
    }
    return cur;
  }
  return cur;
}

/** Splits Optional[X] (anyOf X | null) into X and nullable. */
export function unwrapNullable(s: JsonSchema, root: JsonSchema): { schema: JsonSchema; nullable: boolean } {
  const r = resolve(s, root);
  const alts = r.anyOf ?? r.oneOf;
  if (alts) {
    const nonNull = alts.filter((a) => resolve(a, root).type !== "null");
    if (nonNull.length === 1 && nonNull[0]) {
      const rest: JsonSchema = { ...r };
      delete rest.anyOf;
      delete rest.oneOf;
      return { schema: { ...resolve(nonNull[0], root), ...rest }, nullable: nonNull.length < alts.length };
    }
  }
  if (Array.isArray(r.type) && r.type.includes("null")) {
    const t = r.type.filter((x) => x !== "null");
    return { schema: { ...r, type: t.length === 1 ? t[0] : t }, nullable: true };
  }
  return { schema: r, nullable: false };
}

export function fieldKind(s: JsonSchema, root: JsonSchema): FieldKind {
  const { schema } = unwrapNullable(s, root);
  if (schema.enum) return "enum";
  if (schema.anyOf || schema.oneOf) return "json";
  switch (schema.type) {
    case "string":
      return schema.format === "date-time" ? "datetime" : "string";
    case "integer":
      return "integer";
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "object":
      return schema.properties ? "object" : "json";
    default:
      return "json";
  }
}

/** The properties of an object schema in the flow signature's order (Prefect's `position`), then by name. */
export function orderedProperties(s: JsonSchema, root: JsonSchema): [string, JsonSchema][] {
  const r = resolve(s, root);
  return Object.entries(r.properties ?? {}).sort(([a, x], [b, y]) => (x.position ?? 1e9) - (y.position ?? 1e9) || a.localeCompare(b));
}

/** The starting values: the deployment's parameters over the schema's defaults (nested objects included). */
export function initialValues(root: JsonSchema, current: Record<string, unknown> | null | undefined): Record<string, unknown> {
  const fill = (s: JsonSchema, given: unknown): unknown => {
    const { schema } = unwrapNullable(s, root);
    if (given !== undefined) return given;
    if (schema.default !== undefined) return structuredClone(schema.default);
    if (fieldKind(schema, root) === "object") {
      const o: Record<string, unknown> = {};
      for (const [k, p] of orderedProperties(schema, root)) {
        const v = fill(p, undefined);
        if (v !== undefined) o[k] = v;
      }
      return Object.keys(o).length ? o : undefined;
    }
    return undefined;
  };
  const out: Record<string, unknown> = { ...(current ?? {}) };
  for (const [k, p] of orderedProperties(root, root)) {
    const v = fill(p, out[k]);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function typeOk(v: unknown, t: string): boolean {
  switch (t) {
    case "string":
      return typeof v === "string";
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "number":
      return typeof v === "number" && Number.isFinite(v);
    case "boolean":
      return typeof v === "boolean";
    case "object":
      return typeof v === "object" && v !== null && !Array.isArray(v);
    case "array":
      return Array.isArray(v);
    case "null":
      return v === null;
    default:
      return true;
  }
}

/** Validates values against the schema; returns path → message (empty when valid). */
export function validate(root: JsonSchema, values: Record<string, unknown>): Record<string, string> {
  const check = (errs: Record<string, string>, s: JsonSchema, v: unknown, path: string, depth: number): void => {
    if (depth > 16) return;
    const r = resolve(s, root);
    const alts = r.anyOf ?? r.oneOf;
    if (alts) {
      const ok = alts.some((a) => {
        const sub: Record<string, string> = {};
        check(sub, a, v, path, depth + 1);
        return Object.keys(sub).length === 0;
      });
      if (!ok) errs[path] = "does not match any of the allowed types";
      return;
    }
    if (r.enum && !r.enum.some((e) => JSON.stringify(e) === JSON.stringify(v))) {
      errs[path] = `must be one of ${r.enum.map((e) => JSON.stringify(e)).join(", ")}`;
      return;
    }
    if (r.type) {
      const types = Array.isArray(r.type) ? r.type : [r.type];
      if (!types.some((t) => typeOk(v, t))) {
        errs[path] = `must be ${types.map((t) => (t === "integer" ? "a whole number" : t === "object" ? "an object" : t === "array" ? "a list" : `a ${t}`)).join(" or ")}`;
        return;
      }
    }
    if (typeof v === "number") {
      if (r.minimum !== undefined && v < r.minimum) errs[path] = `must be at least ${r.minimum}`;
      else if (r.maximum !== undefined && v > r.maximum) errs[path] = `must be at most ${r.maximum}`;
      else if (r.exclusiveMinimum !== undefined && v <= r.exclusiveMinimum) errs[path] = `must be greater than ${r.exclusiveMinimum}`;
      else if (r.exclusiveMaximum !== undefined && v >= r.exclusiveMaximum) errs[path] = `must be less than ${r.exclusiveMaximum}`;
    }
    if (typeof v === "string") {
      if (r.minLength !== undefined && v.length < r.minLength) errs[path] = `must have at least ${r.minLength} characters`;
      else if (r.maxLength !== undefined && v.length > r.maxLength) errs[path] = `must have at most ${r.maxLength} characters`;
      else if (r.pattern !== undefined && !new RegExp(r.pattern, "u").test(v)) errs[path] = `must match ${r.pattern}`;
    }
    if (typeOk(v, "object") && r.properties) checkObject(errs, r, v as Record<string, unknown>, path, depth);
    const items = r.items;
    if (Array.isArray(v) && items) v.forEach((item, i) => check(errs, items, item, `${path}.${i}`, depth + 1));
  };
  const checkObject = (errs: Record<string, string>, r: JsonSchema, o: Record<string, unknown>, path: string, depth: number) => {
    for (const name of r.required ?? []) {
      if (o[name] === undefined) errs[path ? `${path}.${name}` : name] = "is required";
    }
    for (const [name, p] of Object.entries(r.properties ?? {})) {
      if (o[name] !== undefined) check(errs, p, o[name], path ? `${path}.${name}` : name, depth + 1);
    }
  };
  const out: Record<string, string> = {};
  checkObject(out, resolve(root, root), values, "", 0);
  return out;
}

/** Reads a dotted path out of nested values. */
export function getPath(values: Record<string, unknown>, path: string[]): unknown {
  let cur: unknown = values;
  for (const p of path) cur = (cur as Record<string, unknown> | undefined)?.[p];
  return cur;
}

/** Returns a copy with the value at path set (undefined removes the key). */
export function setPath(values: Record<string, unknown>, path: string[], v: unknown): Record<string, unknown> {
  const [head, ...rest] = path;
  if (head === undefined) return values;
  if (rest.length === 0) {
    const kept = Object.entries(values).filter(([k]) => k !== head);
    return Object.fromEntries(v === undefined ? kept : [...kept, [head, v]]);
  }
  const out = { ...values };
  const child = out[head];
  out[head] = setPath(typeof child === "object" && child !== null && !Array.isArray(child) ? (child as Record<string, unknown>) : {}, rest, v);
  return out;
}
