"""A tiny flow for Baton's cloud-mode end-to-end test.

Runs against whatever workspace the active Prefect profile points at (set by
`prefect cloud login`) and prints its flow-run name so the browser test can
look for it on the runs page.
"""

from prefect import flow, get_run_logger
from prefect.runtime import flow_run


@flow(name="e2e-cloud")
def hello() -> str:
    get_run_logger().info("hello from a baton cloud workspace")
    return flow_run.get_name()


if __name__ == "__main__":
    print("RUN", hello())
