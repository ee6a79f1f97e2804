// A throwaway mock of the slice of Baton's API the UI reads, serving the
// built app from internal/ui/dist, for working on the UI without the Go
// server: `node ui/dev/mock-server.mjs [port]`. Data is generated at start.
// Filtering is deliberately rough; the real checks are in e2e/.

import { createServer } from "node:http";
import { readFileSync, existsSync } from "node:fs";
import { join, extname, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { randomUUID } from "node:crypto";

const dist = join(dirname(fileURLToPath(import.meta.url)), "../../internal/ui/dist");
const port = Number(process.argv[2] ?? 4300);
const now = Date.now();
const iso = (ms) => new Date(ms).toISOString();
const STATES = ["COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED", "FAILED", "RUNNING", "CRASHED", "CANCELLED", "SCHEDULED"];

const flows = ["etl-daily", "ml-train", "report-builder"].map((name) => ({ id: randomUUID(), name, tags: [], created: iso(now - 9e8), updated: null }));
const flowRuns = [];
const taskRuns = [];
const logs = [];
const states = new Map();
let seed = 7;
const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);

function mkState(type, ts, name) {
  return { id: randomUUID(), type, name: name ?? type[0] + type.slice(1).toLowerCase(), timestamp: iso(ts), message: type === "FAILED" ? "Flow run encountered an exception: ValueError('boom')" : null };
}

for (let i = 0; i < 120; i++) {
  const flow = flows[i % flows.length];
  const type = i === 0 ? "RUNNING" : STATES[Math.floor(rnd() * STATES.length)];
  const start = now - rnd() * 86400e3;
  const dur = 5 + rnd() * 600;
  const future = type === "SCHEDULED";
  const exp = future ? now + rnd() * 7200e3 : start;
  const fr = {
    id: randomUUID(), name: `run-${i}-${["brave", "calm", "eager", "witty"][i % 4]}-${["otter", "lynx", "heron"][i % 3]}`, flow_id: flow.id,
    created: iso(exp), updated: null, deployment_id: null, work_queue_name: null, flow_version: "1.0", parameters: { date: "2026-01-10", limit: i },
    tags: i % 5 === 0 ? ["prod"] : [], parent_task_run_id: null, state_type: type, state_name: null, run_count: future ? 0 : 1,
    expected_start_time: iso(exp), next_scheduled_start_time: null, start_time: future ? null : iso(start),
    end_time: future || type === "RUNNING" ? null : iso(start + dur * 1000), total_run_time: future ? 0 : dur, estimated_run_time: dur, estimated_start_time_delta: 0,
    empirical_policy: { retries: 2, retry_delay: 10 },
  };
  fr.state = mkState(type, future ? now : start + dur * 1000);
  fr.state_name = fr.state.name;
  flowRuns.push(fr);
  states.set(fr.id, future ? [mkState("SCHEDULED", exp - 1000)] : [mkState("PENDING", start - 500), mkState("RUNNING", start), ...(type === "RUNNING" ? [] : [fr.state])]);
  if (future) continue;
  const nTasks = i === 1 ? Number(process.env.MOCK_BIG ?? 400) : i === 0 ? 12 : 6;
  const ids = [];
  let t = start;
  for (let k = 0; k < nTasks; k++) {
    const id = randomUUID();
    const par = k % 4 !== 0 && ids.length ? ids[ids.length - 1] : null;
    const ts = start + (k * dur * 1000) / nTasks / 1.5 + rnd() * 2000;
    const te = ts + 300 + rnd() * (dur * 1000) / nTasks * 2;
    const open = type === "RUNNING" && k > nTasks - 4;
    const tt = open ? "RUNNING" : type === "FAILED" && k === nTasks - 1 ? "FAILED" : "COMPLETED";
    taskRuns.push({
      id, name: `${["extract", "transform", "load", "validate"][k % 4]}-${k}`, flow_run_id: fr.id, task_key: "k", dynamic_key: String(k), cache_key: k % 3 === 0 ? `cache-${k}` : null,
      cache_expiration: null, task_version: null, tags: [], task_inputs: par ? { rows: [{ input_type: "task_run", id: par }], limit: [{ input_type: "parameter", name: "limit" }] } : {},
      state_type: tt, state_name: tt[0] + tt.slice(1).toLowerCase(), run_count: 1, flow_run_run_count: 1, expected_start_time: iso(ts), start_time: iso(ts),
      end_time: open ? null : iso(te), total_run_time: (te - ts) / 1000, estimated_run_time: 0, created: iso(ts), updated: null, state: null, empirical_policy: { retries: 0 },
    });
    states.set(id, [mkState("PENDING", ts - 50), mkState("RUNNING", ts), ...(open ? [] : [mkState(tt, te)])]);
    ids.push(id);
    t = te;
  }
  for (let k = 0; k < 8; k++) {
    logs.push({ id: randomUUID(), name: "prefect.flow_runs", level: [20, 20, 10, 30, 40][k % 5], message: `log line ${k} for ${fr.name}${k === 4 ? "\nTraceback (most recent call last):\n  File \"flow.py\", line 3\nValueError: boom" : ""}`, timestamp: iso(start + k * 1000), flow_run_id: fr.id, task_run_id: null });
  }
}
flowRuns.push({ ...flowRuns[5], id: randomUUID(), name: "late-lemur", state_type: "SCHEDULED", state_name: "Late", start_time: null, end_time: null, expected_start_time: iso(now - 1800e3), state: mkState("SCHEDULED", now - 1800e3, "Late") });

