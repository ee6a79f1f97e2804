import { describe, expect, it } from "vitest";
import { errorFor, toFieldErrors } from "./fieldErrors";

describe("toFieldErrors", () => {
  it("places Baton's string details on the field they name", () => {
    expect(toFieldErrors('parameter "options.retries" must be an integer', "")).toEqual({ fields: { "options.retries": 'parameter "options.retries" must be an integer' }, general: [] });
    expect(toFieldErrors('field "name": expected string, got number', "").fields.name).toMatch(/expected string/);
  });
  it("places FastAPI's list details by loc, dropping body", () => {
    const fe = toFieldErrors([{ loc: ["body", "priority"], msg: "Input should be greater than 0" }, { msg: "whole body wrong" }], "");
    expect(fe).toEqual({ fields: { priority: "Input should be greater than 0" }, general: ["whole body wrong"] });
  });
  it("keeps what names no field as a general message", () => {
    expect(toFieldErrors("A work queue with this name already exists.", "")).toEqual({ fields: {}, general: ["A work queue with this name already exists."] });
    expect(toFieldErrors(undefined, "500 Internal Server Error").general).toEqual(["500 Internal Server Error"]);
  });
  it("finds a field with or without its prefix", () => {
    const fe = toFieldErrors('field "parameters.who" is required', "");
    expect(errorFor(fe, "who", "parameters")).toMatch(/required/);
    expect(errorFor(null, "who")).toBeUndefined();
  });
});
