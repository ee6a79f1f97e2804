"""Real Prefect flows for Baton's UI end-to-end test.

Runs a pipeline (two dependent tasks and a log line) and a flow that fails,
against PREFECT_API_URL, then prints their flow-run ids as JSON on stdout.
"""

import json
import sys

from prefect import flow, get_run_logger, task


@task
def extract() -> list[int]:
    return [1, 2, 3]


@task
def transform(rows: list[int]) -> int:
    return sum(rows)


@flow(name="e2e-pipeline")
def pipeline() -> int:
    get_run_logger().info("hello from the baton e2e pipeline")
    return transform(extract())


@flow(name="e2e-broken")
def broken() -> None:
    get_run_logger().warning("about to fail on purpose")
    raise ValueError("e2e: this flow fails on purpose")


def main() -> None:
    ok = pipeline(return_state=True)
    bad = broken(return_state=True)
    if not ok.is_completed():
        sys.exit(f"pipeline did not complete: {ok!r}")
    if not bad.is_failed():
        sys.exit(f"broken flow did not fail: {bad!r}")
    json.dump(
        {"pipeline": str(ok.state_details.flow_run_id), "broken": str(bad.state_details.flow_run_id)},
        sys.stdout,
    )


if __name__ == "__main__":
    main()
