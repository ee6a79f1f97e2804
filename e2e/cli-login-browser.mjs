// A browser for `prefect cloud login` (no --key) in the compat test: given
// as $BROWSER ("node cli-login-browser.mjs %s"), it opens the login URL the
// CLI hands it in Chromium, signs in with LOGIN_EMAIL/LOGIN_PASSWORD, picks
// LOGIN_WORKSPACE and authorizes the CLI, then exits (0 on success).
import { chromium } from "playwright-core";

const [url] = process.argv.slice(2);
const WAIT = 60_000;
const browser = await chromium.launch({ executablePath: process.env.E2E_CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
let code = 0;
try {
  const page = await (await browser.newContext()).newPage();
  await page.goto(url);
  await page.getByLabel("E-mail").fill(process.env.LOGIN_EMAIL);
  await page.getByLabel("Password").fill(process.env.LOGIN_PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("heading", { name: "Log in from the command line" }).waitFor({ timeout: WAIT });
  await page.getByLabel("Workspace").selectOption({ label: process.env.LOGIN_WORKSPACE });
  await page.getByRole("button", { name: "Authorize the CLI" }).click();
  await page.getByText("The CLI is logged in").waitFor({ timeout: WAIT });
} catch (err) {
  console.error("cli-login-browser:", err);
  code = 1;
} finally {
  await browser.close();
}
process.exit(code);
