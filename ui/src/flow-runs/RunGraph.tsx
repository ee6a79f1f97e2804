import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useNavigate } from "react-router";
import type { GraphLayout, GraphNode } from "../lib/graph";
import { formatClock, formatDuration, formatLogTime } from "../lib/format";
import { STATE_COLORS, stateLabel } from "../lib/states";
import { timeTicks } from "../lib/ticks";
import { useWidth } from "../lib/useWidth";

const ROW_H = 30;
const BAR_H = 20;
const AXIS_H = 26;
const PAD_X = 16;
const MAX_H = 520;
const MIN_BAR_PX = 6;

interface View {
  /** Time at the left edge of the plot, ms. */
  t0: number;
  /** Milliseconds per CSS pixel. */
  msPerPx: number;
  /** Vertical scroll in pixels. */
  y: number;
}

function fitView(layout: GraphLayout, width: number): View {
  const span = Math.max(5, layout.end - layout.start);
  const usable = Math.max(50, width - PAD_X * 2 - 120);
  const msPerPx = span / usable;
  return { t0: layout.start - PAD_X * msPerPx, msPerPx, y: 0 };
}

/** Shortens text with an ellipsis to fit maxPx at the context's current font. */
function fitText(ctx: CanvasRenderingContext2D, text: string, maxPx: number): string {
  if (ctx.measureText(text).width <= maxPx) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (ctx.measureText(text.slice(0, mid) + "…").width <= maxPx) lo = mid;
    else hi = mid - 1;
  }
  return lo === 0 ? "" : text.slice(0, lo) + "…";
}

function cssVar(el: Element, name: string, fallback: string): string {
  const v = getComputedStyle(el).getPropertyValue(name).trim();
  return v === "" ? fallback : v;
}

/**
 * The dependency graph of a flow run drawn on a canvas: x is time, each row
 * a lane of non-overlapping runs, bezier arrows along task_inputs edges.
 * Only what is on screen is drawn, so thousands of nodes stay responsive.
 * Drag or arrow keys to pan, ctrl+wheel or +/- to zoom, 0 to fit; click a
 * bar to open that run.
 */
