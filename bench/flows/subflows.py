"""Workload 2b: one flow that runs 50 subflows concurrently (argv[1] overrides the count).

Each subflow runs one task, and each subflow call also gets a parent task run in the parent flow,
so the flow leaves 2*N task runs behind; all of them carry the run's tag.
"""

import asyncio
import sys
import time

from prefect import flow, tags, task

from _visible import emit, run_tag, wait_visible

N = int(sys.argv[1]) if len(sys.argv) > 1 else 50


@task
async def work(i: int) -> int:
    return i * 2


@flow(name="bench-child")
async def child(i: int) -> int:
    return await work(i)


@flow(name="bench-parent")
async def parent(n: int) -> int:
    return sum(await asyncio.gather(*[child(i) for i in range(n)]))


if __name__ == "__main__":
    tag = run_tag()
    t0 = time.monotonic()
    with tags(tag):
        total = asyncio.run(parent(N))
    flow_s = time.monotonic() - t0
    assert total == N * (N - 1), total
    emit({"flow_s": flow_s, "visible_s": wait_visible(tag, 2 * N, t0), "task_runs": 2 * N})
