import { useInfiniteQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useSearchParams } from "react-router";
import { api, readAll } from "../api/client";
import { POLL_MS } from "../api/queries";
import type { Log, LogFilter } from "../api/types";
import { Empty, ErrorBox, Loading } from "../components/common";
import { formatAbsolute, formatLogTime, levelName } from "../lib/format";

const PAGE = 200;

const LEVELS: [number, string][] = [
  [0, "All levels"],
  [10, "Debug and above"],
  [20, "Info and above"],
  [30, "Warning and above"],
  [40, "Error and above"],
  [50, "Critical"],
];

/** Builds the plain-text log file offered by the download button: one line per record. */
export function logsToText(logs: readonly Log[]): string {
  return logs.map((l) => `${l.timestamp} ${levelName(l.level).padEnd(8)} ${l.name}: ${l.message}`).join("\n") + (logs.length ? "\n" : "");
}

/** Keeps the logs whose message or logger name contains the search text (case-insensitive). */
export function searchLogs(logs: readonly Log[], text: string): Log[] {
  const q = text.trim().toLowerCase();
  if (q === "") return [...logs];
  return logs.filter((l) => l.message.toLowerCase().includes(q) || l.name.toLowerCase().includes(q));
}

/**
 * A run's logs: level filter (in the URL), text search over what is loaded,
 * load-more paging, live polling while the run is active, and download.
 */
export function LogsPanel({ filter, live, fileName, taskNames }: { filter: LogFilter; live: boolean; fileName: string; taskNames?: Map<string, string> }) {
  const [params, setParams] = useSearchParams();
  const level = Number(params.get("level") ?? "0") || 0;
  const [search, setSearch] = useState("");
  const [downloading, setDownloading] = useState(false);
  const logsFilter: LogFilter = { ...filter, ...(level > 0 ? { level: { ge_: level } } : {}) };
  const q = useInfiniteQuery({
    queryKey: ["logs", logsFilter],
    initialPageParam: 0,
    queryFn: ({ pageParam, signal }) => api.logs({ logs: logsFilter, sort: "TIMESTAMP_ASC", limit: PAGE, offset: pageParam }, signal),
    getNextPageParam: (last, pages) => (last.length < PAGE ? undefined : pages.length * PAGE),
    refetchInterval: live ? POLL_MS : false,
  });
  const all = q.data?.pages.flat() ?? [];
  const shown = searchLogs(all, search);

  const download = async () => {
    setDownloading(true);
    try {
      const { items } = await readAll((offset, limit) => api.logs({ logs: logsFilter, sort: "TIMESTAMP_ASC", offset, limit }), 100_000);
      const blob = new Blob([logsToText(items)], { type: "text/plain" });
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = fileName;
      a.click();
      URL.revokeObjectURL(url);
    } finally {
      setDownloading(false);
    }
  };

  return (
    <div className="logs" data-testid="logs">
      <div className="filters">
        <label className="field">
          <span>Level</span>
          <select
            value={level}
            onChange={(e) => {
              const next = new URLSearchParams(params);
              if (e.target.value === "0") next.delete("level");
              else next.set("level", e.target.value);
              setParams(next, { replace: true });
            }}
          >
            {LEVELS.map(([n, label]) => (
              <option key={n} value={n}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label className="field grow">
          <span>Search</span>
          <input type="search" placeholder="Search messages" value={search} onChange={(e) => setSearch(e.target.value)} />
        </label>
        <button type="button" onClick={() => void download()} disabled={downloading || all.length === 0}>
          {downloading ? "Preparing…" : "Download"}
        </button>
        {live && <span className="live-dot" title="Refreshing every 5 seconds">Live</span>}
      </div>
      {q.isError ? (
        <ErrorBox error={q.error} retry={() => void q.refetch()} />
      ) : q.isPending ? (
        <Loading label="Loading logs…" />
      ) : all.length === 0 ? (
        <Empty title={live ? "Waiting for logs…" : level > 0 ? "No logs at this level" : "This run produced no logs"} />
      ) : shown.length === 0 ? (
        <Empty title="No logs match your search" />
      ) : (
        <ol className="log-lines">
          {shown.map((l) => (
            <li key={l.id} className={`lvl-${levelName(l.level).toLowerCase()}`}>
              <time dateTime={l.timestamp} title={formatAbsolute(l.timestamp)}>
                {formatLogTime(l.timestamp)}
              </time>
              <span className="lvl">{levelName(l.level)}</span>
              <span className="msg">{l.message}</span>
              <span className="logger muted">{l.task_run_id && taskNames?.get(l.task_run_id) ? taskNames.get(l.task_run_id) : l.name}</span>
            </li>
          ))}
        </ol>
      )}
      {q.hasNextPage && (
        <button type="button" onClick={() => void q.fetchNextPage()} disabled={q.isFetchingNextPage}>
          {q.isFetchingNextPage ? "Loading…" : "Load more"}
        </button>
      )}
    </div>
  );
}
