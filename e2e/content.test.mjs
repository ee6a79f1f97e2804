// Blocks, variables and artifacts in the browser (issue 10), with data made by
// the real Prefect client (content.py): the blocks list, a block's page with
// its secret masked, creating a block from the schema form (secret typed into
// a password input) and editing it, variables created, edited and deleted,
// artifacts by key with their history, and the Artifacts tab of the flow run
// and task run pages. Hostile markdown and table cells must render as text:
// no script runs (window.__xss stays unset, no dialog opens). Every page is
// checked with axe-core and photographed into $SCREENSHOTS.

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
const WAIT = 20_000;

let browser;
let page;
let ids;
const dialogs = [];

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

/** No script from artifact data ran: the hostile payloads would set window.__xss or open a dialog. */
async function assertNoScriptRan() {
  assert.equal(await page.evaluate(() => window.__xss ?? null), null, "artifact content ran script");
  assert.deepEqual(dialogs, [], "artifact content opened a dialog");
  assert.equal(await page.locator("main script, .artifact-md script, [data-testid=artifact-table] img").count(), 0);
  assert.equal(await page.locator("[onerror]").count(), 0);
  assert.equal(await page.locator("a[href^='javascript:']").count(), 0);
}

before(async () => {
  const out = await new Promise((resolve, reject) => {
    const child = spawn(py, ["content.py"], {
      cwd: here,
      env: { ...process.env, PREFECT_API_URL: `${base}/api`, PREFECT_SERVER_ANALYTICS_ENABLED: "false" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "";
    child.stdout.on("data", (d) => (text += d));
    child.stderr.on("data", (d) => (text += d));
    child.on("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(`content.py exited ${code}:\n${text}`))));
  });
  ids = JSON.parse(out.trim().split("\n").at(-1));
  browser = await chromium.launch({ executablePath: process.env.E2E_CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, colorScheme: "light", timezoneId: "Europe/Paris" });
  // Image artifacts point at the internet, which the test machine cannot reach: answer them locally.
  await context.route(/^https?:\/\/example\.com\//, (route) => route.fulfill({ status: 404, body: "" }));
  page = await context.newPage();
  page.on("pageerror", (err) => console.error("page error:", err));
  page.on("dialog", async (d) => {
    dialogs.push(d.message());
    await d.dismiss();
  });
});

after(async () => {
  await browser?.close();
});

describe("blocks, variables and artifacts", () => {
  it("blocks list and a block page with its secret masked and its reference linked", async () => {
    await page.goto(`${base}/blocks`);
    await waitText("[data-testid=blocks]", "e2e-bucket");
    await waitText("[data-testid=blocks]", "e2e-secret");
    await axe("blocks");
    await shot("blocks");
    await page.locator("[data-testid=blocks] a", { hasText: "e2e-bucket" }).click();
    await waitText("h1", "e2e-bucket");
    await waitText("[data-testid=block-data]", "e2e-creds");
    const html = await page.content();
    assert.ok(!html.includes("e2e-aws-secret-XYZ"), "the AWS secret is shown in clear");
    await axe("block");
    await shot("block");
    await page.goto(`${base}/blocks`);
    await page.locator("[data-testid=blocks] a", { hasText: "e2e-secret" }).click();
    await waitText("[data-testid=block-data]", "********");
    assert.ok(!(await page.content()).includes("e2e-secret-value-XYZ"));
  });

  it("creates a block from the schema form, secret in a password input, and edits it", async () => {
    await page.goto(`${base}/blocks/catalog`);
    await waitText("[data-testid=block-catalog]", "Secret");
    await axe("block-catalog");
    await shot("block-catalog");
    await page.goto(`${base}/blocks/catalog/secret/create`);
    await page.locator("#block-name").fill("ui-made-secret");
    const input = page.locator("[data-testid=secret-value]");
    assert.equal(await input.getAttribute("type"), "password");
    await input.fill("typed-in-the-ui-123");
    await axe("block-create");
    await shot("block-create");
    await page.getByRole("button", { name: "Create" }).click();
    await waitText("h1", "ui-made-secret");
    const doc = await api("GET", "/block_types/slug/secret/block_documents/name/ui-made-secret?include_secrets=true");
    assert.equal(doc.data.value, "typed-in-the-ui-123");
    // Edit: the secret shows obfuscated, and saving without retyping keeps it.
    await page.getByRole("link", { name: "Edit" }).click();
    await waitText("h1", "Edit ui-made-secret");
    assert.equal(await page.locator("[data-testid=secret-value]").inputValue(), "********");
    await page.getByRole("button", { name: "Save" }).click();
    await waitText("h1", "ui-made-secret");
    const again = await api("GET", `/block_documents/${doc.id}?include_secrets=true`);
    assert.equal(again.data.value, "typed-in-the-ui-123", "saving the form replaced the secret with its mask");
    // A bad name is refused with the server's message next to the field.
    await page.goto(`${base}/blocks/catalog/secret/create`);
    await page.locator("#block-name").fill("Bad Name");
    await page.locator("[data-testid=secret-value]").fill("x");
    await page.getByRole("button", { name: "Create" }).click();
    await waitText(".field-error", "lowercase");
  });

  it("variables: list, create, edit, delete", async () => {
    await page.goto(`${base}/variables`);
    await waitText("[data-testid=variables]", "e2e_region");
    await waitText("[data-testid=variables]", "eu-west-1");
    await axe("variables");
    await shot("variables");
    await page.getByRole("button", { name: "Add variable" }).click();
    await page.locator("#var-name").fill("ui_var");
    await page.locator("#var-value").fill('{"retries": 3}');
    await page.locator("#var-tags").fill("ui, e2e");
    await page.getByRole("button", { name: "Save" }).click();
    await waitText("[data-testid=variables]", "ui_var");
    assert.deepEqual((await api("GET", "/variables/name/ui_var")).value, { retries: 3 });
    await page.getByRole("button", { name: "Edit ui_var" }).click();
    await page.locator("#var-value").fill("5");
    await page.getByRole("button", { name: "Save" }).click();
    await page.waitForFunction(async () => (await (await fetch("/api/variables/name/ui_var")).json()).value === 5, null, { timeout: WAIT });
    await page.getByRole("button", { name: "Delete ui_var" }).click();
    await page.locator("[data-testid=confirm]").click();
    await page.locator("[data-testid=variables]").filter({ hasNotText: "ui_var" }).waitFor({ timeout: WAIT });
    // An invalid name shows the server's 422 next to the field.
    await page.getByRole("button", { name: "Add variable" }).click();
    await page.locator("#var-name").fill("Not Valid");
    await page.locator("#var-value").fill("1");
    await page.getByRole("button", { name: "Save" }).click();
    await waitText(".field-error", "lowercase");
    await shot("variable-error");
    await page.getByRole("button", { name: "Cancel" }).click();
  });

  it("artifacts: keys, a key's history, and rendering that runs no script", async () => {
    await page.goto(`${base}/artifacts`);
    await waitText("[data-testid=artifact-keys]", "e2e-report");
    await waitText("[data-testid=artifact-keys]", "e2e-table");
    await axe("artifacts");
    await shot("artifacts");
    await page.locator("[data-testid=artifact-keys] a", { hasText: "e2e-report" }).click();
    await waitText("h1", "e2e-report");
    await waitText("[data-testid=artifact-list]", "First draft");
    await waitText(".artifact-md", "Revenue is");
    // The script tag and the img tag of the markdown are shown as text, never as elements.
    await waitText(".artifact-md", "<script>");
    await assertNoScriptRan();
    await axe("artifact-key");
    await shot("artifact-key");
  });

  it("the flow run and task run pages have their artifacts", async () => {
    await page.goto(`${base}/runs/flow-run/${ids.flow_run_id}?tab=artifacts`);
    await waitText("[data-testid=artifact-list]", "e2e-link");
    await waitText("[data-testid=artifact-table]", "eu");
    await waitText("[data-testid=artifact-table]", "<img src=x");
    const progress = await page.locator(".artifact-progress progress").first().getAttribute("value");
    assert.equal(progress, "60");
    assert.equal(await page.locator("img.artifact-image").first().getAttribute("src"), "https://example.com/chart.png");
    await assertNoScriptRan();
    await axe("flow-run-artifacts");
    await shot("flow-run-artifacts");
    await page.goto(`${base}/runs/task-run/${ids.task_run_id}`);
    await waitText("[data-testid=artifact-table]", "region");
    await assertNoScriptRan();
    await shot("task-run-artifacts");
  });
});
