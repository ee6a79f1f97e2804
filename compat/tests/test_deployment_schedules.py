"""Deployment schedules matched by slug, as Prefect 3's server does, driven by the real client (issue 17).

A redeploy (`update_deployment` with schedules that all have slugs) updates the schedule with the same slug in
place and keeps the ones it does not mention; an empty list keeps named schedules (what `flow.serve(schedules=[])`
re-runs send); a schedule without a slug is refused (422) while every existing one has a slug. The same
client reads the result back.
"""

from __future__ import annotations

import pytest

from conftest import Baton

SCRIPT = '''
import asyncio
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import DeploymentScheduleCreate, DeploymentScheduleUpdate, DeploymentUpdate
from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule
from prefect.exceptions import PrefectHTTPStatusError

def view(dep):
    return {s.slug: {"id": str(s.id), "active": s.active,
                     "cron": getattr(s.schedule, "cron", None)} for s in dep.schedules}

async def main():
    async with get_client() as client:
        flow_id = await client.create_flow_from_name("compat-slugs")
        dep_id = await client.create_deployment(flow_id, "slugged", schedules=[
            DeploymentScheduleCreate(schedule=CronSchedule(cron="0 9 * * *"), slug="daily"),
            DeploymentScheduleCreate(schedule=IntervalSchedule(interval=3600), slug="hourly"),
        ])
        out = {"created": view(await client.read_deployment(dep_id))}
        await client.update_deployment(dep_id, DeploymentUpdate(schedules=[]))
        out["empty"] = view(await client.read_deployment(dep_id))
        await client.update_deployment(dep_id, DeploymentUpdate(schedules=[
            DeploymentScheduleUpdate(schedule=CronSchedule(cron="0 10 * * *"), slug="daily", active=False),
            DeploymentScheduleUpdate(schedule=CronSchedule(cron="0 9 * * 1"), slug="weekly"),
        ]))
        out["merged"] = view(await client.read_deployment(dep_id))
        try:
            await client.update_deployment(dep_id, DeploymentUpdate(schedules=[
                DeploymentScheduleUpdate(schedule=CronSchedule(cron="0 0 * * *"))]))
            out["unnamed"] = None
        except PrefectHTTPStatusError as exc:
            out["unnamed"] = exc.response.status_code
        out["after"] = view(await client.read_deployment(dep_id))
        emit(out)

asyncio.run(main())
'''


def test_redeploy_matches_schedules_by_slug(baton: Baton):
    from prefect.client.schemas import actions

    if "slug" not in actions.DeploymentScheduleUpdate.model_fields:
        pytest.skip("this client's schedules have no slug")
    res = baton.run_py(SCRIPT, timeout=120).ok().result()
    created = res["created"]
    assert set(created) == {"daily", "hourly"}, res
    assert res["empty"] == created, "an empty schedules list keeps named schedules"
    merged = res["merged"]
    assert set(merged) == {"daily", "hourly", "weekly"}, res
    assert merged["daily"]["id"] == created["daily"]["id"], "a matching slug updates in place"
    assert merged["daily"]["cron"] == "0 10 * * *" and merged["daily"]["active"] is False, res
    assert merged["hourly"] == created["hourly"], "a schedule the redeploy does not mention is kept"
    assert res["unnamed"] == 422, "a schedule without a slug must not replace named ones"
    assert res["after"] == merged, res
