// A run's logs, built for long runs: a virtualized list (only the rows on
// screen are in the DOM, so 100,000 lines scroll smoothly), pages fetched as
// you scroll, server-side text search and level filter (both in the URL),
// a logger filter, oldest- or newest-first order, a live tail that appends
// only new lines while the run is active (and follows them), and a download
// of the whole log from the server.

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useSearchParams } from "react-router";
import { api, apiBlob, readAll } from "../api/client";
import { POLL_MS } from "../api/queries";
import type { Log, LogFilter } from "../api/types";
import { Empty, ErrorBox, Loading } from "../components/common";
import { formatAbsolute, formatLogTime, levelName } from "../lib/format";
import { byLogger, logsToText, mergeLogs, newestTimestamp, visibleWindow, type LogOrder } from "./model";

const PAGE = 200;
const ROW = 22;
const HEIGHT = 520;
const ORDER_KEY = "baton.logs.order";

const LEVELS: [number, string][] = [
  [0, "All levels"],
  [10, "Debug and above"],
  [20, "Info and above"],
  [30, "Warning and above"],
  [40, "Error and above"],
  [50, "Critical"],
];

function readOrder(): LogOrder {
  try {
    return localStorage.getItem(ORDER_KEY) === "desc" ? "desc" : "asc";
  } catch {
    return "asc";
  }
}

