// Drives Baton's web UI in Debian's Chromium against a live server that
// run.sh started and filled with real Prefect runs. Saves a screenshot of
// every page it checks into $SCREENSHOTS.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium } from "playwright-core";

const base = process.env.BATON_URL ?? "http://127.0.0.1:4200";
const shots = process.env.SCREENSHOTS ?? "docs/screenshots";
const runs = JSON.parse(readFileSync(process.env.E2E_RUNS ?? "e2e/artifacts/runs.json", "utf8"));
const WAIT = 20_000;

let browser;
let page;
let late;

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

async function shot(name) {
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/** Waits until the element matching selector contains text. */
async function waitText(selector, text) {
  await page.locator(selector).filter({ hasText: text }).first().waitFor({ state: "attached", timeout: WAIT });
}

before(async () => {
  // A late run: SCHEDULED, named Late, due an hour ago.
  const flow = await api("POST", "/flows/", { name: "e2e-late" });
  const due = new Date(Date.now() - 3600_000).toISOString();
  late = await api("POST", "/flow_runs/", {
    flow_id: flow.id,
    name: "e2e-late-run",
    state: { type: "SCHEDULED", name: "Late", state_details: { scheduled_time: due } },
  });
  browser = await chromium.launch({ executablePath: process.env.E2E_CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, colorScheme: "light", timezoneId: "Europe/Paris" });
  page = await context.newPage();
  page.on("pageerror", (err) => {
    console.error("page error:", err);
  });
});

after(async () => {
  await browser?.close();
});

describe("baton web ui", () => {
  let pipelineRun;
  let brokenRun;

  it("the API knows the runs", async () => {
    pipelineRun = await api("GET", `/flow_runs/${runs.pipeline}`);
    brokenRun = await api("GET", `/flow_runs/${runs.broken}`);
    assert.equal(pipelineRun.state_type, "COMPLETED");
    assert.equal(brokenRun.state_type, "FAILED");
  });

  it("dashboard shows the runs, and the late and failed runs under warnings", async () => {
    await page.goto(`${base}/`);
    await page.waitForURL(/\/dashboard/);
    await waitText("[data-testid=warnings]", "e2e-late-run");
    await waitText("[data-testid=warnings]", brokenRun.name);
    await waitText("[data-testid=count-completed]", "1");
    await waitText("[data-testid=count-failed]", "1");
    await waitText("[data-testid=count-late]", "1");
    await page.locator(".chart svg rect[fill]").first().waitFor({ timeout: WAIT });
    await shot("dashboard");
  });

  it("dashboard in dark mode", async () => {
    await page.emulateMedia({ colorScheme: "dark" });
    await page.reload();
    await waitText("[data-testid=warnings]", "e2e-late-run");
    await shot("dashboard-dark");
    await page.emulateMedia({ colorScheme: "light" });
  });

  it("runs list filters by state, and the filter lives in the URL", async () => {
    await page.goto(`${base}/runs`);
    await waitText("[data-testid=runs-table]", pipelineRun.name);
    await waitText("[data-testid=runs-table]", brokenRun.name);
    await page.locator("details.multi summary").click();
    // click, not check(): the box turns on once the router commits the new URL.
    await page.locator("input[name=state-FAILED]").click();
    await page.waitForURL(/state=FAILED/);
    await page.locator("[data-testid=runs-table]").filter({ hasNotText: pipelineRun.name }).waitFor({ timeout: WAIT });
    await waitText("[data-testid=runs-table]", brokenRun.name);
    const states = await page.locator("[data-testid=runs-table] tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-state")));
    assert.deepEqual(states, ["FAILED"]);
    await page.locator("details.multi summary").click();
    await shot("runs-failed");
    // A fresh load of the same URL gives the same view.
    await page.goto(`${base}/runs?state=LATE`);
    await waitText("[data-testid=runs-table]", "e2e-late-run");
    await page.goto(`${base}/runs`);
    await waitText("[data-testid=runs-table]", "e2e-late-run");
    await shot("runs");
  });

  it("flow run page shows task runs, the graph with its dependency edge, and the log line", async () => {
    await page.goto(`${base}/runs/flow-run/${runs.pipeline}`);
    await waitText("h1", pipelineRun.name);
    await waitText("[data-testid=graph-summary]", "2 runs · 1 dependency");
    const edges = await page.locator("[data-testid=graph-edges] li").allTextContents();
    assert.equal(edges.length, 1);
    assert.match(edges[0], /^extract.* → transform/);
    await waitText("[data-testid=logs]", "hello from the baton e2e pipeline");
    await shot("flow-run");
    await page.getByRole("tab", { name: "Task runs" }).click();
    await waitText("[data-testid=task-runs-table]", "extract");
    await waitText("[data-testid=task-runs-table]", "transform");
    await shot("flow-run-task-runs");
  });

  it("task run page shows its state history", async () => {
    await page.locator("[data-testid=task-runs-table] a", { hasText: "transform" }).click();
    await page.waitForURL(/\/runs\/task-run\//);
    await waitText("[data-testid=state-history]", "Running");
    await waitText("[data-testid=state-history]", "Completed");
    await waitText(".card", "rows");
    await shot("task-run");
  });

  it("failed flow run shows its error", async () => {
    await page.goto(`${base}/runs/flow-run/${runs.broken}`);
    await waitText("h1", "Failed");
    await waitText("[data-testid=logs]", "about to fail on purpose");
    await shot("flow-run-failed");
  });

  it("flows and events pages render", async () => {
    await page.goto(`${base}/flows`);
    await waitText("table", "e2e-pipeline");
    await shot("flows");
    await page.locator("table a", { hasText: "e2e-pipeline" }).first().click();
    await waitText("[data-testid=runs-table]", pipelineRun.name);
    await shot("flow");
    await page.goto(`${base}/events`);
    await waitText(".event-list", "prefect.flow-run.");
    await shot("events");
  });

  it("late run is linked from the dashboard", async () => {
    await page.goto(`${base}/dashboard`);
    await page.locator(`[data-testid=warnings] a[href="/runs/flow-run/${late.id}"]`).click();
    await page.waitForURL(new RegExp(`/runs/flow-run/${late.id}`));
    await waitText("h1", "Late");
  });
});
