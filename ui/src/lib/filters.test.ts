import { describe, expect, it } from "vitest";
import { DEFAULT_FILTERS, parseRunFilters, serializeRunFilters, stateFilter, toFlowRunQuery, type RunFilters } from "./filters";

describe("run filters <-> URL", () => {
  it("defaults serialise to an empty query", () => {
    expect(serializeRunFilters(DEFAULT_FILTERS).toString()).toBe("");
    expect(parseRunFilters(new URLSearchParams(""))).toEqual(DEFAULT_FILTERS);
  });

  const cases: [string, Partial<RunFilters>][] = [
    ["state=FAILED%2CCRASHED", { states: ["FAILED", "CRASHED"] }],
    ["state=LATE", { states: ["LATE"] }],
    ["flow=a%2Cb&tag=prod", { flows: ["a", "b"], tags: ["prod"] }],
    ["window=24h", { window: "24h" }],
    ["q=etl", { search: "etl" }],
    ["sort=NAME_ASC&page=3&size=50", { sort: "NAME_ASC", page: 3, pageSize: 50 }],
    ["from=2026-01-01T00%3A00%3A00.000Z&to=2026-01-02T00%3A00%3A00.000Z", { window: "custom", from: "2026-01-01T00:00:00.000Z", to: "2026-01-02T00:00:00.000Z" }],
  ];
  it.each(cases)("round-trips %s", (qs, partial) => {
    const f = { ...DEFAULT_FILTERS, ...partial };
    expect(parseRunFilters(new URLSearchParams(qs))).toEqual(f);
    expect(serializeRunFilters(f).toString()).toBe(qs);
  });

  it("drops values it does not understand", () => {
    const f = parseRunFilters(new URLSearchParams("state=BOGUS,failed&sort=NOPE&page=-2&size=7&window=3y&from=x"));
    expect(f.states).toEqual(["FAILED"]);
    expect(f.sort).toBe(DEFAULT_FILTERS.sort);
    expect(f.page).toBe(1);
    expect(f.pageSize).toBe(DEFAULT_FILTERS.pageSize);
    expect(f.window).toBe("all");
  });

  it("dedupes list values", () => {
    expect(parseRunFilters(new URLSearchParams("tag=a,a,,b")).tags).toEqual(["a", "b"]);
  });
});

describe("toFlowRunQuery", () => {
  const now = Date.parse("2026-01-10T12:00:00Z");
  it("is empty for default filters", () => {
    expect(toFlowRunQuery(DEFAULT_FILTERS, now)).toEqual({});
  });
  it("builds every part", () => {
    const q = toFlowRunQuery({ ...DEFAULT_FILTERS, states: ["FAILED"], flows: ["f1"], tags: ["t"], search: " x ", window: "1h" }, now);
    expect(q).toEqual({
      flows: { id: { any_: ["f1"] } },
      flow_runs: {
        state: { type: { any_: ["FAILED"] } },
        tags: { all_: ["t"] },
        name: { like_: "x" },
        expected_start_time: { after_: "2026-01-10T11:00:00.000Z" },
      },
    });
  });
  it("maps Late to the state name, alone or or-ed with types", () => {
    expect(stateFilter(["LATE"])).toEqual({ state: { name: { any_: ["Late"] } } });
    expect(stateFilter(["FAILED", "LATE"])).toEqual({
      state: { operator: "or_", type: { any_: ["FAILED"] }, name: { any_: ["Late"] } },
    });
    expect(stateFilter([])).toBeUndefined();
  });
});
