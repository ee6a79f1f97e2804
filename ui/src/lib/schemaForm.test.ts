import { describe, expect, it } from "vitest";
import type { JsonSchema } from "../api/types";
import { fieldKind, initialValues, orderedProperties, setPath, validate } from "./schemaForm";

// The shape Prefect 3 generates for: def f(name: str, count: int = 3, mode: Literal["fast","slow"] = "fast", cfg: Config = Config(), when: datetime | None = None)
const schema: JsonSchema = {
  title: "Parameters",
  type: "object",
  properties: {
    name: { title: "name", position: 0, type: "string" },
    count: { title: "count", position: 1, type: "integer", default: 3, minimum: 1 },
    mode: { title: "mode", position: 2, enum: ["fast", "slow"], type: "string", default: "fast" },
    cfg: { position: 3, allOf: [{ $ref: "#/definitions/Config" }] },
    when: { position: 4, anyOf: [{ type: "string", format: "date-time" }, { type: "null" }], default: null },
  },
  required: ["name"],
  definitions: {
    Config: { title: "Config", type: "object", properties: { retries: { type: "integer", default: 2 }, label: { type: "string" } }, required: ["label"] },
  },
};

describe("schema form", () => {
  it("orders fields by position and picks inputs", () => {
    expect(orderedProperties(schema, schema).map(([k]) => k)).toEqual(["name", "count", "mode", "cfg", "when"]);
    const kinds = orderedProperties(schema, schema).map(([, p]) => fieldKind(p, schema));
    expect(kinds).toEqual(["string", "integer", "enum", "object", "datetime"]);
  });
  it("fills defaults, nested too, under the deployment's values", () => {
    expect(initialValues(schema, { count: 7 })).toEqual({ count: 7, mode: "fast", cfg: { retries: 2 }, when: null });
  });
  it("names each invalid field by path", () => {
    const errs = validate(schema, { count: 0, mode: "medium", cfg: { retries: 1.5 } });
    expect(errs).toEqual({
      name: "is required",
      count: "must be at least 1",
      mode: 'must be one of "fast", "slow"',
      "cfg.label": "is required",
      "cfg.retries": "must be a whole number",
    });
  });
  it("accepts valid values, including null for Optional", () => {
    expect(validate(schema, { name: "x", count: 2, mode: "slow", cfg: { label: "a", retries: 1 }, when: null })).toEqual({});
    expect(validate(schema, { name: "x", when: 5 })).toEqual({ when: "does not match any of the allowed types" });
  });
  it("sets nested paths immutably", () => {
    const v = { cfg: { retries: 1 } };
    const next = setPath(v, ["cfg", "label"], "b");
    expect(next).toEqual({ cfg: { retries: 1, label: "b" } });
    expect(v).toEqual({ cfg: { retries: 1 } });
    expect(setPath(next, ["cfg", "label"], undefined)).toEqual({ cfg: { retries: 1 } });
  });
});
