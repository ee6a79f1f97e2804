"""PostgreSQL benchmark (issue 14): the Prefect server and Baton with 1 and 2 replicas on one PostgreSQL.

Run through bench/postgres.sh (`make bench-postgres`), which starts a throwaway durable PostgreSQL
cluster (fsync on) and exports PG_URL. Each target gets a fresh database on that cluster and is driven
by the same bin/bench-load as `make bench`:

  - lifecycles: create (PENDING) -> set_state RUNNING -> set_state COMPLETED, c workers for D seconds;
  - events: task-run events over /api/events/in until every task run is recorded;
  - filter: seed flow runs through the API, grow the flow-run table to R rows by SQL (copies under new ids;
    1 million by default), then POST /flow_runs/filter for D seconds; auto_explain records the plans.

With 2 replicas the workers are split between the replicas (two bench-load processes side by side, one per
replica): throughputs are summed, latencies are the worse replica's. The report goes between the
"postgres" markers of docs/benchmarks.md, with the machine's load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import re
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


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(match) -> float:
    """CPU time (user + system, children that exited included) of the processes match(pid, ppid, pgrp) selects."""
    total = 0
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            raw = (d / "stat").read_text()
        except OSError:
            continue
        f = raw[raw.rindex(")") + 2:].split()
        if match(int(d.name), int(f[1]), int(f[2])):
            total += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
    return total / TICK


def postgres_cpu() -> float:
    """The PostgreSQL cluster's CPU time: the postmaster and its children (backends, and those that exited)."""
    pid = int((Path(os.environ["PG_DIR"]) / "data" / "postmaster.pid").read_text().split()[0])
    return cpu_seconds(lambda p, pp, _g: p == pid or pp == pid)


def servers_cpu(procs: list[Proc]) -> float:
    groups = {p.p.pid for p in procs}
    return cpu_seconds(lambda _p, _pp, g: g in groups)


def measure_writes(procs: list[Proc], cfg: dict, r: dict) -> None:
    for _ in range(cfg["reps"]):
        srv0, pg0 = servers_cpu(procs), postgres_cpu()
        res = spread(procs, "lifecycle", cfg["c"], "-d", f"{cfg['seconds']}s")
        done = sum(x["lifecycles"] for x in res)
        r["lifecycles_per_s"].append(sum(x["per_s"] for x in res))
        r["set_state_p99_ms"].append(max(x["set_state_p99_ms"] for x in res))
        # CPU per lifecycle: where the time goes (servers vs database) on this shared machine.
        r.setdefault("server_cpu_ms_per_lifecycle", []).append(1000 * (servers_cpu(procs) - srv0) / max(done, 1))
        r.setdefault("postgres_cpu_ms_per_lifecycle", []).append(1000 * (postgres_cpu() - pg0) / max(done, 1))
    for _ in range(cfg["reps"]):
        res = spread(procs, "events", cfg["event_conns"], "-d", f"{cfg['event_seconds']}s", n=cfg["events"])
        r["events_per_s"].append(sum(x["events"] for x in res) / max(x["seconds"] for x in res))
        r.setdefault("events_partial", []).append(any(x.get("stopped_at_deadline") for x in res))


def measure_filter(procs: list[Proc], cfg: dict, r: dict) -> None:
    for _ in range(cfg["reps"]):
        res = spread(procs, "filter", cfg["c"], "-d", f"{cfg['seconds']}s")
        r["filter_per_s"].append(sum(x["per_s"] for x in res))
        r["filter_p99_ms"].append(max(x["p99_ms"] for x in res))
        r.setdefault("filter_per_query", []).append([q["p99_ms"] for q in max(res, key=lambda x: x["p99_ms"])["per_query"]])


def psql(db: str, sql: str) -> str:
    p = subprocess.run(["psql", db, "-v", "ON_ERROR_STOP=1", "-Atqc", sql], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"psql: {p.stderr.strip()}\n{sql}")
    return p.stdout.strip()


# The flow-run table of each engine, and the JSON column (if any) that repeats the run's id.
FLOW_RUN_TABLE = {"prefect": ("flow_run", None), "baton": ("flow_runs", "body")}


