// Cloud mode end to end, in Debian's Chromium against a live
// `baton server start --mode cloud` that run-cloud.sh started: sign up in the
// UI, create a workspace, create an API key (shown once), log the real Prefect
// CLI in with it and run a flow, find that run in the workspace's runs page,
// delete the key in the UI and watch the CLI get refused.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { chromium } from "playwright-core";

const base = process.env.BATON_URL ?? "http://127.0.0.1:4200";
const shots = process.env.SCREENSHOTS ?? "docs/screenshots";
const python = process.env.E2E_PYTHON ?? "python3";
const prefectExe = join(dirname(python), "prefect");
const flowScript = join(dirname(fileURLToPath(import.meta.url)), "cloud_flow.py");
const WAIT = 20_000;

const email = "ada@example.com";
const password = "correct horse battery staple";
const account = "lovelace";

let browser;
let page;
let prefectHome;

async function shot(name) {
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/** Waits until the element matching selector contains text. */
async function waitText(selector, text) {
  await page.locator(selector).filter({ hasText: text }).first().waitFor({ state: "attached", timeout: WAIT });
}

/** Runs a command with the Prefect client pointed at Baton as its "cloud"; never rejects. */
function run(file, args) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PREFECT_") && !k.startsWith("BATON_")));
  Object.assign(env, {
    PREFECT_HOME: prefectHome,
    PREFECT_CLOUD_API_URL: `${base}/api`,
    PREFECT_SERVER_ANALYTICS_ENABLED: "false",
    DO_NOT_TRACK: "1",
    PYTHONUNBUFFERED: "1",
    COLUMNS: "400",
  });
  return new Promise((resolve) => {
    execFile(file, args, { env, cwd: prefectHome, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? 1) : 0, out: `${stdout}\n${stderr}`, describe: `${file} ${args.join(" ")} -> ${err ? err.code : 0}\n${stdout}\n${stderr}` });
    });
  });
}

before(async () => {
  prefectHome = mkdtempSync(join(tmpdir(), "baton-e2e-prefect-"));
  browser = await chromium.launch({ executablePath: process.env.E2E_CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, colorScheme: "light", timezoneId: "Europe/Paris" });
  page = await context.newPage();
  page.on("pageerror", (err) => {
    console.error("page error:", err);
  });
  page.on("dialog", (d) => void d.accept());
});

after(async () => {
  await browser?.close();
  if (prefectHome) rmSync(prefectHome, { recursive: true, force: true });
});

