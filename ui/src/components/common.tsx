// Small shared building blocks: state badges, times, loading/error/empty
// states, cards, JSON blocks and pagers. Every page uses these so the same
// thing looks the same everywhere.

import type { ReactNode } from "react";
import { Link } from "react-router";
import { ApiError } from "../api/client";
import type { StateType } from "../api/types";
import { formatAbsolute, formatRelative } from "../lib/format";
import { stateLabel, stateVar } from "../lib/states";

export function StateBadge({ type, name }: { type: StateType | null | undefined; name?: string | null }) {
  const label = name ?? (type ? stateLabel(type) : "Unknown");
  return (
    <span className="badge" style={{ "--badge": stateVar(type) } as React.CSSProperties} data-state={type ?? "UNKNOWN"}>
      <span className="badge-dot" aria-hidden="true" />
      {label}
    </span>
  );
}

/** A relative time ("5 minutes ago") with the absolute time in the user's zone on hover and for screen readers. */
export function Time({ iso, now, prefix }: { iso: string | null | undefined; now?: number; prefix?: string }) {
  if (!iso) return <span className="muted">—</span>;
  const abs = formatAbsolute(iso);
  return (
    <time dateTime={iso} title={abs}>
      {prefix}
      {formatRelative(iso, now)}
    </time>
  );
}

/** An absolute time with the relative one after it, for detail pages. */
export function TimeFull({ iso, now }: { iso: string | null | undefined; now?: number }) {
  if (!iso) return <span className="muted">—</span>;
  return (
    <span>
      <time dateTime={iso}>{formatAbsolute(iso)}</time> <span className="muted">({formatRelative(iso, now)})</span>
    </span>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="state-box" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {label}
    </div>
  );
}

export function ErrorBox({ error, retry }: { error: unknown; retry?: () => void }) {
  const message = error instanceof Error ? error.message : String(error);
  const notFound = error instanceof ApiError && error.status === 404;
  return (
    <div className="state-box error" role="alert">
      <strong>{notFound ? "Not found" : "Something went wrong"}</strong>
      <span>{message}</span>
      {retry && (
        <button type="button" onClick={retry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state-box empty">
      <strong>{title}</strong>
      {children}
    </div>
  );
}

export function Card({ title, actions, children, className }: { title?: ReactNode; actions?: ReactNode; children: ReactNode; className?: string }) {
  return (
    <section className={`card ${className ?? ""}`}>
      {(title !== undefined || actions !== undefined) && (
        <header className="card-head">
          {title !== undefined && <h2>{title}</h2>}
          {actions !== undefined && <div className="card-actions">{actions}</div>}
        </header>
      )}
      {children}
    </section>
  );
}

export function JsonBlock({ value }: { value: unknown }) {
  const text = JSON.stringify(value, null, 2);
  return <pre className="json">{text}</pre>;
}

export function Pager({ page, pages, onPage }: { page: number; pages: number; onPage: (p: number) => void }) {
  return (
    <nav className="pager" aria-label="Pagination">
      <button type="button" disabled={page <= 1} onClick={() => onPage(1)} aria-label="First page">
        «
      </button>
      <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        Previous
      </button>
      <span>
        Page {page} of {Math.max(1, pages)}
      </span>
      <button type="button" disabled={page >= pages} onClick={() => onPage(page + 1)}>
        Next
      </button>
      <button type="button" disabled={page >= pages} onClick={() => onPage(pages)} aria-label="Last page">
        »
      </button>
    </nav>
  );
}

export function KeyValues({ items }: { items: [string, ReactNode][] }) {
  return (
    <dl className="kv">
      {items.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

export function FlowRunLink({ id, name, flowName }: { id: string; name: string; flowName?: string | undefined }) {
  return (
    <Link to={`/runs/flow-run/${id}`} className="run-link">
      {flowName && <span className="muted">{flowName} › </span>}
      {name}
    </Link>
  );
}

export function Tags({ tags }: { tags: readonly string[] }) {
  if (tags.length === 0) return null;
  return (
    <span className="tags">
      {tags.map((t) => (
        <span key={t} className="tag">
          {t}
        </span>
      ))}
    </span>
  );
}
