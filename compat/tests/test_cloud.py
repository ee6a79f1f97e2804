"""Cloud mode with the real Prefect CLI: `prefect cloud login` against Baton, a flow run landing only in the chosen
workspace, `prefect cloud workspace ls/set`, `prefect cloud logout`, and refused (wrong and revoked) keys.

The module starts its own `baton server start --mode cloud` with a private BATON_HOME. Users are bootstrapped with
`baton admin create-user` (straight into the database, before the server starts), so the test needs no browser.
The Prefect client treats Baton as Prefect Cloud because PREFECT_CLOUD_API_URL points at it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest

from conftest import (BATON_BIN, POSTGRES_URL, BatonServer, RunResult, assert_no_client_warnings,  # noqa: F401
                      needs_binary, postgres_database)

pytestmark = pytest.mark.usefixtures("needs_binary")

PASSWORD = "correct horse battery staple"

BASIC_FLOW = '''
from prefect import flow, task, get_run_logger

@task
def a():
    return 1

@task(retries=1)
def b(x):
    return x + 1

@flow(name="cloud-basic")
def basic():
    get_run_logger().warning("hello from a cloud workspace")
    return b(a())

if __name__ == "__main__":
    print("RESULT", basic())
'''


class CloudServer(BatonServer):
    """`baton server start --mode cloud`."""

    def start(self, timeout: float = 30.0) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(BATON_BIN), "server", "start", "--mode", "cloud", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=str(self.home),
        )
        log.close()
        self.wait_healthy(timeout)


def create_user(home: Path, email: str, account: str, workspace: str, key_name: str = "ci") -> str:
    """Bootstrap a user with `baton admin create-user` and return the API key it prints once."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "PREFECT_"))}
    env["BATON_HOME"] = str(home)
    if POSTGRES_URL:
        env["BATON_DATABASE_URL"] = postgres_database(str(home))
    p = subprocess.run(
        [str(BATON_BIN), "admin", "create-user", "--email", email, "--password-stdin", "--account", account,
         "--workspace", workspace, "--api-key-name", key_name],
        input=PASSWORD + "\n", env=env, capture_output=True, text=True, timeout=60,
    )
    assert p.returncode == 0, f"baton admin create-user failed: {p.returncode}\n{p.stdout}\n{p.stderr}"
    keys = re.findall(r"\bpnu_[0-9A-Za-z]{36}\b", p.stdout)
    assert len(keys) == 1, f"expected exactly one key in the output:\n{p.stdout}"
    return keys[0]


