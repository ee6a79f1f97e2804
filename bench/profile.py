"""CPU-profile Baton under one of the harness's API workloads (run with bench/.venv's python).

    go build -o bin/baton-profile ./bench/profile && go build -o bin/bench-load ./bench/load
    bench/.venv/bin/python bench/profile.py lifecycle|filter|events [seconds]

Starts bin/baton-profile (the baton CLI under a CPU profile) on a fresh home, drives the workload with
bin/bench-load as bench/run.py does (for filter: seeds 1,000 runs through the API, grows the table to
100,000 rows with the same copy, restarts), stops the server and prints `go tool pprof -top`.
The profile is kept in the printed work directory.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

import run

mode = sys.argv[1] if len(sys.argv) > 1 else "lifecycle"
seconds = sys.argv[2] if len(sys.argv) > 2 else "15"
work = Path(tempfile.mkdtemp(prefix="baton-profile-"))
prof = work / "cpu.prof"
binary = run.ROOT / "bin" / "baton-profile"


class Profiled(run.BatonServer):
    def command(self) -> list[str]:
        return [str(binary), "-cpu", str(prof), *super().command()[1:]]


srv = Profiled(work)
if mode == "filter":
    plain = run.BatonServer(work)
    plain.start()
    run.load(plain, "seed", "-c", "8", "-n", "1000")
    plain.stop()
    run.clone_flow_runs(plain, 100_000)
    srv.home = plain.home
    srv.start(fresh=False)
else:
    srv.start()
try:
    if mode == "events":
        print(run.load(srv, "events", "-c", "4", "-n", "60000"))
    else:
        print(run.load(srv, mode, "-c", "8", "-d", f"{seconds}s"))
finally:
    srv.stop()
print(f"profile: {prof}")
subprocess.run(["go", "tool", "pprof", "-top", "-nodecount=35", str(binary), str(prof)], cwd=run.ROOT)