def multiply(db: str, engine: str, target: int) -> dict:
    """Grow the flow-run table to `target` rows with SQL: copies of the runs seeded through the API (their
    states and tags), each with a new id. The table's indexes (other than constraints) are dropped for the
    copy and built again from their own definitions afterwards, which is much faster than maintaining them
    row by row. Seeding a million runs through the API would take longer than the benchmark's budget."""
    table, body = FLOW_RUN_TABLE[engine]
    cols = psql(db, f"SELECT string_agg(quote_ident(column_name), ',' ORDER BY ordinal_position) FROM information_schema.columns "
                    f"WHERE table_name = '{table}' AND is_generated = 'NEVER'").split(",")
    exprs = []
    for c in cols:
        if c == "id":
            exprs.append("bench_nid")
        elif c == body:
            exprs.append(f"jsonb_set({c}::jsonb, '{{id}}', to_jsonb(bench_nid::text))::json")
        else:
            exprs.append(c)
    t0 = time.monotonic()
    indexes = [l.split("\t", 1) for l in psql(db, f"SELECT i.indexname || E'\\t' || i.indexdef FROM pg_indexes i WHERE i.tablename = '{table}' "
               "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)").splitlines() if l]
    psql(db, f"DROP TABLE IF EXISTS bench_base; CREATE UNLOGGED TABLE bench_base AS SELECT * FROM {table} WHERE name LIKE 'seed-%'")
    base = int(psql(db, "SELECT count(*) FROM bench_base"))
    have = int(psql(db, f"SELECT count(*) FROM {table}"))
    start = have
    psql(db, "".join(f'DROP INDEX "{name}";' for name, _ in indexes))
    while have < target:
        k = min(target - have, 200_000)
        psql(db, f"INSERT INTO {table} ({','.join(cols)}) SELECT {','.join(exprs)} FROM "
                 f"(SELECT gen_random_uuid() AS bench_nid, b.* FROM bench_base b, generate_series(1, {-(-k // base)}) g LIMIT {k}) s")
        have += k
    psql(db, "SET maintenance_work_mem = '256MB';" + "".join(f"{d};" for _, d in indexes))
    psql(db, "DROP TABLE bench_base")
    psql(db, f"VACUUM ANALYZE {table}")
    secs = time.monotonic() - t0
    log(f"{engine}: {table} grown from {start:,} to {have:,} rows ({base:,} seeded runs copied, {len(indexes)} indexes rebuilt) in {secs:.0f} s")
    return {"api_rows": base, "rows_before": start, "rows": have, "indexes_rebuilt": len(indexes), "seconds": round(secs, 1)}


def seed(procs: list[Proc], db: str, engine: str, cfg: dict) -> dict:
    res = load(procs[0].api, "seed", "-c", str(cfg["c"]), "-n", str(cfg["api_rows"]))
    log(f"{engine}: seeded {cfg['api_rows']:,} runs through the API at {res['per_s']:.0f}/s")
    return multiply(db, engine, cfg["rows"])


# The queries whose plans explain_pass records: the three of bench-load's filter mode (the UI's runs page,
# failed runs, one tag) and the UI's count by state.
EXPLAIN_REQUESTS = [
    ("/flow_runs/filter", {"sort": "START_TIME_DESC", "limit": 50, "offset": 0}),
    ("/flow_runs/filter", {"flow_runs": {"state": {"type": {"any_": ["FAILED"]}}}, "sort": "EXPECTED_START_TIME_DESC", "limit": 50, "offset": 0}),
    ("/flow_runs/filter", {"flow_runs": {"tags": {"all_": ["team-7"]}}, "sort": "ID_DESC", "limit": 50, "offset": 0}),
    ("/flow_runs/count", {"flow_runs": {"state": {"type": {"any_": ["FAILED"]}}}}),
]