class Cloud:
    """The running cloud-mode server, its users' keys and helpers to run the Prefect CLI."""

    def __init__(self, server: CloudServer, work: Path, alice: str, bob: str) -> None:
        self.server = server
        self.work = work
        self.alice = alice
        self.bob = bob
        self.api = server.api_url
        self._homes = 0

    def http(self, key: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.api, headers=headers, timeout=15)

    def new_prefect_home(self) -> Path:
        self._homes += 1
        home = self.work / f"prefect-home-{self._homes}"
        home.mkdir(parents=True)
        return home

    def env(self, prefect_home: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BATON_"))}
        env.update(
            PREFECT_HOME=str(prefect_home),
            PREFECT_CLOUD_API_URL=self.api,
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            DO_NOT_TRACK="1",
            PYTHONUNBUFFERED="1",
            COLUMNS="400",
        )
        return env

    def prefect(self, prefect_home: Path, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
        exe = Path(sys.executable).with_name("prefect")
        return subprocess.run([str(exe), *args], env=self.env(prefect_home), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)

    def run_flow(self, prefect_home: Path) -> subprocess.CompletedProcess[str]:
        script = prefect_home / "basic_flow.py"
        script.write_text(BASIC_FLOW)
        return subprocess.run([sys.executable, str(script)], env=self.env(prefect_home), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=120, cwd=str(prefect_home))

    @staticmethod
    def profile(prefect_home: Path) -> dict[str, str]:
        data = tomllib.loads((prefect_home / "profiles.toml").read_text())
        return data["profiles"][data["active"]]

    def workspaces(self, key: str) -> dict[str, dict]:
        with self.http(key) as c:
            r = c.get("/me/workspaces")
        assert r.status_code == 200, f"GET /me/workspaces -> {r.status_code} {r.text}"
        return {w["account_handle"] + "/" + w["workspace_handle"]: w for w in r.json()}


def describe(p: subprocess.CompletedProcess[str]) -> str:
    return f"exit code {p.returncode}\n--- stdout ---\n{p.stdout}\n--- stderr ---\n{p.stderr}"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory):
    if not BATON_BIN.exists():
        pytest.fail(f"baton binary not found at {BATON_BIN}")
    work = tmp_path_factory.mktemp("cloud")
    home = work / "baton-home"
    home.mkdir()
    alice = create_user(home, "alice@example.com", "acme", "prod")
    bob = create_user(home, "bob@example.com", "globex", "main")
    server = CloudServer(home, work / "baton-cloud.log")
    try:
        server.start()
        c = Cloud(server, work, alice, bob)
        acme = c.workspaces(alice)["acme/prod"]["account_id"]
        with c.http(alice) as h:
            r = h.post(f"/accounts/{acme}/workspaces", json={"name": "Development", "handle": "dev", "description": "scratch"})
            assert r.status_code == 201, r.text
        yield c
    finally:
        server.stop()


def test_login_runs_flow_only_in_that_workspace(cloud: Cloud) -> None:
    home = cloud.new_prefect_home()
    login = cloud.prefect(home, "cloud", "login", "--key", cloud.alice, "-w", "acme/prod")
    assert login.returncode == 0, describe(login)
    assert "acme/prod" in login.stdout, describe(login)
    ws = cloud.workspaces(cloud.alice)
    prod, dev = ws["acme/prod"], ws["acme/dev"]
    assert dev["workspace_description"] == "scratch"
    profile = cloud.profile(home)
    assert profile["PREFECT_API_URL"] == f"{cloud.api}/accounts/{prod['account_id']}/workspaces/{prod['workspace_id']}"
    assert profile["PREFECT_API_KEY"] == cloud.alice

    run = cloud.run_flow(home)
    assert run.returncode == 0 and "RESULT 2" in run.stdout, describe(run)
    assert_no_client_warnings(RunResult(run.returncode, run.stdout, run.stderr))

    body = {"flows": {"name": {"any_": ["cloud-basic"]}}}
    with cloud.http(cloud.alice) as h:
        base = f"/accounts/{prod['account_id']}/workspaces/{prod['workspace_id']}"
        runs = h.post(f"{base}/flow_runs/filter", json=body)
        assert runs.status_code == 200 and len(runs.json()) == 1, runs.text
        run_id = runs.json()[0]["id"]
        assert runs.json()[0]["state_type"] == "COMPLETED"
        # Task runs arrive over /events/in, authenticated with the bearer header of the Cloud events client.
        tasks = h.post(f"{base}/task_runs/filter", json={"task_runs": {"flow_run_id": {"any_": [run_id]}}})
        assert tasks.status_code == 200 and len(tasks.json()) == 2, tasks.text
        # Not in the other workspace of the same account...
        other = h.post(f"/accounts/{dev['account_id']}/workspaces/{dev['workspace_id']}/flow_runs/filter", json=body)
        assert other.status_code == 200 and other.json() == [], other.text
        # ...and the default workspace (/api/...) is not Alice's at all.
        assert h.post("/flow_runs/filter", json=body).status_code == 404
        assert h.get(f"/accounts/{dev['account_id']}/workspaces/{dev['workspace_id']}/flow_runs/{run_id}").status_code == 404
    # Bob (another account) cannot reach Alice's workspace or the run, by URL or by id.
    bobs = cloud.workspaces(cloud.bob)
    assert list(bobs) == ["globex/main"]
    with cloud.http(cloud.bob) as h:
        assert h.post(f"{base}/flow_runs/filter", json=body).status_code == 404
        g = bobs["globex/main"]
        assert h.get(f"/accounts/{g['account_id']}/workspaces/{g['workspace_id']}/flow_runs/{run_id}").status_code == 404


def test_workspace_ls_set_and_logout(cloud: Cloud) -> None:
    home = cloud.new_prefect_home()
    login = cloud.prefect(home, "cloud", "login", "--key", cloud.alice, "-w", "acme/prod")
    assert login.returncode == 0, describe(login)

    ls = cloud.prefect(home, "cloud", "workspace", "ls")
    assert ls.returncode == 0, describe(ls)
    assert "acme/prod" in ls.stdout and "acme/dev" in ls.stdout and "globex" not in ls.stdout, describe(ls)

    set_ = cloud.prefect(home, "cloud", "workspace", "set", "-w", "acme/dev")
    assert set_.returncode == 0, describe(set_)
    dev = cloud.workspaces(cloud.alice)["acme/dev"]
    assert cloud.profile(home)["PREFECT_API_URL"].endswith(f"/accounts/{dev['account_id']}/workspaces/{dev['workspace_id']}")

    out = cloud.prefect(home, "cloud", "logout")
    assert out.returncode == 0, describe(out)
    profile = cloud.profile(home)
    assert "PREFECT_API_KEY" not in profile and "PREFECT_API_URL" not in profile, profile


def test_wrong_key_is_refused(cloud: Cloud) -> None:
    wrong = "pnu_" + "x" * 36
    home = cloud.new_prefect_home()
    login = cloud.prefect(home, "cloud", "login", "--key", wrong, "-w", "acme/prod")
    assert login.returncode != 0, describe(login)
    assert "Unable to authenticate" in login.stdout + login.stderr, describe(login)
    with cloud.http(wrong) as h:
        r = h.get("/me/workspaces")
        assert r.status_code == 401 and "detail" in r.json(), r.text
        assert h.post("/flow_runs/filter", json={}).status_code == 401
    # A key that is not even shaped like one, and no key at all.
    with cloud.http("not-a-key") as h:
        assert h.get("/me/workspaces").status_code == 401
    with cloud.http(None) as h:
        assert h.get("/me/workspaces").status_code == 401


def test_revoked_key_fails(cloud: Cloud) -> None:
    with cloud.http(cloud.alice) as h:
        r = h.post("/me/api_keys", json={"name": "laptop"})
        assert r.status_code == 201, r.text
        key, key_id = r.json()["key"], r.json()["id"]
        listed = h.get("/me/api_keys").json()
        assert any(k["id"] == key_id and "key" not in k and k["prefix"] == key[:8] for k in listed), listed

    home = cloud.new_prefect_home()
    login = cloud.prefect(home, "cloud", "login", "--key", key, "-w", "acme/prod")
    assert login.returncode == 0, describe(login)
    run = cloud.run_flow(home)
    assert run.returncode == 0, describe(run)

    with cloud.http(cloud.alice) as h:
        assert h.delete(f"/me/api_keys/{key_id}").status_code == 204
    with cloud.http(key) as h:
        assert h.get("/me/workspaces").status_code == 401
    again = cloud.prefect(cloud.new_prefect_home(), "cloud", "login", "--key", key, "-w", "acme/prod")
    assert again.returncode != 0 and "Unable to authenticate" in again.stdout + again.stderr, describe(again)
    # The profile that still holds the revoked key can no longer run flows.
    failed = cloud.run_flow(home)
    assert failed.returncode != 0, describe(failed)
    assert "401" in failed.stdout + failed.stderr, describe(failed)


def test_baton_cli_uses_the_prefect_login(cloud: Cloud) -> None:
    """A machine where `prefect cloud login` ran is logged in to Baton's CLI too: with no Baton setting
    anywhere, `baton` reads the active Prefect profile (its API URL and key) and works in that workspace."""
    home = cloud.new_prefect_home()
    login = cloud.prefect(home, "cloud", "login", "--key", cloud.alice, "-w", "acme/prod")
    assert login.returncode == 0, describe(login)
    set_ = cloud.prefect(home, "cloud", "workspace", "set", "-w", "acme/dev")
    assert set_.returncode == 0, describe(set_)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BATON_"))}
    env.update(PREFECT_HOME=str(home), BATON_HOME=str(home / "baton-home"), HOME=str(home / "user-home"))

    def baton(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BATON_BIN), *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)

    view = baton("config", "view", "-o", "json")
    assert view.returncode == 0, describe(view)
    settings = json.loads(view.stdout)
    assert settings["api_url"]["source"].startswith("Prefect profile"), settings
    assert settings["api_key"]["source"].startswith("Prefect profile"), settings

    ls = baton("cloud", "workspace", "ls")
    assert ls.returncode == 0, describe(ls)
    assert re.search(r"^\*\s+acme/dev\b", ls.stdout, re.M) and "acme/prod" in ls.stdout, describe(ls)

    setvar = baton("variable", "set", "from-baton-cli", '{"n": 1}')
    assert setvar.returncode == 0, describe(setvar)
    dev = cloud.workspaces(cloud.alice)["acme/dev"]
    prod = cloud.workspaces(cloud.alice)["acme/prod"]
    with cloud.http(cloud.alice) as h:
        got = h.get(f"/accounts/{dev['account_id']}/workspaces/{dev['workspace_id']}/variables/name/from-baton-cli")
        assert got.status_code == 200 and got.json()["value"] == {"n": 1}, got.text
        other = h.get(f"/accounts/{prod['account_id']}/workspaces/{prod['workspace_id']}/variables/name/from-baton-cli")
        assert other.status_code == 404, other.text


