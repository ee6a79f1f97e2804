import { describe, expect, it } from "vitest";
import { countTicks, timeTicks } from "./ticks";

describe("countTicks", () => {
  it.each([
    [0, [0, 1]],
    [3, [0, 1, 2, 3]],
    [17, [0, 5, 10, 15, 20]],
    [230, [0, 100, 200, 300]],
    [1, [0, 1]],
  ])("max %d", (max, want) => {
    expect(countTicks(max)).toEqual(want);
  });
});

describe("timeTicks", () => {
  it("spaces ticks at a round step no closer than minPx", () => {
    const start = Date.parse("2026-01-10T00:00:30Z");
    const end = start + 3600_000;
    const ticks = timeTicks(start, end, 600, 90);
    expect(ticks.length).toBeGreaterThan(2);
    const step = (ticks[1] ?? 0) - (ticks[0] ?? 0);
    expect(step / ((end - start) / 600)).toBeGreaterThanOrEqual(90);
    for (const t of ticks) expect(t >= start && t <= end).toBe(true);
  });
  it("is empty for an empty range", () => {
    expect(timeTicks(5, 5, 100)).toEqual([]);
  });
});

describe("timeTicks below a second", () => {
  it("uses millisecond steps for a 3 ms span", () => {
    const start = Date.parse("2026-01-10T00:00:00.000Z");
    const ticks = timeTicks(start, start + 3, 900, 90);
    expect(ticks.length).toBeGreaterThan(1);
    expect((ticks[1] ?? 0) - (ticks[0] ?? 0)).toBe(1);
  });
});
