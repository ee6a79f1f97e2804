"""A tiny flow for Baton's cloud-mode end-to-end test.

Runs against whatever workspace the active Prefect profile points at (set by
`prefect cloud login`) and prints its flow-run name so the browser test can
look for it on the runs page, and the UI links Prefect makes for it (the
workspace's UI root, prefect.runtime's ui_url, url_for) so the test can
visit them.
"""

from prefect import flow, get_run_logger
from prefect.client.orchestration import get_client
from prefect.runtime import flow_run
from prefect.settings import get_current_settings
from prefect.utilities.urls import url_for


@flow(name="e2e-cloud")
def hello() -> str:
    get_run_logger().info("hello from a baton cloud workspace")
    print("RUNTIME_URL", flow_run.ui_url)
    print("RUN_ID", flow_run.id)
    return flow_run.get_name()


if __name__ == "__main__":
    print("RUN", hello())
    print("UI_ROOT", get_current_settings().ui_url)
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(limit=1)
        print("URL_FOR", url_for(runs[0]))
