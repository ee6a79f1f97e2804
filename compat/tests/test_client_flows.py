"""The real Prefect client runs flows against Baton; every outcome is checked through Baton's API.

Each test runs one client script in a fresh process, checks that the client did not complain about
the server, then reads flow runs, task runs, state histories and logs back from Baton. Task runs
arrive as websocket events, so reads that depend on them poll for a few seconds.
"""

from __future__ import annotations

import re
from datetime import datetime

from conftest import Baton, assert_no_client_warnings, client_takes_tag_leases


def ts(value: str) -> datetime:
    """Parse an ISO-8601 timestamp from the API (Z or an offset, 0-9 fraction digits)."""
    v = value.strip().replace(" ", "T")
    if v.endswith("Z"):
        v = v[:-1] + "+00:00"
    m = re.match(r"^(.*T\d\d:\d\d:\d\d)(\.\d+)?(.*)$", v)
    assert m, f"not an ISO-8601 datetime: {value!r}"
    frac = (m.group(2) or "")[:7].ljust(7, "0") if m.group(2) else ""
    return datetime.fromisoformat(m.group(1) + frac + (m.group(3) or ""))


def state_of(run: dict) -> tuple[str | None, str | None]:
    state = run.get("state") or {}
    return state.get("type"), state.get("name")


def wait_task_runs(baton: Baton, flow_run_id: str, count: int, final: bool = True) -> list[dict]:
    """Poll until the flow run has `count` task runs, all in a final state if `final`."""

    def ready():
        runs = baton.task_runs_of(flow_run_id)
        if len(runs) != count:
            return None
        if final and any(r.get("state_type") not in ("COMPLETED", "FAILED", "CANCELLED", "CRASHED") for r in runs):
            return None
        return runs

    return baton.poll(ready, f"{count} finished task runs of flow run {flow_run_id}")


def test_basic_flow_from_the_seed(baton: Baton):
    """(a) The seed's basic_flow.py: flow run COMPLETED and the user's WARNING stored with it."""
    script = '''
from prefect import flow, get_run_logger

@flow(name="Testing")
def basic_flow():
    logger = get_run_logger()
    logger.warning("The fun is about to begin")

if __name__ == "__main__":
    basic_flow()
'''
    run = baton.run_py(script, prelude=False).ok()
    assert_no_client_warnings(run)
    m = re.search(r"Beginning flow run '([^']+)' for flow 'Testing'", run.output)
    assert m, f"client did not report the created flow run\n{run.describe()}"
    assert "The fun is about to begin" in run.output

    runs = baton.flow_runs_named(m.group(1))
    assert len(runs) == 1, f"expected one flow run named {m.group(1)!r}, got {len(runs)}"
    flow_run = baton.flow_run(runs[0]["id"])
    assert state_of(flow_run) == ("COMPLETED", "Completed"), flow_run.get("state")
    assert flow_run.get("state_type") == "COMPLETED"
    flow = baton.call("GET", f"/flows/{flow_run['flow_id']}")
    assert flow["name"] == "Testing"

    def warning_logged():
        logs = baton.logs_of(flow_run["id"])
        return [l for l in logs if l.get("message") == "The fun is about to begin"]

    found = baton.poll(warning_logged, "the user's warning in POST /logs/filter")
    assert len(found) == 1, f"warning stored {len(found)} times: {found}"
    assert found[0]["level"] == 30, found[0]
    assert found[0]["flow_run_id"] == flow_run["id"]
    assert found[0]["task_run_id"] is None, found[0]

    # The engine's own lines are stored too, and the run's timing and history are filled in.
    messages = [l["message"] for l in baton.logs_of(flow_run["id"])]
    assert any(m.startswith("Finished in state Completed") for m in messages), messages
    assert flow_run.get("start_time") and flow_run.get("end_time"), flow_run
    assert ts(flow_run["start_time"]) <= ts(flow_run["end_time"])
    assert flow_run["run_count"] == 1, flow_run["run_count"]
    history = [s["name"] for s in baton.flow_run_states(flow_run["id"])]
    assert history == ["Pending", "Running", "Completed"], history