def explain_pass(engine: str, dbname: str, db: str, start) -> list[dict]:
    """Start one server with auto_explain logging every statement's plan (EXPLAIN ANALYZE) on the seeded
    database, send EXPLAIN_REQUESTS once each, and return the plans of the statements that read the
    flow-run table while they ran."""
    admin = PG_URL
    settings = {"session_preload_libraries": "auto_explain", "auto_explain.log_min_duration": "0",
                "auto_explain.log_analyze": "on", "auto_explain.log_timing": "on"}
    for k, v in settings.items():
        psql(admin, f'ALTER DATABASE "{dbname}" SET {k} = \'{v}\'')
    logfile = Path(os.environ["PG_DIR"]) / "log"
    procs = start()
    try:
        time.sleep(1)
        offset = logfile.stat().st_size
        for path, body in EXPLAIN_REQUESTS:
            httpx.post(procs[0].api + path, json=body, timeout=120).raise_for_status()
        time.sleep(0.5)
        with open(logfile, "rb") as fh:
            fh.seek(offset)
            text = fh.read().decode("utf-8", "replace")
    finally:
        for p in procs:
            p.stop()
        psql(admin, f'ALTER DATABASE "{dbname}" RESET ALL')
    table = FLOW_RUN_TABLE["baton" if engine.startswith("baton") else "prefect"][0]
    entries, cur = [], None
    for line in text.splitlines():
        m = re.search(r"LOG:  duration: ([0-9.]+) ms  plan:", line)
        if m:
            cur = {"ms": float(m.group(1)), "lines": []}
            entries.append(cur)
        elif cur is not None and line[:1] in ("\t", " "):
            cur["lines"].append(line.strip("\t").rstrip())
        else:
            cur = None
    out, seen = [], set()
    for e in entries:
        q = " ".join(l for l in e["lines"] if not re.match(r"^\s*(->|[A-Z][A-Za-z ]+  \(cost)", l))
        plan = "\n".join(e["lines"])
        if not re.search(rf"\b{table}\b", plan) or plan in seen:
            continue
        seen.add(plan)
        out.append({"ms": e["ms"], "plan": plan, "indexes": sorted(set(re.findall(r"(?:Index|Index Only|Bitmap Index) Scan (?:Backward )?(?:using|on) (\w+)", plan))),
                    "seq_scans": sorted(set(re.findall(r"Seq Scan on (\w+)", plan)))})
    return out


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
    # Sizes are bounded so that the slowest server finishes too: the events workload stops after
    # event_seconds (the rate is then that of the task runs recorded by then), and only api_rows runs are
    # created through the API before the table is grown to `rows` by SQL (multiply).
    cfg = dict(reps=2, c=8, seconds=10, events=6000, event_conns=4, event_seconds=60, api_rows=2_000, rows=1_000_000) if not args.quick else \
        dict(reps=1, c=8, seconds=3, events=600, event_conns=4, event_seconds=20, api_rows=500, rows=20_000)
    targets = args.only or ["prefect", "baton1", "baton2"]
    pg_version = subprocess.run(["psql", PG_URL, "-Atc", "SHOW server_version"], capture_output=True, text=True).stdout.strip()
    load_before = loadavg()
    t_start = time.monotonic()
    results: dict[str, dict] = {}
    seeded: dict[str, tuple[str, str, dict]] = {}  # engine -> (database name, URL, multiply's figures)
    plans: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="baton-bench-pg-") as tmp:
        for t in targets:
            work = Path(tmp) / t
            work.mkdir()
            engine = "prefect" if t == "prefect" else "baton"
            replicas = 1 if t == "prefect" else int(t[-1])
            starter = (lambda db, w=work: start_prefect(db, w)) if t == "prefect" else (lambda db, w=work, n=replicas: start_baton(db, w, n))
            dbname = f"bench_{t}"
            db = database(dbname)
            log(f"{t}: starting (load {loadavg()})")
            r: dict = {"lifecycles_per_s": [], "set_state_p99_ms": [], "events_per_s": [], "filter_p99_ms": [], "filter_per_s": [], "load": [loadavg()]}
            procs = starter(db)
            try:
                measure_writes(procs, cfg, r)
                r["load"].append(loadavg())
                if engine not in seeded:
                    # The filter runs on a database grown to cfg["rows"] flow runs; the second Baton target
                    # reuses the first one's (same schema, same rows), so it is grown once per engine.
                    seeded[engine] = (dbname, db, seed(procs, db, engine, cfg))
                    filter_procs = procs
                else:
                    for p in procs:
                        p.stop()
                    filter_procs = procs = starter(seeded[engine][1])
                measure_filter(filter_procs, cfg, r)
                r["load"].append(loadavg())
            finally:
                for p in procs:
                    p.stop()
            r["seed"] = seeded[engine][2]
            results[t] = r
            if t in ("prefect", "baton1"):
                plans[t] = explain_pass(t, seeded[engine][0], seeded[engine][1], lambda d=seeded[engine][1]: starter(d))
            log(f"{t}: {json.dumps({k: [round(v, 1) for v in vs] for k, vs in r.items() if k not in ('seed', 'load', 'filter_per_query', 'events_partial')})} (load {r['load']})")
    load_after = loadavg()
    minutes = (time.monotonic() - t_start) / 60
    out = Path(args.out)
    out.with_name("benchmarks-postgres.json").write_text(json.dumps({"cfg": cfg, "results": results, "plans": plans, "load": [load_before, load_after]}, indent=1) + "\n")
    names = {"prefect": "Prefect server", "baton1": "Baton, 1 replica", "baton2": "Baton, 2 replicas"}
    rows = [("lifecycles_per_s", f"flow-run lifecycles/s, c={cfg['c']}"), ("set_state_p99_ms", "set_state p99 (ms)"),
            ("events_per_s", f"task-run events recorded/s ({cfg['events']:,} events, {cfg['event_conns']} sockets)"),
            ("filter_p99_ms", f"/flow_runs/filter p99 (ms), {cfg['rows']:,} runs"), ("filter_per_s", "/flow_runs/filter queries/s"),
            ("server_cpu_ms_per_lifecycle", "server CPU per lifecycle (ms, all replicas)"),
            ("postgres_cpu_ms_per_lifecycle", "PostgreSQL CPU per lifecycle (ms)")]
    cmd = "make bench-postgres" + (" ARGS=--quick" if args.quick else "")
    lines = [BEGIN, "", "## On PostgreSQL", "",
             f"`{cmd}` (bench/postgres.py, {minutes:.0f} min): one durable PostgreSQL {pg_version} cluster on this "
             "machine (fsync on), a fresh database per target, the same `bin/bench-load` as above, c=" + str(cfg["c"]) + " workers. "
             "With 2 replicas the workers are split between the replicas (two bench-load processes, throughputs summed, latencies "
             f"the worse replica's). Medians of {cfg['reps']} runs of {cfg['seconds']} s each (events: {cfg['reps']} runs of "
             f"{cfg['events']:,}). Load average (1, 5, 15 min) on {os.cpu_count()} CPUs: {load_before} before, {load_after} after; "
             "per target in the last row. The database, the servers and the load generator share these CPUs.", "",
             "| workload | " + " | ".join(names[t] for t in targets) + " |", "|---|" + "---:|" * len(targets)]
    for key, label in rows:
        lines.append(f"| {label} | " + " | ".join(fmt(median(results[t][key])) for t in targets) + " |")
    lines.append("| load average (1 min) at start / after writes / after filter | " +
                 " | ".join(" / ".join(x.split()[0] for x in results[t]["load"]) for t in targets) + " |")
    if "prefect" in results and "baton1" in results:
        ratio = median(results["baton1"]["lifecycles_per_s"]) / max(median(results["prefect"]["lifecycles_per_s"]), 1e-9)
        lines += ["", f"Baton with 1 replica drove {ratio:.1f}× the Prefect server's lifecycles/s on the same PostgreSQL."]
    if "baton1" in results and "baton2" in results:
        r2 = median(results["baton2"]["lifecycles_per_s"]) / max(median(results["baton1"]["lifecycles_per_s"]), 1e-9)
        lines += [f"2 replicas against 1: {r2:.2f}× the lifecycles/s."]
    sd = next(iter(results.values()))["seed"]
    partial = [names[t] for t in targets if any(results[t].get("events_partial", []))]
    if partial:
        lines += ["", f"Events: {', '.join(partial)} had not recorded all {cfg['events']:,} events within {cfg['event_seconds']} s; "
                  "its rate is that of the task runs recorded by then."]
    lines += ["", f"The filter ran on {cfg['rows']:,} flow runs: {cfg['api_rows']:,} runs seeded through the API (6 in 10 COMPLETED, "
              "2 FAILED, 1 CANCELLED, 1 RUNNING; 20 tags) besides the runs the lifecycle and event workloads created, then the flow-run "
              "table was grown by SQL to the row count with copies of the seeded runs under new ids (`INSERT … SELECT` with the "
              "table's indexes dropped and built again from their definitions, then `VACUUM ANALYZE`), on each engine's own schema. "
              "Seeding a million runs through the Prefect server's API takes hours on this machine. The 2-replica Baton target runs "
              "its filter on the 1-replica target's grown database. Per query p99 (ms; UI runs page, FAILED by expected start, tag): " +
              "; ".join(f"{names[t]} " + " / ".join(fmt(median([q[i] for q in results[t]["filter_per_query"]])) for i in range(3))
                        for t in targets) + "."]
    if plans:
        lines += ["", "PostgreSQL's plans for these queries at this size (auto_explain with ANALYZE, one request each; "
                  "full plans in [benchmarks-postgres.json](benchmarks-postgres.json)):", "",
                  "| server | statement (start) | ms | indexes used | sequential scans |", "|---|---|---:|---|---|"]
        for t, ps in plans.items():
            for pl in ps:
                q = next((l for l in pl["plan"].splitlines() if l.startswith("Query Text:")), "")[len("Query Text:"):].strip()
                q = re.sub(r"\s+", " ", q)[:90].replace("|", "\\|")
                lines.append(f"| {names[t]} | `{q}…` | {pl['ms']:.1f} | {', '.join(pl['indexes']) or '—'} | {', '.join(pl['seq_scans']) or '—'} |")
    lines += ["", END]
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
