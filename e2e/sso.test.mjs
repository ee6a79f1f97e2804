// Single sign-on in Chromium (issue 13), against the providers run-sso.sh
// started: "Continue with Test OP" (a real OpenID provider on loopback)
// and "Continue with GitHub" (a GitHub-style OAuth2 server), an unverified
// e-mail and a replayed callback refused, and the real `prefect cloud
// login` without --key completed in the browser.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { chromium } from "playwright-core";

const base = process.env.BATON_URL;
const control = process.env.SSO_CONTROL;
const here = dirname(fileURLToPath(import.meta.url));
const WAIT = 30_000;
let browser;
const tmp = mkdtempSync(join(tmpdir(), "baton-e2e-sso-"));

const queue = async (kind, email, verified = true) => {
  const res = await fetch(`${control}/queue`, { method: "POST", body: JSON.stringify({ kind, email, verified }) });
  assert.equal(res.status, 204);
};
const shot = async (page, name) => {
  if (process.env.SCREENSHOTS) await page.screenshot({ path: join(process.env.SCREENSHOTS, `${name}.png`) });
};
const me = (page) => page.evaluate(async () => (await fetch("/api/me")).json());

before(async () => {
  browser = await chromium.launch({ executablePath: process.env.E2E_CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
});
after(async () => {
  await browser?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe("single sign-on", () => {
  it("signs in with the OpenID provider and lands where it started", async () => {
    await queue("oidc", "ada@acme.test");
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${base}/flows`);
    const button = page.getByRole("link", { name: "Continue with Test OP" });
    await button.waitFor({ timeout: WAIT });
    await page.getByRole("link", { name: "Continue with GitHub" }).waitFor({ timeout: WAIT });
    await shot(page, "cloud-sso-signin");
    await button.click();
    await page.waitForURL(`${base}/flows`, { timeout: WAIT });
    await page.locator("#workspace-switcher").waitFor({ timeout: WAIT });
    assert.equal((await me(page)).email, "ada@acme.test");
    await page.context().close();
  });

  it("signs in with the GitHub-style OAuth2 flow", async () => {
    await queue("github", "octo@acme.test");
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${base}/`);
    await page.getByRole("link", { name: "Continue with GitHub" }).click();
    await page.locator("#workspace-switcher").waitFor({ timeout: WAIT });
    assert.equal((await me(page)).email, "octo@acme.test");
    await page.context().close();
  });

  it("refuses an unverified e-mail with a 403 naming it", async () => {
    await queue("oidc", "owner@acme.test", false);
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${base}/`);
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.url().includes("/api/auth/sso/testop/callback"), { timeout: WAIT }),
      page.getByRole("link", { name: "Continue with Test OP" }).click(),
    ]);
    assert.equal(resp.status(), 403);
    assert.match(await page.content(), /has not verified owner@acme\.test/);
    assert.equal((await page.evaluate(async () => (await fetch("/api/me")).status)), 401);
    await page.context().close();
  });

  it("refuses a replayed callback with a 400", async () => {
    await queue("oidc", "ada@acme.test");
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${base}/`);
    let callback = "";
    page.on("request", (r) => {
      if (r.url().includes("/callback?")) callback = r.url();
    });
    await page.getByRole("link", { name: "Continue with Test OP" }).click();
    await page.locator("#workspace-switcher").waitFor({ timeout: WAIT });
    assert.ok(callback, "no callback seen");
    const again = await page.goto(callback);
    assert.equal(again.status(), 400);
    assert.match(await page.content(), /already used|does not match this browser/);
    await ctx.close();
  });

  it("completes `prefect cloud login` without --key in the browser; the flow runs in the picked workspace", async () => {
    const py = process.env.E2E_PYTHON;
    const prefectHome = join(tmp, "prefect");
    const urlFile = join(tmp, "login-url");
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PREFECT_") && !k.startsWith("BATON_")));
    Object.assign(env, {
      PREFECT_HOME: prefectHome,
      PREFECT_CLOUD_API_URL: `${base}/api`,
      PREFECT_CLOUD_UI_URL: base,
      PREFECT_SERVER_ANALYTICS_ENABLED: "false",
      DO_NOT_TRACK: "1",
      PYTHONUNBUFFERED: "1",
      COLUMNS: "200",
      BROWSER: `${join(here, "record-url.sh")} %s`,
      E2E_URL_FILE: urlFile,
    });
    const cli = spawn(py, [join(here, "prefect_browser_login.py")], { env, cwd: tmp });
    let out = "";
    cli.stdout.on("data", (d) => (out += d));
    cli.stderr.on("data", (d) => (out += d));
    const exited = new Promise((resolve) => cli.on("exit", (code) => resolve(code)));
    const deadline = Date.now() + 120_000;
    while (!existsSync(urlFile) || readFileSync(urlFile, "utf8") === "") {
      assert.ok(Date.now() < deadline, `prefect did not open a browser:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const loginURL = readFileSync(urlFile, "utf8");
    assert.match(loginURL, new RegExp(`^${base}/auth/client\\?callback=http%3A//localhost%3A\\d+$`));

    await queue("oidc", "ada@acme.test");
    const page = await (await browser.newContext()).newPage();
    await page.goto(loginURL);
    await page.getByRole("link", { name: "Continue with Test OP" }).click();
    await page.getByRole("heading", { name: "Log in from the command line" }).waitFor({ timeout: WAIT });
    await page.getByLabel("Workspace").selectOption({ label: "acme/prod" });
    await shot(page, "cloud-cli-login");
    await page.getByRole("button", { name: "Authorize the CLI" }).click();
    await page.getByText("The CLI is logged in").waitFor({ timeout: WAIT });
    const code = await exited;
    assert.equal(code, 0, out);
    assert.match(out, /Authenticated with Prefect Cloud/);

    const flow = await new Promise((resolve) => {
      const p = spawn(py, [join(here, "cloud_flow.py")], { env, cwd: tmp });
      let o = "";
      p.stdout.on("data", (d) => (o += d));
      p.stderr.on("data", (d) => (o += d));
      p.on("exit", (c) => resolve({ code: c, out: o }));
    });
    assert.equal(flow.code, 0, flow.out);
    const runId = /RUN_ID (\S+)/.exec(flow.out)[1];
    const ws = await page.evaluate(async () => (await fetch("/api/me/workspaces")).json());
    const prod = ws.find((w) => w.workspace_handle === "prod");
    const got = await page.evaluate(
      async (p) => (await fetch(`/api/accounts/${p.a}/workspaces/${p.w}/flow_runs/${p.id}`)).status,
      { a: prod.account_id, w: prod.workspace_id, id: runId },
    );
    assert.equal(got, 200, "the flow run is not in acme/prod");
    await page.context().close();
  });

  it("never logged a client secret", () => {
    const log = readFileSync(process.env.SERVER_LOG, "utf8");
    for (const s of (process.env.SECRETS ?? "").split(" ").filter(Boolean)) assert.ok(!log.includes(s), "a client secret is in the server log");
  });
});
