// Operating Baton from the browser, against real Prefect processes that
// this test starts (ops.py): a served deployment with a schedule and a
// parameter schema, a work pool with two queues and a `prefect worker`, a
// paused run waiting for input, a running run and a failed one. Every page
// visited is checked with axe-core (no serious or critical violations) and
// photographed into $SCREENSHOTS.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const base = process.env.BATON_URL ?? "http://127.0.0.1:4200";
const shots = process.env.SCREENSHOTS ?? "docs/screenshots";
const py = process.env.E2E_PYTHON ?? "python3";
const here = new URL(".", import.meta.url).pathname;
const WAIT = 30_000;
const env = {
  ...process.env,
  PREFECT_API_URL: `${base}/api`,
  PREFECT_SERVER_ANALYTICS_ENABLED: "false",
  PREFECT_RUNNER_POLL_FREQUENCY: "2",
  PREFECT_WORKER_HEARTBEAT_SECONDS: "3",
  PREFECT_WORKER_QUERY_SECONDS: "2",
  PREFECT_LOGGING_LEVEL: "INFO",
};

const children = [];
let browser;
let page;
let ids;
let deployment;
let customRun;
const axeResults = [];

function start(args, name) {
  const child = spawn(py, args, { cwd: here, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  child.output = () => out;
  child.label = name;
  children.push(child);
  return child;
}

function run(args, name) {
  const child = start(args, name);
  return new Promise((resolve, reject) => {
    child.on("exit", (code) => (code === 0 ? resolve(child.output()) : reject(new Error(`${name} exited ${code}:\n${child.output()}`))));
  });
}

async function api(method, path, body) {
  const res = await fetch(`${base}/api${path}`, {
    method,
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function until(what, fn, timeout = WAIT) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

async function shot(name) {
  await page.waitForTimeout(250);
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/** Runs axe-core on the page; fails on any serious or critical violation. */
async function axe(name) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 8).map((n) => `${n.target.join(" ")} ${n.any[0]?.message ?? ""}`) }));
  });
  const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  axeResults.push({ page: name, violations: result.length, bad: bad.length });
  assert.deepEqual(bad, [], `${name}: axe found serious/critical violations`);
}

async function waitText(selector, text, timeout = WAIT) {
  await page.locator(selector).filter({ hasText: text }).first().waitFor({ state: "attached", timeout });
}

async function runState(id) {
  return (await api("GET", `/flow_runs/${id}`)).state_type;
}

before(async () => {
  await run(["ops.py", "pool"], "pool");
  start(["ops.py", "serve"], "serve");
  deployment = await until("the served deployment", () => api("GET", "/deployments/name/e2e-ops/e2e-served"), 60_000);
  start(["-m", "prefect", "worker", "start", "--pool", "e2e-pool", "--type", "process", "--name", "e2e-worker"], "worker");
  start(["ops.py", "paused"], "paused");
  ids = JSON.parse((await run(["ops.py", "runs"], "runs")).trim().split("\n").at(-1));
  ids.paused = await until(
    "the paused run",
    async () => {
      const runs = await api("POST", "/flow_runs/filter", { flows: { name: { any_: ["e2e-paused"] } }, flow_runs: { state: { type: { any_: ["PAUSED"] } } }, limit: 1 });
      return runs[0]?.id;
    },
    60_000,
  );
  browser = await chromium.launch({ executablePath: process.env.E2E_CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, colorScheme: "light", timezoneId: "Europe/Paris" });
  page = await context.newPage();
  page.on("pageerror", (err) => console.error("page error:", err));
});

after(async () => {
  await browser?.close();
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 500));
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  console.log("axe:", JSON.stringify(axeResults));
});

