import { describe, expect, it } from "vitest";
import type { State } from "../api/types";
import { stateSegments } from "./StateHistory";

const st = (id: string, type: State["type"], ts: string): State => ({ id, type, name: null, timestamp: ts, message: null });

describe("stateSegments", () => {
  it("sorts by time and spans each state until the next", () => {
    const until = Date.parse("2026-01-10T12:00:30Z");
    const segs = stateSegments(
      [st("c", "COMPLETED", "2026-01-10T12:00:20Z"), st("a", "PENDING", "2026-01-10T12:00:00Z"), st("b", "RUNNING", "2026-01-10T12:00:05Z")],
      until,
    );
    expect(segs.map((s) => s.state.id)).toEqual(["a", "b", "c"]);
    expect(segs.map((s) => (s.end - s.start) / 1000)).toEqual([5, 15, 10]);
  });
  it("never gives the last state a negative span", () => {
    const segs = stateSegments([st("a", "RUNNING", "2026-01-10T12:00:00Z")], 0);
    expect(segs[0]?.end).toBe(segs[0]?.start);
  });
});
