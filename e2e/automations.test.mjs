// Automations in the browser (issue 18): the create form's template for "a
// flow run enters Failed/Crashed" with a notification block, the list with
// its enabled switch, an automation's page with its firing history after a
// run of the flow fails, and the one-click "Notify me when this fails" on a
// flow page (a failed run of the flow then reaches a real HTTP receiver the
// test starts, as a Slack-compatible message naming the run) and on a
// deployment page; the Webhooks page creating an inbound webhook whose URL
// turns a call into an event. Every page is checked with axe-core and
// photographed into $SCREENSHOTS.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const base = process.env.BATON_URL ?? "http://127.0.0.1:4200";
const shots = process.env.SCREENSHOTS ?? "docs/screenshots";
const WAIT = 20_000;

let browser;
let page;
let flow;
let block;
// A Slack-compatible receiver on loopback: the texts it was sent.
let receiver;
const received = [];

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
  await page.waitForTimeout(250);
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function axe(name) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }));
  });
  const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad, [], `${name}: axe found serious/critical violations`);
}

async function waitText(selector, text, timeout = WAIT) {
  await page.locator(selector).filter({ hasText: text }).first().waitFor({ state: "attached", timeout });
}

async function automationNamed(name) {
  const list = await api("POST", "/automations/filter", { automations: { name: { any_: [name] } } });
  return list[0];
}

before(async () => {
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => { body += c; });
    req.on("end", () => {
      try { received.push(JSON.parse(body).text ?? ""); } catch { received.push(body); }
      res.writeHead(200).end("ok");
    });
  });
  await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  flow = await api("POST", "/flows/", { name: "e2e-automated-flow" });
  const type = await api("GET", "/block_types/slug/slack-webhook");
  const [schema] = await api("POST", "/block_schemas/filter", { block_schemas: { block_type_id: { any_: [type.id] } }, limit: 1 });
  block = await api("POST", "/block_documents/", { name: "e2e-team-slack", block_type_id: type.id, block_schema_id: schema.id,
    data: { url: `http://127.0.0.1:${receiver.address().port}/hook` } });
  browser = await chromium.launch({ executablePath: process.env.E2E_CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, colorScheme: "light", timezoneId: "Europe/Paris" });
  page = await context.newPage();
  page.on("pageerror", (err) => console.error("page error:", err));
});

after(async () => {
  await browser?.close();
  receiver?.close();
});

