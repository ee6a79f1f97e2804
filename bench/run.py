"""Benchmark harness: the Prefect server and Baton, one after the other, same workloads, same clients.

Run through bench/run.sh (`make bench`, `make bench-quick`), which prepares bench/.venv and builds
bin/baton and bin/bench-load. For each server this script:

  5. starts it several times on a fresh home and times process start -> GET /api/health true,
     keeps the last instance and reads its idle RSS;
  1. runs the seed's basic_flow.py N times, one process each, and times every run;
  2. runs a flow mapping a task over 500 inputs and a flow with 50 concurrent subflows, timing the
     flow and the moment all its task runs are visible (COMPLETED) through the API;
  4. sends task-run events through /api/events/in and times until all are recorded;
  3. drives flow-run lifecycles (create -> Running -> Completed) with bin/bench-load at fixed
     concurrency, sampling the server's RSS; seeds the flow-run table to 100,000 rows, restarts the
     server and runs /flow_runs/filter queries, still sampling RSS.

Then it runs the Go benchmarks of the hot paths and writes docs/benchmarks.md, the chart and the raw
results (docs/benchmarks.json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
VENV_BIN = Path(sys.executable).parent
BATON_BIN = ROOT / "bin" / "baton"
LOAD_BIN = ROOT / "bin" / "bench-load"

# Sizes of everything; --quick uses the second set (same code path, smaller N).
FULL = dict(
    startup_reps=5, idle_wait=3.0, basic_runs=10, w2_reps=3, mapped_n=500, subflows_n=50,
    events_reps=3, events_n=9000, events_conns=4, load_reps=3, load_seconds=15, concurrency=8,
    api_seed=1000, filter_rows=100_000, filter_seconds=10,
)
QUICK = dict(
    startup_reps=2, idle_wait=1.0, basic_runs=2, w2_reps=2, mapped_n=50, subflows_n=5,
    events_reps=2, events_n=450, events_conns=4, load_reps=2, load_seconds=2, concurrency=8,
    api_seed=100, filter_rows=5_000, filter_seconds=2,
)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- process memory --------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        # the field after the parenthesised command name is the state, then the parent pid
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            out.append(int(d.name))
    return out


def tree(pid: int) -> list[int]:
    """pid and all its descendants."""
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo.extend(_children(p))
    return seen


def status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory of the process tree (VmRSS, or VmHWM for the peak), in MB."""
    return sum(status_kb(p, field) for p in tree(pid)) / 1024


