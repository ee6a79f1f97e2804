// Every link Prefect prints lands on the right page of Baton's UI. links.py
// makes the links with Prefect's own code (url_for, prefect.runtime's
// ui_url, the UI root) for real objects; this visits each in Chromium and
// checks where it ends up: the path Baton serves that object under and a
// text of that object on the page (never "Page not found").

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { chromium } from "playwright-core";

const links = JSON.parse(readFileSync(process.env.E2E_LINKS ?? "e2e/artifacts/links.json", "utf8"));
const WAIT = 20_000;

let browser;
let page;

before(async () => {
  browser = await chromium.launch({ executablePath: process.env.E2E_CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  page = await context.newPage();
});

after(async () => {
  await browser?.close();
});

describe("links Prefect prints", () => {
  it("covers every link format", () => {
    const kinds = links.map((l) => l.kind).join("\n");
    for (const k of ["flow_run.ui_url", "url_for(flow_run)", "task_run.ui_url", "url_for(flow)", "url_for(work_pool)", "url_for(work_queue)",
      "url_for(worker)", "url_for(deployment)", "url_for(block)", "url_for(automation)", "block catalog", "block create", "Cloud block catalog", "deployments list", "url_for(concurrency_limit)", "url_for(event)", "ui root"]) {
      assert.ok(kinds.includes(k), `links.py made no ${k} link:\n${kinds}`);
    }
  });

  for (const link of links) {
    it(`${link.kind}: ${new URL(link.url).pathname}`, async () => {
      await page.goto(link.url);
      const want = new RegExp(link.path);
      await page.waitForURL((u) => want.test(u.pathname), { timeout: WAIT });
      await page.locator("main").getByText(link.text, { exact: false }).first().waitFor({ timeout: WAIT });
      assert.equal(await page.getByText("Page not found").count(), 0, `${link.url} shows "Page not found"`);
    });
  }
});
