import { describe, expect, it } from "vitest";
import { batonPath, splitWorkspacePath } from "./prefectLinks";

describe("links Prefect prints", () => {
  const id = "0190f3a0-0000-7000-8000-000000000001";
  const cases: [string, string | null][] = [
    [`/flow-runs/flow-run/${id}`, `/runs/flow-run/${id}`],
    ["/flow-runs", "/runs"],
    [`/work-pools/work-pool/local/worker/${id}`, "/work-pools/work-pool/local?tab=workers"],
    [`/concurrency-limits/concurrency-limit/${id}`, "/concurrency-limits?tab=tags"],
    [`/events/event/2026-01-31/${id}`, `/events?event_id=${id}&day=2026-01-31`],
    ["/settings/blocks/catalog", "/blocks/catalog"],
    ["/settings/blocks/catalog/secret/create", "/blocks/catalog/secret/create"],
    // Served as they are.
    [`/runs/flow-run/${id}`, null],
    [`/runs/task-run/${id}`, null],
    [`/flows/flow/${id}`, null],
    [`/deployments/deployment/${id}`, null],
    ["/deployments", null],
    ["/work-pools/work-pool/local", null],
    [`/blocks/block/${id}`, null],
  ];
  it.each(cases)("%s", (from, to) => {
    expect(batonPath(from)).toBe(to);
  });
  it("keeps the query string", () => {
    expect(batonPath(`/flow-runs/flow-run/${id}`, "?tab=logs")).toBe(`/runs/flow-run/${id}?tab=logs`);
    expect(batonPath(`/work-pools/work-pool/p/worker/${id}`, "?x=1")).toBe("/work-pools/work-pool/p?tab=workers&x=1");
  });
  it("splits Cloud workspace URLs", () => {
    expect(splitWorkspacePath("/account/a1/workspace/w1")).toEqual({ account: "a1", workspace: "w1", rest: "/dashboard" });
    expect(splitWorkspacePath("/account/a1/workspace/w1/")).toEqual({ account: "a1", workspace: "w1", rest: "/dashboard" });
    expect(splitWorkspacePath(`/account/a1/workspace/w1/runs/flow-run/${id}`)).toEqual({ account: "a1", workspace: "w1", rest: `/runs/flow-run/${id}` });
    expect(splitWorkspacePath("/runs")).toBeNull();
  });
});