class RSSSampler:
    """Samples the tree's VmRSS every 100 ms in a thread; .peak is the largest sum seen."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak = pid, 0.0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            self._stop.wait(0.1)

    def __enter__(self) -> "RSSSampler":
        self._t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, rss_mb(self.pid))


# --- servers ---------------------------------------------------------------------------------


class Server:
    """One server process on a loopback port with its own home directory."""

    name = ""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.home: Path | None = None
        self.proc: subprocess.Popen | None = None
        self.port = 0

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def command(self) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        raise NotImplementedError

    def db_path(self) -> Path:
        raise NotImplementedError

    def start(self, fresh: bool = True, timeout: float = 120) -> float:
        """Start the server (on a new home if fresh) and return seconds until /api/health is true."""
        if fresh or self.home is None:
            self.home = Path(tempfile.mkdtemp(prefix=f"{self.name}-home-", dir=self.workdir))
        self.port = free_port()
        logf = open(self.workdir / f"{self.name}.log", "ab")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            self.command(), env=self.env(), stdout=logf, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, cwd=self.home, start_new_session=True,
        )
        logf.close()
        with httpx.Client(timeout=2) as c:
            while time.monotonic() - t0 < timeout:
                if self.proc.poll() is not None:
                    raise SystemExit(f"{self.name} exited with {self.proc.returncode}; see {self.workdir / (self.name + '.log')}")
                try:
                    r = c.get(f"{self.api}/health")
                    if r.status_code == 200 and r.json() is True:
                        return time.monotonic() - t0
                except (httpx.HTTPError, ValueError):
                    pass
                time.sleep(0.01)
        raise SystemExit(f"{self.name} not healthy within {timeout}s")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass


class PrefectServer(Server):
    name = "prefect"

    def command(self) -> list[str]:
        return [str(VENV_BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(self.port)]

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BATON_"))}
        env.update(PREFECT_HOME=str(self.home), PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_UI_ENABLED="false")
        return env

    def db_path(self) -> Path:
        return self.home / "prefect.db"


class BatonServer(Server):
    name = "baton"

    def command(self) -> list[str]:
        return [str(BATON_BIN), "server", "start", "--host", "127.0.0.1", "--port", str(self.port)]

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BATON_"))}
        env["BATON_HOME"] = str(self.home)
        return env

    def db_path(self) -> Path:
        return self.home / "baton.db"


# --- seeding the flow-run table ----------------------------------------------------------------


def clone_flow_runs(server: Server, total: int) -> int:
    """Grow the stopped server's flow-run table to `total` rows by copying the API-made rows.

    Both servers get the same treatment: the rows were created through the API by the load
    generator (a spread of states, tags and flows); this copies them, each copy with a new id and
    name (and, for Baton, the same two fields inside the stored JSON body), in one transaction.
    Copies keep the original's state row, times and tags, so the table's distribution stays the
    one the API produced. Returns the row count after seeding.
    """
    db = sqlite3.connect(server.db_path())
    try:
        table = "flow_run" if server.name == "prefect" else "flow_runs"
        # generated columns (hidden 2 and 3 in table_xinfo) are computed by SQLite, not inserted
        names = [r[1] for r in db.execute(f"PRAGMA table_xinfo({table})") if r[6] not in (2, 3)]
        cur = db.execute(f"SELECT {','.join(names)} FROM {table}")
        cols = [d[0] for d in cur.description]
        rows = cur.fetchall()
        have = len(rows)
        need = total - have
        if need <= 0:
            return have
        i_id, i_name = cols.index("id"), cols.index("name")
        i_body = cols.index("body") if "body" in cols else None
        out = []
        for k in range(need):
            row = list(rows[k % have])
            new = uuid.uuid4()
            name = f"{row[i_name]}-c{k}"
            if server.name == "prefect":
                row[i_id] = str(new)
            else:
                row[i_id] = new.bytes
                body = json.loads(row[i_body])
                body["id"], body["name"] = str(new), name
                if isinstance(body.get("state"), dict):
                    body["state"].setdefault("state_details", {})["flow_run_id"] = str(new)
                raw = json.dumps(body, separators=(",", ":"))
                row[i_body] = raw.encode() if isinstance(rows[k % have][i_body], bytes) else raw
            row[i_name] = name
            out.append(row)
        marks = ",".join("?" * len(cols))
        with db:
            db.executemany(f"INSERT INTO {table} ({','.join(cols)}) VALUES ({marks})", out)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        db.close()


# --- workloads -------------------------------------------------------------------------------


def client_env(server: Server, client_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BATON_"))}
    env.update(PREFECT_API_URL=server.api, PREFECT_HOME=str(client_home), PYTHONPATH=str(BENCH / "flows"))
    return env


def run_script(server: Server, client_home: Path, script: str, *args: str, allow_fail: bool = False) -> tuple[float, dict | None]:
    """Run a flow script with the Prefect client; return its wall time and its BENCH_RESULT object.

    With allow_fail, a failed run (for example a server answering 503 under load) returns None
    instead of ending the benchmark; the caller counts it as a failure in the report.
    """
    t0 = time.monotonic()
    p = subprocess.run(
        [sys.executable, str(BENCH / "flows" / script), *args], env=client_env(server, client_home),
        capture_output=True, text=True, timeout=900,
    )
    wall = time.monotonic() - t0
    if p.returncode != 0 and allow_fail:
        log(f"{script} against {server.name} failed ({p.returncode}); counted as a failure: {p.stderr.strip().splitlines()[-1:]}")
        return wall, None
    if p.returncode != 0:
        raise SystemExit(f"{script} against {server.name} failed ({p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    res = {}
    for line in p.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            res = json.loads(line[len("BENCH_RESULT "):])
    return wall, res


def load(server: Server, mode: str, *args: str) -> dict:
    p = subprocess.run([str(LOAD_BIN), mode, "-url", server.api, *args], capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        raise SystemExit(f"bench-load {mode} against {server.name} failed: {p.stderr[-3000:]}")
    return json.loads(p.stdout)


def measure(server: Server, cfg: dict) -> dict:
    """Every workload against one server; returns metric name -> list of samples (plus extras)."""
    r: dict[str, list] = {}
    notes: dict[str, object] = {}

    def add(key: str, value: float) -> None:
        r.setdefault(key, []).append(value)

    log(f"{server.name}: start -> healthy, {cfg['startup_reps']} fresh starts")
    for i in range(cfg["startup_reps"]):
        add("startup_s", server.start(fresh=True))
        if i < cfg["startup_reps"] - 1:
            server.stop()
    time.sleep(cfg["idle_wait"])
    add("idle_rss_mb", rss_mb(server.proc.pid))
    client_home = Path(tempfile.mkdtemp(prefix="client-home-", dir=server.workdir))

    log(f"{server.name}: workload 1, basic_flow.py x{cfg['basic_runs']}")
    run_script(server, client_home, "basic_flow.py")  # warm-up: first client run pays the imports' disk reads
    for _ in range(cfg["basic_runs"]):
        add("basic_flow_s", run_script(server, client_home, "basic_flow.py")[0])

    log(f"{server.name}: workload 2, {cfg['mapped_n']} mapped tasks and {cfg['subflows_n']} subflows x{cfg['w2_reps']}")
    for _ in range(cfg["w2_reps"]):
        for script, n, key in (("mapped_tasks.py", cfg["mapped_n"], "mapped"), ("subflows.py", cfg["subflows_n"], "subflows")):
            _, res = run_script(server, client_home, script, str(n), allow_fail=True)
            if res is None:
                fails = notes.setdefault("w2_failures", {})
                fails[script] = fails.get(script, 0) + 1
                continue
            add(f"{key}_flow_s", res["flow_s"])
            add(f"{key}_visible_s", res["visible_s"])

    log(f"{server.name}: workload 4, {cfg['events_n']} task-run events x{cfg['events_reps']}")
    for _ in range(cfg["events_reps"]):
        res = load(server, "events", "-c", str(cfg["events_conns"]), "-n", str(cfg["events_n"]))
        add("events_per_s", res["per_s"])

    log(f"{server.name}: workload 3, lifecycles {cfg['load_seconds']}s x{cfg['load_reps']} at c={cfg['concurrency']}")
    c = str(cfg["concurrency"])
    with RSSSampler(server.proc.pid) as s:
        for _ in range(cfg["load_reps"]):
            res = load(server, "lifecycle", "-c", c, "-d", f"{cfg['load_seconds']}s")
            add("lifecycles_per_s", res["per_s"])
            add("set_state_p50_ms", res["set_state_p50_ms"])
            add("set_state_p99_ms", res["set_state_p99_ms"])
            add("load_failed", res["failed"])
            add("load_retries", res["retries"])
        log(f"{server.name}: seeding {cfg['api_seed']} flow runs through the API")
        res = load(server, "seed", "-c", c, "-n", str(cfg["api_seed"]))
        notes["api_seed_per_s"] = res["per_s"]
    peak_lifecycle = s.peak

    log(f"{server.name}: copying flow runs up to {cfg['filter_rows']} rows (server stopped), restart")
    server.stop()
    notes["flow_runs_in_db"] = clone_flow_runs(server, cfg["filter_rows"])
    add("restart_full_db_s", server.start(fresh=False))
    with RSSSampler(server.proc.pid) as s:
        for _ in range(cfg["load_reps"]):
            res = load(server, "filter", "-c", c, "-d", f"{cfg['filter_seconds']}s")
            add("filter_p50_ms", res["p50_ms"])
            add("filter_p99_ms", res["p99_ms"])
            add("filter_per_s", res["per_s"])
            for q, pq in enumerate(res["per_query"]):
                add(f"filter_q{q}_p50_ms", pq["p50_ms"])
    add("peak_rss_mb", max(peak_lifecycle, s.peak))
    add("peak_rss_lifecycle_mb", peak_lifecycle)
    add("peak_rss_filter_mb", s.peak)
    server.stop()
    notes["log_errors"] = log_errors(server)
    r["_notes"] = notes  # type: ignore[assignment]
    return r


def log_errors(server: Server) -> dict[str, int]:
    """Counts of trouble in the server's log over the whole run (kept in the report, the log is not)."""
    text = (server.workdir / f"{server.name}.log").read_text(errors="replace")
    return {
        "error lines": sum(1 for l in text.splitlines() if "| ERROR" in l or "level=ERROR" in l),
        "'database is locked'": text.count("database is locked"),
    }


