"""Pausing a flow run for input and resuming it from another process, with the real client.

The paused flow writes its input schema (a flow-run input), sets a Paused state naming the keyset and
polls; another process calls `resume_flow_run(id, run_input=...)`, which Baton validates against that
schema before moving the run to Running and storing the input for the flow to read. A pause that is
never resumed fails the run when its timeout passes, as with the Prefect server.
"""

from __future__ import annotations

import time
from pathlib import Path

from conftest import Baton, assert_no_client_warnings

PAUSED_FLOW = '''
from prefect import flow
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from prefect.context import get_run_context

class Approval(RunInput):
    approver: str
    count: int

@flow(name="compat-pause-input")
def needs_approval():
    print("RUN_ID", get_run_context().flow_run.id, flush=True)
    answer = pause_flow_run(wait_for_input=Approval, timeout=120, poll_interval=1)
    return f"{answer.approver}:{answer.count}"

state = needs_approval(return_state=True)
emit({"type": state.type.value, "result": state.result(raise_on_failure=False) if state.is_completed() else str(state.message)})
'''

RESUME = '''
import sys
from prefect.flow_runs import resume_flow_run
run_id = sys.argv[1] if len(sys.argv) > 1 else RUN_ID
try:
    resume_flow_run(run_id, run_input=RUN_INPUT)
    emit({"ok": True})
except Exception as exc:
    emit({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
'''


def _wait_paused(baton: Baton, proc, out: Path) -> str:
    def paused_id():
        assert proc.poll() is None, f"flow exited early:\n{out.read_text()}"
        for line in out.read_text().splitlines():
            if line.startswith("RUN_ID "):
                rid = line.split()[1]
                run = baton.flow_run(rid)
                return rid if run["state_type"] == "PAUSED" else None
        return None
    return Baton.poll(paused_id, "the flow to pause for input", timeout=60, interval=0.25)


def test_pause_for_input_resumed_from_another_process(baton: Baton, tmp_path: Path):
    out = tmp_path / "paused.out"
    proc = baton.popen_py(PAUSED_FLOW, out)
    try:
        rid = _wait_paused(baton, proc, out)
        run = baton.flow_run(rid)
        keyset = run["state"]["state_details"]["run_input_keyset"]
        assert keyset and keyset["schema"] and keyset["response"], run["state"]
        # The client proposes PAUSED first and saves the input schema right after, so wait for it.
        def schema_saved():
            got = baton.http.get(f"/flow_runs/{rid}/input/{keyset['schema']}")
            assert got.status_code == 200, got.text
            return got
        schema = Baton.poll(schema_saved, "the paused run's input schema", timeout=30, interval=0.25)
        assert "approver" in schema.text, schema.text

        # Input that does not fit the schema is refused; the run stays paused.
        bad = baton.run_py(f"RUN_ID = {rid!r}\nRUN_INPUT = {{'approver': 'ann', 'count': 'many'}}\n" + RESUME).result()
        assert bad["ok"] is False, bad
        assert baton.flow_run(rid)["state_type"] == "PAUSED"

        good = baton.run_py(f"RUN_ID = {rid!r}\nRUN_INPUT = {{'approver': 'ann', 'count': 3}}\n" + RESUME).ok()
        assert good.result() == {"ok": True}, good.describe()
        proc.wait(timeout=90)
        text = out.read_text()
        res = next(line for line in text.splitlines() if line.startswith("COMPAT_RESULT "))
        assert '"type": "COMPLETED"' in res and '"ann:3"' in res, text
        stored = baton.http.get(f"/flow_runs/{rid}/input/{keyset['response']}")
        assert stored.status_code == 200 and '"approver": "ann"' in stored.text.replace('":"', '": "'), stored.text
        names = [s["name"] for s in baton.flow_run_states(rid)]
        assert "Paused" in names and names[-1] == "Completed", names
    finally:
        if proc.poll() is None:
            proc.kill()


TIMEOUT_FLOW = '''
from prefect import flow
from prefect.flow_runs import pause_flow_run

@flow(name="compat-pause-timeout")
def waits_forever():
    pause_flow_run(timeout=2, poll_interval=1)
    return "resumed"

state = waits_forever(return_state=True)
emit({"type": state.type.value, "run_id": str(state.state_details.flow_run_id)})
'''


def test_pause_that_times_out_fails_the_run(baton: Baton):
    started = time.monotonic()
    run = baton.run_py(TIMEOUT_FLOW, timeout=90)
    res = run.result()
    assert res["type"] == "FAILED", run.describe()
    assert time.monotonic() - started < 60
    states = [s["type"] for s in baton.flow_run_states(res["run_id"])]
    assert "PAUSED" in states and states[-1] == "FAILED", states
    # Resuming a run that is no longer paused is an ABORT, not an error.
    r = baton.http.post(f"/flow_runs/{res['run_id']}/resume", json={})
    assert r.status_code == 200 and r.json()["status"] == "ABORT", r.text
