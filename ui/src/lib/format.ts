// Formatting of times and durations. Absolute times are shown in the
// user's preferred zone and clock (timePrefs.ts, default: the browser's);
// relative times read "3 min ago".

import { effectiveZone, prefOptions } from "./timePrefs";
import { fromZonedInput, toZonedInput } from "./zones";

/** Formats seconds as a short human duration: "850ms", "42s", "3m 05s", "2h 10m", "3d 4h". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "—";
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  if (seconds < 60) return `${seconds < 10 ? Math.round(seconds * 10) / 10 : Math.round(seconds)}s`;
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, "0")}m`;
  return `${m}m ${String(sec).padStart(2, "0")}s`;
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 86400],
  ["month", 30 * 86400],
  ["week", 7 * 86400],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

/** Formats an instant relative to now: "5 minutes ago", "in 2 hours", "now". */
export function formatRelative(iso: string | null | undefined, now: number = Date.now(), locale?: string): string {
  if (!iso) return "—";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "—";
  const diff = (t - now) / 1000;
  const abs = Math.abs(diff);
  if (abs < 5) return "now";
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: "auto", style: "long" });
  for (const [unit, size] of UNITS) {
    if (abs >= size || unit === "second") {
      return rtf.format(Math.round(diff / size), unit);
    }
  }
  return "—";
}

/** Formats an instant in the user's zone with seconds, e.g. "Nov 23, 2026, 11:40:02 AM". */
export function formatAbsolute(iso: string | null | undefined, locale?: string, timeZone?: string): string {
  if (!iso) return "—";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "—";
  const opts: Intl.DateTimeFormatOptions = {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    timeZoneName: "short",
    ...prefOptions(),
  };
  if (timeZone) opts.timeZone = timeZone;
  return new Intl.DateTimeFormat(locale, opts).format(t);
}

/** Formats a time of day for axis ticks and log lines, e.g. "11:40:02". */
export function formatClock(ms: number, withSeconds = true, locale?: string, timeZone?: string): string {
  const opts: Intl.DateTimeFormatOptions = { hour: "2-digit", minute: "2-digit", hour12: false, ...prefOptions() };
  if (withSeconds) opts.second = "2-digit";
  if (timeZone) opts.timeZone = timeZone;
  return new Intl.DateTimeFormat(locale, opts).format(ms);
}

/** Formats a log timestamp with milliseconds: "11:40:02.123". */
export function formatLogTime(iso: string, timeZone?: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const opts: Intl.DateTimeFormatOptions = { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false, fractionalSecondDigits: 3, ...prefOptions() };
  if (timeZone) opts.timeZone = timeZone;
  return new Intl.DateTimeFormat("en-GB", opts).format(t);
}

/**
 * The duration of a run in seconds: its recorded total while finished, the
 * time since it started while it runs, else null when it never started.
 */
export function runDuration(
  run: { start_time: string | null; end_time: string | null; total_run_time?: number; estimated_run_time?: number },
  now: number = Date.now(),
): number | null {
  if (!run.start_time) return null;
  const start = Date.parse(run.start_time);
  if (run.end_time) {
    const end = Date.parse(run.end_time);
    const wall = (end - start) / 1000;
    if (run.total_run_time !== undefined && run.total_run_time > 0) return run.total_run_time;
    return Math.max(0, wall);
  }
  return Math.max(0, (now - start) / 1000);
}

const LEVELS: [number, string][] = [
  [50, "CRITICAL"],
  [40, "ERROR"],
  [30, "WARNING"],
  [20, "INFO"],
  [10, "DEBUG"],
];

/** Names a Python logging level number ("INFO" for 20; "LEVEL 5" for odd ones). */
export function levelName(level: number): string {
  for (const [n, name] of LEVELS) {
    if (level === n) return name;
  }
  for (const [n, name] of LEVELS) {
    if (level > n) return name;
  }
  return `LEVEL ${level}`;
}

/** Shortens a UUID for display: the first 8 characters. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** Formats a count compactly: 1234 → "1,234". */
export function formatCount(n: number, locale?: string): string {
  return new Intl.NumberFormat(locale).format(n);
}

/** Formats a ratio as a percentage with no decimals, or "—" when the whole is 0. */
export function formatPercent(part: number, whole: number): string {
  if (whole <= 0) return "—";
  return `${Math.round((part / whole) * 100)}%`;
}

/** Turns an ISO instant into the value of an <input type="datetime-local"> in the preferred zone ("2026-01-10T13:05"). */
export function toLocalInput(iso: string | null | undefined): string {
  return toZonedInput(iso, effectiveZone());
}

/** Reads an <input type="datetime-local"> value (the preferred zone) back into an ISO instant, or null when empty. */
export function fromLocalInput(value: string): string | null {
  if (value === "") return null;
  return fromZonedInput(value, effectiveZone());
}
