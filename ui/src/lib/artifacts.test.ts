import { describe, expect, it } from "vitest";
import { dataText, parseTable, progressValue, safeUrl } from "./artifacts";

describe("parseTable", () => {
  it("reads rows of objects, as create_table_artifact stores them (JSON text)", () => {
    expect(parseTable(JSON.stringify([{ a: 1, b: "x" }, { a: 2, c: null }]))).toEqual({
      headers: ["a", "b", "c"],
      rows: [
        ["1", "x", ""],
        ["2", "", ""],
      ],
    });
  });
  it("reads columns and lists of lists", () => {
    expect(parseTable({ n: [1, 2], s: ["a"] })).toEqual({ headers: ["n", "s"], rows: [["1", "a"], ["2", ""]] });
    expect(parseTable([[1, 2], [3]])).toEqual({ headers: ["0", "1"], rows: [["1", "2"], ["3", ""]] });
  });
  it("keeps markup as plain text and refuses what is not a table", () => {
    const t = parseTable([{ h: "<img src=x onerror=alert(1)>" }]);
    expect(t?.rows[0]?.[0]).toBe("<img src=x onerror=alert(1)>");
    expect(parseTable("not json")).toBeNull();
    expect(parseTable(42)).toBeNull();
    expect(parseTable({ a: 1 })).toBeNull();
  });
});

describe("safeUrl", () => {
  it("allows http(s) only", () => {
    expect(safeUrl("https://example.com/a.png")).toBe("https://example.com/a.png");
    expect(safeUrl("javascript:alert(1)")).toBeNull();
    expect(safeUrl("data:text/html,<script>alert(1)</script>")).toBeNull();
    expect(safeUrl(" JavaScript:alert(1)")).toBeNull();
    expect(safeUrl(3)).toBeNull();
  });
});

describe("progressValue and dataText", () => {
  it("clamps progress and stringifies data", () => {
    expect(progressValue(75)).toBe(75);
    expect(progressValue(150)).toBe(100);
    expect(progressValue("x")).toBeNull();
    expect(dataText({ a: 1 })).toContain('"a": 1');
    expect(dataText(null)).toBe("");
  });
});