export function LogsPanel({
  filter,
  live,
  fileName,
  taskNames,
  downloadPath,
  version,
}: {
  filter: LogFilter;
  live: boolean;
  fileName: string;
  taskNames?: Map<string, string>;
  /** The server's whole-log download (GET /flow_runs/{id}/logs/download); the view pages through /logs/filter without it. */
  downloadPath?: string;
  /** Changes when the run's state changes (its state id); the view then fetches lines written since. */
  version?: string;
}) {
  const [params, setParams] = useSearchParams();
  const level = Number(params.get("level") ?? "0") || 0;
  const query = params.get("logq") ?? "";
  const [search, setSearch] = useState(query);
  const [order, setOrder] = useState<LogOrder>(readOrder);
  const [logger, setLogger] = useState("");
  const [logs, setLogs] = useState<Log[]>([]);
  const [done, setDone] = useState(false);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [follow, setFollow] = useState(true);
  const [scrollTop, setScrollTop] = useState(0);
  const [selected, setSelected] = useState<string | null>(null);
  const [downloading, setDownloading] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const busy = useRef(false);
  const generation = useRef(0);

  const key = JSON.stringify([filter, level, query, order]);
  const logsFilter = useMemo<LogFilter>(
    () => ({ ...filter, ...(level > 0 ? { level: { ge_: level } } : {}), ...(query.trim() ? { text: { query: query.trim() } } : {}) }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [key],
  );

  const setParam = (k: string, v: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    setParams(next, { replace: true });
  };

  // Debounced server-side search.
  useEffect(() => {
    if (search === query) return undefined;
    const id = window.setTimeout(() => setParam("logq", search.trim()), 300);
    return () => window.clearTimeout(id);
  });

  /** Fetches the next page in display order (older ones when newest-first). */
  const loadMore = useCallback(
    async (current: Log[], gen: number) => {
      if (busy.current) return;
      busy.current = true;
      try {
        const edge = current.at(-1)?.timestamp;
        const page = await api.logs({
          logs: { ...logsFilter, ...(edge ? { timestamp: order === "asc" ? { after_: edge } : { before_: edge } } : {}) },
          sort: order === "asc" ? "TIMESTAMP_ASC" : "TIMESTAMP_DESC",
          limit: PAGE,
        });
        if (gen !== generation.current) return;
        const merged = mergeLogs(current, page, order);
        setLogs(merged);
        // Done when the page is short, or when it brought nothing new (a page of equal timestamps).
        setDone(page.length < PAGE || merged.length === current.length);
        setError(null);
      } catch (err) {
        if (gen === generation.current) setError(err);
      } finally {
        busy.current = false;
        if (gen === generation.current) setLoading(false);
      }
    },
    [logsFilter, order],
  );

  // A new filter or order starts over.
  useEffect(() => {
    generation.current += 1;
    busy.current = false;
    setLogs([]);
    setDone(false);
    setLoading(true);
    setSelected(null);
    setScrollTop(0);
    if (box.current) box.current.scrollTop = 0;
    void loadMore([], generation.current);
  }, [loadMore]);

  // Live tail: every 5 s fetch only the lines newer than the newest shown.
  const logsRef = useRef(logs);
  logsRef.current = logs;
  const fetchNewer = useCallback(() => {
    if (busy.current) return;
    const gen = generation.current;
    const newest = newestTimestamp(logsRef.current);
    busy.current = true;
    api
      .logs({ logs: { ...logsFilter, ...(newest ? { timestamp: { after_: newest } } : {}) }, sort: "TIMESTAMP_ASC", limit: PAGE })
      .then((page) => {
        if (gen === generation.current) setLogs((cur) => mergeLogs(cur, page, order));
      })
      .catch((err: unknown) => {
        if (gen === generation.current) setError(err);
      })
      .finally(() => {
        busy.current = false;
      });
  }, [logsFilter, order]);
  useEffect(() => {
    if (!live) return undefined;
    const id = window.setInterval(() => {
      if (!document.hidden) fetchNewer();
    }, POLL_MS);
    return () => window.clearInterval(id);
  }, [live, fetchNewer]);
  // When the run changes state (a paused run resumed, a run that just finished), pick up the lines
  // written since the last poll: the final ones would otherwise wait for a reload.
  // The client sends logs in batches (every 2 s by default), so look again a little later too.
  const seenVersion = useRef(version);
  useEffect(() => {
    if (seenVersion.current === version || loading) return undefined;
    seenVersion.current = version;
    fetchNewer();
    const later = [3000, 8000].map((ms) => window.setTimeout(fetchNewer, ms));
    return () => later.forEach((id) => window.clearTimeout(id));
  }, [version, loading, fetchNewer]);

  const shown = useMemo(() => byLogger(logs, logger), [logs, logger]);
  const loggers = useMemo(() => [...new Set(logs.map((l) => l.name))].sort(), [logs]);

  // Follow the tail: keep the newest line in view as lines arrive.
  useEffect(() => {
    const el = box.current;
    if (!el || !follow || !live) return;
    if (order === "asc") el.scrollTop = el.scrollHeight;
    else el.scrollTop = 0;
  }, [shown.length, follow, live, order]);

  const onScroll = () => {
    const el = box.current;
    if (!el) return;
    setScrollTop(el.scrollTop);
    const atEnd = el.scrollTop + el.clientHeight >= el.scrollHeight - ROW * 10;
    const atNewest = order === "asc" ? el.scrollTop + el.clientHeight >= el.scrollHeight - ROW : el.scrollTop <= ROW;
    if (live && follow !== atNewest) setFollow(atNewest);
    if (atEnd && !done && !loading) void loadMore(logsRef.current, generation.current);
  };

  const download = async () => {
    setDownloading(true);
    try {
      let blob = downloadPath ? await apiBlob(downloadPath) : null;
      let name = fileName.replace(/\.txt$/, ".csv");
      if (!blob) {
        const { items } = await readAll((offset, limit) => api.logs({ logs: filter, sort: "TIMESTAMP_ASC", offset, limit }), 1_000_000);
        blob = new Blob([logsToText(items)], { type: "text/plain" });
        name = fileName;
      }
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = name;
      a.click();
      URL.revokeObjectURL(url);
    } finally {
      setDownloading(false);
    }
  };

  const { start, end } = visibleWindow(scrollTop, HEIGHT, ROW, shown.length);
  const sel = selected ? shown.find((l) => l.id === selected) : undefined;
  const name = (l: Log) => (l.task_run_id && taskNames?.get(l.task_run_id) ? taskNames.get(l.task_run_id) : l.name);

  return (
    <div className="logs" data-testid="logs">
      <div className="filters">
        <label className="field">
          <span>Level</span>
          <select value={level} onChange={(e) => setParam("level", e.target.value === "0" ? "" : e.target.value)} name="log-level">
            {LEVELS.map(([n, label]) => (
              <option key={n} value={n}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label className="field grow">
          <span>Search (on the server)</span>
          <input type="search" placeholder="Search messages" value={search} onChange={(e) => setSearch(e.target.value)} name="log-search" />
        </label>
        <label className="field">
          <span>Logger</span>
          <select value={logger} onChange={(e) => setLogger(e.target.value)} name="log-logger">
            <option value="">All loggers</option>
            {loggers.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Order</span>
          <select
            value={order}
            onChange={(e) => {
              const o = e.target.value === "desc" ? "desc" : "asc";
              try {
                localStorage.setItem(ORDER_KEY, o);
              } catch {
                // storage unavailable
              }
              setOrder(o);
            }}
            name="log-order"
          >
            <option value="asc">Oldest first</option>
            <option value="desc">Newest first</option>
          </select>
        </label>
        <button type="button" onClick={() => void download()} disabled={downloading}>
          {downloading ? "Preparing…" : "Download all"}
        </button>
        {live && (
          <button type="button" className={follow ? "live-dot following" : "ghost"} aria-pressed={follow} onClick={() => setFollow(!follow)} title="New lines are fetched every 5 seconds">
            {follow ? "Following" : "Follow"}
          </button>
        )}
      </div>
      {error ? <ErrorBox error={error} retry={() => void loadMore(logsRef.current, generation.current)} /> : null}
      {loading && logs.length === 0 ? (
        <Loading label="Loading logs…" />
      ) : shown.length === 0 ? (
        <Empty title={query ? "No logs match your search" : live ? "Waiting for logs…" : level > 0 || logger ? "No logs at this level" : "This run produced no logs"} />
      ) : (
        <>
          <div className="log-lines" ref={box} onScroll={onScroll} style={{ height: Math.min(HEIGHT, shown.length * ROW + 12) }} role="log" aria-label="Log lines" tabIndex={0}>
            <ol style={{ height: shown.length * ROW, position: "relative" }}>
              {shown.slice(start, end).map((l, i) => (
                <li key={l.id} className={`lvl-${levelName(l.level).toLowerCase()}${l.id === selected ? " selected" : ""}`} style={{ top: (start + i) * ROW }}>
                  <button type="button" className="log-row" onClick={() => setSelected(l.id === selected ? null : l.id)} title={l.message}>
                    <time dateTime={l.timestamp}>{formatLogTime(l.timestamp)}</time>
                    <span className="lvl">{levelName(l.level)}</span>
                    <span className="msg">{l.message}</span>
                    <span className="logger muted">{name(l)}</span>
                  </button>
                </li>
              ))}
            </ol>
          </div>
          <p className="muted small" aria-live="polite">
            {shown.length.toLocaleString()} line{shown.length === 1 ? "" : "s"} loaded{done ? "" : "; scroll for more"}
            {logger ? ` (logger ${logger})` : ""}. Click a line for the whole message.
          </p>
          {sel && (
            <div className="log-detail" data-testid="log-detail">
              <div className="muted small">
                {formatAbsolute(sel.timestamp)} · {levelName(sel.level)} · {name(sel)}
              </div>
              <pre className="json">{sel.message}</pre>
            </div>
          )}
        </>
      )}
    </div>
  );
}