export function RunGraph({ layout, now }: { layout: GraphLayout; now: number }) {
  const [wrapRef, width] = useWidth<HTMLDivElement>(800);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const navigate = useNavigate();
  const contentH = layout.rows * ROW_H + AXIS_H + 12;
  const height = Math.min(MAX_H, Math.max(120, contentH));
  const [view, setView] = useState<View>(() => fitView(layout, width));
  const [hover, setHover] = useState<{ node: GraphNode; x: number; y: number } | null>(null);
  const fittedFor = useRef<string>("");
  const drag = useRef<{ x: number; y: number; view: View; moved: boolean } | null>(null);

  // Refit when the graph's extent or the width changes, but not on every poll.
  const fitKey = `${layout.start}|${layout.open ? "" : layout.end}|${width}|${layout.nodes.length === 0 ? 0 : 1}`;
  useEffect(() => {
    if (fittedFor.current === fitKey) return;
    fittedFor.current = fitKey;
    setView(fitView(layout, width));
  }, [fitKey, layout, width]);

  const byId = useMemo(() => new Map(layout.nodes.map((n) => [n.id, n])), [layout]);
  // Start of the next bar in the same row, to know how much room a label has.
  const nextStart = useMemo(() => {
    const out = new Map<string, number>();
    const lastInRow = new Map<number, GraphNode>();
    for (const n of layout.nodes) {
      const prev = lastInRow.get(n.row);
      if (prev) out.set(prev.id, n.start);
      lastInRow.set(n.row, n);
    }
    return out;
  }, [layout]);
  const maxY = Math.max(0, contentH - height);

  const draw = useCallback(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
    }
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const fg = cssVar(canvas, "--fg", "#222");
    const muted = cssVar(canvas, "--muted", "#777");
    const grid = cssVar(canvas, "--border", "#ddd");
    const bg = cssVar(canvas, "--surface", "#fff");
    const stateColor = (n: GraphNode) => (n.state ? cssVar(canvas, `--state-${n.state.toLowerCase()}`, STATE_COLORS[n.state]) : muted);
    ctx.clearRect(0, 0, width, height);
    ctx.fillStyle = bg;
    ctx.fillRect(0, 0, width, height);
    const x = (t: number) => (t - view.t0) / view.msPerPx;
    const rowTop = (row: number) => AXIS_H + 6 + row * ROW_H - view.y;
    const tEnd = view.t0 + width * view.msPerPx;

    // Time guides.
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    const ticks = timeTicks(view.t0, tEnd, width, 110);
    const tickStep = (ticks[1] ?? 0) - (ticks[0] ?? 0);
    const tickLabel = (t: number) => (tickStep < 1000 ? formatLogTime(new Date(t).toISOString()) : formatClock(t, tickStep < 60_000));
    for (const t of ticks) {
      const px = Math.round(x(t)) + 0.5;
      ctx.strokeStyle = grid;
      ctx.beginPath();
      ctx.moveTo(px, AXIS_H);
      ctx.lineTo(px, height);
      ctx.stroke();
      ctx.fillStyle = muted;
      ctx.fillText(tickLabel(t), px + 4, AXIS_H / 2);
    }
    if (layout.open) {
      const px = Math.round(x(now)) + 0.5;
      ctx.strokeStyle = cssVar(canvas, "--state-running", STATE_COLORS.RUNNING);
      ctx.setLineDash([4, 4]);
      ctx.beginPath();
      ctx.moveTo(px, AXIS_H);
      ctx.lineTo(px, height);
      ctx.stroke();
      ctx.setLineDash([]);
    }

    const firstRow = Math.max(0, Math.floor((view.y - 6) / ROW_H) - 1);
    const lastRow = Math.ceil((view.y + height) / ROW_H) + 1;
    const barX = (n: GraphNode) => {
      const x0 = x(n.start);
      const x1 = Math.max(x0 + MIN_BAR_PX, x(n.end));
      return [x0, x1] as const;
    };

    // Edges: from the end of the upstream bar to the start of the downstream one.
    ctx.lineWidth = 1.25;
    for (const e of layout.edges) {
      const a = byId.get(e.from);
      const b = byId.get(e.to);
      if (!a || !b) continue;
      if ((a.row < firstRow && b.row < firstRow) || (a.row > lastRow && b.row > lastRow)) continue;
      const [, ax1] = barX(a);
      const [bx0] = barX(b);
      if (Math.max(ax1, bx0) < 0 || Math.min(ax1, bx0) > width) continue;
      const ay = rowTop(a.row) + BAR_H / 2;
      const by = rowTop(b.row) + BAR_H / 2;
      const dx = Math.max(24, Math.abs(bx0 - ax1) / 2);
      ctx.strokeStyle = muted;
      ctx.setLineDash(e.kind === "data" ? [] : [3, 3]);
      ctx.beginPath();
      ctx.moveTo(ax1, ay);
      ctx.bezierCurveTo(ax1 + dx, ay, bx0 - dx, by, bx0 - 2, by);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = muted;
      ctx.beginPath();
      ctx.moveTo(bx0 - 1, by);
      ctx.lineTo(bx0 - 7, by - 3.5);
      ctx.lineTo(bx0 - 7, by + 3.5);
      ctx.closePath();
      ctx.fill();
    }

    // Bars and labels.
    ctx.font = "12px system-ui, sans-serif";
    for (const n of layout.nodes) {
      if (n.row < firstRow || n.row > lastRow) continue;
      const [x0, x1] = barX(n);
      if (x1 < 0 || x0 > width) continue;
      const top = rowTop(n.row);
      const color = stateColor(n);
      ctx.fillStyle = color;
      ctx.globalAlpha = hover?.node.id === n.id ? 1 : 0.88;
      ctx.beginPath();
      ctx.roundRect(x0, top, x1 - x0, BAR_H, 4);
      ctx.fill();
      ctx.globalAlpha = 1;
      if (n.kind === "subflow") {
        ctx.strokeStyle = fg;
        ctx.lineWidth = 1.5;
        ctx.stroke();
        ctx.lineWidth = 1.25;
      }
      const label = n.kind === "subflow" ? `⤷ ${n.label}` : n.label;
      const textW = ctx.measureText(label).width;
      const inside = Math.min(x1, width) - Math.max(x0, 0) - 12;
      if (textW <= inside) {
        ctx.fillStyle = "#fff";
        ctx.fillText(label, Math.max(x0, 0) + 6, top + BAR_H / 2 + 0.5);
      } else {
        const next = nextStart.get(n.id);
        const room = (next === undefined ? width : Math.min(width, x(next))) - x1 - 12;
        const text = room > 24 ? fitText(ctx, label, room) : "";
        if (text !== "") {
          ctx.fillStyle = fg;
          ctx.fillText(text, x1 + 6, top + BAR_H / 2 + 0.5);
        } else if (inside > 30) {
          ctx.fillStyle = "#fff";
          ctx.fillText(fitText(ctx, label, inside), Math.max(x0, 0) + 6, top + BAR_H / 2 + 0.5);
        }
      }
    }

    // Axis background last so bars scroll under it.
    ctx.fillStyle = bg;
    ctx.globalAlpha = 0.92;
    ctx.fillRect(0, 0, width, AXIS_H);
    ctx.globalAlpha = 1;
    ctx.fillStyle = muted;
    for (const t of ticks) ctx.fillText(tickLabel(t), Math.round(x(t)) + 4, AXIS_H / 2);
    ctx.strokeStyle = grid;
    ctx.beginPath();
    ctx.moveTo(0, AXIS_H + 0.5);
    ctx.lineTo(width, AXIS_H + 0.5);
    ctx.stroke();
  }, [byId, height, hover, layout, nextStart, now, view, width]);

  useEffect(() => {
    const id = requestAnimationFrame(draw);
    return () => {
      cancelAnimationFrame(id);
    };
  }, [draw]);

  // Redraw when the theme flips (colours come from CSS variables).
  useEffect(() => {
    const mq = window.matchMedia("(prefers-color-scheme: dark)");
    const obs = new MutationObserver(() => requestAnimationFrame(draw));
    obs.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    const on = () => requestAnimationFrame(draw);
    mq.addEventListener("change", on);
    return () => {
      obs.disconnect();
      mq.removeEventListener("change", on);
    };
  }, [draw]);

  const hit = (px: number, py: number): GraphNode | null => {
    const t = view.t0 + px * view.msPerPx;
    const row = Math.floor((py - AXIS_H - 6 + view.y) / ROW_H);
    const within = py - (AXIS_H + 6 + row * ROW_H - view.y);
    if (within < 0 || within > BAR_H) return null;
    for (const n of layout.nodes) {
      if (n.row !== row) continue;
      const end = Math.max(n.end, n.start + MIN_BAR_PX * view.msPerPx);
      if (t >= n.start && t <= end) return n;
    }
    return null;
  };

  const zoom = (factor: number, anchorPx = width / 2) => {
    setView((v) => {
      const t = v.t0 + anchorPx * v.msPerPx;
      const msPerPx = Math.min(Math.max(v.msPerPx * factor, 0.01), 86_400_000);
      return { ...v, msPerPx, t0: t - anchorPx * msPerPx };
    });
  };
  const pan = (dxPx: number, dyPx: number) => {
    setView((v) => ({ ...v, t0: v.t0 + dxPx * v.msPerPx, y: Math.min(maxY, Math.max(0, v.y + dyPx)) }));
  };

  // Wheel needs a non-passive listener to stop the page scrolling while zooming.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return undefined;
    const onWheel = (e: WheelEvent) => {
      if (e.ctrlKey || e.metaKey) {
        e.preventDefault();
        const rect = canvas.getBoundingClientRect();
        const f = Math.exp(e.deltaY * 0.002);
        setView((v) => {
          const anchor = e.clientX - rect.left;
          const t = v.t0 + anchor * v.msPerPx;
          const msPerPx = Math.min(Math.max(v.msPerPx * f, 0.01), 86_400_000);
          return { ...v, msPerPx, t0: t - anchor * msPerPx };
        });
      } else if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
        e.preventDefault();
        const d = e.shiftKey ? e.deltaY : e.deltaX;
        setView((v) => ({ ...v, t0: v.t0 + d * v.msPerPx }));
      } else if (maxY > 0) {
        const atEdge = (e.deltaY < 0 && view.y <= 0) || (e.deltaY > 0 && view.y >= maxY);
        if (atEdge) return;
        e.preventDefault();
        setView((v) => ({ ...v, y: Math.min(maxY, Math.max(0, v.y + e.deltaY)) }));
      }
    };
    canvas.addEventListener("wheel", onWheel, { passive: false });
    return () => {
      canvas.removeEventListener("wheel", onWheel);
    };
  }, [maxY, view.y]);

  return (
    <div className="graph" data-testid="run-graph">
      <div className="graph-tools" role="toolbar" aria-label="Graph controls">
        <span className="muted small" data-testid="graph-summary">
          {layout.nodes.length} run{layout.nodes.length === 1 ? "" : "s"} · {layout.edges.length} dependenc{layout.edges.length === 1 ? "y" : "ies"}
        </span>
        <button type="button" onClick={() => zoom(1 / 1.5)} aria-label="Zoom in">
          +
        </button>
        <button type="button" onClick={() => zoom(1.5)} aria-label="Zoom out">
          −
        </button>
        <button type="button" onClick={() => setView(fitView(layout, width))}>
          Fit
        </button>
      </div>
      <div ref={wrapRef} className="graph-canvas-wrap">
        <canvas
          ref={canvasRef}
          style={{ width: `${width}px`, height: `${height}px`, cursor: hover ? "pointer" : drag.current ? "grabbing" : "grab" }}
          tabIndex={0}
          role="img"
          aria-label={`Dependency graph of ${layout.nodes.length} runs. Arrow keys pan, plus and minus zoom, 0 fits.`}
          onKeyDown={(e) => {
            const step = 60;
            if (e.key === "ArrowLeft") pan(-step, 0);
            else if (e.key === "ArrowRight") pan(step, 0);
            else if (e.key === "ArrowUp") pan(0, -ROW_H * 2);
            else if (e.key === "ArrowDown") pan(0, ROW_H * 2);
            else if (e.key === "+" || e.key === "=") zoom(1 / 1.5);
            else if (e.key === "-") zoom(1.5);
            else if (e.key === "0") setView(fitView(layout, width));
            else return;
            e.preventDefault();
          }}
          onPointerDown={(e) => {
            drag.current = { x: e.clientX, y: e.clientY, view, moved: false };
            e.currentTarget.setPointerCapture(e.pointerId);
          }}
          onPointerMove={(e) => {
            const rect = e.currentTarget.getBoundingClientRect();
            const d = drag.current;
            if (d) {
              const dx = e.clientX - d.x;
              const dy = e.clientY - d.y;
              if (Math.abs(dx) + Math.abs(dy) > 3) d.moved = true;
              if (d.moved) {
                setView({ ...d.view, t0: d.view.t0 - dx * d.view.msPerPx, y: Math.min(maxY, Math.max(0, d.view.y - dy)) });
                return;
              }
            }
            const n = hit(e.clientX - rect.left, e.clientY - rect.top);
            setHover(n ? { node: n, x: e.clientX - rect.left, y: e.clientY - rect.top } : null);
          }}
          onPointerUp={(e) => {
            const d = drag.current;
            drag.current = null;
            if (d && !d.moved) {
              const rect = e.currentTarget.getBoundingClientRect();
              const n = hit(e.clientX - rect.left, e.clientY - rect.top);
              if (n) void navigate(n.href);
            }
          }}
          onPointerLeave={() => setHover(null)}
        />
        {hover && (
          <div className="graph-tip" style={{ left: Math.min(hover.x + 12, width - 240), top: hover.y + 14 }} role="tooltip">
            <strong>{hover.node.label}</strong>
            <span>
              {hover.node.stateName ?? (hover.node.state ? stateLabel(hover.node.state) : "Unknown")} · {formatDuration((hover.node.end - hover.node.start) / 1000)}
            </span>
            {hover.node.kind === "subflow" && <span className="muted">Subflow run</span>}
          </div>
        )}
      </div>
      <ul className="sr-only" data-testid="graph-edges" aria-label="Dependencies">
        {layout.edges.slice(0, 500).map((e) => (
          <li key={`${e.from}>${e.to}`}>
            {byId.get(e.from)?.label ?? e.from} → {byId.get(e.to)?.label ?? e.to}
          </li>
        ))}
      </ul>
    </div>
  );
}