describe("automations", () => {
  it("creates 'a flow run enters Failed or Crashed → notify' from the template", async () => {
    await page.goto(`${base}/automations/create`);
    await page.locator("#auto-template").selectOption("flow-run-state");
    await page.locator("#auto-flow").selectOption({ label: "e2e-automated-flow" });
    await page.getByRole("checkbox", { name: "Crashed" }).check();
    await page.locator("#auto-block").selectOption(block.id);
    await page.locator("#auto-name").fill("e2e: the flow fails");
    await axe("automation-create");
    await shot("automation-create");
    await page.getByRole("button", { name: "Create automation" }).click();
    await waitText("h1", "e2e: the flow fails");
    const a = await automationNamed("e2e: the flow fails");
    assert.deepEqual(a.trigger.expect, ["prefect.flow-run.Failed", "prefect.flow-run.Crashed"]);
    assert.deepEqual(a.trigger.match_related, { "prefect.resource.role": "flow", "prefect.resource.id": `prefect.flow.${flow.id}` });
    assert.equal(a.actions[0].type, "send-notification");
    assert.equal(a.actions[0].block_document_id, block.id);
  });

  it("lists automations and switches one off and on", async () => {
    await page.goto(`${base}/automations`);
    await waitText("[data-testid=automations]", "e2e: the flow fails");
    const sw = page.getByRole("switch", { name: "e2e: the flow fails enabled" });
    assert.equal(await sw.isChecked(), true);
    await sw.click();
    for (let i = 0; i < 100 && (await automationNamed("e2e: the flow fails")).enabled; i++) await page.waitForTimeout(100);
    assert.equal((await automationNamed("e2e: the flow fails")).enabled, false, "the switch did not disable it");
    await page.getByRole("switch", { name: "e2e: the flow fails enabled" }).click();
    for (let i = 0; i < 100 && !(await automationNamed("e2e: the flow fails")).enabled; i++) await page.waitForTimeout(100);
    assert.equal((await automationNamed("e2e: the flow fails")).enabled, true, "the switch did not enable it again");
    await axe("automations");
    await shot("automations");
  });

  it("shows the firing history after a run of the flow fails", async () => {
    const a = await automationNamed("e2e: the flow fails");
    await api("POST", "/flow_runs/", { flow_id: flow.id, name: "e2e-doomed-run", state: { type: "RUNNING" } });
    const runs = await api("POST", "/flow_runs/filter", { flow_runs: { name: { any_: ["e2e-doomed-run"] } } });
    await api("POST", `/flow_runs/${runs[0].id}/set_state`, { state: { type: "FAILED", message: "boom" } });
    await page.goto(`${base}/automations/automation/${a.id}`);
    await waitText("[data-testid=automation-history]", "Triggered by prefect.flow-run.Failed", 30_000);
    await axe("automation");
    await shot("automation");
  });

  it("one click on a flow page: notify me when this fails", async () => {
    await page.goto(`${base}/flows/flow/${flow.id}`);
    await page.getByRole("button", { name: "Notify me when this fails" }).click();
    await page.locator("#notify-block").selectOption(block.id);
    await axe("notify-on-failure");
    await shot("notify-on-failure");
    await page.getByRole("button", { name: "Notify me", exact: true }).click();
    let a;
    for (let i = 0; i < 100 && !(a = await automationNamed("Notify when e2e-automated-flow fails")); i++) await page.waitForTimeout(100);
    assert.ok(a, "no automation was created");
    assert.deepEqual(a.trigger.match_related, { "prefect.resource.role": "flow", "prefect.resource.id": `prefect.flow.${flow.id}` });
    assert.deepEqual(a.trigger.expect, ["prefect.flow-run.Failed", "prefect.flow-run.Crashed"]);
    assert.equal(a.actions[0].block_document_id, block.id);

    // The failure notification arrives: only this automation is on.
    const first = await automationNamed("e2e: the flow fails");
    await api("PATCH", `/automations/${first.id}`, { enabled: false });
    await api("POST", "/flow_runs/", { flow_id: flow.id, name: "e2e-notified-run", state: { type: "RUNNING" } });
    const [run] = await api("POST", "/flow_runs/filter", { flow_runs: { name: { any_: ["e2e-notified-run"] } } });
    await api("POST", `/flow_runs/${run.id}/set_state`, { state: { type: "FAILED", message: "disk full" } });
    const about = () => received.filter((t) => t.includes("e2e-notified-run"));
    for (let i = 0; i < 300 && about().length === 0; i++) await page.waitForTimeout(100);
    assert.equal(about().length, 1, `the receiver got ${JSON.stringify(received)}`);
    assert.match(about()[0], /e2e-automated-flow/);
  });

  it("one click on a deployment page: notify me when this fails", async () => {
    const dep = await api("POST", "/deployments/", { name: "e2e-watched", flow_id: flow.id });
    await page.goto(`${base}/deployments/deployment/${dep.id}`);
    await page.getByRole("button", { name: "Notify me when this fails" }).click();
    await page.locator("#notify-block").selectOption(block.id);
    await page.getByRole("button", { name: "Notify me", exact: true }).click();
    let a;
    for (let i = 0; i < 100 && !(a = await automationNamed("Notify when e2e-watched fails")); i++) await page.waitForTimeout(100);
    assert.ok(a, "no automation was created");
    assert.deepEqual(a.trigger.match_related, { "prefect.resource.role": "deployment", "prefect.resource.id": `prefect.deployment.${dep.id}` });
    assert.equal(a.actions[0].block_document_id, block.id);
  });

  it("creates an inbound webhook whose calls become events", async () => {
    await page.goto(`${base}/automations`);
    await page.getByRole("link", { name: "Webhooks" }).first().click();
    await waitText("h1", "Webhooks");
    // The sidebar marks Webhooks as the current page, and only it (it also
    // marked Automations, whose path is a prefix of this one).
    const current = await page.locator("nav[aria-label=Main] [aria-current=page]").allTextContents();
    assert.deepEqual(current.map((t) => t.trim()), ["Webhooks"]);
    await page.getByRole("button", { name: "Add webhook" }).click();
    await page.locator("#hook-name").fill("e2e-github");
    // A template that does not parse is refused, next to its field.
    await page.locator("#hook-template").fill("{{ body.event ");
    await page.getByRole("button", { name: "Save" }).click();
    await page.locator(".field-error").first().waitFor({ timeout: WAIT });
    await page.locator("#hook-template").fill('{"event": "github.{{ body.action }}", "resource": {"prefect.resource.id": "github.pr.{{ body.number }}"}}');
    await page.getByRole("button", { name: "Save" }).click();
    await waitText("[data-testid=webhooks]", "e2e-github");
    const url = (await page.locator("[data-testid=webhook-url]").first().textContent()).trim();
    assert.match(url, /\/hooks\/[A-Za-z0-9_-]+$/);
    const res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ action: "opened", number: 7 }) });
    assert.equal(res.status, 204);
    let evs = [];
    for (let i = 0; i < 100 && evs.length === 0; i++) {
      evs = (await api("POST", "/events/filter", { filter: { event: { name: ["github.opened"] } } })).events;
      if (evs.length === 0) await page.waitForTimeout(100);
    }
    assert.equal(evs.length, 1, "the call did not become an event");
    assert.equal(evs[0].resource["prefect.resource.id"], "github.pr.7");
    await axe("webhooks");
    await shot("webhooks");
    // Switched off, its URL answers 404.
    await page.getByRole("switch", { name: "e2e-github enabled" }).click();
    let status = 0;
    for (let i = 0; i < 100 && status !== 404; i++) {
      status = (await fetch(url, { method: "POST", body: "{}" })).status;
      if (status !== 404) await page.waitForTimeout(100);
    }
    assert.equal(status, 404, "a disabled webhook still answers");
  });
});
