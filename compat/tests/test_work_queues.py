"""Work queues with the real CLI and a real `prefect worker`: every `prefect work-queue` verb, a paused
queue holding its runs back, queue priority deciding which run a worker with one slot starts first, and
the bulk operations (bulk set-state, bulk delete) on the runs left behind.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import Baton
from test_deployments import FLOWS_PY, PREFECT_BIN, Background, fast_worker_env, prefect, wait_state


def queue(baton: Baton, pool: str, name: str) -> dict:
    return baton.call("GET", f"/work_pools/{pool}/queues/{name}", expect=(200,))


# ~110 s on an idle machine; 13 CLI processes (a full Prefect import each) and three worker runs took
# past 480 s at load 30, finishing every check but the last.
@pytest.mark.timeout(720)
def test_work_queue_cli_priority_and_pause(baton: Baton, tmp_path: Path):
    work = tmp_path / "project"
    work.mkdir()
    (work / "flows.py").write_text(FLOWS_PY)
    pool = "compat-wq"
    prefect(baton, work, "work-pool", "create", pool, "--type", "process")
    # One run at a time, so the order the worker starts runs in is the order it was given them.
    baton.call("PATCH", f"/work_pools/{pool}", {"concurrency_limit": 1}, expect=(204,))
    prefect(baton, work, "work-queue", "create", "urgent", "--pool", pool, "--priority", "1")
    prefect(baton, work, "work-queue", "create", "later", "--pool", pool, "--priority", "5", "--limit", "3")
    ls = prefect(baton, work, "work-queue", "ls", "--pool", pool).stdout
    assert "urgent" in ls and "later" in ls, ls
    inspect = prefect(baton, work, "work-queue", "inspect", "urgent", "--pool", pool).stdout
    assert "urgent" in inspect, inspect
    prefect(baton, work, "work-queue", "set-concurrency-limit", "urgent", "4", "--pool", pool)
    assert queue(baton, pool, "urgent")["concurrency_limit"] == 4
    prefect(baton, work, "work-queue", "clear-concurrency-limit", "urgent", "--pool", pool)
    assert queue(baton, pool, "urgent")["concurrency_limit"] is None
    prefect(baton, work, "work-queue", "pause", "urgent", "--pool", pool)
    assert queue(baton, pool, "urgent")["is_paused"] is True

    prefect(baton, work, "deploy", "flows.py:greet", "--name", "wq-urgent", "--pool", pool, "--work-queue", "urgent")
    prefect(baton, work, "deploy", "flows.py:greet", "--name", "wq-later", "--pool", pool, "--work-queue", "later")
    deps = {d["name"]: d["id"] for d in baton.call("POST", "/deployments/filter", {}, expect=(200,))}
    urgent = [baton.call("POST", f"/deployments/{deps['wq-urgent']}/create_flow_run", {"parameters": {"who": f"u{i}"}})["id"] for i in range(1)]
    later = [baton.call("POST", f"/deployments/{deps['wq-later']}/create_flow_run", {"parameters": {"who": f"l{i}"}})["id"] for i in range(1)]
    preview = prefect(baton, work, "work-queue", "preview", "later", "--pool", pool).stdout
    assert later[0] in preview or "greeter" in preview, preview

    worker = Background([PREFECT_BIN, "worker", "start", "--pool", pool], fast_worker_env(baton), work, work / "worker.out")
    try:
        # The paused queue's runs stay SCHEDULED while the other queue's run.
        for rid in later:
            wait_state(baton, rid, ("Completed",), timeout=120, proc=worker)
        assert all(baton.flow_run(r)["state_type"] == "SCHEDULED" for r in urgent), [baton.flow_run(r)["state"]["name"] for r in urgent]

        # Queue priority: with both queues holding runs and one slot, the urgent queue goes first.
        # The later queue's new runs are due *earlier* than the urgent ones, so only priority puts
        # the urgent runs first. The pool's limit of 0 holds everything while both queues reopen.
        baton.call("PATCH", f"/work_pools/{pool}", {"concurrency_limit": 0}, expect=(204,))
        early = datetime.now(timezone.utc) - timedelta(minutes=10)
        late2 = [baton.call("POST", f"/deployments/{deps['wq-later']}/create_flow_run", {
            "parameters": {"who": f"m{i}"},
            "state": {"type": "SCHEDULED", "state_details": {"scheduled_time": early.isoformat()}}})["id"] for i in range(1)]
        prefect(baton, work, "work-queue", "resume", "urgent", "--pool", pool)
        baton.call("PATCH", f"/work_pools/{pool}", {"concurrency_limit": 1}, expect=(204,))
        for rid in urgent + late2:
            wait_state(baton, rid, ("Completed",), timeout=180, proc=worker)
        starts = {rid: baton.flow_run(rid)["start_time"] for rid in urgent + late2}
        assert max(starts[r] for r in urgent) < min(starts[r] for r in late2), f"priority 1 runs must start first: {starts}"
    finally:
        worker.stop()

    # Bulk operations on what is left: one state for every run of a deployment, then delete them.
    extra = [baton.call("POST", f"/deployments/{deps['wq-later']}/create_flow_run", {})["id"] for _ in range(3)]
    res = baton.call("POST", "/flow_runs/bulk_set_state", {"flow_runs": {"id": {"any_": extra}}, "state": {"type": "CANCELLED"}}, expect=(200,))
    assert sorted(r["flow_run_id"] for r in res["results"]) == sorted(extra) and {r["status"] for r in res["results"]} == {"ACCEPT"}, res
    gone = baton.call("POST", "/flow_runs/bulk_delete", {"flow_runs": {"id": {"any_": extra}}}, expect=(200,))
    assert sorted(gone["deleted"]) == sorted(extra), gone
    assert baton.http.get(f"/flow_runs/{extra[0]}").status_code == 404
    made = baton.call("POST", f"/deployments/{deps['wq-later']}/create_flow_run/bulk", [{"parameters": {"who": "b1"}}, {"parameters": {"n": "x"}}], expect=(200,))
    assert made["results"][0]["status"] == "CREATED", made
    prefect(baton, work, "work-queue", "delete", "urgent", "--pool", pool)
    assert baton.http.get(f"/work_pools/{pool}/queues/urgent").status_code == 404
