import { keepPreviousData, useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api } from "../api/client";
import { POLL_MS } from "../api/queries";
import type { EventFilter, PrefectEvent } from "../api/types";
import { Empty, ErrorBox, Loading, Time } from "../components/common";
import { formatAbsolute, formatCount } from "../lib/format";
import { useNow } from "../lib/useNow";

const WINDOWS = { "1h": 3600, "24h": 86400, "7d": 7 * 86400 } as const;
type WindowKey = keyof typeof WINDOWS;

/** Builds the events filter from the page's URL parameters. */
export function eventFilterFromParams(params: URLSearchParams, now: number): EventFilter {
  const w = params.get("window");
  const span = w !== null && Object.hasOwn(WINDOWS, w) ? WINDOWS[w as WindowKey] : WINDOWS["24h"];
  const filter: EventFilter = {
    occurred: { since: new Date(now - span * 1000).toISOString(), until: new Date(now + 60_000).toISOString() },
    order: "DESC",
  };
  const prefix = (params.get("event") ?? "").trim();
  const showLogs = params.get("logs") === "1";
  if (prefix) filter.event = { prefix: [prefix] };
  if (!showLogs) filter.event = { ...filter.event, exclude_prefix: ["prefect.log.write"] };
  const resource = (params.get("resource") ?? "").trim();
  if (resource) filter.any_resource = { id_prefix: [resource] };
  // One event, as the link Prefect prints for it names it (/events/event/{day}/{id}).
  const eventID = (params.get("event_id") ?? "").trim();
  if (eventID) {
    filter.id = { id: [eventID] };
    delete filter.event;
    const day = Date.parse(`${params.get("day") ?? ""}T00:00:00Z`);
    if (!Number.isNaN(day)) filter.occurred = { since: new Date(day - 86400_000).toISOString(), until: new Date(day + 2 * 86400_000).toISOString() };
  }
  return filter;
}

/** Where a resource id points inside the UI, if anywhere. */
export function resourceHref(id: string): string | null {
  const m = /^prefect\.(flow-run|task-run|flow)\.([0-9a-f-]{36})$/.exec(id);
  if (!m) return null;
  const [, kind, uuid] = m;
  if (kind === "flow-run") return `/runs/flow-run/${uuid ?? ""}`;
  if (kind === "task-run") return `/runs/task-run/${uuid ?? ""}`;
  return `/flows/flow/${uuid ?? ""}`;
}

