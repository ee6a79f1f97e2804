"""Fixtures for the compatibility suite: a live Baton server and the real Prefect client.

The session fixture `baton` builds nothing itself (compat/run.sh builds bin/baton first); it starts
`bin/baton server start` on a free loopback port with a private BATON_HOME, waits for /api/health, and
hands tests a `Baton` helper: an httpx client for Baton's REST API, `run_py` to run a Prefect client
script against it, and a `poll` helper for the eventually-consistent parts (task runs arrive as
websocket events). The server's log is written to a file and its tail is attached to every failure.

Setting COMPAT_API_URL runs the client tests against an already running server instead (for example a
stock Prefect server, to check that a test itself is right); tests that need the baton binary skip.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, NamedTuple

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BATON_BIN = Path(os.environ.get("BATON_BIN", str(REPO_ROOT / "bin" / "baton")))
EXTERNAL_API_URL = os.environ.get("COMPAT_API_URL", "").rstrip("/")
# COMPAT_DATABASE=postgres (compat/run.sh starts the cluster): every baton runs on PostgreSQL, on a
# database of its own named after its home (a restart on the same home finds its data again).
POSTGRES_URL = os.environ.get("COMPAT_POSTGRES_URL", "") if os.environ.get("COMPAT_DATABASE") == "postgres" else ""


def postgres_database(name: str) -> str:
    """Create database `name` on the compat cluster (if it does not exist) and return its URL."""
    import hashlib
    import urllib.parse

    db = "compat_" + hashlib.sha256(name.encode()).hexdigest()[:16]
    out = subprocess.run(["psql", POSTGRES_URL, "-v", "ON_ERROR_STOP=1", "-qc", f'CREATE DATABASE "{db}"'],
                         capture_output=True, text=True)
    if out.returncode != 0 and "already exists" not in out.stderr:
        pytest.fail(f"could not create PostgreSQL database {db}: {out.stderr}")
    u = urllib.parse.urlsplit(POSTGRES_URL)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + db, u.query, u.fragment))

# The line a test script prints (once) to hand structured results back to the test.
RESULT_MARKER = "COMPAT_RESULT "

# Prefix that every script gets, so that each can report results with emit({...}).
SCRIPT_PRELUDE = f'''
import json as _compat_json
def emit(obj):
    print({RESULT_MARKER!r} + _compat_json.dumps(obj, default=str), flush=True)
'''


def free_port() -> int:
    """Return a loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path: Path, lines: int = 80) -> str:
    """Return the last lines of a text file, or a note if it does not exist."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"(no file {path})"
    return "\n".join(text.splitlines()[-lines:])


class BatonServer:
    """One `baton server start` process on a loopback port, with its output in a log file.

    The durability test starts its own instances; the session fixture starts the shared one.
    """

    def __init__(self, home: Path, log_path: Path, port: int | None = None, database_url: str | None = None) -> None:
        self.home = home
        self.log_path = log_path
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        # On PostgreSQL (COMPAT_DATABASE=postgres, or a URL given: replicas share one), BATON_DATABASE_URL.
        self.database_url = database_url or (postgres_database(str(home)) if POSTGRES_URL else None)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "PREFECT_"))}
        env["BATON_HOME"] = str(self.home)
        if self.database_url:
            env["BATON_DATABASE_URL"] = self.database_url
        return env

    def start(self, timeout: float = 30.0) -> None:
        """Start the server and wait until /api/health answers true; fail with its log if not."""
        if not BATON_BIN.exists():
            pytest.fail(f"baton binary not found at {BATON_BIN}; build it with `go build -o bin/baton ./cmd/baton`")
        self.home.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        log.write(f"\n===== starting baton on port {self.port} (home {self.home}) =====\n".encode())
        log.flush()
        self.proc = subprocess.Popen(
            [str(BATON_BIN), "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=str(self.home),
        )
        log.close()
        self.wait_healthy(timeout)

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = "no response yet"
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                pytest.fail(
                    f"baton server exited with code {self.proc.returncode} before becoming healthy.\n"
                    f"--- server log ({self.log_path}) ---\n{tail(self.log_path)}"
                )
            try:
                r = httpx.get(f"{self.api_url}/health", timeout=2)
                if r.status_code == 200 and r.json() is True:
                    return
                last = f"GET /api/health -> {r.status_code} {r.text[:200]!r} (expected 200 true)"
            except (httpx.HTTPError, ValueError) as exc:
                last = f"GET /api/health -> {type(exc).__name__}: {exc}"
            time.sleep(0.1)
        pytest.fail(
            f"baton server did not become healthy within {timeout}s: {last}\n"
            f"--- server log ({self.log_path}) ---\n{tail(self.log_path)}"
        )

    def kill(self) -> None:
        """SIGKILL the server, as a power cut would, and reap it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self, timeout: float = 15.0) -> int | None:
        """Ask the server to shut down (SIGTERM); SIGKILL it if it does not within timeout."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return self.proc.returncode


class RunResult(NamedTuple):
    """What a client script did: exit code and its two output streams."""

    rc: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def describe(self) -> str:
        return f"exit code {self.rc}\n--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"

    def result(self) -> Any:
        """The JSON object the script passed to emit(); fails the test if there is none."""
        for line in self.stdout.splitlines():
            if line.startswith(RESULT_MARKER):
                return json.loads(line[len(RESULT_MARKER):])
        pytest.fail(f"script printed no {RESULT_MARKER.strip()} line\n{self.describe()}")

    def ok(self) -> "RunResult":
        """Assert the script exited 0 and return self."""
        assert self.rc == 0, f"client script failed\n{self.describe()}"
        return self


# Client-side complaints about the server: any of these in a client's output means Baton did
# something the client did not like, even if the flow itself succeeded.
_BAD_LOGGER_LINE = re.compile(
    r"\|\s*(WARNING|ERROR|CRITICAL)\s*\|\s*(prefect\.(client|events|_internal|concurrency|utilities|logging|workers|runner)\S*)"
)
_BAD_TEXT = [
    re.compile(r"Unable to connect"),
    # "EventsWorker - Still processing items" while the queue drains at exit is normal; any other
    # EventsWorker line (failed, unable to connect, pending items lost) is not.
    re.compile(r"EventsWorker(?! - Still processing items)"),
    re.compile(r"\bolder\b", re.IGNORECASE),
    re.compile(r"incompatible", re.IGNORECASE),
    re.compile(r"Failed to reach API"),
    re.compile(r"PrefectHTTPStatusError"),
    re.compile(r"HTTPStatusError"),
    re.compile(r"Failed to send logs", re.IGNORECASE),
]


def client_takes_tag_leases() -> bool:
    """Whether this client's task engine takes a task's tag slots before it reports the task Running, through
    renewable leases (`prefect.concurrency._sync`, as 3.4 and later do), rather than through the v1
    `/concurrency_limits/increment` route after reporting it Running, with slots held until released (3.1).
    Feature-detected in the client's own task engine, not guessed from its version."""
    import prefect.task_engine as engine

    return hasattr(engine, "_concurrency")