E2E = Path(__file__).resolve().parents[2] / "e2e"


def test_login_in_the_browser_without_key(cloud: Cloud) -> None:
    """`prefect cloud login` with no --key, in a pseudo-terminal: the CLI opens Baton's /auth/client with its loopback
    callback in Chromium (driven by e2e/cli-login-browser.mjs as $BROWSER), where bob signs in, picks his workspace and
    authorizes; the CLI receives a new key, and a flow run lands in that workspace."""
    chromium = os.environ.get("E2E_CHROMIUM") or "/usr/bin/chromium"
    node = subprocess.run(["sh", "-c", "command -v node"], capture_output=True, text=True).stdout.strip()
    if node and not (E2E / "node_modules" / "playwright-core").is_dir():
        # What e2e/run.sh does first (make test runs compat before e2e).
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=str(E2E), capture_output=True, timeout=600)
    if not node or not Path(chromium).exists() or not (E2E / "node_modules" / "playwright-core").is_dir():
        pytest.skip("needs node, Chromium and e2e/node_modules (cd e2e && npm ci)")
    home = cloud.new_prefect_home()
    env = cloud.env(home)
    env.update(
        PREFECT_CLOUD_UI_URL=cloud.api.removesuffix("/api"),
        BROWSER=f"{node} {E2E / 'cli-login-browser.mjs'} %s",
        LOGIN_EMAIL="bob@example.com",
        LOGIN_PASSWORD=PASSWORD,
        LOGIN_WORKSPACE="globex/main",
        E2E_CHROMIUM=chromium,
    )
    login = subprocess.run([sys.executable, str(E2E / "prefect_browser_login.py")], env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=300, cwd=str(home))
    assert login.returncode == 0 and "Authenticated with Prefect Cloud" in login.stdout, describe(login)
    profile = cloud.profile(home)
    main = cloud.workspaces(cloud.bob)["globex/main"]
    assert profile["PREFECT_API_URL"] == f"{cloud.api}/accounts/{main['account_id']}/workspaces/{main['workspace_id']}"
    key = profile["PREFECT_API_KEY"]
    assert key.startswith("pnu_") and key != cloud.bob, "the CLI must receive a new key"

    run = cloud.run_flow(home)
    assert run.returncode == 0 and "RESULT 2" in run.stdout, describe(run)
    body = {"flows": {"name": {"any_": ["cloud-basic"]}}}
    with cloud.http(key) as c:
        r = c.post(f"/accounts/{main['account_id']}/workspaces/{main['workspace_id']}/flow_runs/filter", json=body)
    assert r.status_code == 200 and len(r.json()) >= 1, r.text