def test_task_consumes_other_task_result(baton: Baton):
    """(b) b(a()): both task runs COMPLETED, and b's task_inputs point at a's task run."""
    script = '''
from prefect import flow, task

@task(name="produce")
def produce():
    # A dict, not a small int: the client links results to task runs by object identity, which
    # it cannot do for interned values such as 21.
    return {"value": 21}

@task(name="consume")
def consume(x):
    return x["value"] * 2

@flow(name="compat-dependency")
def dependency_flow():
    return consume(produce())

state = dependency_flow(return_state=True)
emit({"flow_run_id": state.state_details.flow_run_id, "type": state.type.value, "result": state.result()})
'''
    run = baton.run_py(script).ok()
    assert_no_client_warnings(run)
    res = run.result()
    assert res["type"] == "COMPLETED" and res["result"] == 42, res

    task_runs = wait_task_runs(baton, res["flow_run_id"], 2)
    by_name = {r["name"].rsplit("-", 1)[0]: r for r in task_runs}
    assert set(by_name) == {"produce", "consume"}, [r["name"] for r in task_runs]
    for name, tr in by_name.items():
        assert tr["state_type"] == "COMPLETED", (name, tr.get("state"))
        assert state_of(tr) == ("COMPLETED", "Completed"), (name, tr.get("state"))
        assert tr["run_count"] == 1, (name, tr["run_count"])
    a, b = by_name["produce"], by_name["consume"]
    inputs = b.get("task_inputs") or {}
    assert inputs.get("x") == [{"input_type": "task_run", "id": a["id"]}], f"consume.task_inputs = {inputs}"
    for name, tr in by_name.items():
        history = [s["name"] for s in baton.task_run_states(tr["id"])]
        assert history == ["Pending", "Running", "Completed"], (name, history)
    # Reading a single task run gives the same answer as the filter.
    assert baton.task_run(b["id"])["task_inputs"]["x"][0]["id"] == a["id"]


def test_task_retry(baton: Baton):
    """(c) A task that fails once with retries=1 ends COMPLETED after two runs, via a Retrying state."""
    script = '''
from prefect import flow, task

attempts = {"n": 0}

@task(name="flaky", retries=1)
def flaky():
    attempts["n"] += 1
    if attempts["n"] == 1:
        raise RuntimeError("first attempt fails on purpose")
    return "ok"

@flow(name="compat-task-retry")
def task_retry_flow():
    return flaky()

state = task_retry_flow(return_state=True)
emit({"flow_run_id": state.state_details.flow_run_id, "type": state.type.value, "attempts": attempts["n"]})
'''
    run = baton.run_py(script).ok()
    assert_no_client_warnings(run)
    res = run.result()
    assert res["type"] == "COMPLETED" and res["attempts"] == 2, res

    (tr,) = wait_task_runs(baton, res["flow_run_id"], 1)
    assert tr["state_type"] == "COMPLETED", tr.get("state")
    assert tr["run_count"] == 2, f"run_count = {tr['run_count']}"

    def history():
        names = [s.get("name") for s in baton.task_run_states(tr["id"])]
        return names if {"Retrying", "Completed"} <= set(names) else None

    names = baton.poll(history, f"Retrying and Completed in GET /task_run_states/?task_run_id={tr['id']}")
    assert names.count("Completed") == 1, names


def test_flow_retry(baton: Baton):
    """(d) A flow with retries=1 that fails first ends COMPLETED after two runs, via AwaitingRetry."""
    script = '''
from prefect import flow

attempts = {"n": 0}

@flow(name="compat-flow-retry", retries=1, retry_delay_seconds=0)
def flow_retry_flow():
    attempts["n"] += 1
    if attempts["n"] == 1:
        raise RuntimeError("first flow attempt fails on purpose")
    return "ok"

state = flow_retry_flow(return_state=True)
emit({"flow_run_id": state.state_details.flow_run_id, "type": state.type.value, "attempts": attempts["n"]})
'''
    run = baton.run_py(script).ok()
    assert_no_client_warnings(run)
    res = run.result()
    assert res["type"] == "COMPLETED" and res["attempts"] == 2, res

    flow_run = baton.flow_run(res["flow_run_id"])
    assert state_of(flow_run) == ("COMPLETED", "Completed"), flow_run.get("state")
    assert flow_run["run_count"] == 2, f"run_count = {flow_run['run_count']}"
    states = baton.flow_run_states(flow_run["id"])
    names = [s.get("name") for s in states]
    assert "AwaitingRetry" in names, f"flow run state history: {names}"
    awaiting = next(s for s in states if s.get("name") == "AwaitingRetry")
    assert awaiting["type"] == "SCHEDULED", awaiting
    assert names == ["Pending", "Running", "AwaitingRetry", "Running", "Completed"], names