function matchRun(fr, body) {
  const f = body.flow_runs ?? {};
  const st = f.state;
  if (st) {
    const byType = st.type?.any_ ? st.type.any_.includes(fr.state_type) : null;
    const byName = st.name?.any_ ? st.name.any_.includes(fr.state_name) : null;
    const notName = st.name?.not_any_ ? !st.name.not_any_.includes(fr.state_name) : true;
    const parts = [byType, byName].filter((x) => x !== null);
    const ok = st.operator === "or_" ? parts.some(Boolean) : parts.every(Boolean);
    if (!ok || !notName) return false;
  }
  if (f.expected_start_time?.after_ && fr.expected_start_time < f.expected_start_time.after_) return false;
  if (f.expected_start_time?.before_ && fr.expected_start_time > f.expected_start_time.before_) return false;
  if (f.name?.like_ && !fr.name.includes(f.name.like_)) return false;
  if (f.tags?.all_ && !f.tags.all_.every((t) => fr.tags.includes(t))) return false;
  if (f.parent_flow_run_id) return false;
  if (f.start_time?.is_null_ === false && !fr.start_time) return false;
  if (body.flows?.id?.any_ && !body.flows.id.any_.includes(fr.flow_id)) return false;
  return true;
}
const sortRuns = (list, sort = "EXPECTED_START_TIME_DESC") => {
  const [key, dir] = sort.startsWith("NAME") ? ["name", sort.endsWith("ASC") ? 1 : -1] : sort.startsWith("START") ? ["start_time", sort.endsWith("ASC") ? 1 : -1] : ["expected_start_time", sort.endsWith("ASC") ? 1 : -1];
  return [...list].sort((a, b) => String(a[key] ?? "").localeCompare(String(b[key] ?? "")) * dir);
};
function matchTask(tr, body) {
  const f = body.task_runs ?? {};
  if (f.flow_run_id?.any_ && !f.flow_run_id.any_.includes(tr.flow_run_id)) return false;
  if (f.state?.type?.any_ && !f.state.type.any_.includes(tr.state_type)) return false;
  if (f.start_time?.after_ && (tr.start_time ?? "") < f.start_time.after_) return false;
  return true;
}

