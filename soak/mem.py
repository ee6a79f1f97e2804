#!/usr/bin/env python3
"""Memory amplification: how much resident memory large request bodies cost the server.

Starts `baton server start` on a free loopback port with a private BATON_HOME, then for each level of
concurrency sends that many large bodies at once (several rounds) and samples the server's RSS every
20 ms from /proc. Prints one JSON line per level: the body size, the peak RSS above the idle baseline,
that peak per MB of body in flight, and how the requests were answered (2xx, 503 from the decode budget).
Bodies: POST /api/logs/ with 8 MiB of log lines (many small objects: the worst case for decoding), or
POST /api/flow_runs/ with a parameters object of many small entries (--route flow_runs).

    soak/mem.py [--levels 1,4,16,64] [--rounds 3] [--route logs|flow_runs] [--env K=V ...]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def logs_body(target: int) -> bytes:
    line = {"name": "prefect.flow_runs", "level": 20, "message": "x" * 100, "timestamp": "2026-11-28T10:00:00Z",
            "flow_run_id": None, "task_run_id": None}
    one = len(json.dumps(line)) + 2
    return json.dumps([line] * (target // one)).encode()


def flow_run_body(target: int, flow_id: str) -> bytes:
    n = target // 24
    return json.dumps({"flow_id": flow_id, "parameters": {f"k{i:07d}": i for i in range(n)}}).encode()


def post(url: str, body: bytes, out: list[int], lock: threading.Lock) -> None:
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            code = r.status
            r.read()
    except urllib.error.HTTPError as e:
        code = e.code
    except Exception:  # noqa: BLE001 - counted as a failure
        code = 0
    with lock:
        out.append(code)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--levels", default="1,4,16,64")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--route", choices=("logs", "flow_runs"), default="logs")
    ap.add_argument("--env", action="append", default=[], help="extra server environment, K=V")
    args = ap.parse_args()
    binary = os.environ.get("BATON_BIN", str(ROOT / "bin" / "baton"))
    home = Path(tempfile.mkdtemp(prefix="baton-mem-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "PREFECT_"))}
    env.update(BATON_HOME=str(home), BATON_LOG_LEVEL="warn")
    env.update(kv.split("=", 1) for kv in args.env)
    log = open(home / "server.log", "wb")
    proc = subprocess.Popen([binary, "server", "start", "--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    api = f"http://127.0.0.1:{port}/api"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{api}/health", timeout=1).read()
                break
            except Exception:  # noqa: BLE001
                time.sleep(0.1)
        if args.route == "logs":
            body, url = logs_body(8 << 20), f"{api}/logs/"
        else:
            req = urllib.request.Request(f"{api}/flows/", data=b'{"name":"mem"}', method="POST",
                                         headers={"Content-Type": "application/json"})
            flow_id = json.load(urllib.request.urlopen(req))["id"]
            body, url = flow_run_body(4 << 20, flow_id), f"{api}/flow_runs/"
        mb = len(body) / 2**20
        time.sleep(1)
        base = rss(proc.pid)
        for level in (int(x) for x in args.levels.split(",")):
            peak = base
            codes: list[int] = []
            lock = threading.Lock()
            stop = threading.Event()

            def sample() -> None:
                nonlocal peak
                while not stop.is_set():
                    peak = max(peak, rss(proc.pid))
                    time.sleep(0.02)
            sampler = threading.Thread(target=sample)
            sampler.start()
            t0 = time.monotonic()
            for _ in range(args.rounds):
                threads = [threading.Thread(target=post, args=(url, body, codes, lock)) for _ in range(level)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
            took = time.monotonic() - t0
            stop.set()
            sampler.join()
            ok = sum(1 for c in codes if 200 <= c < 300)
            print(json.dumps({"route": args.route, "body_mb": round(mb, 2), "concurrent": level, "rounds": args.rounds,
                              "baseline_rss_mb": round(base / 2**20, 1), "peak_rss_mb": round(peak / 2**20, 1),
                              "peak_over_baseline_mb": round((peak - base) / 2**20, 1),
                              "per_mb_in_flight": round((peak - base) / 2**20 / (mb * level), 2),
                              "answered_2xx": ok, "answered_503": codes.count(503),
                              "other": sorted(set(c for c in codes if c != 503 and not 200 <= c < 300)),
                              "seconds": round(took, 1)}), flush=True)
            time.sleep(2)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
