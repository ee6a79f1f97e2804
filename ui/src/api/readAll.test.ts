import { describe, expect, it } from "vitest";
import { readAll } from "./client";

/** A filter endpoint over n items that records the pages it was asked for. */
function source(n: number) {
  const asked: [number, number][] = [];
  const fetchPage = (offset: number, limit: number) => {
    asked.push([offset, limit]);
    return Promise.resolve(Array.from({ length: Math.max(0, Math.min(limit, n - offset)) }, (_, i) => offset + i));
  };
  return { asked, fetchPage };
}

describe("readAll", () => {
  it("reads a set of exactly cap items whole, not truncated", async () => {
    const s = source(10_000);
    const got = await readAll(s.fetchPage, 10_000, 1000);
    expect(got.items.length).toBe(10_000);
    expect(got.truncated).toBe(false);
    // Ten full pages, then one probe for a single item past the cap.
    expect(s.asked.length).toBe(11);
    expect(s.asked[10]).toEqual([10_000, 1]);
  });

  it("reports truncation when there is one item more than the cap", async () => {
    const s = source(10_001);
    const got = await readAll(s.fetchPage, 10_000, 1000);
    expect(got.items.length).toBe(10_000);
    expect(got.truncated).toBe(true);
  });

  it("stops at a short page", async () => {
    const s = source(2_500);
    const got = await readAll(s.fetchPage, 10_000, 1000);
    expect(got.items).toEqual(Array.from({ length: 2_500 }, (_, i) => i));
    expect(got.truncated).toBe(false);
    expect(s.asked.length).toBe(3);
  });

  it("reads a set whose size is a multiple of the page below the cap", async () => {
    const s = source(2_000);
    const got = await readAll(s.fetchPage, 10_000, 1000);
    expect(got.items.length).toBe(2_000);
    expect(got.truncated).toBe(false);
  });
});
