// Wall-clock arithmetic in a named time zone with nothing but Intl: the
// parts of an instant in a zone, and the instant of a wall time in a zone
// (DST gaps move forward, overlaps take the earlier instant).

const partsCache = new Map<string, Intl.DateTimeFormat>();

function fmt(zone: string): Intl.DateTimeFormat {
  let f = partsCache.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      weekday: "short",
    });
    partsCache.set(zone, f);
  }
  return f;
}

export interface WallTime {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday */
  weekday: number;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** The wall-clock fields of an instant in a zone. */
export function wallTime(ms: number, zone: string): WallTime {
  const out: WallTime = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, weekday: 0 };
  for (const p of fmt(zone).formatToParts(ms)) {
    switch (p.type) {
      case "year":
        out.year = Number(p.value);
        break;
      case "month":
        out.month = Number(p.value);
        break;
      case "day":
        out.day = Number(p.value);
        break;
      case "hour":
        out.hour = Number(p.value) % 24;
        break;
      case "minute":
        out.minute = Number(p.value);
        break;
      case "second":
        out.second = Number(p.value);
        break;
      case "weekday":
        out.weekday = WEEKDAYS[p.value] ?? 0;
        break;
      default:
        break;
    }
  }
  return out;
}

/** The zone's offset from UTC at an instant, in milliseconds (Paris in winter: +3,600,000). */
export function zoneOffset(ms: number, zone: string): number {
  const w = wallTime(ms, zone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The instant of a wall time in a zone. */
export function zonedToUtc(year: number, month: number, day: number, hour: number, minute: number, zone: string, second = 0): number {
  const guess = Date.UTC(year, month - 1, day, hour, minute, second);
  const first = guess - zoneOffset(guess, zone);
  const second_ = guess - zoneOffset(first, zone);
  if (first === second_) return first;
  // Around a transition: prefer the candidate whose wall time matches; in a gap take the later one.
  const w = wallTime(Math.min(first, second_), zone);
  return w.hour === hour && w.minute === minute ? Math.min(first, second_) : Math.max(first, second_);
}

/** "2026-01-10T13:05" for an <input type="datetime-local">, in the zone. */
export function toZonedInput(iso: string | null | undefined, zone: string): string {
  if (!iso) return "";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "";
  const w = wallTime(t, zone);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${w.year}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}`;
}

/** Reads an <input type="datetime-local"> value as a wall time in the zone; null when empty or malformed. */
export function fromZonedInput(value: string, zone: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value);
  if (!m) return null;
  const [, y, mo, d, h, mi] = m.map(Number) as [number, number, number, number, number, number];
  return new Date(zonedToUtc(y, mo, d, h, mi, zone)).toISOString();
}
