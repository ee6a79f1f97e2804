// Teams, invitations, password reset, two-factor sign-in and the audit log,
// end to end in Debian's Chromium against the cloud-mode server run-cloud.sh
// started with BATON_SMTP_* pointing at the SMTP receiver this test runs on
// E2E_SMTP_PORT (a real SMTP conversation over TCP): an owner invites a
// person into a team by e-mail; the person follows the e-mailed link, joins,
// and sees only the team's workspace; the owner resets the password by
// e-mail, turns on TOTP and signs in with a code; the audit log page shows
// each of these.

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium } from "playwright-core";

const base = process.env.BATON_URL ?? "http://127.0.0.1:4200";
const shots = process.env.SCREENSHOTS ?? "docs/screenshots";
const smtpPort = Number(process.env.E2E_SMTP_PORT ?? 0);
const WAIT = 20_000;

const owner = "olga@example.com";
const ownerPassword = "olga first password";
const newPassword = "olga second password";
const invitee = "nora@example.com";

/** Every message the SMTP receiver got: { to, data }. */
const inbox = [];
let smtp;

/** A minimal SMTP receiver (EHLO/MAIL/RCPT/DATA/QUIT). */
function startSMTP(port) {
  const srv = createServer((sock) => {
    let buf = "";
    let inData = false;
    let rcpt = [];
    let data = "";
    const say = (l) => sock.write(l + "\r\n");
    say("220 e2e smtp");
    sock.on("data", (chunk) => {
      buf += chunk.toString("utf8");
      let i;
      while ((i = buf.indexOf("\r\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (inData) {
          if (line === ".") {
            inData = false;
            inbox.push({ to: rcpt, data });
            rcpt = [];
            data = "";
            say("250 queued");
          } else data += (line.startsWith(".") ? line.slice(1) : line) + "\n";
          continue;
        }
        const cmd = line.toUpperCase();
        if (cmd.startsWith("EHLO") || cmd.startsWith("HELO")) say("250 e2e");
        else if (cmd.startsWith("MAIL FROM:")) say("250 ok");
        else if (cmd.startsWith("RCPT TO:")) {
          rcpt.push(line.slice(8).replace(/[<>\s]/g, "").toLowerCase());
          say("250 ok");
        } else if (cmd === "DATA") {
          inData = true;
          say("354 go ahead");
        } else if (cmd === "QUIT") {
          say("221 bye");
          sock.end();
        } else say("250 ok");
      }
    });
    sock.on("error", () => {});
  });
  return new Promise((resolve) => srv.listen(port, "127.0.0.1", () => resolve(srv)));
}

/** Waits for the n-th e-mail to addr and returns the link to page in it. */
async function linkIn(addr, page, n = 1) {
  const deadline = Date.now() + WAIT;
  for (;;) {
    const mine = inbox.filter((m) => m.to.includes(addr));
    if (mine.length >= n) {
      const m = mine[n - 1].data.match(new RegExp(`https?://[^\\s]+/${page}#token=[A-Za-z0-9_-]+`));
      assert.ok(m, `no ${page} link in:\n${mine[n - 1].data}`);
      return m[0];
    }
    assert.ok(Date.now() < deadline, `no e-mail ${n} to ${addr} (inbox: ${inbox.length})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** RFC 6238 code of a base32 secret (what an authenticator app shows). */
function totp(secret, t = Date.now()) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(t / 1000 / 30)));
  const h = createHmac("sha1", key).update(counter).digest();
  const o = h[h.length - 1] & 0xf;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

let browser;

async function newPage() {
  const ctx = await browser.newContext({ viewport: { width: 1360, height: 900 }, colorScheme: "light", timezoneId: "Europe/Paris" });
  const p = await ctx.newPage();
  p.on("pageerror", (err) => console.error("page error:", err));
  return p;
}

async function shot(p, name) {
  await p.waitForTimeout(300);
  await p.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function signIn(p, email, password) {
  await p.goto(`${base}/`);
  await p.locator("h1", { hasText: "Sign in to Baton" }).waitFor({ timeout: WAIT });
  await p.getByLabel("E-mail").fill(email);
  await p.getByLabel("Password").fill(password);
  await p.getByRole("button", { name: "Sign in", exact: true }).click();
}

/** A JSON API call in the page's session (with its CSRF token). */
async function api(p, method, path, body) {
  return p.evaluate(
    async ({ method, path, body }) => {
      const s = await (await fetch("/api/auth/session")).json();
      const res = await fetch("/api" + path, {
        method,
        headers: { "Content-Type": "application/json", "X-CSRF-Token": s.csrf_token },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: res.status === 204 ? null : await res.json() };
    },
    { method, path, body },
  );
}

before(async () => {
  smtp = await startSMTP(smtpPort);
  browser = await chromium.launch({ executablePath: process.env.E2E_CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  smtp?.close();
});

describe("teams, invitations, password reset, TOTP and the audit log", { skip: !smtpPort && "needs E2E_SMTP_PORT (run-cloud.sh)" }, () => {
  let ownerPage;
  let accountId;
  let staging;

  it("an owner invites a person into a team from the Members page (e-mailed over SMTP)", async () => {
    ownerPage = await newPage();
    const p = ownerPage;
    await p.goto(`${base}/`);
    const signup = await p.evaluate(async ({ owner, ownerPassword }) => {
      const r = await fetch("/api/auth/signup", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ email: owner, password: ownerPassword, account_handle: "olga", workspace_handle: "prod" }) });
      return { status: r.status, body: await r.json() };
    }, { owner, ownerPassword });
    assert.equal(signup.status, 201, JSON.stringify(signup.body));
    accountId = signup.body.account.id;
    const ws = await api(p, "POST", `/accounts/${accountId}/workspaces`, { name: "Staging", handle: "staging" });
    assert.equal(ws.status, 201);
    staging = ws.body.id;
    const team = await api(p, "POST", `/accounts/${accountId}/teams`, { name: "data" });
    assert.equal(team.status, 201);
    assert.equal((await api(p, "PUT", `/accounts/${accountId}/teams/${team.body.id}/workspaces/${staging}`, { role: "developer" })).status, 204);

    await p.goto(`${base}/members`);
    await p.locator("h1", { hasText: "Members and teams" }).waitFor({ timeout: WAIT });
    await p.getByLabel("E-mail").fill(invitee);
    await p.getByLabel("Account role").selectOption("member");
    await p.getByLabel("Team", { exact: true }).selectOption({ label: "data" });
    await p.getByRole("button", { name: "Send invitation" }).click();
    await p.locator("[data-testid=invitations]", { hasText: invitee }).waitFor({ timeout: WAIT });
    await shot(p, "cloud-members");
  });

  it("the invited person follows the e-mailed link, joins, and sees only the team's workspace", async () => {
    const link = await linkIn(invitee, "invitation");
    assert.ok(link.startsWith(base + "/invitation#token="), link);
    const p = await newPage();
    await p.goto(link);
    await p.locator("[data-testid=invitation-info]", { hasText: "data" }).waitFor({ timeout: WAIT });
    await p.getByLabel("Your name").fill("Nora");
    await p.getByLabel("Choose a password").fill("nora secret password");
    await shot(p, "cloud-invitation");
    await p.getByRole("button", { name: "Accept the invitation" }).click();
    await p.locator("#workspace-switcher").waitFor({ timeout: WAIT });
    const mine = await p.evaluate(async () => (await fetch("/api/me/workspaces")).json());
    assert.deepEqual(mine.map((w) => `${w.account_handle}/${w.workspace_handle}:${w.role}`), ["olga/staging:developer"]);
    // The link works once.
    const again = await p.evaluate(async (token) => (await fetch("/api/auth/invitations/inspect", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token }) })).status, link.split("#token=")[1]);
    assert.equal(again, 409);
    await p.context().close();
  });

  it("the owner resets the password through the e-mailed link", async () => {
    const p = await newPage();
    await p.goto(`${base}/`);
    await p.getByRole("button", { name: "Forgot your password?" }).click();
    await p.getByLabel("E-mail").fill(owner);
    await p.getByRole("button", { name: "E-mail me a reset link" }).click();
    await p.getByRole("status").filter({ hasText: "reset link is on its way" }).waitFor({ timeout: WAIT });
    const link = await linkIn(owner, "reset-password");
    await p.goto(link);
    await p.getByLabel("New password").fill(newPassword);
    await p.getByRole("button", { name: "Set the password" }).click();
    await p.getByRole("status").filter({ hasText: "Your password is changed" }).waitFor({ timeout: WAIT });
    // The owner's old session ended with the reset.
    const me = await ownerPage.evaluate(async () => (await fetch("/api/me")).status);
    assert.equal(me, 401);
    await signIn(p, owner, newPassword);
    await p.locator("#workspace-switcher").waitFor({ timeout: WAIT });
    ownerPage = p;
  });

  it("the owner turns on two-factor sign-in and then signs in with a code", async () => {
    const p = ownerPage;
    await p.goto(`${base}/security`);
    await p.getByRole("button", { name: "Set up an authenticator app" }).click();
    const secret = (await p.locator("[data-testid=totp-secret]").textContent()).trim();
    await p.getByLabel("Authenticator code").fill(totp(secret));
    await p.getByRole("button", { name: "Turn on" }).click();
    await p.locator("[data-testid=recovery-codes]").waitFor({ timeout: WAIT });
    await shot(p, "cloud-totp");
    await p.getByRole("button", { name: "Done" }).click();

    const q = await newPage();
    await signIn(q, owner, newPassword);
    await q.getByLabel("Two-factor code (or a recovery code)").waitFor({ timeout: WAIT });
    await q.getByLabel("Two-factor code (or a recovery code)").fill(totp(secret));
    await q.getByRole("button", { name: "Sign in", exact: true }).click();
    await q.locator("#workspace-switcher").waitFor({ timeout: WAIT });
    ownerPage = q;
  });

  it("the audit log page shows each of these", async () => {
    const p = ownerPage;
    await p.goto(`${base}/audit-log`);
    const table = p.locator("[data-testid=audit-log]");
    await table.waitFor({ timeout: WAIT });
    for (const action of ["invitation.created", "invitation.accepted", "team.workspace_role_set", "auth.password_reset_requested", "auth.password_reset", "auth.totp_enabled"]) {
      await table.locator(`tr[data-action="${action}"]`).first().waitFor({ state: "attached", timeout: WAIT });
    }
    await table.locator('tr[data-action="auth.signin"]', { hasText: "password+totp" }).first().waitFor({ state: "attached", timeout: WAIT });
    await p.getByLabel("Area").selectOption("auth.");
    await table.locator('tr[data-action="invitation.created"]').waitFor({ state: "detached", timeout: WAIT });
    await shot(p, "cloud-audit-log");
  });
});