export function EventsPage() {
  const [params, setParams] = useSearchParams();
  const now = useNow(60_000);
  const anchor = Math.floor(now / 60_000) * 60_000;
  const filter = eventFilterFromParams(params, anchor);
  const [prefix, setPrefix] = useState(params.get("event") ?? "");
  const [resource, setResource] = useState(params.get("resource") ?? "");
  const set = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };

  const events = useInfiniteQuery({
    queryKey: ["events", filter],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) => (pageParam ? api.eventsNext(pageParam, signal) : api.events({ filter, limit: 50 }, signal)),
    getNextPageParam: (last) => last.next_page ?? undefined,
    refetchInterval: POLL_MS * 2,
    placeholderData: keepPreviousData,
  });
  const types = useQuery({
    queryKey: ["events", "count-by-event", filter.occurred, params.get("logs")],
    queryFn: ({ signal }) => {
      const f: EventFilter = { occurred: filter.occurred };
      if (params.get("logs") !== "1") f.event = { exclude_prefix: ["prefect.log.write"] };
      return api.eventCounts("event", { filter: f }, signal);
    },
    refetchInterval: POLL_MS * 6,
  });
  const list = events.data?.pages.flatMap((p) => p.events) ?? [];
  const total = events.data?.pages[0]?.total;

  return (
    <div className="page">
      <header className="page-head">
        <h1>Events</h1>
      </header>
      <form
        className="filters"
        aria-label="Event filters"
        onSubmit={(e) => {
          e.preventDefault();
          const next = new URLSearchParams(params);
          if (prefix.trim()) next.set("event", prefix.trim());
          else next.delete("event");
          if (resource.trim()) next.set("resource", resource.trim());
          else next.delete("resource");
          setParams(next, { replace: true });
        }}
      >
        <label className="field">
          <span>Event type (prefix)</span>
          <input type="search" list="event-types" placeholder="prefect.flow-run." value={prefix} onChange={(e) => setPrefix(e.target.value)} />
          <datalist id="event-types">
            {(types.data ?? []).map((t) => (
              <option key={t.value} value={t.value} />
            ))}
          </datalist>
        </label>
        <label className="field">
          <span>Resource</span>
          <input type="search" placeholder="prefect.flow-run.…" value={resource} onChange={(e) => setResource(e.target.value)} />
        </label>
        <label className="field">
          <span>Time</span>
          <select value={params.get("window") ?? "24h"} onChange={(e) => set("window", e.target.value)}>
            <option value="1h">Past hour</option>
            <option value="24h">Past day</option>
            <option value="7d">Past week</option>
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={params.get("logs") === "1"} onChange={(e) => set("logs", e.target.checked ? "1" : "")} />
          Include log events
        </label>
        <button type="submit">Apply</button>
      </form>
      {types.data && types.data.length > 0 && (
        <div className="chips" aria-label="Event types in range">
          {types.data.slice(0, 12).map((t) => (
            <button
              key={t.value}
              type="button"
              className={params.get("event") === t.value ? "chip active" : "chip"}
              onClick={() => {
                setPrefix(t.value);
                set("event", params.get("event") === t.value ? "" : t.value);
              }}
            >
              {t.label} <span className="muted">{formatCount(t.count)}</span>
            </button>
          ))}
        </div>
      )}
      {events.isError ? (
        <ErrorBox error={events.error} retry={() => void events.refetch()} />
      ) : events.isPending ? (
        <Loading />
      ) : list.length === 0 ? (
        <Empty title="No events in this range" />
      ) : (
        <>
          {total !== undefined && <p className="muted small">{formatCount(total)} events</p>}
          <ol className="event-list">
            {list.map((ev) => (
              <EventRow key={ev.id} ev={ev} />
            ))}
          </ol>
          {events.hasNextPage && (
            <button type="button" onClick={() => void events.fetchNextPage()} disabled={events.isFetchingNextPage}>
              {events.isFetchingNextPage ? "Loading…" : "Load more"}
            </button>
          )}
        </>
      )}
    </div>
  );
}

function EventRow({ ev }: { ev: PrefectEvent }) {
  const [open, setOpen] = useState(false);
  const rid = ev.resource["prefect.resource.id"];
  const name = ev.resource["prefect.resource.name"];
  const href = resourceHref(rid);
  return (
    <li className="event">
      <div className="event-main">
        <code className="event-name">{ev.event}</code>
        <span>
          {href ? <Link to={href}>{name ?? rid}</Link> : <span>{name ?? rid}</span>}
        </span>
        <span className="muted right" title={formatAbsolute(ev.occurred)}>
          <Time iso={ev.occurred} />
        </span>
        <button type="button" className="ghost small" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? "Hide" : "Details"}
        </button>
      </div>
      {ev.related.length > 0 && (
        <div className="related">
          {ev.related.slice(0, 6).map((r) => {
            const id = r["prefect.resource.id"];
            const h = resourceHref(id);
            const label = `${r["prefect.resource.role"] ?? "related"}: ${r["prefect.resource.name"] ?? id}`;
            return h ? (
              <Link key={id} to={h} className="tag">
                {label}
              </Link>
            ) : (
              <span key={id} className="tag">
                {label}
              </span>
            );
          })}
        </div>
      )}
      {open && <pre className="json">{JSON.stringify(ev, null, 2)}</pre>}
    </li>
  );
}
