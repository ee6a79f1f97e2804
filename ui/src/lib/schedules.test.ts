import { describe, expect, it } from "vitest";
import { cronNext, describeCron, describeInterval, describeSchedule, intervalNext, parseCron } from "./schedules";

describe("schedules", () => {
  it("describes intervals", () => {
    expect(describeInterval(60)).toBe("Every minute");
    expect(describeInterval(300)).toBe("Every 5 minutes");
    expect(describeInterval(86400)).toBe("Every day");
    expect(describeInterval(90)).toBe("Every 90 seconds");
  });
  it("describes common crons", () => {
    expect(describeCron("*/15 * * * *")).toBe("Every 15 minutes");
    expect(describeCron("30 9 * * 1")).toBe("At 09:30 on Monday");
    expect(describeCron("0 0 * * *")).toBe("At 00:00 every day");
    expect(describeCron("5 * * * *")).toBe("Every hour at minute 5");
    expect(describeSchedule({ cron: "0 8 * * *", timezone: "Europe/Paris" })).toBe("At 08:00 every day (Europe/Paris)");
  });
  it("rejects bad crons with a message", () => {
    expect(() => parseCron("* * *")).toThrow(/5 fields/);
    expect(() => parseCron("61 * * * *")).toThrow(/out of range/);
  });
  it("computes cron times in the schedule's zone, across DST", () => {
    // 08:00 Paris: 07:00 UTC in winter, 06:00 UTC in summer (DST starts 2026-03-29).
    const from = Date.UTC(2026, 2, 27, 12, 0);
    const times = cronNext("0 8 * * *", "Europe/Paris", from, 3).map((t) => new Date(t).toISOString());
    expect(times).toEqual(["2026-03-28T07:00:00.000Z", "2026-03-29T06:00:00.000Z", "2026-03-30T06:00:00.000Z"]);
  });
  it("honours day_or between day of month and weekday", () => {
    const from = Date.UTC(2026, 0, 1, 0, 0); // Thursday
    const or = cronNext("0 0 13 * 5", "UTC", from, 2).map((t) => new Date(t).toISOString().slice(0, 10));
    expect(or).toEqual(["2026-01-02", "2026-01-09"]);
    const and = cronNext("0 0 13 * 5", "UTC", from, 1, false).map((t) => new Date(t).toISOString().slice(0, 10));
    expect(and).toEqual(["2026-02-13"]);
  });
  it("anchors intervals", () => {
    const anchor = "2026-01-01T00:00:00Z";
    const from = Date.parse("2026-01-01T00:07:00Z");
    expect(intervalNext({ interval: 300, anchor_date: anchor }, from, 2).map((t) => new Date(t).toISOString())).toEqual([
      "2026-01-01T00:10:00.000Z",
      "2026-01-01T00:15:00.000Z",
    ]);
  });
});
