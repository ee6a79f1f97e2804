import type { State } from "../api/types";
import { formatAbsolute, formatDuration } from "../lib/format";
import { stateLabel, stateVar } from "../lib/states";
import { StateBadge } from "./common";

export interface Segment {
  state: State;
  start: number;
  end: number;
}

/** Orders states by time and gives each the span until the next one (the last runs to `until`). */
export function stateSegments(states: readonly State[], until: number): Segment[] {
  const sorted = [...states].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
  return sorted.map((s, i) => {
    const start = Date.parse(s.timestamp);
    const next = sorted[i + 1];
    const end = next ? Date.parse(next.timestamp) : Math.max(start, until);
    return { state: s, start, end };
  });
}

/** A run's state history: a proportional strip plus the ordered list of transitions. */
export function StateHistory({ states, until }: { states: readonly State[]; until: number }) {
  const segs = stateSegments(states, until);
  const first = segs[0];
  const last = segs[segs.length - 1];
  if (!first || !last) return <p className="muted">No state history.</p>;
  const span = Math.max(1, last.end - first.start);
  return (
    <div className="state-history" data-testid="state-history">
      <div className="strip" aria-hidden="true">
        {segs.map((s) => (
          <span
            key={s.state.id}
            style={{ flexGrow: Math.max((s.end - s.start) / span, 0.02), background: stateVar(s.state.type) }}
            title={`${s.state.name ?? stateLabel(s.state.type)} · ${formatDuration((s.end - s.start) / 1000)}`}
          />
        ))}
      </div>
      <ol className="transitions">
        {segs.map((s) => (
          <li key={s.state.id}>
            <StateBadge type={s.state.type} name={s.state.name} />
            <time dateTime={s.state.timestamp}>{formatAbsolute(s.state.timestamp)}</time>
            <span className="muted">{s !== last ? `for ${formatDuration((s.end - s.start) / 1000)}` : ""}</span>
            {s.state.message && <span className="state-msg">{s.state.message}</span>}
          </li>
        ))}
      </ol>
    </div>
  );
}
