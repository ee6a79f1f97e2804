// Axis tick helpers shared by the history chart and the run graph.

/** Round numbers for a count axis from 0 to at least max: 0, 5, 10, ... */
export function countTicks(max: number, target = 4): number[] {
  if (max <= 0) return [0, 1];
  const raw = max / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw);
  const top = Math.ceil(max / step) * step;
  const out: number[] = [];
  for (let v = 0; v <= top + step / 2; v += step) out.push(Math.round(v * 1e6) / 1e6);
  return out;
}

const TIME_STEPS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400].map((s) => s * 1000);

/** Round instants between start and end (ms) at most every minPx pixels. */
export function timeTicks(start: number, end: number, widthPx: number, minPx = 90): number[] {
  if (end <= start || widthPx <= 0) return [];
  const perPx = (end - start) / widthPx;
  const step = TIME_STEPS.find((s) => s / perPx >= minPx) ?? Math.ceil((minPx * perPx) / 86_400_000) * 86_400_000;
  const offset = new Date(start).getTimezoneOffset() * 60_000;
  const first = Math.ceil((start - offset) / step) * step + offset;
  const out: number[] = [];
  for (let i = 0; first + i * step <= end; i++) out.push(first + i * step);
  return out;
}
