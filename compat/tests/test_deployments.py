"""Deployments, schedules, work pools and workers with the real Prefect client (issue 5).

- `flow.serve(interval=...)`: the scheduler creates runs ahead of time, the runner picks them up,
  they complete with the deployment's parameters.
- `prefect work-pool create` + `prefect deploy` + `prefect worker start`: `prefect deployment run`
  completes with its parameters; cancelling a running run ends CANCELLED with its process gone.
- Machine death (SIGKILL of the worker and its flow-run process): Baton's crash detection ends the run
  CRASHED within BATON_CRASH_WINDOW (set short on a private server).
- The same with `baton worker start` and a shell-command deployment.
- `prefect deployment run --watch` and `prefect flow-run watch` follow a run to its end (they read the
  /api/logs/out and /api/events/out websockets).
- `baton worker start` running a deployment whose command is a Prefect flow script makes exactly one flow
  run (the deployment's) and its INFO logs stay INFO.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import BATON_BIN, Baton, BatonServer, tail

PREFECT_BIN = str(Path(sys.executable).with_name("prefect"))

FLOWS_PY = '''
import time
from prefect import flow, get_run_logger

@flow(name="greeter")
def greet(who: str = "world", n: int = 1, sleep: float = 0):
    get_run_logger().info("hello %s x%s", who, n)
    time.sleep(sleep)
    return f"{who}:{n}"
'''


class Background:
    """A background process with its output in a file; stopped (by pid) at the end of the test."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path, out: Path) -> None:
        self.out = out
        with open(out, "wb") as fh:
            self.proc = subprocess.Popen(args, env=env, cwd=str(cwd), stdin=subprocess.DEVNULL, stdout=fh,
                                         stderr=subprocess.STDOUT, start_new_session=True)

    def log(self) -> str:
        return tail(self.out, 60)

    def kill_group(self) -> None:
        """SIGKILL the process and everything in its process group, as a machine dying would."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill_group()


def client_env(api: Baton, **extra: str) -> dict[str, str]:
    env = api.client_env()
    env.update(extra)
    return env


def fast_worker_env(api: Baton) -> dict[str, str]:
    return client_env(api, PREFECT_WORKER_QUERY_SECONDS="1", PREFECT_WORKER_HEARTBEAT_SECONDS="2",
                      PREFECT_RUNNER_POLL_FREQUENCY="1")


def prefect(api: Baton, cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    p = subprocess.run([PREFECT_BIN, "--no-prompt", *args], env=fast_worker_env(api), cwd=str(cwd),
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"prefect {' '.join(args)} failed ({p.returncode})\n{p.stdout}\n{p.stderr}"
    return p


def baton_cli(api: Baton, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BATON_"))}
    env.update(BATON_API_URL=api.api_url, BATON_HOME=str(api.work_dir / "baton-client"))
    p = subprocess.run([str(BATON_BIN), *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"baton {' '.join(args)} failed ({p.returncode})\n{p.stdout}\n{p.stderr}"
    return p


def baton_worker(api: Baton, pool: str, out: Path, *extra: str) -> Background:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BATON_"))}
    # PREFECT_HOME keeps the flow scripts the worker runs out of the real ~/.prefect.
    env.update(BATON_API_URL=api.api_url, BATON_HOME=str(api.work_dir / "baton-client"), PREFECT_HOME=str(api.prefect_home))
    return Background([str(BATON_BIN), "worker", "start", "--pool", pool, "--heartbeat", "1s", "--kill-grace", "5s", *extra],
                      env, api.work_dir, out)


def run_state(api: Baton, run_id: str) -> dict:
    return api.flow_run(run_id)


def wait_state(api: Baton, run_id: str, names: tuple[str, ...], timeout: float, proc: Background | None = None) -> dict:
    def check():
        run = run_state(api, run_id)
        assert run["state"]["name"] in names, f"state is {run['state']['type']}/{run['state']['name']}"
        return run
    try:
        return Baton.poll(check, f"flow run {run_id} to reach {names}", timeout=timeout, interval=0.25)
    except BaseException:
        if proc is not None:
            print(f"--- process log ---\n{proc.log()}")
        raise


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie counts as gone: it runs nothing.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def wait_heartbeats(api: Baton, run_id: str, n: int, timeout: float) -> None:
    """Wait until the run has sent n prefect.flow-run.heartbeat events (its cadence is then known)."""
    body = {"filter": {"event": {"name": ["prefect.flow-run.heartbeat"]},
                       "resource": {"id": [f"prefect.flow-run.{run_id}"]}}, "limit": 50}

    def enough():
        got = api.call("POST", "/events/filter", body, expect=(200,))
        return len(got["events"]) >= n
    Baton.poll(enough, f"{n} heartbeats of flow run {run_id}", timeout=timeout, interval=0.5)


def infra_pid(run: dict) -> int:
    """The process id the worker recorded, or 0 while it has not recorded one yet."""
    raw = str(run.get("infrastructure_pid") or "").rsplit(":", 1)[-1]
    return int(raw) if raw.isdigit() else 0


def create_deployment_run(api: Baton, cwd: Path, ref: str, *params: str) -> str:
    args = ["deployment", "run", ref]
    for p in params:
        args += ["-p", p]
    out = prefect(api, cwd, *args).stdout
    for line in out.splitlines():
        if "UUID:" in line:
            return line.split("UUID:")[-1].strip()
    pytest.fail(f"no flow run id in `prefect deployment run` output:\n{out}")


# --------------------------------------------------------------------------------------------------


def test_serve_interval_runs_complete(baton: Baton, tmp_path: Path):
    script = baton.write_script('''
from prefect import flow, get_run_logger

@flow(name="compat-served")
def served(x: int = 1):
    get_run_logger().info("served x=%s", x)
    return x * 2

if __name__ == "__main__":
    served.serve(name="every3", interval=3, parameters={"x": 21})
''', prelude=False)
    proc = Background([sys.executable, str(script)], fast_worker_env(baton), script.parent, tmp_path / "serve.out")
    try:
        dep = Baton.poll(lambda: (baton.call("GET", "/deployments/name/compat-served/every3", expect=(200, 404)) or {}).get("id") and
                         baton.call("GET", "/deployments/name/compat-served/every3"),
                         "the served deployment to be registered", timeout=60)
        assert dep["schedules"] and dep["schedules"][0]["schedule"]["interval"] == 3

        def completed():
            runs = baton.call("POST", "/flow_runs/filter", {"flow_runs": {"deployment_id": {"any_": [dep["id"]]}}}, expect=(200,))
            done = [r for r in runs if r["state_type"] == "COMPLETED"]
            # Each run is a fresh Python process started by the runner: allow for a loaded machine,
            # and say where the runs are when it takes too long.
            assert len(done) >= 2, sorted(f'{r["name"]}: {r["state_name"]}' for r in runs)
            return done
        runs = Baton.poll(completed, "two scheduled runs of the served deployment to complete", timeout=150)
        for run in runs:
            assert run["auto_scheduled"] is True, run
            assert run["parameters"] == {"x": 21}, run["parameters"]
            assert "auto-scheduled" in run["tags"]
        upcoming = baton.call("POST", "/flow_runs/filter", {"flow_runs": {
            "deployment_id": {"any_": [dep["id"]]}, "state": {"type": {"any_": ["SCHEDULED"]}}}}, expect=(200,))
        assert upcoming, "the scheduler keeps runs scheduled ahead"
        keys = [r["idempotency_key"] for r in runs + upcoming]
        assert len(keys) == len(set(keys)), "a scheduled time was turned into two runs"
    finally:
        proc.stop()
        if proc.proc.returncode not in (0, -signal.SIGTERM, 143, 1):
            print(proc.log())


@pytest.fixture(scope="module")
def prefect_pool(baton: Baton, tmp_path_factory: pytest.TempPathFactory):
    """A process pool with `prefect deploy`ed greeter/compat-dep and a `prefect worker` serving it."""
    work = tmp_path_factory.mktemp("prefect-deploy")
    (work / "flows.py").write_text(FLOWS_PY)
    prefect(baton, work, "work-pool", "create", "compat-process", "--type", "process")
    pool = baton.call("GET", "/work_pools/compat-process")
    assert pool["type"] == "process" and pool["default_queue_id"], pool
    prefect(baton, work, "deploy", "flows.py:greet", "--name", "compat-dep", "--pool", "compat-process")
    worker = Background([PREFECT_BIN, "worker", "start", "--pool", "compat-process"], fast_worker_env(baton), work, work / "worker.out")
    try:
        Baton.poll(lambda: baton.call("POST", "/work_pools/compat-process/workers/filter", {}, expect=(200,)),
                   "the prefect worker to heartbeat", timeout=60)
        yield work, worker
    finally:
        worker.stop()


def test_prefect_worker_runs_deployment_with_parameters(baton: Baton, prefect_pool):
    work, worker = prefect_pool
    run_id = create_deployment_run(baton, work, "greeter/compat-dep", "who=baton", "n=3")
    run = wait_state(baton, run_id, ("Completed",), timeout=90, proc=worker)
    assert run["parameters"] == {"who": "baton", "n": 3}, run["parameters"]
    assert run["labels"].get("prefect.work-pool.name") == "compat-process", run["labels"]
    Baton.poll(lambda: any("hello baton x3" in l["message"] for l in baton.logs_of(run_id)),
               "the flow's log line (sent after the run ends)", timeout=30)


def client_streams_watched_runs() -> bool:
    """Whether this client's `prefect deployment run --watch` streams the run's logs and events
    (prefect.cli.flow_runs_watching, from 3.4); older clients poll the run's state until it ends."""
    return importlib.util.find_spec("prefect.cli.flow_runs_watching") is not None


