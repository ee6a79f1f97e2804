"""Block.load() and Variable.get() latency at 8 concurrent clients, the Prefect server and Baton side by side.

Run through `make bench-blocks` (bench/run.sh --blocks): for each server (the pinned Prefect server, then
bin/baton, each on a fresh home and a loopback port) it saves a Secret block, an S3Bucket block referencing
AwsCredentials (a nested block) and a JSON variable with the real client, then starts 8 client processes at
once; each warms up, then times N calls of `Secret.load()`, `S3Bucket.load()` and `Variable.get()` (the real
client, so each figure is what a flow waits for: HTTP round trip plus the client's own work). It writes
docs/benchmarks-blocks.md and docs/benchmarks-blocks.json.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from run import ROOT, VENV_BIN, BatonServer, PrefectServer, log, machine

SETUP = '''
from prefect.blocks.system import Secret
from prefect.variables import Variable
from prefect_aws import AwsCredentials
from prefect_aws.s3 import S3Bucket
Secret(value="bench-secret-value").save("bench-secret", overwrite=True)
AwsCredentials(aws_access_key_id="AKIABENCH", aws_secret_access_key="bench").save("bench-creds", overwrite=True)
S3Bucket(bucket_name="bench", credentials=AwsCredentials.load("bench-creds")).save("bench-bucket", overwrite=True)
Variable.set("bench_var", {"region": "eu-west-1", "replicas": 3, "tags": ["a", "b"]}, overwrite=True)
'''

CLIENT = '''
import json, os, sys, time
import httpx
from prefect.blocks.system import Secret
from prefect.variables import Variable
from prefect_aws.s3 import S3Bucket
n, warm, start_at = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
api = os.environ["PREFECT_API_URL"]
http = httpx.Client(base_url=api, timeout=60)
calls = {
    "HTTP GET block document by name (include_secrets)": lambda: http.get("/block_types/slug/secret/block_documents/name/bench-secret", params={"include_secrets": "true"}).raise_for_status(),
    "HTTP GET variable by name": lambda: http.get("/variables/name/bench_var").raise_for_status(),
    "Secret.load()": lambda: Secret.load("bench-secret").get(),
    "S3Bucket.load() (nested credentials)": lambda: S3Bucket.load("bench-bucket").bucket_name,
    "Variable.get()": lambda: Variable.get("bench_var"),
}
for f in calls.values():
    for _ in range(warm):
        f()
while time.time() < start_at:  # every client starts measuring at the same moment
    time.sleep(0.005)
out = {}
for name, f in calls.items():
    lat = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        lat.append(time.perf_counter() - t)
    out[name] = lat
print(json.dumps(out))
'''


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def measure(srv, clients: int, n: int, warm: int) -> dict:
    srv.start()
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("PREFECT_", "BATON_"))}
    env.update(PREFECT_API_URL=srv.api, PREFECT_HOME=str(srv.home / "client"), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    py = str(VENV_BIN / "python")
    subprocess.run([py, "-c", SETUP], env=env, check=True, capture_output=True, timeout=300)
    start_at = time.time() + 20  # time for every client process to import prefect and warm up
    procs = [subprocess.Popen([py, "-c", CLIENT, str(n), str(warm), str(start_at)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(clients)]
    merged: dict[str, list[float]] = {}
    wall = 0.0
    for p in procs:
        out, err = p.communicate(timeout=900)
        if p.returncode != 0:
            raise SystemExit(f"client failed on {srv.name}: {err[-2000:]}")
        for k, v in json.loads(out.strip().splitlines()[-1]).items():
            merged.setdefault(k, []).extend(v)
    wall = time.time() - start_at
    srv.stop()
    return {k: {"p50_ms": pct(v, 50) * 1000, "p99_ms": pct(v, 99) * 1000, "mean_ms": statistics.mean(v) * 1000, "calls": len(v)}
            for k, v in merged.items()} | {"_wall_s": wall}


def main() -> None:
    quick = "--quick" in sys.argv
    clients, n, warm = 8, (30 if quick else 100), (3 if quick else 10)
    workdir = Path(tempfile.mkdtemp(prefix="baton-bench-blocks-"))
    res = {"machine": machine(), "clients": clients, "calls_per_client": n, "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    for cls in (PrefectServer, BatonServer):
        log(f"blocks bench: {cls.name}")
        res[cls.name] = measure(cls(workdir), clients, n, warm)
    out = ROOT / "docs" / "benchmarks-blocks.json"
    out.write_text(json.dumps(res, indent=1) + "\n")
    rows = []
    for call in [k for k in res["baton"] if not k.startswith("_")]:
        p, b = res["prefect"][call], res["baton"][call]
        rows.append(f"| `{call}` | {p['p50_ms']:.1f} | {p['p99_ms']:.1f} | {b['p50_ms']:.1f} | {b['p99_ms']:.1f} |")
    m = res["machine"]
    md = f"""# Blocks and variables: Baton vs the Prefect server

Latency of the real Prefect client's `Block.load()` and `Variable.get()` with **{clients} client processes calling at
once**, {n} calls each per operation after a warm-up ({clients * n} calls per operation). The client rows are what a
flow waits for: the HTTP round trip plus the client's own work (parsing, pydantic validation), which is the same for
both servers; the HTTP rows time the same requests bare (httpx), closer to the server's own share. Measured {res['started']} on {m['cpu']} ({m['nproc']} cores, load average {' '.join(m['loadavg'])} at the start), Prefect {m['prefect']},
Baton {m['baton']}; both servers on loopback with their default SQLite database, one after the other.

| operation | Prefect p50 (ms) | Prefect p99 (ms) | Baton p50 (ms) | Baton p99 (ms) |
|---|---:|---:|---:|---:|
{chr(10).join(rows)}

Command: `{'make bench-blocks-quick' if quick else 'make bench-blocks'}` (bench/blocks.py; raw figures in
[benchmarks-blocks.json](benchmarks-blocks.json)). The 8 clients share the machine's cores with the server, so the
client's own CPU time is part of every client figure: on a loaded machine (see the load average above) the client rows
mostly measure the 8 Python processes' own work and are close for both servers, while the HTTP rows show what the
server itself adds.
"""
    (ROOT / "docs" / "benchmarks-blocks.md").write_text(md)
    log(f"wrote docs/benchmarks-blocks.md ({workdir} keeps the server logs)")


if __name__ == "__main__":
    main()
