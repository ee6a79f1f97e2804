"""Dispatch latency: time from a run's scheduled time to RUNNING.

Creates N runs of a deployment, one after the other (each scheduled "now", as `deployment run` does),
waits for each to reach RUNNING, and reports start_time - expected_start_time. Usage:

    python latency.py API_URL FLOW/DEPLOYMENT [N]

Start the worker(s) serving the deployment's pool first.
"""

import statistics
import sys
import time
from datetime import datetime

import httpx


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def main() -> None:
    api, ref = sys.argv[1].rstrip("/"), sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    c = httpx.Client(base_url=api, timeout=30)
    dep = c.get(f"/deployments/name/{ref}").raise_for_status().json()
    lat = []
    for _ in range(n):
        run = c.post(f"/deployments/{dep['id']}/create_flow_run", json={}).raise_for_status().json()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            r = c.get(f"/flow_runs/{run['id']}").json()
            if r.get("start_time"):
                lat.append((parse(r["start_time"]) - parse(r["expected_start_time"])).total_seconds())
                break
            time.sleep(0.05)
        else:
            sys.exit(f"run {run['id']} did not start within 120 s")
        # let it finish so the next run measures an idle worker
        while c.get(f"/flow_runs/{run['id']}").json()["state_type"] not in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            time.sleep(0.1)
    print(f"{ref}: n={n} median={statistics.median(lat):.3f}s min={min(lat):.3f}s max={max(lat):.3f}s")


if __name__ == "__main__":
    main()
