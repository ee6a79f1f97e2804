"""More of what real users do with the client: async flows, delayed task retries, templated run
names, and reading runs back through the client's own typed API (so Baton's responses must
validate against the client's response models).
"""

from __future__ import annotations

from conftest import Baton, assert_no_client_warnings
from test_client_flows import state_of, wait_task_runs


def test_async_flow_with_gathered_tasks(baton: Baton):
    """An async flow awaiting three async tasks concurrently: three COMPLETED task runs."""
    script = '''
import asyncio
from prefect import flow, task

@task(name="square")
async def square(x):
    await asyncio.sleep(0.1)
    return x * x

@flow(name="compat-async")
async def async_flow():
    return sum(await asyncio.gather(*(square(i) for i in range(3))))

state = asyncio.run(async_flow(return_state=True))
emit({"flow_run_id": state.state_details.flow_run_id, "type": state.type.value, "result": asyncio.run(state.result()) if asyncio.iscoroutine(state.result()) else state.result()})
'''
    run = baton.run_py(script).ok()
    assert_no_client_warnings(run)
    res = run.result()
    assert res["type"] == "COMPLETED" and res["result"] == 5, res
    runs = wait_task_runs(baton, res["flow_run_id"], 3)
    assert all(r["state_type"] == "COMPLETED" for r in runs), [r.get("state") for r in runs]
    assert len({r["dynamic_key"] for r in runs}) == 3, [r["dynamic_key"] for r in runs]


def test_task_retry_with_delay(baton: Baton):
    """retry_delay_seconds=1 puts an AwaitingRetry (SCHEDULED) state before the Retrying one."""
    script = '''
from prefect import flow, task

attempts = {"n": 0}

@task(name="delayed", retries=1, retry_delay_seconds=1)
def delayed():
    attempts["n"] += 1
    if attempts["n"] == 1:
        raise RuntimeError("first attempt fails on purpose")
    return "ok"

@flow(name="compat-task-retry-delay")
def delayed_flow():
    return delayed()

state = delayed_flow(return_state=True)
emit({"flow_run_id": state.state_details.flow_run_id, "type": state.type.value})
'''
    run = baton.run_py(script).ok()
    assert_no_client_warnings(run)
    res = run.result()
    assert res["type"] == "COMPLETED", res
    (tr,) = wait_task_runs(baton, res["flow_run_id"], 1)
    assert tr["run_count"] == 2, tr["run_count"]

    def history():
        states = baton.task_run_states(tr["id"])
        names = [s["name"] for s in states]
        return states if names == ["Pending", "Running", "AwaitingRetry", "Retrying", "Completed"] else None

    states = baton.poll(history, f"Pending, Running, AwaitingRetry, Retrying, Completed for task run {tr['id']}")
    awaiting = states[2]
    assert awaiting["type"] == "SCHEDULED", awaiting
    assert (awaiting.get("state_details") or {}).get("scheduled_time"), awaiting


def test_flow_run_name_template(baton: Baton):
    """flow_run_name="report-{day}" is sent as PATCH /flow_runs/{id} and stored."""
    script = '''
from prefect import flow

@flow(name="compat-named", flow_run_name="report-{day}")
def named(day: str):
    return day

state = named("monday", return_state=True)
emit({"flow_run_id": state.state_details.flow_run_id, "type": state.type.value})
'''
    run = baton.run_py(script).ok()
    assert_no_client_warnings(run)
    res = run.result()
    flow_run = baton.flow_run(res["flow_run_id"])
    assert flow_run["name"] == "report-monday", flow_run["name"]
    assert flow_run["parameters"] == {"day": "monday"}, flow_run["parameters"]
    assert state_of(flow_run)[0] == "COMPLETED", flow_run.get("state")