def test_subflow(baton: Baton):
    """(e) A subflow's run points at a COMPLETED task run of the parent flow run."""
    script = '''
from prefect import flow
from prefect.runtime import flow_run as current

@flow(name="compat-child")
def child():
    return str(current.id)

@flow(name="compat-parent")
def parent():
    return child()

state = parent(return_state=True)
emit({"flow_run_id": state.state_details.flow_run_id, "type": state.type.value, "child_id": state.result()})
'''
    run = baton.run_py(script).ok()
    assert_no_client_warnings(run)
    res = run.result()
    assert res["type"] == "COMPLETED", res
    parent = baton.flow_run(res["flow_run_id"])
    child = baton.flow_run(res["child_id"])
    assert state_of(parent)[0] == "COMPLETED", parent.get("state")
    assert state_of(child)[0] == "COMPLETED", child.get("state")
    assert child["parent_task_run_id"], f"child flow run has no parent_task_run_id: {child}"
    assert parent["parent_task_run_id"] is None, parent["parent_task_run_id"]

    def tracking_task_completed():
        tr = baton.task_run(child["parent_task_run_id"])
        assert tr["flow_run_id"] == parent["id"], f"tracking task run belongs to flow run {tr['flow_run_id']}"
        return tr if tr.get("state_type") == "COMPLETED" else None

    baton.poll(tracking_task_completed, f"tracking task run {child['parent_task_run_id']} to be COMPLETED")
    assert child["parent_task_run_id"] in [r["id"] for r in baton.task_runs_of(parent["id"])]


def test_failing_flow(baton: Baton):
    """(f) A flow that raises ValueError("boom") ends FAILED with the message in its state."""
    script = '''
from prefect import flow

@flow(name="compat-fails")
def failing_flow():
    raise ValueError("boom")

state = failing_flow(return_state=True)
emit({"flow_run_id": state.state_details.flow_run_id, "type": state.type.value, "message": state.message})
'''
    run = baton.run_py(script).ok()
    assert_no_client_warnings(run)
    res = run.result()
    assert res["type"] == "FAILED", res
    flow_run = baton.flow_run(res["flow_run_id"])
    state = flow_run.get("state") or {}
    assert state.get("type") == "FAILED", state
    assert "boom" in (state.get("message") or ""), f"state message: {state.get('message')!r}"
    assert flow_run["state_type"] == "FAILED"
    assert flow_run.get("end_time"), "a FAILED flow run has an end_time"
    history = baton.flow_run_states(flow_run["id"])
    assert [s["type"] for s in history][-1] == "FAILED", [s["type"] for s in history]


def test_tag_concurrency_limit(baton: Baton):
    """(g) With a v2 limit tag:db of 1, two concurrently submitted db-tagged tasks never overlap."""
    existing = baton.http.get("/v2/concurrency_limits/tag:db")
    if existing.status_code == 200:
        baton.call("DELETE", "/v2/concurrency_limits/tag:db", expect=(200, 204))
    created = baton.call("POST", "/v2/concurrency_limits/", {"name": "tag:db", "limit": 1})
    assert created["name"] == "tag:db" and created["limit"] == 1, created
    try:
        script = '''
import time
from prefect import flow, task
from prefect.task_runners import ThreadPoolTaskRunner

@task(name="guarded", tags=["db"])
def guarded(i):
    start = time.time()
    time.sleep(1)
    return {"i": i, "start": start, "end": time.time()}

@flow(name="compat-tag-limit", task_runner=ThreadPoolTaskRunner(max_workers=4))
def limited():
    futures = [guarded.submit(i) for i in range(2)]
    return [f.result() for f in futures]

state = limited(return_state=True)
emit({"flow_run_id": state.state_details.flow_run_id, "type": state.type.value, "spans": state.result()})
'''
        run = baton.run_py(script, timeout=180).ok()
        assert_no_client_warnings(run)
        res = run.result()
        assert res["type"] == "COMPLETED", res
        spans = sorted(res["spans"], key=lambda s: s["start"])
        assert len(spans) == 2
        assert spans[0]["end"] <= spans[1]["start"], f"task bodies overlapped: {spans}"

        task_runs = wait_task_runs(baton, res["flow_run_id"], 2)
        intervals = []
        for tr in task_runs:
            assert tr["state_type"] == "COMPLETED", tr.get("state")
            assert "db" in tr["tags"], tr["tags"]
            assert tr.get("start_time") and tr.get("end_time"), f"task run lacks start/end time: {tr}"
            intervals.append((ts(tr["start_time"]), ts(tr["end_time"]), tr["id"]))
        intervals.sort()
        if client_takes_tag_leases():
            # A 3.1 client reports a task Running before it asks for the slot, so the Running stretches it
            # records overlap there (against Prefect's server too); only the task bodies are serialized.
            assert intervals[0][1] <= intervals[1][0], f"task runs overlapped in Baton's API: {intervals}"

        def released():
            lim = baton.call("GET", "/v2/concurrency_limits/tag:db", expect=(200,))
            return lim if lim.get("active_slots") == 0 else None

        baton.poll(released, "tag:db active_slots to drop back to 0")
    finally:
        baton.call("DELETE", "/v2/concurrency_limits/tag:db", expect=(200, 204))
