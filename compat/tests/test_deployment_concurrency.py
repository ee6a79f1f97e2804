"""Deployment concurrency as Prefect's server enforces it, driven by the real client.

A deployment created with `concurrency_limit` (and `concurrency_options`) gets the global concurrency limit
`deployment:<id>`; orchestration takes one of its slots when a run moves to PENDING, so of three runs proposed
PENDING through the client's `set_flow_run_state` the third is rejected into `AwaitingConcurrencySlot`
(`CANCEL_NEW` cancels it instead), and a finished run gives its slot back.
"""

from __future__ import annotations

from conftest import Baton

SCRIPT = '''
import asyncio
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import ConcurrencyOptions, ConcurrencyLimitStrategy
from prefect.states import Pending, Running, Completed

@flow(name="compat-dep-limit")
def limited():
    pass

async def main():
    async with get_client() as client:
        flow_id = await client.create_flow_from_name("compat-dep-limit")
        out = {}
        for strategy in ("ENQUEUE", "CANCEL_NEW"):
            dep_id = await client.create_deployment(flow_id, "limited-" + strategy.lower(), concurrency_limit=2,
                concurrency_options=ConcurrencyOptions(collision_strategy=ConcurrencyLimitStrategy(strategy)))
            dep = await client.read_deployment(dep_id)
            runs = [await client.create_flow_run_from_deployment(dep_id) for _ in range(3)]
            results = [await client.set_flow_run_state(r.id, Pending()) for r in runs]
            gcl = dep.global_concurrency_limit
            limit = await client.read_global_concurrency_limit_by_name("deployment:" + str(dep_id))
            await client.set_flow_run_state(runs[0].id, Running())
            await client.set_flow_run_state(runs[0].id, Completed())
            after = await client.read_global_concurrency_limit_by_name("deployment:" + str(dep_id))
            out[strategy] = {
                "gcl": {"name": gcl.name, "limit": gcl.limit} if gcl else None,
                "strategy": dep.concurrency_options.collision_strategy.value if dep.concurrency_options else None,
                "results": [[r.status.value, r.state.type.value, r.state.name] for r in results],
                "active": limit.active_slots,
                "after": after.active_slots,
                "id": str(dep_id),
            }
        emit(out)

asyncio.run(main())
'''


def test_deployment_concurrency_limit_enforced_at_pending(baton: Baton):
    res = baton.run_py(SCRIPT, timeout=120).ok().result()
    for strategy, third in (("ENQUEUE", ["REJECT", "SCHEDULED", "AwaitingConcurrencySlot"]), ("CANCEL_NEW", ["REJECT", "CANCELLED", "Cancelled"])):
        got = res[strategy]
        assert got["gcl"] == {"name": "deployment:" + got["id"], "limit": 2}, got
        assert got["strategy"] == strategy, got
        assert got["results"][0][:2] == ["ACCEPT", "PENDING"] and got["results"][1][:2] == ["ACCEPT", "PENDING"], got
        assert got["results"][2] == third, got
        assert got["active"] == 2, got
        assert got["after"] == 1, "a completed run gives its slot back"
    names = [l["name"] for l in baton.call("POST", "/v2/concurrency_limits/filter", {}, expect=(200,))]
    assert "deployment:" + res["ENQUEUE"]["id"] in names
