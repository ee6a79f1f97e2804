"""Tag-based concurrency limits with the real CLI and task engine.

`prefect concurrency-limit create|inspect|ls|reset|delete` manage the limit; the task engine takes a
slot for each tag through Baton's lease API before a tagged task runs, so a limit of 1 must serialize
tagged tasks submitted concurrently (measured overlap 0), and a slot held by a process that is killed
must come back when its lease lapses (the client's task leases last 60 s; Baton's reaper frees them). A 3.1
client takes its slot through the v1 increment route and cannot renew a lease, so its slot is held until released;
once the flow run of the killed task is reported crashed (as a worker does), Baton's reaper frees it.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

from conftest import Baton, assert_no_client_warnings, client_takes_tag_leases
from test_deployments import prefect


def limit_of(baton: Baton, tag: str) -> dict:
    return baton.call("GET", f"/concurrency_limits/tag/{tag}", expect=(200,))


SERIAL = '''
import time
from prefect import flow, task
from prefect.task_runners import ThreadPoolTaskRunner

@task(tags=["compat-serial"])
def work(i):
    start = time.time()
    time.sleep(0.4)
    return (start, time.time())

@flow(name="compat-tag-limit", task_runner=ThreadPoolTaskRunner(max_workers=5))
def fan_out():
    futures = [work.submit(i) for i in range(5)]
    return [f.result() for f in futures]

state = fan_out(return_state=True)
emit({"type": state.type.value, "intervals": state.result()})
'''


def test_tag_limit_of_one_serializes_tagged_tasks(baton: Baton, tmp_path: Path):
    out = prefect(baton, tmp_path, "concurrency-limit", "create", "compat-serial", "1").stdout
    assert "compat-serial" in out, out
    try:
        run = baton.run_py(SERIAL, timeout=180).ok()
        # The engine logs while it waits for a slot; that is the limit working, not a complaint.
        assert_no_client_warnings(run, allowed=("concurrency", "Concurrency"))
        res = run.result()
        assert res["type"] == "COMPLETED", res
        spans = sorted(res["intervals"])
        assert len(spans) == 5, spans
        overlap = sum(max(0.0, prev_end - start) for (_, prev_end), (start, _) in zip(spans, spans[1:]))
        print(f"\n5 tasks under a limit of 1: overlap {overlap:.3f} s, wall {spans[-1][1] - spans[0][0]:.2f} s")
        assert overlap == 0, f"tagged tasks overlapped by {overlap:.3f} s: {spans}"
        assert limit_of(baton, "compat-serial")["active_slots"] == [], "every slot is released after the flow"
        ls = prefect(baton, tmp_path, "concurrency-limit", "ls").stdout
        assert "compat-serial" in ls or "compat-se" in ls, ls
        inspect = prefect(baton, tmp_path, "concurrency-limit", "inspect", "compat-serial").stdout
        assert "compat-serial" in inspect, inspect
    finally:
        prefect(baton, tmp_path, "concurrency-limit", "delete", "compat-serial")
    assert baton.http.get("/concurrency_limits/tag/compat-serial").status_code == 404


HOLDER = '''
import time
from prefect import flow, task

@task(tags=["compat-killed"])
def hold():
    print("HOLDING", flush=True)
    time.sleep(600)

@flow(name="compat-tag-holder")
def holder():
    hold()

holder()
'''

QUICK = '''
from prefect import flow, task

@task(tags=["compat-killed"])
def quick():
    return 1

@flow(name="compat-tag-after-kill")
def after():
    return quick()

state = after(return_state=True)
emit({"type": state.type.value})
'''


def test_slot_of_a_killed_process_is_released(baton: Baton, tmp_path: Path):
    prefect(baton, tmp_path, "concurrency-limit", "create", "compat-killed", "1")
    proc = baton.popen_py(HOLDER, tmp_path / "holder.out")
    try:
        held = Baton.poll(lambda: limit_of(baton, "compat-killed")["active_slots"], "the task to hold the slot", timeout=60)
        assert len(held) == 1, held
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        killed = time.monotonic()
        if not client_takes_tag_leases():
            # The slot has no lease that could lapse: report the crash as the run's worker would; the reaper
            # then frees the slots of the ended flow run's task runs.
            holder = baton.call("GET", f"/task_runs/{held[0]}", expect=(200,))
            baton.call("POST", f"/flow_runs/{holder['flow_run_id']}/set_state",
                       {"state": {"type": "CRASHED", "message": "killed"}, "force": True}, expect=(201,))
        # The task engine's lease lasts 60 s and is no longer renewed; the reaper frees it after that.
        Baton.poll(lambda: limit_of(baton, "compat-killed")["active_slots"] == [], "the dead holder's slot to be released", timeout=100, interval=0.5)
        print(f"\nslot released {time.monotonic() - killed:.1f} s after the holder was killed")
        run = baton.run_py(QUICK, timeout=120).ok()
        assert run.result()["type"] == "COMPLETED"
        prefect(baton, tmp_path, "concurrency-limit", "reset", "compat-killed")
        assert limit_of(baton, "compat-killed")["active_slots"] == []
    finally:
        if proc.poll() is None:
            proc.kill()
        prefect(baton, tmp_path, "concurrency-limit", "delete", "compat-killed")
