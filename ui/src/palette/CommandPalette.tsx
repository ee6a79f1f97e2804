// Ctrl/Cmd-K: jump to any page, flow, deployment, work pool or flow run by
// typing part of its name (or a run's id). Pages match locally; the rest is
// one small server query per kind, debounced.

import { useQuery } from "@tanstack/react-query";
import { useEffect, useId, useMemo, useRef, useState } from "react";
import { useNavigate } from "react-router";
import { api } from "../api/client";
import { navItems } from "../app/pages";
import { Dialog } from "../components/Dialog";
import { paletteMatches, type PaletteItem } from "./match";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const id = window.setTimeout(() => setV(value), ms);
    return () => window.clearTimeout(id);
  }, [value, ms]);
  return v;
}

export function CommandPalette({ open, onClose }: { open: boolean; onClose: () => void }) {
  const [text, setText] = useState("");
  const [active, setActive] = useState(0);
  const navigate = useNavigate();
  const q = useDebounced(text.trim(), 150);
  const listId = useId();
  const inputRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (open) {
      setText("");
      setActive(0);
      window.setTimeout(() => inputRef.current?.focus(), 0);
    }
  }, [open]);

  const remote = useQuery({
    queryKey: ["palette", q],
    enabled: open && q.length >= 2,
    staleTime: 10_000,
    queryFn: async ({ signal }) => {
      const like = { like_: q };
      const [flows, deployments, runs, pools, byId] = await Promise.all([
        api.flows({ flows: { name: like }, limit: 5, sort: "NAME_ASC" }, signal),
        api.deployments({ deployments: { flow_or_deployment_name: like }, limit: 5, sort: "NAME_ASC" }, signal),
        api.flowRuns({ flow_runs: { name: like }, limit: 5, sort: "EXPECTED_START_TIME_DESC" }, signal),
        api.workPools({ limit: 200 }, signal).then((ps) => ps.filter((p) => p.name.toLowerCase().includes(q.toLowerCase())).slice(0, 5)),
        UUID.test(q) ? api.flowRun(q, signal).then((r) => [r], () => []) : Promise.resolve([]),
      ]);
      const items: PaletteItem[] = [
        ...byId.map((r) => ({ kind: "Flow run", label: r.name, to: `/runs/flow-run/${r.id}` })),
        ...flows.map((f) => ({ kind: "Flow", label: f.name, to: `/flows/flow/${f.id}` })),
        ...deployments.map((d) => ({ kind: "Deployment", label: d.flow_name ? `${d.flow_name}/${d.name}` : d.name, to: `/deployments/deployment/${d.id}` })),
        ...pools.map((p) => ({ kind: "Work pool", label: p.name, to: `/work-pools/work-pool/${encodeURIComponent(p.name)}` })),
        ...runs.map((r) => ({ kind: "Flow run", label: r.name, to: `/runs/flow-run/${r.id}` })),
      ];
      return items;
    },
  });

  const pages: PaletteItem[] = useMemo(() => navItems().map((n) => ({ kind: "Page", label: n.label, to: n.to, keywords: n.keywords ?? "" })), []);
  const items = useMemo(() => [...paletteMatches(pages, text), ...(q.length >= 2 ? (remote.data ?? []) : [])], [pages, text, q, remote.data]);
  const current = Math.min(active, Math.max(0, items.length - 1));

  const go = (item: PaletteItem | undefined) => {
    if (!item) return;
    onClose();
    void navigate(item.to);
  };

  return (
    <Dialog open={open} title="Go to…" onClose={onClose}>
      <div className="palette">
        <input
          ref={inputRef}
          type="text"
          role="combobox"
          aria-expanded="true"
          aria-controls={listId}
          aria-activedescendant={items.length ? `${listId}-${current}` : undefined}
          aria-label="Search pages, flows, deployments, work pools and runs"
          placeholder="Type a name or a run id"
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setActive(0);
          }}
          onKeyDown={(e) => {
            if (e.key === "ArrowDown") {
              e.preventDefault();
              setActive((current + 1) % Math.max(1, items.length));
            } else if (e.key === "ArrowUp") {
              e.preventDefault();
              setActive((current - 1 + items.length) % Math.max(1, items.length));
            } else if (e.key === "Enter") {
              e.preventDefault();
              go(items[current]);
            }
          }}
        />
        <ul id={listId} role="listbox" aria-label="Results" className="palette-list">
          {items.map((it, i) => (
            <li
              key={`${it.kind}-${it.to}`}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === current}
              className={i === current ? "active" : ""}
              onMouseEnter={() => setActive(i)}
              onClick={() => go(it)}
            >
              <span className="palette-kind">{it.kind}</span>
              <span>{it.label}</span>
            </li>
          ))}
          {items.length === 0 && <li className="muted">{remote.isFetching ? "Searching…" : "No matches"}</li>}
        </ul>
        <p className="muted small">↑ ↓ to move, Enter to open, Esc to close. On lists: j / k to move, Enter to open, x to select.</p>
      </div>
    </Dialog>
  );
}
