// Measures Baton's pages on a large database (run by bench/ui_scale.sh, which
// seeds it and starts the server): first adds DEPLOYMENTS deployments (over
// the seeded flows, every tenth with a daily schedule), a work pool with five
// queues and twenty workers, through the API. Then records the API calls
// Chromium makes while each page renders, replays each one REPEAT times to
// get its latency, times navigation start -> data on screen RENDERS times per
// page, and times interactions (click -> updated view). Prints one JSON
// document on stdout.

import { createRequire } from "node:module";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const { chromium } = createRequire(join(root, "e2e", "package.json"))("playwright-core");

const base = process.env.BATON_URL ?? "http://127.0.0.1:4200";
const REPEAT = Number(process.env.REPEAT ?? 30);
const RENDERS = Number(process.env.RENDERS ?? 5);
const TIMEOUT = 60_000;
const DEPLOYMENTS = Number(process.env.DEPLOYMENTS ?? 1000);
const LOG_LINES = Number(process.env.LOG_LINES ?? 100000);
const GRAPH_TASKS = Number(process.env.GRAPH_TASKS ?? 10000);

async function call(method, path, body) {
  const res = await fetch(`${base}/api${path}`, { method, headers: { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Adds the deployments, the pool, its queues and workers (idempotent: skipped when already there). */
async function setup() {
  const have = await call("POST", "/deployments/count", {});
  const flows = await call("POST", "/flows/filter", { limit: 200 });
  await call("POST", "/work_pools/", { name: "bench-pool", type: "process" }).catch(() => null);
  for (let q = 1; q <= 5; q++) await call("POST", "/work_pools/bench-pool/queues", { name: `queue-${q}`, priority: q }).catch(() => null);
  for (let w = 0; w < 20; w++) await call("POST", "/work_pools/bench-pool/workers/heartbeat", { name: `worker-${w}`, heartbeat_interval_seconds: 30 });
  const t0 = performance.now();
  for (let i = have; i < DEPLOYMENTS; i += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, DEPLOYMENTS - i) }, (_, k) => {
        const n = i + k;
        const flow = flows[n % flows.length];
        return call("POST", "/deployments/", {
          name: `bench-deployment-${String(n).padStart(4, "0")}`,
          flow_id: flow.id,
          work_pool_name: "bench-pool",
          work_queue_name: `queue-${(n % 5) + 1}`,
          tags: [`team-${n % 7}`],
          parameter_openapi_schema: { type: "object", properties: { n: { type: "integer", default: n } } },
          schedules: n % 10 === 0 ? [{ schedule: { cron: `${n % 60} ${n % 24} * * *`, timezone: "UTC" }, active: true }] : [],
        });
      }),
    );
  }
  // One finished flow run with LOG_LINES log lines (a long, chatty run).
  let [logRun] = await call("POST", "/flow_runs/filter", { flow_runs: { name: { any_: ["bench-chatty-run"] } }, limit: 1 });
  if (!logRun) {
    logRun = await call("POST", "/flow_runs/", { flow_id: flows[0].id, name: "bench-chatty-run", state: { type: "COMPLETED", name: "Completed" } });
    const t1 = performance.now();
    const start = Date.now() - LOG_LINES * 10;
    const levels = [20, 20, 20, 10, 30, 40];
    for (let i = 0; i < LOG_LINES; i += 1000) {
      const batch = Array.from({ length: Math.min(1000, LOG_LINES - i) }, (_, k) => {
        const n = i + k;
        return { name: n % 3 ? "prefect.flow_runs" : "bench.worker", level: levels[n % levels.length], message: `line ${n}: processed record ${n * 7} of the nightly batch${n % 997 === 0 ? " needle" : ""}`, timestamp: new Date(start + n * 10).toISOString(), flow_run_id: logRun.id };
      });
      await call("POST", "/logs/", batch);
    }
    console.error(`setup: ${LOG_LINES} log lines in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  }
  logRunId = logRun.id;
  // One finished flow run with GRAPH_TASKS task runs (the run graph at scale): 50 chains, each task
  // fed by the one 50 before it, each Running then Completed (real start and end times).
  let [graphRun] = await call("POST", "/flow_runs/filter", { flow_runs: { name: { any_: ["bench-graph-run"] } }, limit: 1 });
  if (!graphRun) {
    const t2 = performance.now();
    graphRun = await call("POST", "/flow_runs/", { flow_id: flows[0].id, name: "bench-graph-run", state: { type: "RUNNING", name: "Running" } });
    let prev = [];
    for (let i = 0; i < GRAPH_TASKS; i += 50) {
      prev = await Promise.all(
        Array.from({ length: Math.min(50, GRAPH_TASKS - i) }, async (_, k) => {
          const n = i + k;
          const inputs = prev[k] ? { x: [{ input_type: "task_run", id: prev[k] }] } : {};
          const tr = await call("POST", "/task_runs/", {
            flow_run_id: graphRun.id, task_key: `step-${k}`, dynamic_key: String(n), name: `step-${k}-${n}`, task_inputs: inputs, state: { type: "RUNNING", name: "Running" },
          });
          await call("POST", `/task_runs/${tr.id}/set_state`, { state: { type: "COMPLETED", name: "Completed" }, force: true });
          return tr.id;
        }),
      );
    }
    await call("POST", `/flow_runs/${graphRun.id}/set_state`, { state: { type: "COMPLETED", name: "Completed" }, force: true });
    console.error(`setup: a flow run with ${GRAPH_TASKS} task runs in ${((performance.now() - t2) / 1000).toFixed(1)} s`);
  }
  graphRunId = graphRun.id;
  const deps = await call("POST", "/deployments/filter", { limit: 1, sort: "NAME_ASC" });
  console.error(`setup: ${DEPLOYMENTS} deployments (${have} were there; added in ${((performance.now() - t0) / 1000).toFixed(1)} s), pool bench-pool with 5 queues and 20 workers`);
  return deps[0].id;
}

let logRunId = "";
let graphRunId = "";
const firstDeployment = await setup();

// What "rendered" means for each page, checked in the page on every frame:
// the numbers and rows that need the API are on screen, not placeholders.
const pages = {
  dashboard: {
    path: "/dashboard",
    ready: () => {
      const text = (sel) => document.querySelector(sel)?.textContent ?? "";
      const tiles = ["completed", "failed", "late"].every((k) => /\d/.test(text(`[data-testid=count-${k}] .tile-value`)));
      const stats = [...document.querySelectorAll(".stat-value")];
      const taskStats = stats.length > 0 && stats.every((s) => !s.textContent.includes("…"));
      const chart = document.querySelector(".chart svg rect[fill]") !== null;
      const warnings = text("[data-testid=warnings]").includes("seed-run-");
      return tiles && taskStats && chart && warnings ? performance.now() : false;
    },
  },
  deployments: {
    path: "/deployments",
    ready: () => {
      const t = document.querySelector("[data-testid=deployments-table]")?.textContent ?? "";
      return t.includes("bench-deployment-") && !t.includes("…") ? performance.now() : false;
    },
  },
  deployment: {
    path: `/deployments/deployment/${firstDeployment}`,
    ready: () => {
      const h = document.querySelector("h1")?.textContent ?? "";
      const runs = /\d/.test(document.querySelector("[data-testid=runs-count]")?.textContent ?? "") || (document.querySelector(".tab-panel .state-box.empty") !== null);
      return h.includes("bench-deployment-") && runs ? performance.now() : false;
    },
  },
  "work-pools": {
    path: "/work-pools",
    ready: () => ((document.querySelector("[data-testid=work-pools-table]")?.textContent ?? "").includes("of 20") ? performance.now() : false),
  },
  "work-pool": {
    path: "/work-pools/work-pool/bench-pool",
    ready: () => {
      const t = document.querySelector("[data-testid=queues-table]")?.textContent ?? "";
      return t.includes("queue-5") && !t.includes("…") ? performance.now() : false;
    },
  },
  "flow-run-logs": {
    path: `/runs/flow-run/${logRunId}`,
    ready: () => ((document.querySelector("[data-testid=logs] .log-lines")?.textContent ?? "").includes("line 0:") ? performance.now() : false),
  },
  "flow-run-graph": {
    path: `/runs/flow-run/${graphRunId}`,
    ready: new Function(
      `const s = document.querySelector("[data-testid=graph-summary]")?.textContent ?? "";
       return s.startsWith("${GRAPH_TASKS} runs") && document.querySelector("[data-testid=run-graph] canvas") !== null ? performance.now() : false;`,
    ),
  },
  runs: {
    path: "/runs",
    ready: () => {
      const rows = document.querySelectorAll("[data-testid=runs-table] tbody tr").length;
      const count = /\d/.test(document.querySelector("[data-testid=runs-count]")?.textContent ?? "");
      // Any run's link, not a seeded name: once the scheduler has made the bench deployments' runs, the newest
      // scheduled runs (first in the default order) are those.
      const links = document.querySelector("[data-testid=runs-table] tbody a[href*='/runs/flow-run/']") !== null;
      return rows > 0 && count && links ? performance.now() : false;
    },
  },
};

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

async function renderOnce(browser, spec, calls) {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const page = await context.newPage();
  if (calls) {
    page.on("request", (req) => {
      const u = new URL(req.url());
      if (u.pathname.startsWith("/api/")) calls.push({ method: req.method(), path: u.pathname + u.search, body: req.postData() ?? null });
    });
  }
  await page.goto(base + spec.path, { waitUntil: "commit" });
  const handle = await page.waitForFunction(spec.ready, null, { polling: "raf", timeout: TIMEOUT });
  const ms = await handle.jsonValue();
  if (calls) await page.waitForTimeout(1500); // late requests (names of flows, …)
  await context.close();
  return ms;
}

async function replay(call) {
  const times = [];
  let status = 0;
  let bytes = 0;
  for (let i = 0; i < REPEAT; i++) {
    const t0 = performance.now();
    const res = await fetch(base + call.path, {
      method: call.method,
      headers: call.body ? { "Content-Type": "application/json" } : {},
      body: call.body ?? undefined,
    });
    const buf = await res.arrayBuffer();
    times.push(performance.now() - t0);
    status = res.status;
    bytes = buf.byteLength;
  }
  return { status, bytes, p50: pct(times, 50), p95: pct(times, 95), max: Math.max(...times) };
}

/**
 * Interactions: the time from a user's action to the updated view, measured
 * inside the page (event dispatched -> condition true on an animation frame),
 * so the browser driver's own round trips are not counted.
 */
function inPage(page, act, done) {
  return page.evaluate(
    ([actSrc, doneSrc]) =>
      new Promise((resolve, reject) => {
        const act = new Function(actSrc);
        const done = new Function(doneSrc);
        const t0 = performance.now();
        act();
        const limit = t0 + 60_000;
        const tick = () => {
          if (done()) resolve(performance.now() - t0);
          else if (performance.now() > limit) reject(new Error("timed out"));
          else requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      }),
    [act, done],
  );
}

const lastDeployment = `bench-deployment-${String(DEPLOYMENTS - 1).padStart(4, "0")}`;
const interactions = {
  "runs: filter by state (Failed; one API round trip)": {
    path: "/runs",
    ready: pages.runs.ready,
    act: async (page) => {
      await page.locator("details.multi summary").click();
      return inPage(
        page,
        `document.querySelector("input[name=state-FAILED]").click();`,
        `const rows = [...document.querySelectorAll("[data-testid=runs-table] tbody tr")]; return rows.length > 0 && rows.every((r) => r.getAttribute("data-state") === "FAILED");`,
      );
    },
  },
  "runs: select all on the page (bulk bar shown)": {
    path: "/runs",
    ready: pages.runs.ready,
    act: (page) =>
      inPage(page, `document.querySelector("input[aria-label='Select all runs on this page']").click();`, `return document.querySelector("[data-testid=bulk-bar]") !== null;`),
  },
  "deployment: switch to the Parameters tab": {
    path: `/deployments/deployment/${firstDeployment}`,
    ready: pages.deployment.ready,
    act: (page) => inPage(page, `document.querySelector("#tab-parameters").click();`, `return document.querySelector("[data-testid=parameters-table]") !== null;`),
  },
  "logs (100,000 lines): scroll to the end of the loaded lines, next page shown": {
    path: `/runs/flow-run/${logRunId}`,
    ready: pages["flow-run-logs"].ready,
    act: (page) =>
      inPage(
        page,
        `const el = document.querySelector("[data-testid=logs] .log-lines"); el.scrollTop = el.scrollHeight;`,
        `return (document.querySelector("[data-testid=logs] .log-lines")?.textContent ?? "").includes("line 200:");`,
      ),
  },
  "logs (100,000 lines): server-side search (300 ms debounce + query)": {
    path: `/runs/flow-run/${logRunId}`,
    ready: pages["flow-run-logs"].ready,
    act: async (page) => {
      const t0 = await page.evaluate(() => performance.now());
      await page.locator("input[name=log-search]").fill("needle");
      await page.waitForFunction(() => {
        const rows = [...document.querySelectorAll("[data-testid=logs] .log-lines li")];
        return rows.length > 0 && rows.every((r) => r.textContent.includes("needle"));
      }, null, { polling: "raf", timeout: TIMEOUT });
      return (await page.evaluate(() => performance.now())) - t0;
    },
  },
  "logs (100,000 lines): download the whole log": {
    path: `/runs/flow-run/${logRunId}`,
    ready: pages["flow-run-logs"].ready,
    act: async (page) => {
      const t0 = Date.now();
      const [dl] = await Promise.all([page.waitForEvent("download", { timeout: TIMEOUT }), page.getByRole("button", { name: "Download all" }).click()]);
      await dl.path();
      return Date.now() - t0;
    },
  },
  [`run graph (${GRAPH_TASKS} task runs): zoom in, next frame drawn`]: {
    path: `/runs/flow-run/${graphRunId}`,
    ready: pages["flow-run-graph"].ready,
    act: (page) => inPage(page, `document.querySelector("[data-testid=run-graph] button[aria-label='Zoom in']").click();`, `return true;`),
  },
  [`run graph (${GRAPH_TASKS} task runs): pan with the arrow key, next frame drawn`]: {
    path: `/runs/flow-run/${graphRunId}`,
    ready: pages["flow-run-graph"].ready,
    act: (page) =>
      inPage(
        page,
        `document.querySelector("[data-testid=run-graph] canvas").dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));`,
        `return true;`,
      ),
  },
  "palette: Ctrl-K opened": {
    path: "/deployments",
    ready: pages.deployments.ready,
    act: (page) =>
      inPage(page, `window.dispatchEvent(new KeyboardEvent("keydown", { key: "k", ctrlKey: true }));`, `return document.querySelector("dialog[open] input[role=combobox]") !== null;`),
  },
  [`palette: type a deployment name until it is listed (150 ms debounce + search)`]: {
    path: "/deployments",
    ready: pages.deployments.ready,
    act: async (page) => {
      await page.keyboard.press("Control+k");
      await page.locator("dialog[open] input[role=combobox]").waitFor();
      const t0 = await page.evaluate(() => performance.now());
      await page.locator("dialog[open] input[role=combobox]").fill(lastDeployment);
      await page.locator("dialog[open] [role=listbox]").filter({ hasText: lastDeployment }).waitFor({ timeout: TIMEOUT });
      return (await page.evaluate(() => performance.now())) - t0;
    },
  },
};

/** PAGES=a,b measures only the pages and interactions whose names contain one of those words. */
function wanted(name) {
  const only = (process.env.PAGES ?? "").split(",").filter(Boolean);
  return only.length === 0 || only.some((w) => name.includes(w));
}

const browser = await chromium.launch({ executablePath: process.env.E2E_CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
const out = { base, repeat: REPEAT, renders: RENDERS, deployments: DEPLOYMENTS, pages: {} };
try {
  for (const [name, spec] of Object.entries(pages)) {
    if (!wanted(name)) continue;
    const calls = [];
    await renderOnce(browser, spec, calls); // warm-up, and the list of calls
    const renders = [];
    for (let i = 0; i < RENDERS; i++) renders.push(await renderOnce(browser, spec, null));
    const seen = new Map();
    for (const c of calls) seen.set(`${c.method} ${c.path} ${c.body ?? ""}`, c);
    const apis = [];
    for (const c of seen.values()) apis.push({ ...c, ...(await replay(c)) });
    out.pages[name] = { path: spec.path, renders, median: pct(renders, 50), calls: apis };
    console.error(`${name}: render median ${pct(renders, 50).toFixed(0)} ms, ${apis.length} distinct API calls`);
  }
  out.interactions = {};
  for (const [name, spec] of Object.entries(interactions)) {
    if (!wanted(name)) continue;
    const times = [];
    for (let i = 0; i < RENDERS; i++) {
      const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
      const page = await context.newPage();
      await page.goto(base + spec.path, { waitUntil: "commit" });
      await page.waitForFunction(spec.ready, null, { polling: "raf", timeout: TIMEOUT });
      try {
        times.push(await spec.act(page));
      } catch (err) {
        console.error(`${name}: ${err.message}`);
      }
      await context.close();
    }
    if (times.length === 0) continue;
    out.interactions[name] = { times, median: pct(times, 50) };
    console.error(`${name}: median ${pct(times, 50).toFixed(0)} ms`);
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(out, null, 1));
