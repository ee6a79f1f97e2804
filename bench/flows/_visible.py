"""Shared by the workload-2 flows: time a flow, then wait until its task runs are visible through the API.

Each script tags everything it creates with a run-unique tag, so the count it polls for
(POST /task_runs/count, COMPLETED task runs carrying the tag) sees only its own task runs.
"""

import json
import os
import sys
import time
import uuid

import httpx


def run_tag() -> str:
    return "bench-" + uuid.uuid4().hex[:12]


def wait_visible(tag: str, expected: int, t0: float, timeout: float = 300.0) -> float:
    """Poll until `expected` COMPLETED task runs carry `tag`; return seconds since t0."""
    url = os.environ["PREFECT_API_URL"].rstrip("/") + "/task_runs/count"
    body = {"task_runs": {"tags": {"all_": [tag]}, "state": {"type": {"any_": ["COMPLETED"]}}}}
    deadline = time.monotonic() + timeout
    got = -1
    with httpx.Client(timeout=30) as c:
        while time.monotonic() < deadline:
            got = c.post(url, json=body).json()
            if got >= expected:
                return time.monotonic() - t0
            time.sleep(0.02)
    raise SystemExit(f"only {got} of {expected} task runs visible after {timeout}s")


def emit(obj: dict) -> None:
    print("BENCH_RESULT " + json.dumps(obj), flush=True)
    sys.stdout.flush()
