import type { Bucket } from "../lib/history";
import { formatAbsolute, formatClock } from "../lib/format";
import { STATE_ORDER, stateLabel, stateVar } from "../lib/states";
import { countTicks, timeTicks } from "../lib/ticks";
import { useWidth } from "../lib/useWidth";

const H = 180;
const PAD = { top: 8, right: 8, bottom: 22, left: 36 };

/** Stacked bars of runs per state over time, drawn as plain SVG. */
export function HistoryChart({ buckets, spanSeconds }: { buckets: readonly Bucket[]; spanSeconds: number }) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const first = buckets[0];
  const last = buckets[buckets.length - 1];
  if (!first || !last) return <div ref={ref} className="chart" />;
  const start = first.start;
  const end = last.end;
  const innerW = Math.max(10, width - PAD.left - PAD.right);
  const innerH = H - PAD.top - PAD.bottom;
  const max = Math.max(0, ...buckets.map((b) => b.total));
  const yTicks = countTicks(max);
  const top = yTicks[yTicks.length - 1] ?? 1;
  const x = (t: number) => PAD.left + ((t - start) / (end - start)) * innerW;
  const y = (v: number) => PAD.top + innerH - (v / top) * innerH;
  const barW = Math.max(1, innerW / buckets.length - 2);
  const total = buckets.reduce((s, b) => s + b.total, 0);
  const multiDay = spanSeconds > 86400;
  return (
    <div ref={ref} className="chart">
      <svg width={width} height={H} role="img" aria-label={`Flow run history: ${total} runs in range`}>
        {yTicks.map((v) => (
          <g key={v}>
            <line x1={PAD.left} x2={PAD.left + innerW} y1={y(v)} y2={y(v)} className="grid" />
            <text x={PAD.left - 6} y={y(v)} dy="0.32em" textAnchor="end" className="axis">
              {v}
            </text>
          </g>
        ))}
        {timeTicks(start, end, innerW).map((t) => (
          <text key={t} x={x(t)} y={H - 6} textAnchor={x(t) > width - 30 ? "end" : x(t) < PAD.left + 20 ? "start" : "middle"} className="axis">
            {multiDay ? new Date(t).toLocaleDateString(undefined, { month: "short", day: "numeric" }) : formatClock(t, false)}
          </text>
        ))}
        {buckets.map((b) => {
          let acc = 0;
          const parts = STATE_ORDER.filter((s) => (b.counts[s] ?? 0) > 0);
          const tip = [
            formatAbsolute(new Date(b.start).toISOString()),
            ...parts.map((s) => `${stateLabel(s)}: ${b.counts[s] ?? 0}`),
            b.total === 0 ? "No runs" : `Total: ${b.total}`,
          ].join("\n");
          return (
            <g key={b.start}>
              <title>{tip}</title>
              <rect x={x(b.start) + 1} y={PAD.top} width={barW} height={innerH} className="hover-target" />
              {parts.map((s) => {
                const v = b.counts[s] ?? 0;
                const y0 = y(acc);
                acc += v;
                const y1 = y(acc);
                return <rect key={s} x={x(b.start) + 1} y={y1} width={barW} height={Math.max(1, y0 - y1)} fill={stateVar(s)} rx={1} />;
              })}
            </g>
          );
        })}
      </svg>
    </div>
  );
}
