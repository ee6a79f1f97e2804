"""kill -9 in the middle of a busy flow: nothing Baton acknowledged may be lost.

A flow with 200 sequential tasks runs against a private Baton. Once about half of its task runs are
visible through the API, the test snapshots everything visible (flow-run states, task runs and
their states), SIGKILLs the server, checks the database with `baton migrate validate`, restarts the
server on the same BATON_HOME and checks that every snapshotted row is still there.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import BATON_BIN, Baton, BatonServer, tail

TASKS = 200

SCRIPT = f'''
import time
from prefect import flow, task
from prefect.runtime import flow_run as current

@task(name="step")
def step(i):
    time.sleep(0.05)
    return i

@flow(name="compat-durability")
def many():
    emit({{"flow_run_id": str(current.id)}})
    for i in range({TASKS}):
        step(i)

many()
'''


def migrate_validate(home: Path) -> subprocess.CompletedProcess[str]:
    server = BatonServer(home, home / "unused.log")
    return subprocess.run(
        [str(BATON_BIN), "migrate", "validate"],
        env=server.env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_kill_9_loses_nothing_acknowledged(needs_binary, tmp_path: Path):
    home = tmp_path / "home"
    log_path = tmp_path / "server.log"
    server = BatonServer(home, log_path)
    client: subprocess.Popen[bytes] | None = None
    try:
        server.start()
        api = Baton(server.api_url, tmp_path / "client", log_path)
        out_path = tmp_path / "client.out"
        client = api.popen_py(SCRIPT, out_path)

        def flow_run_id():
            for line in out_path.read_text(errors="replace").splitlines():
                if line.startswith("COMPAT_RESULT "):
                    return json.loads(line.split(" ", 1)[1])["flow_run_id"]
            assert client.poll() is None, f"client exited early ({client.returncode}):\n{tail(out_path)}"
            return None

        fr_id = api.poll(flow_run_id, "the client to start the flow run", timeout=60)

        def half_recorded():
            assert client.poll() is None, f"client exited before the kill ({client.returncode}):\n{tail(out_path)}"
            runs = api.task_runs_of(fr_id)
            return runs if len(runs) >= TASKS // 2 else None

        api.poll(half_recorded, f"{TASKS // 2} task runs to be recorded", timeout=120, interval=0.2)

        # Snapshot what Baton has acknowledged: everything the API shows right now.
        flow_states = api.flow_run_states(fr_id)
        task_runs = api.task_runs_of(fr_id)
        task_states = {tr["id"]: {s["id"] for s in api.task_run_states(tr["id"])} for tr in task_runs}
        flow_run = api.flow_run(fr_id)
        assert flow_run["state_type"] == "RUNNING", (
            f"the flow finished before the kill (state {flow_run['state_type']}); the test needs a slower flow"
        )
        assert len(task_runs) < TASKS, "all task runs were recorded before the kill; the test needs a slower flow"

        print(
            f"killing baton with {len(task_runs)}/{TASKS} task runs, "
            f"{sum(len(v) for v in task_states.values())} task-run states and {len(flow_states)} flow-run states visible"
        )
        server.kill()
        client.kill()
        client.wait(timeout=30)
        api.close()

        validated = migrate_validate(home)
        assert validated.returncode == 0, (
            f"`baton migrate validate` after kill -9 exited {validated.returncode}\n"
            f"stdout: {validated.stdout}\nstderr: {validated.stderr}"
        )

        server = BatonServer(home, log_path)
        server.start()
        after = Baton(server.api_url, tmp_path / "client-after", log_path)
        try:
            after_flow_states = {s["id"] for s in after.flow_run_states(fr_id)}
            lost_flow_states = [(s["id"], s["name"]) for s in flow_states if s["id"] not in after_flow_states]
            assert not lost_flow_states, f"flow-run states lost by kill -9: {lost_flow_states}"

            after_runs = {tr["id"]: tr for tr in after.task_runs_of(fr_id)}
            lost_runs = [tr["id"] for tr in task_runs if tr["id"] not in after_runs]
            assert not lost_runs, f"{len(lost_runs)} of {len(task_runs)} task runs lost by kill -9: {lost_runs[:10]}"
            regressed = [
                (tr["id"], tr["state_name"], after_runs[tr["id"]]["state_name"])
                for tr in task_runs
                if tr["state_name"] == "Completed" and after_runs[tr["id"]]["state_name"] != "Completed"
            ]
            assert not regressed, f"task runs whose Completed state was lost: {regressed[:10]}"

            lost_states = []
            for tr_id, ids in task_states.items():
                now = {s["id"] for s in after.task_run_states(tr_id)}
                lost_states.extend((tr_id, sid) for sid in ids - now)
            assert not lost_states, f"{len(lost_states)} task-run states lost by kill -9: {lost_states[:10]}"
        finally:
            after.close()

        rc = server.stop()
        assert rc in (0, -15), f"restarted server exited {rc} on SIGTERM\n{tail(log_path)}"
        validated = migrate_validate(home)
        assert validated.returncode == 0, (
            f"`baton migrate validate` after restart exited {validated.returncode}\n"
            f"stdout: {validated.stdout}\nstderr: {validated.stderr}"
        )
    except BaseException:
        print(f"--- durability server log ({log_path}) ---\n{tail(log_path, 150)}")
        raise
    finally:
        if client is not None and client.poll() is None:
            client.kill()
            client.wait(timeout=30)
        server.stop()