const routes = [
  ["GET", /^\/api\/health$/, () => true],
  ["POST", /^\/api\/flows\/filter$/, (b) => flows.filter((f) => (!b.flows?.id?.any_ || b.flows.id.any_.includes(f.id)) && (!b.flows?.name?.like_ || f.name.includes(b.flows.name.like_)))],
  ["GET", /^\/api\/flows\/([^/]+)$/, (b, m) => flows.find((f) => f.id === m[1])],
  ["POST", /^\/api\/flow_runs\/filter$/, (b) => sortRuns(flowRuns.filter((r) => matchRun(r, b)), b.sort).slice(b.offset ?? 0, (b.offset ?? 0) + (b.limit ?? 200))],
  ["POST", /^\/api\/flow_runs\/count$/, (b) => flowRuns.filter((r) => matchRun(r, b)).length],
  ["POST", /^\/api\/flow_runs\/paginate$/, (b) => {
    const all = sortRuns(flowRuns.filter((r) => matchRun(r, b)), b.sort);
    const limit = b.limit ?? 25;
    const page = b.page ?? 1;
    return { results: all.slice((page - 1) * limit, page * limit), count: all.length, limit, page, pages: Math.ceil(all.length / limit) };
  }],
  ["GET", /^\/api\/flow_runs\/([^/]+)$/, (b, m) => flowRuns.find((r) => r.id === m[1])],
  ["GET", /^\/api\/flow_run_states\/$/, (b, m, q) => states.get(q.get("flow_run_id")) ?? []],
  ["POST", /^\/api\/task_runs\/filter$/, (b) => taskRuns.filter((t) => matchTask(t, b)).slice(b.offset ?? 0, (b.offset ?? 0) + (b.limit ?? 200))],
  ["POST", /^\/api\/task_runs\/count$/, (b) => taskRuns.filter((t) => matchTask(t, b)).length],
  ["GET", /^\/api\/task_runs\/([^/]+)$/, (b, m) => taskRuns.find((t) => t.id === m[1])],
  ["GET", /^\/api\/task_run_states\/$/, (b, m, q) => states.get(q.get("task_run_id")) ?? []],
  ["POST", /^\/api\/logs\/filter$/, (b) => logs.filter((l) => (!b.logs?.flow_run_id?.any_ || b.logs.flow_run_id.any_.includes(l.flow_run_id)) && (!b.logs?.level?.ge_ || l.level >= b.logs.level.ge_)).slice(b.offset ?? 0, (b.offset ?? 0) + (b.limit ?? 200))],
  ["POST", /^\/api\/events\/filter$/, () => ({ events: flowRuns.slice(0, 30).map((r) => ({ id: randomUUID(), occurred: r.expected_start_time, event: `prefect.flow-run.${r.state?.name ?? "Completed"}`, resource: { "prefect.resource.id": `prefect.flow-run.${r.id}`, "prefect.resource.name": r.name }, related: [{ "prefect.resource.id": `prefect.flow.${r.flow_id}`, "prefect.resource.role": "flow", "prefect.resource.name": "etl-daily" }], payload: {} })), total: 30, next_page: null })],
  ["POST", /^\/api\/events\/count-by\/event$/, () => [{ value: "prefect.flow-run.Completed", label: "prefect.flow-run.Completed", count: 80, start_time: iso(now), end_time: iso(now) }, { value: "prefect.flow-run.Failed", label: "prefect.flow-run.Failed", count: 12, start_time: iso(now), end_time: iso(now) }]],
];

createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    if (url.pathname.startsWith("/api/")) {
      for (const [method, re, fn] of routes) {
        const m = re.exec(url.pathname);
        if (m && method === req.method) {
          const out = fn(body ? JSON.parse(body) : {}, m, url.searchParams);
          if (out === undefined) break;
          res.writeHead(200, { "Content-Type": "application/json" });
          res.end(JSON.stringify(out));
          return;
        }
      }
      res.writeHead(404, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ detail: "Not Found" }));
      return;
    }
    const file = join(dist, url.pathname);
    const path = existsSync(file) && extname(file) ? file : join(dist, "index.html");
    const types = { ".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".svg": "image/svg+xml" };
    res.writeHead(200, { "Content-Type": types[extname(path)] ?? "application/octet-stream" });
    res.end(readFileSync(path));
  });
}).listen(port, "127.0.0.1", () => console.log(`mock baton on http://127.0.0.1:${port}`));
