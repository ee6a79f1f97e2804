// Deployment schedules for people: a sentence for each kind (interval, cron,
// rrule) and a preview of the next run times, computed in the schedule's
// own time zone. The cron reader covers the five standard fields with lists,
// ranges, steps and month/day names, and Prefect's day_or rule.

import type { CronSchedule, IntervalSchedule, RRuleSchedule, Schedule } from "../api/types";
import { formatDuration } from "./format";
import { wallTime, zonedToUtc } from "./zones";

export function isInterval(s: Schedule): s is IntervalSchedule {
  return "interval" in s;
}
export function isCron(s: Schedule): s is CronSchedule {
  return "cron" in s;
}
export function isRRule(s: Schedule): s is RRuleSchedule {
  return "rrule" in s;
}

const UNITS: [number, string][] = [
  [86400 * 7, "week"],
  [86400, "day"],
  [3600, "hour"],
  [60, "minute"],
  [1, "second"],
];

/** "Every 5 minutes", "Every day", "Every 90 seconds". */
export function describeInterval(seconds: number): string {
  for (const [size, unit] of UNITS) {
    if (seconds >= size && seconds % size === 0) {
      const n = seconds / size;
      return n === 1 ? `Every ${unit}` : `Every ${n} ${unit}s`;
    }
  }
  return `Every ${formatDuration(seconds)}`;
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

interface Field {
  values: Set<number>;
  any: boolean;
}

export interface ParsedCron {
  minute: Field;
  hour: Field;
  dom: Field;
  month: Field;
  dow: Field;
}

const ALIASES: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

function parseField(text: string, min: number, max: number, names?: string[]): Field {
  const values = new Set<number>();
  const value = (v: string): number => {
    const up = v.toUpperCase();
    const i = names ? names.indexOf(up) : -1;
    const n = i >= 0 ? i + min : Number(v);
    if (!Number.isInteger(n) || n < min || n > max + (names === DAYS ? 1 : 0)) throw new Error(`"${v}" is out of range ${min}-${max}`);
    return names === DAYS && n === 7 ? 0 : n;
  };
  for (const part of text.split(",")) {
    const [range = "", stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`bad step "${stepText ?? ""}"`);
    let lo: number;
    let hi: number;
    if (range === "*") {
      lo = min;
      hi = max;
    } else if (range.includes("-")) {
      const [a = "", b = ""] = range.split("-");
      lo = value(a);
      hi = value(b);
    } else {
      lo = value(range);
      hi = stepText === undefined ? lo : max;
    }
    if (hi < lo) throw new Error(`range "${range}" runs backwards`);
    for (let v = lo; v <= hi; v += step) values.add(names === DAYS && v === 7 ? 0 : v);
  }
  return { values, any: text === "*" };
}

/** Parses a five-field cron expression (or an @alias); throws with a readable message. */
export function parseCron(expr: string): ParsedCron {
  const text = ALIASES[expr.trim().toLowerCase()] ?? expr.trim();
  const parts = text.split(/\s+/);
  if (parts.length !== 5) throw new Error(`a cron expression has 5 fields (minute hour day month weekday); this one has ${parts.length}`);
  const [mi = "", h = "", d = "", mo = "", dw = ""] = parts;
  return {
    minute: parseField(mi, 0, 59),
    hour: parseField(h, 0, 23),
    dom: parseField(d, 1, 31),
    month: parseField(mo, 1, 12, MONTHS),
    dow: parseField(dw, 0, 6, DAYS),
  };
}

/** The next n run times (ms) of a cron schedule after `from`, in its zone. */
export function cronNext(expr: string, zone: string, from: number, n: number, dayOr = true): number[] {
  const c = parseCron(expr);
  const out: number[] = [];
  const start = wallTime(from, zone);
  let y = start.year;
  let m = start.month;
  let d = start.day;
  for (let days = 0; days < 366 * 5 && out.length < n; days++) {
    const date = new Date(Date.UTC(y, m - 1, d));
    const dow = date.getUTCDay();
    const domOk = c.dom.values.has(d);
    const dowOk = c.dow.values.has(dow);
    const dayOk = c.dom.any || c.dow.any ? domOk && dowOk : dayOr ? domOk || dowOk : domOk && dowOk;
    if (c.month.values.has(m) && dayOk) {
      for (let h = 0; h < 24 && out.length < n; h++) {
        if (!c.hour.values.has(h)) continue;
        for (let mi = 0; mi < 60 && out.length < n; mi++) {
          if (!c.minute.values.has(mi)) continue;
          const t = zonedToUtc(y, m, d, h, mi, zone);
          const w = wallTime(t, zone);
          if (t > from && w.hour === h && w.minute === mi && !out.includes(t)) out.push(t);
        }
      }
    }
    const next = new Date(Date.UTC(y, m - 1, d + 1));
    y = next.getUTCFullYear();
    m = next.getUTCMonth() + 1;
    d = next.getUTCDate();
  }
  return out;
}

/** The next n run times of an interval schedule after `from` (anchored at anchor_date). */
export function intervalNext(s: IntervalSchedule, from: number, n: number): number[] {
  const step = s.interval * 1000;
  if (!(step > 0)) return [];
  const anchor = s.anchor_date ? Date.parse(s.anchor_date) : from;
  const k = Math.floor((from - anchor) / step) + 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(anchor + (k + i) * step);
  return out;
}

/** The next run times of any schedule, or null when Baton's UI cannot preview it (rrule). */
export function nextRuns(s: Schedule, from: number, n = 5): number[] | null {
  const zone = s.timezone || "UTC";
  if (isInterval(s)) return intervalNext(s, from, n);
  if (isCron(s)) return cronNext(s.cron, zone, from, n, s.day_or ?? true);
  return null;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

function single(f: Field): number | null {
  return !f.any && f.values.size === 1 ? ([...f.values][0] ?? null) : null;
}

/** A sentence for a cron expression: "At 09:30 on Monday", "Every 15 minutes"; the raw expression when it is unusual. */
export function describeCron(expr: string): string {
  let c: ParsedCron;
  try {
    c = parseCron(expr);
  } catch {
    return `Cron ${expr}`;
  }
  const mi = single(c.minute);
  const h = single(c.hour);
  const everyMinute = c.minute.any;
  const days = c.dow.any ? "" : ` on ${[...c.dow.values].sort().map((d) => DAY_NAMES[d]).join(", ")}`;
  const dom = c.dom.any ? "" : ` on day ${[...c.dom.values].sort((a, b) => a - b).join(", ")} of the month`;
  const monthName = (m: number) => {
    const n = MONTHS[m - 1] ?? "";
    return n.charAt(0) + n.slice(1).toLowerCase();
  };
  const months = c.month.any ? "" : ` in ${[...c.month.values].sort((a, b) => a - b).map(monthName).join(", ")}`;
  const rest = `${days}${dom}${months}`;
  if (everyMinute && c.hour.any) return `Every minute${rest}`;
  const step = /^\*\/(\d+)$/.exec(expr.trim().split(/\s+/)[0] ?? "");
  if (step && c.hour.any) return `Every ${step[1]} minutes${rest}`;
  if (mi !== null && c.hour.any) return `Every hour at minute ${mi}${rest}`;
  if (mi !== null && h !== null) return `At ${pad(h)}:${pad(mi)}${rest || " every day"}`;
  return `Cron ${expr}${rest ? "" : ""}`;
}

/** One line for any schedule, with its zone. */
export function describeSchedule(s: Schedule): string {
  const tz = s.timezone && s.timezone !== "UTC" ? ` (${s.timezone})` : s.timezone === "UTC" ? " (UTC)" : "";
  if (isInterval(s)) return describeInterval(s.interval) + tz;
  if (isCron(s)) return describeCron(s.cron) + tz;
  if (isRRule(s)) return `RRule ${s.rrule}${tz}`;
  return "Unknown schedule";
}
