"""Real Prefect processes for the UI's operations test (ops.test.mjs).

    python ops.py serve    serve the "e2e-ops" flow as deployment "e2e-served" (cron schedule,
                           a parameter schema with a required field, an enum, a nested model)
    python ops.py paused   run "e2e-paused", which pauses waiting for typed input, then logs it
    python ops.py pool     create work pool "e2e-pool" (process) with queues "high" and "low"
    python ops.py runs     runs of e2e-served: one that sleeps (to cancel), one that fails its first
                           attempt (to retry), three scheduled two days out tagged "bulk"; prints their ids

Each talks to PREFECT_API_URL with the real client.
"""

import sys
from typing import Literal

from pydantic import BaseModel, Field

from prefect import flow, get_client, get_run_logger, pause_flow_run
from prefect.input import RunInput
from prefect.runtime import flow_run


class Options(BaseModel):
    retries: int = Field(default=1, ge=0, description="How many times to try")
    label: str = "plain"


@flow(name="e2e-ops")
def ops_flow(
    who: str,
    count: int = 2,
    mode: Literal["fast", "slow"] = "fast",
    options: Options = Options(),
    sleep: float = 0,
    fail_first: bool = False,
) -> str:
    """Says hello; sleeps when asked (a run to cancel); fails its first attempt when asked (a run to retry)."""
    import time

    log = get_run_logger()
    log.info("hello %s x%d (%s, %s)", who, count, mode, options.label)
    if fail_first and flow_run.run_count < 2:
        raise RuntimeError("e2e: failing the first attempt on purpose")
    if sleep:
        time.sleep(sleep)
    return f"{who}:{count}:{mode}:{options.label}"


class Approval(RunInput):
    approver: str
    level: Literal["low", "high"] = "low"


@flow(name="e2e-paused")
def paused_flow() -> str:
    log = get_run_logger()
    log.info("waiting for approval")
    answer = pause_flow_run(wait_for_input=Approval.with_initial_data(description="Approve the **e2e** run"), timeout=900)
    log.info("approved by %s at level %s", answer.approver, answer.level)
    return answer.approver


async def make_pool() -> None:
    from prefect.client.schemas.actions import WorkPoolCreate

    async with get_client() as client:
        await client.create_work_pool(WorkPoolCreate(name="e2e-pool", type="process"), overwrite=True)
        for name, priority in (("high", 1), ("low", 2)):
            await client.create_work_queue(name=name, work_pool_name="e2e-pool", priority=priority)


async def make_runs() -> dict:
    import asyncio
    import datetime as dt
    import json

    from prefect.client.schemas.objects import StateType
    from prefect.states import Scheduled

    async with get_client() as client:
        dep = await client.read_deployment_by_name("e2e-ops/e2e-served")
        running = await client.create_flow_run_from_deployment(dep.id, parameters={"who": "sleeper", "sleep": 600})
        failing = await client.create_flow_run_from_deployment(dep.id, parameters={"who": "flaky", "fail_first": True})
        later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2)
        bulk = [
            await client.create_flow_run_from_deployment(dep.id, parameters={"who": f"bulk-{i}"}, tags=["bulk"], state=Scheduled(scheduled_time=later))
            for i in range(3)
        ]
        want = {running.id: StateType.RUNNING, failing.id: StateType.FAILED}
        for _ in range(240):
            states = {i: (await client.read_flow_run(i)).state_type for i in want}
            if all(states[i] == t for i, t in want.items()):
                break
            await asyncio.sleep(0.5)
        else:
            raise SystemExit(f"runs did not reach their states: {states}")
        out = {"deployment": str(dep.id), "running": str(running.id), "failing": str(failing.id), "bulk": [str(b.id) for b in bulk]}
        print(json.dumps(out))
        return out


def main() -> None:
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "serve":
        ops_flow.serve(
            name="e2e-served",
            cron="0 9 * * *",
            parameters={"who": "baton"},
            tags=["e2e"],
            description="The **operations** deployment of Baton's UI test.\n\n- served by `ops.py serve`\n- has a cron schedule",
        )
    elif cmd == "paused":
        paused_flow()
    elif cmd == "runs":
        import asyncio

        asyncio.run(make_runs())
    elif cmd == "pool":
        import asyncio

        asyncio.run(make_pool())
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
