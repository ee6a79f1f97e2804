// A server error or a lost connection on Baton's main pages shows a clear
// message and a Retry that recovers, never a blank page or an endless
// spinner (issue 15, "Errors"). The API is made to fail in the browser
// (Playwright routes: 500 answers, then refused connections), the page is
// loaded, the alert and its Retry button are checked, then the API is let
// through again and Retry must bring the page's data. Runs against the server
// run.sh started and filled (runs.json names a flow run).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { chromium } from "playwright-core";

const base = process.env.BATON_URL ?? "http://127.0.0.1:4200";
const runs = JSON.parse(readFileSync(process.env.E2E_RUNS ?? "e2e/artifacts/runs.json", "utf8"));
const WAIT = 20_000;

let browser;

before(async () => {
  browser = await chromium.launch({ executablePath: process.env.E2E_CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
});

// Each page with the text it shows once its data is loaded.
const pages = [
  ["dashboard", "/dashboard", "[data-testid=count-completed] .tile-value", /\d/],
  ["runs", "/runs", "[data-testid=runs-table]", /e2e-pipeline|vivid|\w+-\w+/],
  ["flow run", () => `/runs/flow-run/${runs.pipeline}`, "[data-testid=graph-summary]", /runs/],
  ["flows", "/flows", "main", /e2e-pipeline/],
  ["deployments", "/deployments", "main", /Deployments/],
  ["work pools", "/work-pools", "main", /Work pools/],
  ["concurrency", "/concurrency-limits", "main", /Concurrency/],
  ["events", "/events", "main", /Events/],
  ["blocks", "/blocks", "main", /Blocks/],
  ["variables", "/variables", "main", /Variables/],
  ["artifacts", "/artifacts", "main", /Artifacts/],
  ["automations", "/automations", "main", /Automations/],
];

/** Fails every API call but the health check in mode "500" or "refused". */
async function breakApi(page, mode) {
  await page.route("**/api/**", (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === "/api/health" && mode === "500") return route.continue();
    if (mode === "refused") return route.abort("connectionrefused");
    return route.fulfill({ status: 500, contentType: "application/json", body: JSON.stringify({ detail: "database is locked (injected by the test)" }) });
  });
}

describe("errors on the main pages", () => {
  for (const mode of ["500", "refused"]) {
    for (const [name, path, readySel, readyText] of pages) {
      it(`${name}: ${mode === "500" ? "a server error" : "a lost connection"} shows a message and Retry recovers`, async () => {
        const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
        const page = await context.newPage();
        const errors = [];
        page.on("pageerror", (err) => errors.push(err.message));
        try {
          await breakApi(page, mode);
          await page.goto(base + (typeof path === "function" ? path() : path));
          // The retries of the query client run first (two, with backoff): wait long enough.
          const alert = page.locator("main [role=alert]").first();
          await alert.waitFor({ timeout: WAIT });
          const text = await alert.innerText();
          assert.match(text, mode === "500" ? /injected by the test|server failed/i : /reach the Baton server/i, `${name}: alert says ${text}`);
          const retry = alert.getByRole("button", { name: /retry|try again/i });
          assert.equal(await retry.count(), 1, `${name}: the alert has a Retry button`);
          await page.unroute("**/api/**");
          await retry.click();
          await page.locator(readySel).filter({ hasText: readyText }).first().waitFor({ timeout: WAIT });
          await page.locator("main [role=alert]").first().waitFor({ state: "detached", timeout: WAIT });
          assert.deepEqual(errors, [], `${name}: page errors`);
        } finally {
          await context.close();
        }
      });
    }
  }
});
