"""Workload 2a: one flow that maps a task over 500 inputs (bench/run.py passes the count as argv[1])."""

import sys
import time

from prefect import flow, tags, task

from _visible import emit, run_tag, wait_visible

N = int(sys.argv[1]) if len(sys.argv) > 1 else 500


@task
def inc(x: int) -> int:
    return x + 1


@flow(name="bench-mapped")
def mapped(n: int) -> int:
    return sum(inc.map(range(n)).result())


if __name__ == "__main__":
    tag = run_tag()
    t0 = time.monotonic()
    with tags(tag):
        total = mapped(N)
    flow_s = time.monotonic() - t0
    assert total == N * (N + 1) // 2, total
    emit({"flow_s": flow_s, "visible_s": wait_visible(tag, N, t0), "task_runs": N})