def client_has_flow_run_watch() -> bool:
    """Whether this client has `prefect flow-run watch` (3.9 has it; 3.4 and 3.1 do not)."""
    return hasattr(importlib.import_module("prefect.cli.flow_run"), "watch")


def test_prefect_deployment_run_watch_completes(baton: Baton, prefect_pool):
    """`prefect deployment run --watch` follows the run until it ends: clients from 3.4 stream its logs and
    events (they need the /api/logs/out websocket), older ones poll its state. Then `prefect flow-run watch`
    (where the client has it) on the finished run returns at once."""
    work, worker = prefect_pool
    p = subprocess.run([PREFECT_BIN, "--no-prompt", "deployment", "run", "greeter/compat-dep", "-p", "who=watcher",
                        "--watch", "--watch-timeout", "120"], env=fast_worker_env(baton), cwd=str(work),
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180)
    out = p.stdout + p.stderr
    assert p.returncode == 0, f"prefect deployment run --watch failed ({p.returncode})\n{out}\n--- worker ---\n{worker.log()}"
    assert "Flow run finished successfully in 'Completed'" in out, out
    if client_streams_watched_runs():
        assert "hello watcher x1" in out, f"the run's log line did not come through /logs/out:\n{out}"
        assert "stream closed unexpectedly" not in out, out
    run_id = next(line.split("UUID:")[-1].strip() for line in out.splitlines() if "UUID:" in line)
    assert run_state(baton, run_id)["state"]["type"] == "COMPLETED"
    if not client_has_flow_run_watch():
        return
    w = subprocess.run([PREFECT_BIN, "--no-prompt", "flow-run", "watch", run_id], env=fast_worker_env(baton), cwd=str(work),
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert w.returncode == 0 and "Completed" in w.stdout + w.stderr, w.stdout + w.stderr


def test_prefect_flow_run_watch_follows_a_running_run(baton: Baton, prefect_pool):
    if not client_has_flow_run_watch():
        pytest.skip("this Prefect client has no `prefect flow-run watch`")
    work, worker = prefect_pool
    run_id = create_deployment_run(baton, work, "greeter/compat-dep", "who=follower", "sleep=12")
    wait_state(baton, run_id, ("Running",), timeout=90, proc=worker)
    w = subprocess.run([PREFECT_BIN, "--no-prompt", "flow-run", "watch", run_id, "--timeout", "120"], env=fast_worker_env(baton),
                       cwd=str(work), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180)
    out = w.stdout + w.stderr
    assert w.returncode == 0, f"prefect flow-run watch failed ({w.returncode})\n{out}"
    assert "Flow run finished successfully in 'Completed'" in out, out


def test_prefect_worker_cancellation_kills_process(baton: Baton, prefect_pool):
    work, worker = prefect_pool
    run_id = create_deployment_run(baton, work, "greeter/compat-dep", "sleep=120")
    run = wait_state(baton, run_id, ("Running",), timeout=90, proc=worker)
    pid = Baton.poll(lambda: infra_pid(run_state(baton, run_id)) or None, "the worker to record the process id", timeout=20)
    assert pid_alive(pid)
    prefect(baton, work, "flow-run", "cancel", run_id)
    wait_state(baton, run_id, ("Cancelled",), timeout=60, proc=worker)
    Baton.poll(lambda: not pid_alive(pid), f"flow-run process {pid} to exit", timeout=30)


def crash_server(tmp_path: Path, window: str) -> BatonServer:
    class CrashServer(BatonServer):
        def env(self) -> dict[str, str]:
            env = super().env()
            env["BATON_CRASH_WINDOW"] = window
            return env
    server = CrashServer(tmp_path / "home", tmp_path / "server.log")
    server.start()
    return server


def test_prefect_worker_machine_death_is_crashed(needs_binary, tmp_path: Path):
    server = crash_server(tmp_path, "5s")
    worker = None
    try:
        api = Baton(server.api_url, tmp_path / "client", server.log_path)
        work = tmp_path / "project"
        work.mkdir()
        (work / "flows.py").write_text(FLOWS_PY)
        prefect(api, work, "work-pool", "create", "doomed", "--type", "process")
        prefect(api, work, "deploy", "flows.py:greet", "--name", "doomed", "--pool", "doomed")
        # The engine heartbeats every 30 s (Prefect's minimum; the default is 180 s) and the worker every
        # 2 s. Baton consults the claiming worker first: once it is silent past the window (5 s here, or two
        # of its intervals) and the run has not beaten within the window either, the run is dead.
        env = fast_worker_env(api)
        env["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] = "30"
        worker = Background([PREFECT_BIN, "worker", "start", "--pool", "doomed"], env, work, work / "worker.out")
        run_id = create_deployment_run(api, work, "greeter/doomed", "sleep=600")
        wait_state(api, run_id, ("Running",), timeout=90, proc=worker)
        pid = Baton.poll(lambda: infra_pid(run_state(api, run_id)) or None, "the worker to record the process id", timeout=20)
        wait_heartbeats(api, run_id, 2, timeout=60)
        # The machine dies: the worker and the flow-run process vanish at once.
        worker.kill_group()
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        run = wait_state(api, run_id, ("Crashed",), timeout=120)
        took = time.monotonic() - killed
        assert took < 15, f"crashed {took:.1f}s after the machine died (5 s window, 2 s worker heartbeats)"
        assert "sign of life" in (run["state"]["message"] or ""), run["state"]
    finally:
        if worker is not None:
            worker.stop()
        server.stop()


# ---- Baton's own worker with a shell-command deployment -------------------------------------------


@pytest.fixture(scope="module")
def baton_pool(baton: Baton, tmp_path_factory: pytest.TempPathFactory):
    if not BATON_BIN.exists():
        pytest.skip("needs the baton binary")
    work = tmp_path_factory.mktemp("baton-worker")
    baton_cli(baton, "work-pool", "create", "compat-baton")
    baton_cli(baton, "deployment", "create", "shell-hello", "--pool", "compat-baton", "--flow", "compat-shell",
              "--command", 'echo "hello $BATON_PARAM_WHO x$BATON_PARAM_N"; sleep "${BATON_PARAM_SLEEP:-0}"', "--param", "who=world")
    worker = baton_worker(baton, "compat-baton", work / "worker.out")
    try:
        Baton.poll(lambda: baton.call("POST", "/work_pools/compat-baton/workers/filter", {}, expect=(200,)),
                   "baton worker to heartbeat", timeout=30)
        yield work, worker
    finally:
        worker.stop()


def test_baton_worker_runs_shell_deployment(baton: Baton, baton_pool):
    work, worker = baton_pool
    started = time.monotonic()
    out = baton_cli(baton, "deployment", "run", "compat-shell/shell-hello", "--param", "who=baton", "--param", "n=3",
                    "--watch", "--timeout", "60s").stdout
    took = time.monotonic() - started
    run_id = out.split("(")[1].split(")")[0]
    run = run_state(baton, run_id)
    assert run["state"]["type"] == "COMPLETED", run["state"]
    assert run["parameters"] == {"who": "baton", "n": 3}, run["parameters"]
    assert took < 10, f"the long-polling worker took {took:.1f}s to run a trivial command"
    logs = baton_cli(baton, "flow-run", "logs", run_id).stdout
    assert "hello baton x3" in logs, logs


FLOW_SCRIPT = '''
from prefect import flow, get_run_logger

@flow(name="compat-script")
def script_flow(who: str = "world"):
    logger = get_run_logger()
    logger.info("script says hello %s", who)
    logger.warning("script warns %s", who)
    return who

if __name__ == "__main__":
    script_flow()
'''


def test_baton_worker_runs_prefect_script_as_the_deployment_run(baton: Baton, baton_pool):
    """A deployment whose command is `python flow_script.py`: Baton's worker hands the run to Prefect's engine,
    so there is exactly one flow run (the deployment's, with its parameters) and its logs keep their levels."""
    work, worker = baton_pool
    (work / "flow_script.py").write_text(FLOW_SCRIPT)
    baton_cli(baton, "deployment", "create", "script-dep", "--pool", "compat-baton", "--flow", "compat-script",
              "--command", f"{sys.executable} flow_script.py", "--dir", str(work), "--param", "who=deployment")
    out = baton_cli(baton, "deployment", "run", "compat-script/script-dep", "--watch", "--timeout", "120s", timeout=180).stdout
    run_id = out.split("(")[1].split(")")[0]
    runs = baton.call("POST", "/flow_runs/filter", {"flows": {"name": {"any_": ["compat-script"]}}}, expect=(200,))
    assert [r["id"] for r in runs] == [run_id], f"expected exactly the deployment's run, got {[(r['id'], r['name'], r['deployment_id']) for r in runs]}"
    run = run_state(baton, run_id)
    assert run["state"]["type"] == "COMPLETED", run["state"]
    assert run["parameters"] == {"who": "deployment"}, run["parameters"]

    def logs():
        got = {l["message"]: l["level"] for l in baton.logs_of(run_id)}
        hello = [m for m in got if "script says hello deployment" in m]
        warn = [m for m in got if "script warns deployment" in m]
        return (got, hello, warn) if hello and warn else None
    got, hello, warn = Baton.poll(logs, "the script's log lines", timeout=30)
    assert all(got[m] == 20 for m in hello), got
    assert all(got[m] == 30 for m in warn), got
    assert not [m for m, level in got.items() if level >= 40], f"ERROR-level logs of a run that went fine: {got}"


def test_baton_worker_cancellation_kills_process(baton: Baton, baton_pool):
    work, worker = baton_pool
    out = baton_cli(baton, "deployment", "run", "compat-shell/shell-hello", "--param", "sleep=300").stdout
    run_id = out.split("(")[1].split(")")[0]
    wait_state(baton, run_id, ("Running",), timeout=30, proc=worker)
    pid = Baton.poll(lambda: infra_pid(run_state(baton, run_id)) or None, "the worker to record the process id", timeout=20)
    baton_cli(baton, "flow-run", "cancel", run_id)
    wait_state(baton, run_id, ("Cancelled",), timeout=30, proc=worker)
    Baton.poll(lambda: not pid_alive(pid), f"shell process {pid} to exit", timeout=20)


def test_baton_worker_machine_death_is_crashed(needs_binary, tmp_path: Path):
    server = crash_server(tmp_path, "4s")
    worker = None
    try:
        api = Baton(server.api_url, tmp_path / "client", server.log_path)
        baton_cli(api, "work-pool", "create", "doomed")
        baton_cli(api, "deployment", "create", "long", "--pool", "doomed", "--command", "sleep 300")
        worker = baton_worker(api, "doomed", tmp_path / "worker.out")
        out = baton_cli(api, "deployment", "run", "long/long").stdout
        run_id = out.split("(")[1].split(")")[0]
        wait_state(api, run_id, ("Running",), timeout=30, proc=worker)
        pid = Baton.poll(lambda: infra_pid(run_state(api, run_id)) or None, "the worker to record the process id", timeout=20)
        wait_heartbeats(api, run_id, 2, timeout=20)
        worker.kill_group()
        if pid_alive(pid):
            os.killpg(pid, signal.SIGKILL)
        killed = time.monotonic()
        run = wait_state(api, run_id, ("Crashed",), timeout=30)
        assert time.monotonic() - killed < 15
        assert "sign of life" in (run["state"]["message"] or ""), run["state"]
    finally:
        if worker is not None:
            worker.stop()
        server.stop()
