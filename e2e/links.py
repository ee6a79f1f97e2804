"""The links Prefect prints, made by Prefect's own code, for Baton's link test.

Against PREFECT_API_URL (a server-mode Baton), creates one of everything Prefect
links to (a flow run with a task run, a deployment, a work pool with a queue
and a worker, a Secret block, a tag concurrency limit, an automation, an
event) and prints, as JSON, the UI URLs that prefect.utilities.urls.url_for,
prefect.runtime and the CLI's block commands build for them, each with the
page it must land on (a path pattern) and a text that page must show.
links.test.mjs visits them in Chromium.
"""

import json
import os

import httpx
from prefect import flow, task
from prefect.automations import Automation
from prefect.blocks.system import Secret
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.events.actions import DoNothing
from prefect.events.schemas.automations import EventTrigger
from prefect.events.schemas.events import ReceivedEvent
from prefect.runtime import flow_run as rt_flow_run
from prefect.runtime import task_run as rt_task_run
from prefect.settings import get_current_settings
from prefect.utilities.urls import url_for


@task(name="links-task")
def linked_task() -> str:
    return rt_task_run.ui_url


@flow(name="e2e-links")
def linked_flow() -> dict:
    return {"flow_run": rt_flow_run.ui_url, "task_run": linked_task(), "id": rt_flow_run.id, "name": rt_flow_run.name}


def main() -> None:
    ui = get_current_settings().ui_url
    links = [{"kind": "ui root (prefect dashboard open)", "url": ui, "path": "^/dashboard$", "text": "Dashboard"}]
    got = linked_flow()
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(got["id"])
        tasks = client.read_task_runs()
        task_run = next(t for t in tasks if t.flow_run_id == run.id)
        links += [
            {"kind": "runtime flow_run.ui_url", "url": got["flow_run"], "path": f"^/runs/flow-run/{run.id}$", "text": got["name"]},
            {"kind": "url_for(flow_run)", "url": url_for(run), "path": f"^/runs/flow-run/{run.id}$", "text": got["name"]},
            {"kind": "runtime task_run.ui_url", "url": got["task_run"], "path": f"^/runs/task-run/{task_run.id}$", "text": task_run.name},
            {"kind": "url_for(flow)", "url": url_for("flow", obj_id=run.flow_id), "path": f"^/flows/flow/{run.flow_id}$", "text": "e2e-links"},
        ]
        client.create_work_pool(WorkPoolCreate(name="links-pool", type="process"), overwrite=True)
        pool = client.read_work_pool("links-pool")
        queue = client.create_work_queue(name="links-queue", work_pool_name="links-pool")
        client.send_worker_heartbeat("links-pool", "links-worker", heartbeat_interval_seconds=30)
        worker = next(w for w in client.read_workers_for_work_pool("links-pool") if w.name == "links-worker")
        dep_id = client.create_deployment(flow_id=run.flow_id, name="links-dep", work_pool_name="links-pool")
        limit_id = client.create_concurrency_limit(tag="links-tag", concurrency_limit=3)
        links += [
            {"kind": "url_for(work_pool) (prefect work-pool create)", "url": url_for(pool), "path": "^/work-pools/work-pool/links-pool$", "text": "links-pool"},
            {"kind": "url_for(work_queue)", "url": url_for("work-queue", obj_id=queue.id), "path": "^/work-pools/work-pool/links-pool$", "text": "links-queue"},
            {"kind": "url_for(worker)", "url": url_for("worker", obj_id=worker.id, work_pool_name="links-pool"), "path": "^/work-pools/work-pool/links-pool$", "text": "links-worker"},
            {"kind": "url_for(deployment) (prefect deploy, flow.serve)", "url": url_for("deployment", obj_id=dep_id), "path": f"^/deployments/deployment/{dep_id}$", "text": "links-dep"},
            {"kind": "deployments list (flow.serve, runner)", "url": f"{ui}/deployments", "path": "^/deployments$", "text": "links-dep"},
            {"kind": "url_for(concurrency_limit)", "url": url_for("concurrency-limit", obj_id=limit_id), "path": "^/concurrency-limits$", "text": "links-tag"},
        ]
    Secret(value="links-s3cr3t").save("links-secret", overwrite=True)
    block = Secret.load("links-secret")
    links += [
        {"kind": "url_for(block)", "url": url_for(block), "path": f"^/blocks/block/{block._block_document_id}$", "text": "links-secret"},
        {"kind": "block catalog (prefect block register)", "url": f"{ui}/blocks/catalog", "path": "^/blocks/catalog$", "text": "Secret"},
        {"kind": "block create (prefect block create secret)", "url": f"{ui}/blocks/catalog/secret/create", "path": "^/blocks/catalog/secret/create$", "text": "Secret"},
        {"kind": "Cloud block catalog (prefect block register)", "url": f"{ui}/settings/blocks/catalog", "path": "^/blocks/catalog$", "text": "Secret"},
        {"kind": "Cloud block create (prefect block create secret)", "url": f"{ui}/settings/blocks/catalog/secret/create", "path": "^/blocks/catalog/secret/create$", "text": "Secret"},
    ]
    automation = Automation(name="links-automation", trigger=EventTrigger(expect={"links.never"}), actions=[DoNothing()]).create()
    links.append({"kind": "url_for(automation)", "url": url_for("automation", obj_id=automation.id),
                  "path": f"^/automations/automation/{automation.id}$", "text": "links-automation"})
    api = os.environ["PREFECT_API_URL"].rstrip("/")
    body = {"filter": {"event": {"prefix": ["prefect.flow-run."]}, "any_resource": {"id": [f"prefect.flow-run.{run.id}"]}}, "limit": 1}
    ev = httpx.post(f"{api}/events/filter", json=body, timeout=15).json()["events"][0]
    event = ReceivedEvent.model_validate(ev)
    links.append({"kind": "url_for(event)", "url": url_for(event), "path": "^/events$", "text": event.event})
    print(json.dumps(links, default=str))


if __name__ == "__main__":
    main()
