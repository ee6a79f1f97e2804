// Measures Baton's dashboard and flow-runs list on a large database (run by
// bench/ui_scale.sh, which seeds it and starts the server): records the API
// calls Chromium makes while each page renders, replays each one REPEAT
// times to get its latency, and times navigation start -> data on screen,
// RENDERS times per page. Prints one JSON document on stdout.

import { createRequire } from "node:module";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const { chromium } = createRequire(join(root, "e2e", "package.json"))("playwright-core");

const base = process.env.BATON_URL ?? "http://127.0.0.1:4200";
const REPEAT = Number(process.env.REPEAT ?? 30);
const RENDERS = Number(process.env.RENDERS ?? 5);
const TIMEOUT = 60_000;

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
  runs: {
    path: "/runs",
    ready: () => {
      const rows = document.querySelectorAll("[data-testid=runs-table] tbody tr").length;
      const count = /\d/.test(document.querySelector("[data-testid=runs-count]")?.textContent ?? "");
      const names = (document.querySelector("[data-testid=runs-table]")?.textContent ?? "").includes("seed-run-");
      return rows > 0 && count && names ? performance.now() : false;
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

const browser = await chromium.launch({ executablePath: process.env.E2E_CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
const out = { base, repeat: REPEAT, renders: RENDERS, pages: {} };
try {
  for (const [name, spec] of Object.entries(pages)) {
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
} finally {
  await browser.close();
}
console.log(JSON.stringify(out, null, 1));
