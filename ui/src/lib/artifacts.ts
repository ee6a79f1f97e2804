// Pure helpers for showing artifacts: a table artifact's data (Prefect
// stores it as JSON text: a list of row objects, a list of lists, or an
// object of columns) as headers and rows of text, and which URLs an image
// or link artifact may point at. Nothing here produces HTML: the views
// render these strings as text nodes, so artifact data cannot inject markup.

export interface TableData {
  headers: string[];
  rows: string[][];
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

/** Parses a table artifact's data; null when it is not a table. */
export function parseTable(data: unknown): TableData | null {
  let v = data;
  if (typeof v === "string") {
    try {
      v = JSON.parse(v) as unknown;
    } catch {
      return null;
    }
  }
  if (Array.isArray(v)) {
    if (v.length === 0) return { headers: [], rows: [] };
    if (v.every((r) => r !== null && typeof r === "object" && !Array.isArray(r))) {
      const headers: string[] = [];
      for (const r of v as Record<string, unknown>[]) for (const k of Object.keys(r)) if (!headers.includes(k)) headers.push(k);
      return { headers, rows: (v as Record<string, unknown>[]).map((r) => headers.map((h) => cell(r[h]))) };
    }
    if (v.every((r) => Array.isArray(r))) {
      const width = Math.max(...(v as unknown[][]).map((r) => r.length));
      return { headers: Array.from({ length: width }, (_, i) => String(i)), rows: (v as unknown[][]).map((r) => Array.from({ length: width }, (_, i) => cell(r[i]))) };
    }
    return null;
  }
  if (v !== null && typeof v === "object") {
    const cols = v as Record<string, unknown>;
    const headers = Object.keys(cols);
    if (!headers.every((h) => Array.isArray(cols[h]))) return null;
    const n = Math.max(0, ...headers.map((h) => (cols[h] as unknown[]).length));
    return { headers, rows: Array.from({ length: n }, (_, i) => headers.map((h) => cell((cols[h] as unknown[])[i]))) };
  }
  return null;
}

/** Only http(s) URLs are shown as images or followed as links. */
export function safeUrl(u: unknown): string | null {
  if (typeof u !== "string") return null;
  const t = u.trim();
  return /^https?:\/\//i.test(t) ? t : null;
}

/** A progress artifact's value, clamped to 0..100 (null when not a number). */
export function progressValue(data: unknown): number | null {
  const n = typeof data === "number" ? data : typeof data === "string" ? Number(data) : NaN;
  if (!Number.isFinite(n)) return null;
  return Math.min(100, Math.max(0, n));
}

/** An artifact's data as text (markdown and link artifacts store strings). */
export function dataText(data: unknown): string {
  if (typeof data === "string") return data;
  if (data === null || data === undefined) return "";
  return JSON.stringify(data, null, 2);
}