describe("baton cloud mode", () => {
  let key;
  let runName;
  let links;

  it("signs up in the UI", async () => {
    await page.goto(`${base}/`);
    await waitText("h1", "Sign in to Baton");
    await page.getByRole("button", { name: "No account yet? Sign up" }).click();
    await waitText("h1", "Create your Baton account");
    await page.getByLabel("E-mail").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByLabel("Account handle").fill(account);
    await page.getByLabel("First workspace handle").fill("default");
    await shot("cloud-signup");
    await page.getByRole("button", { name: "Sign up", exact: true }).click();
    await page.locator("#workspace-switcher").waitFor({ timeout: WAIT });
    await waitText(".field", email);
  });

  it("creates a workspace whose page shows the login command", async () => {
    await page.goto(`${base}/workspaces`);
    await waitText("table", `${account}/default`);
    await page.getByLabel("Name").fill("Production");
    await page.getByLabel("Handle").fill("prod");
    await page.getByLabel("Description").fill("where the e2e flow runs");
    await page.getByRole("button", { name: "Create", exact: true }).click();
    await waitText("table", `${account}/prod`);
    await page.locator("table a", { hasText: `${account}/prod` }).click();
    await page.waitForURL(/\/workspaces\/[^/]+\/[^/]+$/);
    await waitText("[data-testid=prefect-login]", `-w ${account}/prod`);
    const cmd = await page.locator("[data-testid=prefect-login]").textContent();
    assert.equal(cmd, `PREFECT_CLOUD_API_URL=${base}/api prefect cloud login --key <YOUR-KEY> -w ${account}/prod`);
    await shot("cloud-workspace");
  });

  it("creates an API key that is shown once", async () => {
    await page.goto(`${base}/api-keys`);
    await page.getByLabel("Name").fill("laptop");
    await page.getByRole("button", { name: "Create key" }).click();
    const shown = page.locator("[data-testid=new-api-key]");
    await shown.waitFor({ timeout: WAIT });
    key = (await shown.textContent()).trim();
    assert.match(key, /^pnu_[0-9A-Za-z]{36}$/);
    await waitText("table", "laptop");
    await shot("cloud-api-keys");
    // The table only ever shows a prefix.
    const prefix = key.slice(0, 8);
    assert.equal(await page.locator("table").filter({ hasText: key }).count(), 0);
    await waitText("table code", prefix);
    // Closing the card forgets the secret...
    await page.getByRole("button", { name: "Done" }).click();
    await shown.waitFor({ state: "detached", timeout: WAIT });
    assert.ok(!(await page.content()).includes(key), "the key is still on the page after Done");
    // ...and a reload cannot bring it back: only the prefix remains.
    await page.reload();
    await waitText("table code", prefix);
    assert.ok(!(await page.content()).includes(key), "the key is on the page after a reload");
  });

  it("manages a service account and its keys", async () => {
    const workspacesWith = (k) => fetch(`${base}/api/me/workspaces`, { headers: { Authorization: `Bearer ${k}` } });
    await page.goto(`${base}/service-accounts`);
    await page.getByText("No service accounts yet").waitFor({ timeout: WAIT });
    await page.getByLabel("Name", { exact: true }).fill("ci-robot");
    await page.getByLabel("Role").selectOption("developer");
    await page.getByRole("button", { name: "Create service account" }).click();
    const shown = page.locator("[data-testid=new-api-key]");
    await shown.waitFor({ timeout: WAIT });
    const botKey = (await shown.textContent()).trim();
    assert.match(botKey, /^pnb_[0-9A-Za-z]{36}$/);
    await waitText("[data-testid=service-accounts]", "ci-robot");
    await shot("cloud-service-accounts");
    const res = await workspacesWith(botKey);
    assert.equal(res.status, 200);
    assert.ok((await res.json()).some((w) => w.workspace_handle === "prod"), "the service account reaches the account's workspaces");
    await page.getByRole("button", { name: "Done" }).click();
    // A second key, then rotate it: the old secret stops working, the new one works.
    await page.locator("tr[data-service-account=ci-robot]").getByRole("button", { name: "Keys" }).click();
    await page.getByLabel("Key name").fill("deploy");
    await page.getByRole("button", { name: "Create key" }).click();
    await shown.waitFor({ timeout: WAIT });
    const second = (await shown.textContent()).trim();
    await page.getByRole("button", { name: "Done" }).click();
    await page.locator("[data-testid=service-account-keys] tr", { hasText: "deploy" }).getByRole("button", { name: "Rotate" }).click();
    await shown.waitFor({ timeout: WAIT });
    const rotated = (await shown.textContent()).trim();
    assert.notEqual(rotated, second);
    assert.equal((await workspacesWith(second)).status, 401);
    assert.equal((await workspacesWith(rotated)).status, 200);
    await page.getByRole("button", { name: "Done" }).click();
    // Deleting the service account locks every one of its keys out.
    await page.locator("tr[data-service-account=ci-robot]").getByRole("button", { name: "Delete" }).click();
    await page.locator("[data-testid=confirm]").click();
    await page.getByText("No service accounts yet").waitFor({ timeout: WAIT });
    assert.equal((await workspacesWith(botKey)).status, 401);
    assert.equal((await workspacesWith(rotated)).status, 401);
  });

  it("logs the Prefect CLI in with the key and runs a flow", async () => {
    const login = await run(prefectExe, ["cloud", "login", "--key", key, "-w", `${account}/prod`]);
    assert.equal(login.code, 0, login.describe);
    assert.match(login.out, new RegExp(`${account}/prod`), login.describe);
    const flow = await run(python, [flowScript]);
    assert.equal(flow.code, 0, flow.describe);
    const m = flow.out.match(/^RUN (\S+)$/m);
    assert.ok(m, flow.describe);
    runName = m[1];
    links = Object.fromEntries(["RUNTIME_URL", "RUN_ID", "UI_ROOT", "URL_FOR"].map((k) => [k, flow.out.match(new RegExp(`^${k} (\\S+)$`, "m"))?.[1]]));
    for (const [k, v] of Object.entries(links)) assert.ok(v, `the flow printed no ${k}:\n${flow.describe}`);
    // The control for the last step: with the key alive, the CLI lists the account's workspaces.
    const ls = await run(prefectExe, ["cloud", "workspace", "ls"]);
    assert.equal(ls.code, 0, ls.describe);
    assert.match(ls.out, new RegExp(`${account}/prod`), ls.describe);
    assert.match(ls.out, new RegExp(`${account}/default`), ls.describe);
  });

  it("shows the run in that workspace only", async () => {
    await page.goto(`${base}/dashboard`);
    await page.locator("#workspace-switcher").selectOption({ label: `${account}/prod` });
    await page.goto(`${base}/runs`);
    await waitText("[data-testid=runs-table]", runName);
    const states = await page.locator("[data-testid=runs-table] tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-state")));
    assert.deepEqual(states, ["COMPLETED"]);
    await shot("cloud-runs");
    // The account's other workspace has no runs.
    await page.locator("#workspace-switcher").selectOption({ label: `${account}/default` });
    await page.goto(`${base}/runs`);
    await page.getByText("No flow runs", { exact: false }).first().waitFor({ timeout: WAIT });
    assert.equal(await page.getByText(runName).count(), 0);
  });

  it("the links Prefect prints for the workspace open it and land on the run", async () => {
    // The sidebar is on ${account}/default now; each link names ${account}/prod by its ids.
    const prodPath = new URL(links.UI_ROOT).pathname;
    assert.match(prodPath, /^\/account\/[^/]+\/workspace\/[^/]+$/);
    for (const url of [links.RUNTIME_URL, links.URL_FOR]) {
      assert.ok(url.startsWith(links.UI_ROOT + "/"), url);
      await page.locator("#workspace-switcher").selectOption({ label: `${account}/default` });
      await page.goto(url);
      await page.waitForURL((u) => u.pathname === `/runs/flow-run/${links.RUN_ID}`, { timeout: WAIT });
      await waitText("main", runName);
      assert.equal(await page.locator("#workspace-switcher option:checked").textContent(), `${account}/prod`);
    }
    await page.locator("#workspace-switcher").selectOption({ label: `${account}/default` });
    await page.goto(links.UI_ROOT);
    await page.waitForURL((u) => u.pathname === "/dashboard", { timeout: WAIT });
    assert.equal(await page.locator("#workspace-switcher option:checked").textContent(), `${account}/prod`);
    // A workspace the user is not a member of says so.
    await page.goto(`${base}/account/00000000-0000-0000-0000-000000000000/workspace/00000000-0000-0000-0000-000000000000/runs`);
    await page.getByText("Workspace not found").waitFor({ timeout: WAIT });
  });

  it("deleting the key in the UI locks the CLI out", async () => {
    await page.goto(`${base}/api-keys`);
    const row = page.locator("table tbody tr", { hasText: "laptop" });
    // The CLI used it, so it is no longer "never" used (the expiry column still is).
    await row.locator("td").nth(3).filter({ hasNotText: "never" }).waitFor({ timeout: WAIT });
    await row.getByRole("button", { name: "Delete" }).click();
    await page.getByText("No API keys yet").waitFor({ timeout: WAIT });
    const ls = await run(prefectExe, ["cloud", "workspace", "ls"]);
    assert.notEqual(ls.code, 0, ls.describe);
    assert.match(ls.out, /Unable to authenticate/, ls.describe);
    const flow = await run(python, [flowScript]);
    assert.notEqual(flow.code, 0, flow.describe);
    assert.match(flow.out, /401 Unauthorized/, flow.describe);
  });

  it("the server log never holds the key or the password", { skip: !process.env.E2E_SERVER_LOG }, () => {
    const log = process.env.E2E_SERVER_LOG;
    assert.ok(existsSync(log), log);
    const text = readFileSync(log, "utf8");
    assert.ok(!text.includes(key), "the API key is in the server log");
    assert.ok(!text.includes(key.slice(4)), "the API key's secret part is in the server log");
    assert.ok(!text.includes(password), "the password is in the server log");
  });
});
