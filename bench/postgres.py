"""PostgreSQL benchmark (issue 14): the Prefect server and Baton with 1 and 2 replicas on one PostgreSQL.

Run through bench/postgres.sh (`make bench-postgres`), which starts a throwaway durable PostgreSQL
cluster (fsync on) and exports PG_URL. Each target gets a fresh database on that cluster and is driven
by the same bin/bench-load as `make bench`:

  - lifecycles: create (PENDING) -> set_state RUNNING -> set_state COMPLETED, c workers for D seconds;
  - events: task-run events over /api/events/in until every task run is recorded;
  - filter: seed R flow runs, then POST /flow_runs/filter for D seconds.

With 2 replicas the workers are split between the replicas (two bench-load processes side by side, one per
replica): throughputs are summed, latencies are the worse replica's. The report goes between the
"postgres" markers of docs/benchmarks.md, with the machine's load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BATON_BIN = ROOT / "bin" / "baton"
LOAD_BIN = ROOT / "bin" / "bench-load"
PG_URL = os.environ["PG_URL"]
BEGIN, END = "<!-- postgres:begin -->", "<!-- postgres:end -->"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def database(name: str) -> str:
    subprocess.run(["psql", PG_URL, "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], check=True, capture_output=True)
    subprocess.run(["psql", PG_URL, "-qc", f'CREATE DATABASE "{name}"'], check=True, capture_output=True)
    u = urllib.parse.urlsplit(PG_URL)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + name, u.query, ""))


class Proc:
    def __init__(self, cmd: list[str], env: dict[str, str], port: int, log_path: Path) -> None:
        self.port = port
        self.api = f"http://127.0.0.1:{port}/api"
        with open(log_path, "ab") as fh:
            self.p = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_healthy(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.p.poll() is not None:
                raise SystemExit(f"server on {self.port} exited with {self.p.returncode}")
            try:
                if httpx.get(self.api + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"server on {self.port} not healthy within {timeout}s")

    def stop(self) -> None:
        if self.p.poll() is None:
            os.killpg(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()


def start_prefect(db: str, work: Path) -> list[Proc]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    u = urllib.parse.urlsplit(db)
    env.update(PREFECT_HOME=str(work / "prefect-home"), PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_UI_ENABLED="false",
               PREFECT_API_DATABASE_CONNECTION_URL=f"postgresql+asyncpg://{u.netloc}{u.path}", PREFECT_LOGGING_SERVER_LEVEL="WARNING")
    p = Proc([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)], env, port, work / "prefect.log")
    p.wait_healthy()
    return [p]


def start_baton(db: str, work: Path, replicas: int) -> list[Proc]:
    key = "YmF0b24tYmVuY2gtcG9zdGdyZXMtc2VjcmV0cy1rZXk="  # 32 bytes, shared by the replicas
    procs = []
    for i in range(replicas):
        port = free_port()
        home = work / f"baton-{i}"
        home.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
        env.update(BATON_HOME=str(home), BATON_DATABASE_URL=db, BATON_SECRETS_KEY=key, BATON_LOG_LEVEL="warn")
        p = Proc([str(BATON_BIN), "server", "start", "--host", "127.0.0.1", "--port", str(port)], env, port, work / f"baton-{i}.log")
        p.wait_healthy()
        procs.append(p)
    return procs


def load(api: str, mode: str, *args: str) -> dict:
    p = subprocess.run([str(LOAD_BIN), mode, "-url", api, *args], capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        raise SystemExit(f"bench-load {mode} against {api} failed: {p.stderr[-3000:]}")
    return json.loads(p.stdout)


def spread(procs: list[Proc], mode: str, conc: int, *args: str, n: int | None = None) -> list[dict]:
    """Run bench-load against every replica at once, splitting the workers (and -n) between them."""
    k = len(procs)
    with ThreadPoolExecutor(k) as ex:
        futs = []
        for i, p in enumerate(procs):
            a = ["-c", str(max(1, conc // k)), *args]
            if n is not None:
                a += ["-n", str(n // k)]
            futs.append(ex.submit(load, p.api, mode, *a))
        return [f.result() for f in futs]


def measure(procs: list[Proc], cfg: dict) -> dict:
    r: dict[str, list[float]] = {"lifecycles_per_s": [], "set_state_p99_ms": [], "events_per_s": [], "filter_p99_ms": [], "filter_per_s": []}
    for _ in range(cfg["reps"]):
        res = spread(procs, "lifecycle", cfg["c"], "-d", f"{cfg['seconds']}s")
        r["lifecycles_per_s"].append(sum(x["per_s"] for x in res))
        r["set_state_p99_ms"].append(max(x["set_state_p99_ms"] for x in res))
    for _ in range(cfg["reps"]):
        res = spread(procs, "events", cfg["event_conns"], n=cfg["events"])
        r["events_per_s"].append(sum(x["events"] for x in res) / max(x["seconds"] for x in res))
    load(procs[0].api, "seed", "-c", str(cfg["c"]), "-n", str(cfg["rows"]))
    for _ in range(cfg["reps"]):
        res = spread(procs, "filter", cfg["c"], "-d", f"{cfg['seconds']}s")
        r["filter_per_s"].append(sum(x["per_s"] for x in res))
        r["filter_p99_ms"].append(max(x["p99_ms"] for x in res))
    return r


def median(xs: list[float]) -> float:
    s = sorted(xs)
    return s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2


def fmt(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", choices=["prefect", "baton1", "baton2"], action="append")
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    args = ap.parse_args()
    cfg = dict(reps=2, c=8, seconds=10, events=6000, event_conns=4, rows=20_000) if not args.quick else \
        dict(reps=1, c=8, seconds=3, events=600, event_conns=4, rows=2_000)
    targets = args.only or ["prefect", "baton1", "baton2"]
    pg_version = subprocess.run(["psql", PG_URL, "-Atc", "SHOW server_version"], capture_output=True, text=True).stdout.strip()
    load_before = loadavg()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="baton-bench-pg-") as tmp:
        for t in targets:
            work = Path(tmp) / t
            work.mkdir()
            db = database(f"bench_{t}")
            log(f"{t}: starting (load {loadavg()})")
            procs = start_prefect(db, work) if t == "prefect" else start_baton(db, work, int(t[-1]))
            try:
                results[t] = measure(procs, cfg)
            finally:
                for p in procs:
                    p.stop()
            log(f"{t}: {json.dumps({k: [round(v, 1) for v in vs] for k, vs in results[t].items()})}")
    load_after = loadavg()
    Path(args.out).with_name("benchmarks-postgres.json").write_text(json.dumps({"cfg": cfg, "results": results, "load": [load_before, load_after]}, indent=1) + "\n")
    names = {"prefect": "Prefect server", "baton1": "Baton, 1 replica", "baton2": "Baton, 2 replicas"}
    rows = [("lifecycles_per_s", f"flow-run lifecycles/s, c={cfg['c']}"), ("set_state_p99_ms", "set_state p99 (ms)"),
            ("events_per_s", f"task-run events recorded/s ({cfg['events']:,} events, {cfg['event_conns']} sockets)"),
            ("filter_p99_ms", f"/flow_runs/filter p99 (ms), {cfg['rows']:,} runs"), ("filter_per_s", "/flow_runs/filter queries/s")]
    lines = [BEGIN, "", "## On PostgreSQL", "",
             f"`{'make bench-postgres-quick' if args.quick else 'make bench-postgres'}` (bench/postgres.py): one durable PostgreSQL {pg_version} cluster on this "
             "machine (fsync on), a fresh database per target, the same `bin/bench-load` as above. With 2 replicas the workers are split "
             "between the replicas (throughputs summed, latencies the worse replica's). Medians of "
             f"{cfg['reps']} runs of {cfg['seconds']} s each. The machine is shared with other work: load average "
             f"{load_before} before and {load_after} after (1, 5, 15 min) on {os.cpu_count()} CPUs, so the absolute figures are low "
             "and noisy; the targets ran one after the other under the same conditions.", "",
             "| workload | " + " | ".join(names[t] for t in targets) + " |", "|---|" + "---:|" * len(targets)]
    for key, label in rows:
        lines.append(f"| {label} | " + " | ".join(fmt(median(results[t][key])) for t in targets) + " |")
    if "prefect" in results and "baton1" in results:
        ratio = median(results["baton1"]["lifecycles_per_s"]) / max(median(results["prefect"]["lifecycles_per_s"]), 1e-9)
        lines += ["", f"Baton with 1 replica drove {ratio:.1f}× the Prefect server's lifecycles/s on the same database."]
    if "baton1" in results and "baton2" in results:
        r2 = median(results["baton2"]["lifecycles_per_s"]) / max(median(results["baton1"]["lifecycles_per_s"]), 1e-9)
        lines += [f"2 replicas against 1: {r2:.2f}× the lifecycles/s (both replicas and the database share the same "
                  f"{os.cpu_count()} CPUs here, so a second replica adds no hardware)."]
    lines += ["", "The filter figure is at the row count above, not at 1 million runs: seeding a million runs through the API "
              "takes longer than this benchmark's budget.", "", END]
    out = Path(args.out)
    text = out.read_text() if out.exists() else ""
    block = "\n".join(lines)
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    out.write_text(text)
    print(block)


if __name__ == "__main__":
    main()
