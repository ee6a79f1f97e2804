import { useRef, type ReactNode } from "react";

/** An accessible tab list: arrow keys move between tabs, the active one is in the tab order. */
export function Tabs<T extends string>({
  tabs,
  active,
  onChange,
  labels,
}: {
  tabs: readonly { id: T; label: string }[];
  active: T;
  onChange: (t: T) => void;
  /** Richer tab content (a count after the label); the plain label stays the fallback. */
  labels?: (id: T) => ReactNode;
}) {
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  return (
    <div role="tablist" className="tabs">
      {tabs.map((t, i) => (
        <button
          key={t.id}
          ref={(el) => {
            refs.current[i] = el;
          }}
          type="button"
          role="tab"
          id={`tab-${t.id}`}
          aria-selected={t.id === active}
          aria-controls={`panel-${t.id}`}
          tabIndex={t.id === active ? 0 : -1}
          className={t.id === active ? "tab active" : "tab"}
          onClick={() => onChange(t.id)}
          onKeyDown={(e) => {
            const d = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
            if (d === 0) return;
            e.preventDefault();
            const j = (i + d + tabs.length) % tabs.length;
            const next = tabs[j];
            if (next) {
              onChange(next.id);
              refs.current[j]?.focus();
            }
          }}
        >
          {labels ? labels(t.id) : t.label}
        </button>
      ))}
    </div>
  );
}
