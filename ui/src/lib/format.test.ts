import { describe, expect, it } from "vitest";
import { formatAbsolute, formatDuration, formatPercent, formatRelative, fromLocalInput, levelName, runDuration, toLocalInput } from "./format";

describe("formatDuration", () => {
  it.each([
    [null, "—"],
    [-1, "—"],
    [Number.NaN, "—"],
    [0.25, "250ms"],
    [4.26, "4.3s"],
    [42, "42s"],
    [185, "3m 05s"],
    [7800, "2h 10m"],
    [3 * 86400 + 4 * 3600 + 5, "3d 4h"],
  ])("%s → %s", (input, want) => {
    expect(formatDuration(input)).toBe(want);
  });
});

describe("formatRelative", () => {
  const now = Date.parse("2026-01-10T12:00:00Z");
  it.each([
    ["2026-01-10T12:00:02Z", "now"],
    ["2026-01-10T11:55:00Z", "5 minutes ago"],
    ["2026-01-10T14:00:00Z", "in 2 hours"],
    ["2026-01-09T12:00:00Z", "yesterday"],
    ["2026-01-10T11:59:30Z", "30 seconds ago"],
    [null, "—"],
    ["garbage", "—"],
  ])("%s → %s", (iso, want) => {
    expect(formatRelative(iso, now, "en")).toBe(want);
  });
});

describe("formatAbsolute", () => {
  it("uses the given time zone", () => {
    const s = formatAbsolute("2026-01-10T12:00:00Z", "en-US", "Asia/Tokyo");
    expect(s).toContain("9:00:00");
    expect(s).toContain("Jan 10, 2026");
  });
  it("handles missing values", () => {
    expect(formatAbsolute(null)).toBe("—");
  });
});

describe("runDuration", () => {
  const now = Date.parse("2026-01-10T12:00:00Z");
  it("prefers total_run_time for finished runs", () => {
    expect(runDuration({ start_time: "2026-01-10T11:00:00Z", end_time: "2026-01-10T11:10:00Z", total_run_time: 12 }, now)).toBe(12);
  });
  it("falls back to wall time when total_run_time is 0", () => {
    expect(runDuration({ start_time: "2026-01-10T11:00:00Z", end_time: "2026-01-10T11:10:00Z", total_run_time: 0 }, now)).toBe(600);
  });
  it("counts up while running", () => {
    expect(runDuration({ start_time: "2026-01-10T11:59:00Z", end_time: null }, now)).toBe(60);
  });
  it("is null before start", () => {
    expect(runDuration({ start_time: null, end_time: null }, now)).toBeNull();
  });
});

describe("levelName and formatPercent", () => {
  it.each([
    [20, "INFO"],
    [40, "ERROR"],
    [25, "INFO"],
    [5, "LEVEL 5"],
  ])("level %d → %s", (n, want) => {
    expect(levelName(n)).toBe(want);
  });
  it("percent", () => {
    expect(formatPercent(1, 3)).toBe("33%");
    expect(formatPercent(1, 0)).toBe("—");
  });
});

describe("datetime-local round trip", () => {
  it("keeps the instant to the minute", () => {
    const iso = "2026-01-10T12:34:00.000Z";
    expect(fromLocalInput(toLocalInput(iso))).toBe(iso);
  });
  it("handles empty and bad values", () => {
    expect(toLocalInput(null)).toBe("");
    expect(fromLocalInput("")).toBeNull();
    expect(fromLocalInput("nope")).toBeNull();
  });
});
