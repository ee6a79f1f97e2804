import { describe, expect, it } from "vitest";
import { paletteMatches } from "./match";

const items = [
  { kind: "Page", label: "Work pools", to: "/work-pools", keywords: "queues workers" },
  { kind: "Page", label: "Deployments", to: "/deployments", keywords: "schedules" },
];

describe("paletteMatches", () => {
  it("lists everything for an empty query", () => {
    expect(paletteMatches(items, "  ")).toHaveLength(2);
  });
  it("matches word prefixes of labels and keywords", () => {
    expect(paletteMatches(items, "que").map((i) => i.to)).toEqual(["/work-pools"]);
    expect(paletteMatches(items, "work po").map((i) => i.to)).toEqual(["/work-pools"]);
    expect(paletteMatches(items, "sched").map((i) => i.to)).toEqual(["/deployments"]);
  });
  it("does not match inside words", () => {
    expect(paletteMatches(items, "ools")).toEqual([]);
  });
});
