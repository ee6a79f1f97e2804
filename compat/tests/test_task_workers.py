"""Background tasks: `.delay()` and two `prefect task serve` workers, with the real client and CLI.

Each delayed task run must be executed by exactly one of the workers (they both subscribe on Baton's
/task_runs/subscriptions/scheduled websocket for the same task key), its result must come back to the
caller, and /task_workers/filter must list both workers while they are connected.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from conftest import Baton
from test_deployments import PREFECT_BIN, Background, client_env

TASKS_PY = '''
import os
from prefect import task

@task
def double(x):
    print("EXECUTED", os.getpid(), x, flush=True)
    return x * 2
'''

SUBMIT = '''
import sys
sys.path.insert(0, {work!r})
from tasks import double
futures = [double.delay(i) for i in range(8)]
emit({{"results": [f.result(timeout=90) for f in futures], "ids": [str(f.task_run_id) for f in futures]}})
'''


def test_delayed_tasks_run_once_each_on_two_task_workers(baton: Baton, tmp_path: Path):
    work = tmp_path / "tasks"
    work.mkdir()
    (work / "tasks.py").write_text(TASKS_PY)
    env = client_env(baton)
    workers = [Background([PREFECT_BIN, "task", "serve", "tasks.py:double"], env, work, work / f"worker{i}.out") for i in range(2)]
    try:
        Baton.poll(lambda: len(baton.call("POST", "/task_workers/filter", {}, expect=(200,))) == 2,
                   "both task workers to subscribe", timeout=60, interval=0.5)
        listed = baton.call("POST", "/task_workers/filter", {"task_worker_filter": {"task_keys": ["nope"]}}, expect=(200,))
        assert listed == [], listed
        run = baton.run_py(SUBMIT.format(work=str(work)), timeout=180).ok()
        res = run.result()
        assert res["results"] == [i * 2 for i in range(8)], run.describe()
        executed = Counter()
        per_worker = []
        for w in workers:
            lines = re.findall(r"EXECUTED (\d+) (\d+)", w.log())
            per_worker.append(len(lines))
            executed.update(int(x) for _, x in lines)
        print(f"\n8 delayed task runs on two task workers: {per_worker[0]} + {per_worker[1]} executions")
        assert executed == Counter(range(8)), f"each run exactly once; executions per input: {dict(executed)}"
        for rid in res["ids"]:
            Baton.poll(lambda: baton.task_run(rid)["state_type"] == "COMPLETED", f"task run {rid} to be COMPLETED", timeout=30)
    finally:
        for w in workers:
            w.stop()
    Baton.poll(lambda: baton.call("POST", "/task_workers/filter", {}, expect=(200,)) == [], "the workers to be gone", timeout=30)
