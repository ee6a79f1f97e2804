// The user's time preferences: the zone times are shown in and the clock
// (12 or 24 hours). Kept per browser in localStorage (server mode has no
// user accounts); every formatter in format.ts reads them, so a time looks
// the same wherever it appears.

export interface TimePrefs {
  /** An IANA zone ("Europe/Paris"), or "" for the browser's own. */
  timeZone: string;
  /** "12" or "24" hours, or "" for the locale's habit. */
  clock: "" | "12" | "24";
}

const KEY = "baton.time";
const DEFAULT: TimePrefs = { timeZone: "", clock: "" };

let current: TimePrefs = read();
const listeners = new Set<() => void>();

function read(): TimePrefs {
  try {
    const raw = typeof localStorage === "undefined" ? null : localStorage.getItem(KEY);
    if (!raw) return DEFAULT;
    const v = JSON.parse(raw) as Partial<TimePrefs>;
    return {
      timeZone: typeof v.timeZone === "string" && isValidZone(v.timeZone) ? v.timeZone : "",
      clock: v.clock === "12" || v.clock === "24" ? v.clock : "",
    };
  } catch {
    return DEFAULT;
  }
}

/** Whether Intl knows the zone name. */
export function isValidZone(zone: string): boolean {
  if (zone === "") return true;
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export function getTimePrefs(): TimePrefs {
  return current;
}

/** Saves new preferences and re-renders subscribers. */
export function setTimePrefs(p: TimePrefs): void {
  current = { ...p };
  try {
    localStorage.setItem(KEY, JSON.stringify(current));
  } catch {
    // storage unavailable: the choice lasts for this page only
  }
  for (const l of listeners) l();
}

export function subscribeTimePrefs(l: () => void): () => void {
  listeners.add(l);
  return () => {
    listeners.delete(l);
  };
}

/** Intl options for the preferred zone and clock (undefined fields mean the browser's default). */
export function prefOptions(p: TimePrefs = current): Intl.DateTimeFormatOptions {
  const o: Intl.DateTimeFormatOptions = {};
  if (p.timeZone) o.timeZone = p.timeZone;
  if (p.clock) o.hour12 = p.clock === "12";
  return o;
}

/** The zone times are shown in, resolved ("Europe/Paris"). */
export function effectiveZone(p: TimePrefs = current): string {
  return p.timeZone || Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** Every zone the browser knows, for the settings picker. */
export function allZones(): string[] {
  const f = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf;
  const zones = f ? f("timeZone") : [];
  return zones.includes("UTC") ? zones : ["UTC", ...zones];
}