describe("operating baton from the browser", () => {
  it("deployments list shows the served deployment with its schedule in words", async () => {
    await page.goto(`${base}/deployments`);
    await waitText("[data-testid=deployments-table]", "e2e-served");
    await waitText("[data-testid=deployments-table]", "At 09:00 every day");
    await axe("deployments");
    await shot("deployments");
  });

  it("a page of 25 deployments loads their runs in one request, not two per row", async () => {
    const flow = await api("POST", "/flows/", { name: "e2e-many" });
    const made = [];
    for (let i = 0; i < 25; i++) made.push((await api("POST", "/deployments/", { flow_id: flow.id, name: `many-${String(i).padStart(2, "0")}` })).id);
    await api("POST", `/deployments/${made[0]}/create_flow_run`, { state: { type: "COMPLETED" } });
    try {
      const calls = [];
      const seen = (req) => {
        const u = new URL(req.url());
        if (u.pathname.startsWith("/api/")) calls.push(`${req.method()} ${u.pathname}`);
      };
      page.on("request", seen);
      await page.goto(`${base}/deployments?q=e2e-many`);
      await waitText("[data-testid=deployments-table]", "many-24");
      await page.locator("[data-testid=deployments-table] tr", { hasText: "many-00" }).locator(".dots .dot").first().waitFor();
      await page.waitForTimeout(500);
      page.off("request", seen);
      assert.equal(calls.filter((c) => c.startsWith("POST /api/flow_runs/")).length, 0, `per-row run queries:\n${calls.join("\n")}`);
      assert.ok(calls.length <= 8, `the deployments page made ${calls.length} API calls:\n${calls.join("\n")}`);
    } finally {
      for (const id of made) await api("DELETE", `/deployments/${id}`);
    }
  });

  it("custom run from the generated parameter form runs to completion", async () => {
    await page.goto(`${base}/deployments/deployment/${deployment.id}/run`);
    const form = page.locator("[data-testid=custom-run-form]");
    await form.waitFor();
    await axe("custom-run");
    // The required parameter, emptied, is refused next to its field.
    await form.locator("input[name=who]").fill("");
    await form.locator("button[type=submit]").click();
    await waitText("[data-testid=custom-run-form] .field", "is required");
    await form.locator("input[name=who]").fill("from-the-form");
    await form.locator("input[name=count]").fill("3");
    await form.locator("select[name=mode]").selectOption({ label: "slow" });
    await form.locator("input[name='options.label']").fill("nested");
    await shot("custom-run");
    await form.locator("button[type=submit]").click();
    await page.waitForURL(/\/runs\/flow-run\//);
    const id = page.url().split("/").at(-1);
    await waitText("h1", "Completed", 60_000);
    const r = await api("GET", `/flow_runs/${id}`);
    customRun = r;
    assert.deepEqual({ who: r.parameters.who, count: r.parameters.count, mode: r.parameters.mode, label: r.parameters.options.label }, { who: "from-the-form", count: 3, mode: "slow", label: "nested" });
  });

  it("pauses and resumes a schedule", async () => {
    await page.goto(`${base}/deployments/deployment/${deployment.id}`);
    const card = page.locator("[data-testid=schedules]");
    await card.waitFor();
    await axe("deployment");
    await shot("deployment");
    await card.getByRole("button", { name: /^Pause schedule/ }).click();
    await until("the schedule paused", async () => (await api("GET", `/deployments/${deployment.id}`)).schedules.every((s) => !s.active));
    await waitText("[data-testid=schedules]", "Paused");
    await card.getByRole("button", { name: /^Resume schedule/ }).click();
    await until("the schedule active", async () => (await api("GET", `/deployments/${deployment.id}`)).schedules.every((s) => s.active));
  });

  it("cancels a running run and sees it Cancelled", async () => {
    await page.goto(`${base}/runs/flow-run/${ids.running}`);
    await waitText("h1", "Running");
    await axe("flow-run-running");
    await page.getByRole("button", { name: "Cancel run", exact: true }).click();
    await page.locator("dialog[open] [data-testid=confirm]").click();
    await waitText("h1", "Cancelled", 60_000);
    assert.equal(await runState(ids.running), "CANCELLED");
  });

  it("retries a failed run", async () => {
    await page.goto(`${base}/runs/flow-run/${ids.failing}`);
    await waitText("h1", "Failed");
    await page.getByRole("button", { name: "Retry", exact: true }).click();
    await page.locator("dialog[open] [data-testid=confirm]").click();
    await waitText("h1", "Completed", 60_000);
    const r = await api("GET", `/flow_runs/${ids.failing}`);
    assert.equal(r.run_count, 2);
  });

  it("resumes a paused run with input", async () => {
    await page.goto(`${base}/runs/flow-run/${ids.paused}`);
    await waitText("h1", "Paused");
    await page.getByRole("button", { name: "Resume", exact: true }).click();
    const form = page.locator("[data-testid=resume-form]");
    await form.waitFor();
    await waitText("[data-testid=resume-form]", "Approve the");
    await axe("resume-dialog");
    await shot("resume-input");
    await form.locator("button[type=submit]").click();
    await waitText("[data-testid=resume-form] .field", "is required");
    await form.locator("input[name=approver]").fill("ada");
    await form.locator("select[name=level]").selectOption({ label: "high" });
    await form.locator("button[type=submit]").click();
    await waitText("h1", "Completed", 60_000);
    await waitText("[data-testid=logs]", "approved by ada at level high");
  });

  it("bulk-cancels three scheduled runs", async () => {
    await page.goto(`${base}/runs?tag=bulk`);
    await waitText("[data-testid=runs-count]", "3 flow runs");
    await page.getByRole("checkbox", { name: "Select all runs on this page" }).check();
    await page.locator("[data-testid=bulk-bar]").waitFor();
    await axe("runs-bulk");
    await shot("runs-bulk");
    await page.locator("[data-testid=bulk-bar]").getByRole("button", { name: /^Cancel/ }).click();
    await page.locator("dialog[open] [data-testid=confirm]").click();
    await until("three cancelled runs", async () => {
      const states = await Promise.all(ids.bulk.map(runState));
      return states.every((s) => s === "CANCELLED");
    });
    await waitText("[data-testid=toasts]", "3 flow runs cancelled");
  });

  it("dashboard lists the recent runs behind the counts", async () => {
    await page.goto(`${base}/dashboard`);
    await page.getByRole("tab", { name: /Completed/ }).click();
    await waitText("[data-testid=recent-runs]", customRun.name);
    await page.getByRole("tab", { name: /Cancelled/ }).click();
    await waitText("[data-testid=recent-runs]", "Cancelled");
    await axe("dashboard");
    await shot("dashboard-recent");
    // The dark theme holds the same contrast rules.
    await page.emulateMedia({ colorScheme: "dark" });
    try {
      await page.goto(`${base}/deployments/deployment/${deployment.id}`);
      await page.locator("[data-testid=schedules]").waitFor();
      await axe("deployment-dark");
      await page.goto(`${base}/dashboard`);
      await page.locator("[data-testid=recent-runs] :is(.run-rows, p)").first().waitFor();
      await axe("dashboard-dark");
    } finally {
      await page.emulateMedia({ colorScheme: "light" });
    }
  });

  it("work pool page shows its queues and the worker online, then offline once stopped", async () => {
    await page.goto(`${base}/work-pools`);
    await waitText("[data-testid=work-pools-table]", "e2e-pool");
    await axe("work-pools");
    await shot("work-pools");
    await page.goto(`${base}/work-pools/work-pool/e2e-pool`);
    await waitText("[data-testid=queues-table]", "high");
    await waitText("[data-testid=queues-table]", "low");
    await axe("work-pool");
    await shot("work-pool");
    await page.goto(`${base}/work-pools/work-pool/e2e-pool?tab=workers`);
    await page.locator("[data-testid=workers-table] tr[data-worker=e2e-worker][data-status=ONLINE]").waitFor({ timeout: WAIT });
    await shot("work-pool-workers");
    const worker = children.find((c) => c.label === "worker");
    worker.kill("SIGTERM");
    await page.locator("[data-testid=workers-table] tr[data-worker=e2e-worker][data-status=OFFLINE]").waitFor({ timeout: 60_000 });
  });

  it("concurrency and settings pages; the palette jumps to a pool", async () => {
    await page.goto(`${base}/concurrency-limits`);
    await page.locator("h1", { hasText: "Concurrency limits" }).waitFor();
    await axe("concurrency");
    await shot("concurrency");
    await page.goto(`${base}/settings`);
    await page.locator("select[name=timezone]").selectOption("UTC");
    await waitText("[data-testid=time-sample]", "UTC");
    await axe("settings");
    await shot("settings");
    await page.locator("select[name=timezone]").selectOption("");
    await page.keyboard.press("Control+k");
    await page.locator("dialog[open] input[role=combobox]").fill("e2e-po");
    await waitText("dialog[open] [role=listbox]", "e2e-pool");
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/work-pools\/work-pool\/e2e-pool/);
  });
});