# --- Go benchmarks ---------------------------------------------------------------------------


GO_BENCH_PKGS = ["./internal/store/sqlite/", "./internal/events/"]


def go_benchmarks(benchtime: str) -> tuple[str, str]:
    cmd = ["go", "test", "-run", "^$", "-bench", ".", "-benchmem", f"-benchtime={benchtime}", *GO_BENCH_PKGS]
    log("go benchmarks: " + " ".join(cmd))
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1200)
    lines = [l for l in (p.stdout + p.stderr).splitlines() if l.startswith(("Benchmark", "ok", "FAIL", "---", "pkg:", "?"))]
    return " ".join(cmd), "\n".join(lines)


# --- report ----------------------------------------------------------------------------------

# metric key, label, unit, higher_is_better
METRICS = [
    ("basic_flow_s", "W1 basic_flow.py, wall time per run (process)", "s", False),
    ("mapped_flow_s", "W2 {mapped_n} mapped tasks: flow wall time", "s", False),
    ("mapped_visible_s", "W2 {mapped_n} mapped tasks: all task runs visible", "s", False),
    ("subflows_flow_s", "W2 {subflows_n} concurrent subflows: flow wall time", "s", False),
    ("subflows_visible_s", "W2 {subflows_n} concurrent subflows: all task runs visible", "s", False),
    ("lifecycles_per_s", "W3 flow-run lifecycles (create, Running, Completed), c={concurrency}", "/s", True),
    ("set_state_p50_ms", "W3 set_state p50, c={concurrency}", "ms", False),
    ("set_state_p99_ms", "W3 set_state p99, c={concurrency}", "ms", False),
    ("filter_p50_ms", "W3 /flow_runs/filter p50, {filter_rows:,} runs, c={concurrency}", "ms", False),
    ("filter_p99_ms", "W3 /flow_runs/filter p99, {filter_rows:,} runs, c={concurrency}", "ms", False),
    ("filter_per_s", "W3 /flow_runs/filter throughput, c={concurrency}", "/s", True),
    ("filter_q0_p50_ms", "W3 filter p50: newest 50 by start time (no filter)", "ms", False),
    ("filter_q1_p50_ms", "W3 filter p50: FAILED, by expected start time", "ms", False),
    ("filter_q2_p50_ms", "W3 filter p50: one tag, default sort", "ms", False),
    ("events_per_s", "W4 task-run events through /events/in until recorded", "/s", True),
    ("idle_rss_mb", "W5 idle RSS after start", "MB", False),
    ("peak_rss_mb", "W5 peak RSS under workload 3", "MB", False),
    ("peak_rss_lifecycle_mb", "W5 peak RSS, lifecycle and seeding phase", "MB", False),
    ("peak_rss_filter_mb", "W5 peak RSS, filter phase ({filter_rows:,} runs)", "MB", False),
    ("startup_s", "W5 process start to healthy (fresh home)", "s", False),
    ("restart_full_db_s", "W5 restart to healthy with the seeded database", "s", False),
]