def test_client_reads_its_runs_back(baton: Baton):
    """The client's typed reads (pydantic models) accept Baton's responses."""
    script = '''
from prefect import flow, task, get_run_logger
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, LogFilter, LogFilterFlowRunId, TaskRunFilter, TaskRunFilterFlowRunId

@task(name="leaf")
def leaf(x):
    return {"x": x}

@flow(name="compat-readback")
def readback():
    get_run_logger().info("reading back")
    return leaf(leaf(1))

state = readback(return_state=True)
fr_id = state.state_details.flow_run_id

import time
with get_client(sync_client=True) as client:
    fr = client.read_flow_run(fr_id)
    flow = client.read_flow(fr.flow_id)
    runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[fr_id])))
    states = client.read_flow_run_states(fr_id)
    deadline = time.time() + 10
    while True:
        task_runs = client.read_task_runs(task_run_filter=TaskRunFilter(flow_run_id=TaskRunFilterFlowRunId(any_=[fr_id])))
        if (len(task_runs) == 2 and all(t.state and t.state.is_completed() for t in task_runs)) or time.time() > deadline:
            break
        time.sleep(0.1)
    task_states = [client.read_task_run_states(t.id) for t in task_runs]
    # Logs go out in batches every 2 s, so they may still be on their way.
    deadline = time.time() + 10
    while True:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[fr_id])))
        if any(l.message == "reading back" for l in logs) or time.time() > deadline:
            break
        time.sleep(0.2)
    one = client.read_task_run(task_runs[0].id) if task_runs else None
emit({
    "flow_name": flow.name,
    "state": fr.state.type.value,
    "run_ids": [str(r.id) for r in runs],
    "states": [s.name for s in states],
    "task_runs": len(task_runs),
    "task_states": [[s.name for s in ts] for ts in task_states],
    "messages": [l.message for l in logs],
    "one": str(one.id) if one else None,
    "fr_id": str(fr_id),
})
'''
    run = baton.run_py(script).ok()
    assert_no_client_warnings(run)
    res = run.result()
    assert res["flow_name"] == "compat-readback"
    assert res["state"] == "COMPLETED"
    assert res["run_ids"] == [res["fr_id"]], res["run_ids"]
    assert res["states"] == ["Pending", "Running", "Completed"], res["states"]
    assert res["task_runs"] == 2, res
    assert res["task_states"] == [["Pending", "Running", "Completed"]] * 2, res["task_states"]
    assert "reading back" in res["messages"], res["messages"]
    assert res["one"], res


def test_task_failure_fails_the_flow(baton: Baton):
    """A task that keeps failing: task run FAILED with its error, flow run FAILED."""
    script = '''
from prefect import flow, task

@task(name="broken", retries=1)
def broken():
    raise KeyError("no such row")

@flow(name="compat-task-fails")
def task_fails_flow():
    return broken()

state = task_fails_flow(return_state=True)
emit({"flow_run_id": state.state_details.flow_run_id, "type": state.type.value})
'''
    run = baton.run_py(script).ok()
    assert_no_client_warnings(run)
    res = run.result()
    assert res["type"] == "FAILED", res
    assert baton.flow_run(res["flow_run_id"])["state_type"] == "FAILED"
    (tr,) = wait_task_runs(baton, res["flow_run_id"], 1)
    assert tr["state_type"] == "FAILED", tr.get("state")
    assert tr["run_count"] == 2, tr["run_count"]
    assert "no such row" in (tr["state"].get("message") or ""), tr["state"]


def test_mapped_tasks(baton: Baton):
    """task.map over 25 items in a thread pool: 25 distinct COMPLETED task runs, none lost."""
    script = '''
from prefect import flow, task
from prefect.task_runners import ThreadPoolTaskRunner

@task(name="double")
def double(x):
    return x * 2

@flow(name="compat-map", task_runner=ThreadPoolTaskRunner(max_workers=8))
def mapped():
    return sum(double.map(list(range(25))).result())

state = mapped(return_state=True)
emit({"flow_run_id": state.state_details.flow_run_id, "type": state.type.value, "result": state.result()})
'''
    run = baton.run_py(script).ok()
    assert_no_client_warnings(run)
    res = run.result()
    assert res["type"] == "COMPLETED" and res["result"] == 600, res
    runs = wait_task_runs(baton, res["flow_run_id"], 25)
    assert all(r["state_type"] == "COMPLETED" for r in runs)
    assert len({r["id"] for r in runs}) == 25
    inputs = [r["task_inputs"].get("x") for r in runs]
    assert all(i == [] for i in inputs), inputs[:3]