def assert_no_client_warnings(run: RunResult, allowed: tuple[str, ...] = ()) -> None:
    """Fail if the client's output holds a warning about the server (lines containing an allowed text are skipped)."""
    bad = []
    for line in run.output.splitlines():
        if any(a in line for a in allowed):
            continue
        if _BAD_LOGGER_LINE.search(line) or any(p.search(line) for p in _BAD_TEXT):
            bad.append(line)
    assert not bad, "client complained about the server:\n" + "\n".join(bad) + "\n\n" + run.describe()


class Baton:
    """What a test gets: Baton's API URL, an HTTP client for it, and ways to run client scripts."""

    def __init__(self, api_url: str, work_dir: Path, log_path: Path | None) -> None:
        self.api_url = api_url
        self.work_dir = work_dir
        self.log_path = log_path
        self.prefect_home = work_dir / "prefect-home"
        self.prefect_home.mkdir(parents=True, exist_ok=True)
        self.http = httpx.Client(base_url=api_url, timeout=15)
        self._scripts = 0

    def close(self) -> None:
        self.http.close()

    # ---- running the real client -------------------------------------------------------------

    def client_env(self) -> dict[str, str]:
        """The environment a client script runs with: only our PREFECT_* settings, none inherited."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BATON_"))}
        env.update(
            PREFECT_API_URL=self.api_url,
            PREFECT_HOME=str(self.prefect_home),
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            DO_NOT_TRACK="1",
            PREFECT_LOGGING_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
            # Wide console lines so that log lines are never wrapped before we grep them.
            COLUMNS="400",
        )
        return env

    def write_script(self, script_text: str, prelude: bool = True) -> Path:
        self._scripts += 1
        path = self.work_dir / "scripts" / f"script_{self._scripts:03d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text((SCRIPT_PRELUDE if prelude else "") + script_text)
        return path

    def run_py(self, script_text: str, timeout: float = 120, prelude: bool = True) -> RunResult:
        """Run a Python script with the suite's interpreter (which has prefect) against Baton."""
        path = self.write_script(script_text, prelude=prelude)
        try:
            p = subprocess.run(
                [sys.executable, str(path)],
                env=self.client_env(),
                cwd=str(path.parent),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
            pytest.fail(f"client script {path} did not finish within {timeout}s\n--- stdout ---\n{out}\n--- stderr ---\n{err}")
        # Keep the output next to the script, for looking at after a run (pytest --basetemp=DIR).
        path.with_suffix(".out").write_text(f"exit code {p.returncode}\n--- stdout ---\n{p.stdout}\n--- stderr ---\n{p.stderr}")
        return RunResult(p.returncode, p.stdout, p.stderr)

    def popen_py(self, script_text: str, out_path: Path) -> subprocess.Popen[bytes]:
        """Start a client script in the background with its stdout+stderr going to out_path."""
        path = self.write_script(script_text)
        out = open(out_path, "wb")
        try:
            return subprocess.Popen(
                [sys.executable, str(path)],
                env=self.client_env(),
                cwd=str(path.parent),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        finally:
            out.close()

    # ---- Baton's REST API ----------------------------------------------------------------------

    def call(self, method: str, path: str, body: Any = None, expect: tuple[int, ...] = (200, 201)) -> Any:
        """Make one API request; on an unexpected status fail with the request and the response."""
        try:
            r = self.http.request(method, path, json=body) if body is not None else self.http.request(method, path)
        except httpx.HTTPError as exc:
            pytest.fail(f"{method} {self.api_url}{path} body={json.dumps(body)} -> {type(exc).__name__}: {exc}")
        if r.status_code not in expect:
            pytest.fail(
                f"{method} {self.api_url}{path}\nrequest body: {json.dumps(body)}\n"
                f"response: {r.status_code} {r.text[:2000]}\nexpected status: {expect}"
            )
        if r.status_code == 204 or not r.content:
            return None
        try:
            return r.json()
        except ValueError:
            pytest.fail(f"{method} {path} -> {r.status_code} with a body that is not JSON: {r.text[:500]!r}")

    def flow_run(self, flow_run_id: str) -> dict:
        run = self.call("GET", f"/flow_runs/{flow_run_id}")
        assert run.get("id") == flow_run_id, f"GET /flow_runs/{flow_run_id} returned id {run.get('id')!r}"
        return run

    def task_run(self, task_run_id: str) -> dict:
        run = self.call("GET", f"/task_runs/{task_run_id}")
        assert run.get("id") == task_run_id, f"GET /task_runs/{task_run_id} returned id {run.get('id')!r}"
        return run

    def flow_runs_named(self, name: str) -> list[dict]:
        body = {"flow_runs": {"name": {"any_": [name]}}, "limit": 50}
        runs = self.call("POST", "/flow_runs/filter", body, expect=(200,))
        wrong = [r.get("name") for r in runs if r.get("name") != name]
        assert not wrong, f"POST /flow_runs/filter {json.dumps(body)} returned runs with other names: {wrong}"
        return runs

    def task_runs_of(self, flow_run_id: str) -> list[dict]:
        """Every task run of a flow run, read page by page through POST /task_runs/filter."""
        runs: list[dict] = []
        page = 200
        while True:
            body = {
                "task_runs": {"flow_run_id": {"any_": [flow_run_id]}},
                "sort": "EXPECTED_START_TIME_ASC",
                "limit": page,
                "offset": len(runs),
            }
            got = self.call("POST", "/task_runs/filter", body, expect=(200,))
            wrong = [r.get("id") for r in got if r.get("flow_run_id") != flow_run_id]
            assert not wrong, f"POST /task_runs/filter {json.dumps(body)} returned task runs of other flow runs: {wrong}"
            runs.extend(got)
            if len(got) < page:
                return runs
            if len(runs) > 10_000:
                pytest.fail("POST /task_runs/filter keeps returning pages (offset ignored?)")

    def flow_run_states(self, flow_run_id: str) -> list[dict]:
        return self.call("GET", f"/flow_run_states/?flow_run_id={flow_run_id}", expect=(200,))

    def task_run_states(self, task_run_id: str) -> list[dict]:
        return self.call("GET", f"/task_run_states/?task_run_id={task_run_id}", expect=(200,))

    def logs_of(self, flow_run_id: str) -> list[dict]:
        body = {"logs": {"flow_run_id": {"any_": [flow_run_id]}}, "limit": 200}
        logs = self.call("POST", "/logs/filter", body, expect=(200,))
        wrong = [l for l in logs if l.get("flow_run_id") != flow_run_id]
        assert not wrong, f"POST /logs/filter {json.dumps(body)} returned logs of other flow runs: {wrong[:3]}"
        return logs

    # ---- waiting -----------------------------------------------------------------------------

    @staticmethod
    def poll(fn: Callable[[], Any], what: str, timeout: float = 10.0, interval: float = 0.1) -> Any:
        """Call fn until it returns something truthy and return that; fail after timeout.

        fn may raise AssertionError to say "not yet"; the last such message goes into the failure.
        """
        deadline = time.monotonic() + timeout
        last: Any = None
        while True:
            try:
                value = fn()
                if value:
                    return value
                last = value
            except AssertionError as exc:
                last = f"AssertionError: {exc}"
            if time.monotonic() >= deadline:
                pytest.fail(f"timed out after {timeout}s waiting for {what}; last: {last}")
            time.sleep(interval)


@pytest.fixture(scope="session")
def baton(tmp_path_factory: pytest.TempPathFactory):
    """A running Baton (or the server at COMPAT_API_URL) shared by the whole session."""
    work = tmp_path_factory.mktemp("compat")
    if EXTERNAL_API_URL:
        helper = Baton(EXTERNAL_API_URL, work, None)
        yield helper
        helper.close()
        return
    server = BatonServer(work / "baton-home", work / "baton-server.log")
    try:
        server.start()
        helper = Baton(server.api_url, work, server.log_path)
        yield helper
        helper.close()
    finally:
        rc = server.stop()
        if rc not in (0, None, -signal.SIGTERM):
            print(f"\nbaton server exited with code {rc} on SIGTERM; log tail:\n{tail(server.log_path)}")


@pytest.fixture
def needs_binary():
    """Skip a test that must start its own baton process when the suite targets an external server."""
    if EXTERNAL_API_URL:
        pytest.skip("needs the baton binary (COMPAT_API_URL is set)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Attach the tail of the server log to every failed test."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        helper = getattr(item, "funcargs", {}).get("baton")
        if isinstance(helper, Baton) and helper.log_path is not None:
            report.sections.append((f"baton server log tail ({helper.log_path})", tail(helper.log_path, 120)))