def fmt(v: float) -> str:
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def cell(samples: list[float]) -> str:
    med = statistics.median(samples)
    if len(samples) == 1:
        return fmt(med)
    return f"{fmt(med)} ({fmt(min(samples))}–{fmt(max(samples))})"


def machine() -> dict:
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")), "?")
    mem = next((int(l.split()[1]) for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")), 0)

    def out(*cmd: str) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=60).stdout.strip()
        except OSError:
            return "?"

    import prefect

    return dict(
        nproc=os.cpu_count(), cpu=cpu, mem_gb=round(mem / 1024 / 1024, 1), kernel=platform.release(),
        loadavg=Path("/proc/loadavg").read_text().split()[:3], go=out("go", "version"),
        python=platform.python_version(), prefect=prefect.__version__,
        baton=out(str(BATON_BIN), "version") or "?", commit=out("git", "rev-parse", "--short", "HEAD"),
        sqlite=sqlite3.sqlite_version,
    )


# The README's "How fast" table: metric key, label, unit (README.md, between the two markers below;
# rewritten by full runs only, so a quick run never puts reduced-size figures there).
HEADLINE = [
    ("startup_s", "start to healthy", "s"),
    ("idle_rss_mb", "idle memory (RSS)", "MB"),
    ("lifecycles_per_s", "flow-run lifecycles/s (create → Running → Completed, {concurrency} clients)", ""),
    ("set_state_p99_ms", "`set_state` p99", "ms"),
    ("events_per_s", "task-run events/s through `/events/in` until recorded", ""),
    ("subflows_flow_s", "{subflows_n} concurrent subflows, wall time", "s"),
    ("mapped_flow_s", "{mapped_n} mapped tasks, flow wall time", "s"),
    ("mapped_visible_s", "{mapped_n} mapped tasks: all task runs visible", "s"),
    ("filter_p99_ms", "`/flow_runs/filter` p99 with {filter_rows:,} runs", "ms"),
    ("peak_rss_mb", "peak memory (RSS) under load", "MB"),
]
HEADLINE_BEGIN, HEADLINE_END = "<!-- bench:headline -->", "<!-- /bench:headline -->"


def headline(res: dict, cfg: dict, losses: list[str]) -> str:
    """The README's headline block for one full run: its date and machine, the table, and the losses."""
    p, b = res["prefect"], res["baton"]
    load = " ".join(res["machine"]["loadavg"])
    out = [
        f"From `{res.get('command', 'make bench')}` on {res['finished']} (full run, load average {load} at its start; the Prefect",
        f"server of the pinned release, {res['machine']['prefect']}, measured in the same run with the same clients — all figures,",
        "ranges and the losses are in [docs/benchmarks.md](docs/benchmarks.md)):",
        "",
        "| | Prefect server | Baton |",
        "|---|---:|---:|",
    ]
    for key, label, unit in HEADLINE:
        if key not in p or key not in b:
            continue
        v = [fmt(statistics.median(x[key])) + (f" {unit}" if unit else "") for x in (p, b)]
        out.append(f"| {label.format(**cfg)} | {v[0]} | {v[1]} |")
    out += ["", "Where Baton is not ahead in that run:" if losses else "Baton was ahead or even on every figure of that run.", *losses]
    return "\n".join(out)


def write_readme(block: str, readme: Path = ROOT / "README.md") -> bool:
    """Replace the text between the headline markers of README.md; False when the markers are missing."""
    text = readme.read_text()
    if HEADLINE_BEGIN not in text or HEADLINE_END not in text:
        return False
    head, rest = text.split(HEADLINE_BEGIN, 1)
    _, tail = rest.split(HEADLINE_END, 1)
    readme.write_text(f"{head}{HEADLINE_BEGIN}\n{block}\n{HEADLINE_END}{tail}")
    return True


def write_report(res: dict, cfg: dict, quick: bool, command: str, md_path: Path, chart_path: Path, go_cmd: str, go_out: str) -> None:
    m, p, b = res["machine"], res["prefect"], res["baton"]
    rows, chart, losses = [], [], []
    for key, label, unit, higher in METRICS:
        if key not in p or key not in b:
            continue
        pm, bm = statistics.median(p[key]), statistics.median(b[key])
        ratio = bm / pm if pm else float("inf")
        better = (ratio if higher else (1 / ratio if ratio else float("inf")))
        overlap = min(p[key]) <= max(b[key]) and min(b[key]) <= max(p[key])
        if overlap and 0.8 < better < 1.25:
            verdict = "even (min–max ranges overlap)"
        elif better >= 1:
            verdict = f"Baton {better:.1f}× better"
        else:
            verdict = f"**Baton {1 / better:.1f}× worse**"
        rows.append(f"| {label.format(**cfg)} | {unit} | {cell(p[key])} | {cell(b[key])} | {ratio:.3g} | {verdict} |")
        chart.append((label.format(**cfg), better, verdict.startswith("even")))
        if verdict.startswith("**"):
            losses.append(f"- {label.format(**cfg)}: {fmt(bm)} {unit} vs {fmt(pm)} {unit} ({1 / better:.1f}× worse).")
    if not quick and md_path == ROOT / "docs" / "benchmarks.md":
        if not write_readme(headline(res, cfg, losses)):
            log(f"README.md has no {HEADLINE_BEGIN} block; its headline table was not rewritten")
    f = BENCH / "FINDINGS.md"
    findings = f.read_text().strip() + "\n" if f.exists() else ""
    lines = [
        "# Benchmarks: Baton vs the Prefect server",
        "",
        f"Generated by `{command}` on {res['finished']} ({'quick run: reduced sizes' if quick else 'full run'}).",
        "Both servers ran on this machine in the same run, one after the other, driven by the same clients:",
        "the real Prefect client (the same pinned `prefect` release for the flows and for the Prefect server)",
        "and `bench/load` (Go, fixed concurrency) for the raw API. Each cell is the **median (min–max)** of the",
        "repetitions; the ratio is Baton/Prefect of the medians.",
        "",
        "| Metric | Unit | Prefect server | Baton | Baton/Prefect | |",
        "| --- | --- | ---: | ---: | ---: | --- |",
        *rows,
        "",
        f"![Baton's advantage per metric]({chart_path.name})",
        "",
        "## Machine and versions",
        "",
        f"- CPU: {m['cpu']}, {m['nproc']} cores (nproc); memory {m['mem_gb']} GB; Linux {m['kernel']}; load average at start {' '.join(m['loadavg'])}",
        f"- Baton `{m['baton']}` (commit {m['commit']}), {m['go']}",
        f"- Prefect server and client: prefect {m['prefect']} (pinned in compat/requirements.txt), Python {m['python']}, SQLite {m['sqlite']} (Python's)",
        "- The machine is shared with other work; a run is only comparable with itself, which is why both servers run in the same one.",
        "",
        "## What was measured, and how",
        "",
        f"- **Servers.** Prefect: `prefect server start --host 127.0.0.1 --port P` with a fresh `PREFECT_HOME` (default SQLite database), "
        "`PREFECT_SERVER_ANALYTICS_ENABLED=false` and `PREFECT_UI_ENABLED=false` (we compare APIs; Baton serves its UI either way). "
        "All other settings are defaults, including Prefect's background services. Baton: `baton server start --host 127.0.0.1 --port P` "
        "with a fresh `BATON_HOME` (SQLite). RSS is VmRSS from /proc summed over the server's process tree.",
        f"- **W1.** `bench/flows/basic_flow.py` is the seed's flow, run {cfg['basic_runs']} times as its own `python` process after one "
        "warm-up run; the figure is the process's wall time, so most of it is the client's own start-up and shutdown.",
        f"- **W2.** `bench/flows/mapped_tasks.py` ({cfg['mapped_n']} tasks via `.map`) and `bench/flows/subflows.py` ({cfg['subflows_n']} async "
        f"subflows under `asyncio.gather`, each with one task: {2 * cfg['subflows_n']} task runs with the subflows' parent task runs), "
        f"{cfg['w2_reps']} times each. Flow wall time is measured inside the script around the flow call; \"visible\" is from the same "
        "start until `POST /task_runs/count` counts every task run of that flow as COMPLETED (task runs reach both servers as events).",
        f"- **W3.** `bin/bench-load lifecycle` for {cfg['load_seconds']} s, {cfg['load_reps']} times, {cfg['concurrency']} workers: "
        "`POST /flow_runs/` (PENDING), `set_state` RUNNING, `set_state` COMPLETED, each answer checked (`ACCEPT`). Requests answered "
        "429/502/503 or dropped are retried with a doubling pause, as the Prefect client does; retries and failures are listed below. "
        f"Then {cfg['api_seed']:,} runs are created through the API (a spread of states, tags and flows), the server is stopped and the "
        f"flow-run table is grown to {cfg['filter_rows']:,} rows by copying those rows with new ids and names in SQL "
        "(the same function for both servers, `clone_flow_runs` in bench/run.py: seeding 100,000 runs through Prefect's API "
        "at the rate measured below would take most of an hour). After a restart, `bin/bench-load filter` runs "
        f"{cfg['filter_seconds']} s × {cfg['load_reps']}, rotating over three bodies: newest 50 by start time; FAILED by expected start "
        "time; one tag. Peak RSS is the largest sample (every 100 ms) over the lifecycle, seeding and filter phases.",
        f"- **W4.** `bin/bench-load events`: {cfg['events_n']:,} `prefect.task-run.*` events (Pending, Running, Completed for "
        f"{cfg['events_n'] // 3:,} task runs of one flow run) over {cfg['events_conns']} `/api/events/in` websockets (subprotocol `prefect`, "
        "auth frame, one event per frame, a ping awaited every 700 events as the Prefect client does), timed until "
        "`/task_runs/count` counts all task runs COMPLETED. Frames are encoded before the clock starts.",
        "- **W5.** Start to healthy: process start until `GET /api/health` returns `true` (polled every 10 ms), on a fresh home, "
        f"{cfg['startup_reps']} times; idle RSS {cfg['idle_wait']:.0f} s after the last start.",
        "- **W6** (scheduled time → RUNNING with each server's own worker) is not measured yet.",
        "",
        "### Load-generator bookkeeping",
        "",
        "| | Prefect server | Baton |",
        "| --- | ---: | ---: |",
        f"| W3 lifecycle requests retried (sum over repetitions) | {sum(p.get('load_retries', [0])):.0f} | {sum(b.get('load_retries', [0])):.0f} |",
        f"| W3 lifecycles failed after retries | {sum(p.get('load_failed', [0])):.0f} | {sum(b.get('load_failed', [0])):.0f} |",
        f"| API seeding rate (flow-run creates/s, c={cfg['concurrency']}) | {fmt(p['_notes']['api_seed_per_s'])} | {fmt(b['_notes']['api_seed_per_s'])} |",
        f"| flow runs in the database for the filter queries | {p['_notes']['flow_runs_in_db']:,} | {b['_notes']['flow_runs_in_db']:,} |",
        *[f"| server log over the run: {k} | {p['_notes']['log_errors'][k]} | {b['_notes']['log_errors'][k]} |" for k in p["_notes"]["log_errors"]],
        *[f"| W2 {sc} runs that failed (not in the medians) | {p['_notes'].get('w2_failures', {}).get(sc, 0)} | {b['_notes'].get('w2_failures', {}).get(sc, 0)} |" for sc in ("mapped_tasks.py", "subflows.py")],
        "",
        "## Where Baton loses",
        "",
        *(losses or ["Nowhere in this run."]),
        "",
        findings,
        "## Go benchmarks of the hot paths",
        "",
        f"`{go_cmd}`",
        "",
        "```",
        go_out or "(no output)",
        "```",
        "",
        "## Reproduce",
        "",
        "`make bench` (full, about 15–30 minutes) or `make bench-quick` (reduced sizes, under 3 minutes). Both run `bench/run.sh`, which",
        "creates `bench/.venv` from `compat/requirements.txt` (the pinned prefect) plus `bench/requirements.txt` (a fastapi the Prefect",
        "server starts with, and matplotlib), builds `bin/baton` and `bin/bench-load`, and runs `bench/run.py`. Raw samples are in",
        f"`docs/{md_path.with_suffix('.json').name}`.",
        "",
        *([(BENCH / "SCALING.md").read_text().strip(), ""] if (BENCH / "SCALING.md").exists() else []),
        "## UI at scale",
        "",
        "The dashboard and the flow-runs list with 100,000 flow runs and 1,000,000 task runs (`bench/ui_scale.sh`, seeded by",
        "`baton dev seed`; measured separately because it needs a 3.5 GB database): [benchmarks-ui-scale.md](benchmarks-ui-scale.md).",
        "",
        "## Deployments (workload 6)",
        "",
        "Scheduled time → RUNNING with Baton's worker (long poll) and with Prefect's worker, and the scheduler with 1,000",
        "deployments on a one-minute cron: [benchmarks-deployments.md](benchmarks-deployments.md).",
        "",
        "`Block.load()` and `Variable.get()` latency at 8 concurrent clients, Baton and the Prefect server side by side "
        "(`make bench-blocks`): [benchmarks-blocks.md](benchmarks-blocks.md).",
        "",
        "Event → automation action latency with 100 enabled automations at 10,000 and 2,000 events/s "
        "(`make bench-automations`): [benchmarks-automations.md](benchmarks-automations.md).",
        "",
    ]
    # The PostgreSQL section (bench/postgres.py, `make bench-postgres`) is measured separately: keep it.
    old_md = md_path.read_text() if md_path.exists() else ""
    if "<!-- postgres:begin -->" in old_md:
        lines.append(old_md[old_md.index("<!-- postgres:begin -->"):].rstrip("\n") + "\n")
    md_path.write_text("\n".join(lines))
    draw_chart(chart, chart_path, quick)


def draw_chart(chart: list[tuple[str, float, bool]], path: Path, quick: bool) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [c[0] for c in chart][::-1]
    vals = [c[1] for c in chart][::-1]
    even = [c[2] for c in chart][::-1]
    fig, ax = plt.subplots(figsize=(10, 0.42 * len(chart) + 1.4))
    colors = ["#999999" if e else "#2b7a3d" if v >= 1 else "#b03a2e" for v, e in zip(vals, even)]
    ax.barh(labels, vals, color=colors)
    ax.set_xscale("log")
    ax.axvline(1, color="black", linewidth=0.8)
    for y, (v, e) in enumerate(zip(vals, even)):
        text = " even (within noise)" if e else f" {v:.1f}×" if v >= 1 else f" {1 / v:.1f}× worse"
        ax.text(v, y, text, va="center", fontsize=8)
    ax.set_xlabel("Baton's advantage over the Prefect server (× better, log scale; medians)")
    ax.set_title("Baton vs Prefect server" + (" (quick run)" if quick else ""))
    ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="reduced sizes (make bench-quick)")
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    ap.add_argument("--chart", default=str(ROOT / "docs" / "bench-chart.png"))
    ap.add_argument("--only", choices=["prefect", "baton"], help="measure one server (for debugging; writes no report)")
    ap.add_argument("--command", default="make bench", help="the command to print in the report")
    ap.add_argument("--report-only", action="store_true", help="rewrite the report and chart from the existing JSON results")
    args = ap.parse_args()
    md = Path(args.out).resolve()
    if args.report_only:
        res = json.loads(md.with_suffix(".json").read_text())
        quick = res["config"] == QUICK
        write_report(res, res["config"], quick, res.get("command", args.command), md, Path(args.chart), *res["go"])
        return
    cfg = QUICK if args.quick else FULL
    workdir = Path(tempfile.mkdtemp(prefix="baton-bench-"))
    log(f"work directory {workdir} (server logs are kept there)")
    res: dict = {"machine": machine(), "config": cfg, "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    t0 = time.monotonic()
    for cls in (PrefectServer, BatonServer):
        if args.only and cls.name != args.only:
            continue
        srv = cls(workdir)
        try:
            res[cls.name] = measure(srv, cfg)
        finally:
            srv.stop()
    if args.only:
        print(json.dumps(res, indent=1))
        return
    go_cmd, go_out = go_benchmarks("200ms" if args.quick else "1s")
    res["finished"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    res["seconds"] = time.monotonic() - t0
    res["go"] = [go_cmd, go_out]
    md.parent.mkdir(parents=True, exist_ok=True)
    res["command"] = args.command
    md.with_suffix(".json").write_text(json.dumps(res, indent=1) + "\n")
    write_report(res, cfg, args.quick, args.command, md, Path(args.chart), go_cmd, go_out)
    log(f"wrote {md}, {args.chart} and {md.with_suffix('.json')} in {res['seconds']:.0f}s")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
