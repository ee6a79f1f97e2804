"""Scale-out (issue 14): two `baton server` replicas on one PostgreSQL database.

The Prefect client's connections are spread over both replicas by a small round-robin TCP proxy on
loopback (websockets included). A flow with 200 tasks runs through the proxy and a served deployment
polls through it; mid-run the replica that leads the background services is killed with SIGKILL. The
other replica must take the services over within 10 s, the flow and a deployment run must complete with
every task run recorded, and the scheduler must never have created a scheduled run twice.

Runs only on PostgreSQL (`make test-scale-out`, or COMPAT_DATABASE=postgres compat/run.sh -k scale_out).
"""

from __future__ import annotations

import base64
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from conftest import POSTGRES_URL, Baton, BatonServer, needs_binary, postgres_database, tail  # noqa: F401

pytestmark = [
    pytest.mark.usefixtures("needs_binary"),
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (COMPAT_DATABASE=postgres; make test-scale-out)"),
]

LEADER_LINE = re.compile(r'time=(\S+) level=INFO msg="replica: this replica is the leader')

BIG_FLOW = '''
import time
from prefect import flow, task

@task
def work(i: int) -> int:
    time.sleep(0.05)
    return i

@flow(name="scale-out-200")
def big() -> int:
    return sum(work(i) for i in range(200))

emit({"result": big()})
'''

SERVED = '''
from prefect import flow, get_run_logger

@flow(name="scale-out-served")
def served(x: int = 1) -> int:
    get_run_logger().info("served run with x=%s", x)
    return x * 2

if __name__ == "__main__":
    served.serve(name="served", interval=20)
'''


class Replica(BatonServer):
    """A replica: every replica of one database must seal secrets with the same key."""

    def __init__(self, home: Path, log_path: Path, database_url: str, secrets_key: str) -> None:
        super().__init__(home, log_path, database_url=database_url)
        self.secrets_key = secrets_key

    def env(self) -> dict[str, str]:
        env = super().env()
        env["BATON_SECRETS_KEY"] = self.secrets_key
        return env

    def leader_since(self) -> datetime | None:
        """When this replica last became the leader (from its log), or None."""
        try:
            lines = LEADER_LINE.findall(self.log_path.read_text(errors="replace"))
        except FileNotFoundError:
            return None
        return datetime.fromisoformat(lines[-1].replace("Z", "+00:00")) if lines else None


class RoundRobinProxy:
    """A TCP proxy on loopback that sends each new connection to the next live backend in turn."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.connections: Counter[int] = Counter()
        self._next = 0
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(256)
        self.port = self._sock.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with self._lock:
            start = self._next
            self._next += 1
        upstream = None
        for i in range(len(self.ports)):
            port = self.ports[(start + i) % len(self.ports)]
            try:
                upstream = socket.create_connection(("127.0.0.1", port), timeout=2)
                upstream.settimeout(None)
                with self._lock:
                    self.connections[port] += 1
                break
            except OSError:
                continue
        if upstream is None:
            client.close()
            return

        def pump(src: socket.socket, dst: socket.socket) -> None:
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        t = threading.Thread(target=pump, args=(upstream, client), daemon=True)
        t.start()
        pump(client, upstream)
        t.join(timeout=5)
        client.close()
        upstream.close()

    def close(self) -> None:
        self._closed = True
        self._sock.close()


def test_two_replicas_survive_leader_kill(tmp_path: Path):
    db = postgres_database(f"scale-out-{tmp_path}")
    key = base64.b64encode(os.urandom(32)).decode()
    a = Replica(tmp_path / "a", tmp_path / "a.log", db, key)
    b = Replica(tmp_path / "b", tmp_path / "b.log", db, key)
    proxy = None
    served_proc = None
    big_proc = None
    try:
        a.start(timeout=60)
        Baton.poll(lambda: a.leader_since(), "replica a to lead", timeout=30)
        b.start(timeout=60)
        replicas = {a.port: a, b.port: b}
        proxy = RoundRobinProxy([a.port, b.port])
        api = Baton(f"http://127.0.0.1:{proxy.port}/api", tmp_path, a.log_path)

        # The served deployment polls through the proxy.
        script = api.write_script(SERVED, prelude=False)
        env = api.client_env()
        env["PREFECT_RUNNER_POLL_FREQUENCY"] = "1"
        with open(tmp_path / "served.out", "ab") as fh:
            served_proc = subprocess.Popen([sys.executable, str(script)], env=env, cwd=str(script.parent), stdin=subprocess.DEVNULL,
                                           stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
        dep = Baton.poll(lambda: (lambda d: d if d and "id" in d else None)(api.call("GET", "/deployments/name/scale-out-served/served", expect=(200, 404))),
                         "the served deployment", timeout=90)

        # The 200-task flow, through the proxy.
        big_proc = api.popen_py(BIG_FLOW, tmp_path / "big.out")

        def started():
            runs = api.call("POST", "/flow_runs/filter", {"flows": {"name": {"any_": ["scale-out-200"]}}}, expect=(200,))
            if not runs:
                return None
            n = len(api.call("POST", "/task_runs/filter", {"flow_runs": {"id": {"any_": [runs[0]["id"]]}}, "limit": 200}, expect=(200,)))
            return runs[0] if n >= 20 else None
        run = Baton.poll(started, "the 200-task flow to be under way", timeout=120, interval=0.2)
        assert proxy.connections[a.port] > 0 and proxy.connections[b.port] > 0, f"the proxy did not spread: {proxy.connections}"

        # SIGKILL the leader mid-run.
        leader = a if (a.leader_since() and not b.leader_since()) else b
        follower = b if leader is a else a
        assert leader.leader_since() and not follower.leader_since(), "expected exactly one leader"
        killed_at = datetime.now().astimezone()
        leader.kill()
        took_over = Baton.poll(follower.leader_since, "the other replica to take the services over", timeout=30)
        failover = (took_over - killed_at).total_seconds()
        print(f"\nscale-out: leader killed, services moved after {failover:.2f}s; proxy connections {dict(proxy.connections)}")
        assert failover <= 10, f"services moved after {failover:.1f}s (> 10 s)"

        # The flow completes with every task run recorded.
        big_proc.wait(timeout=600)
        out = (tmp_path / "big.out").read_text(errors="replace")
        assert big_proc.returncode == 0 and '"result": 19900' in out, f"the flow failed:\n{out[-4000:]}"
        final = api.flow_run(run["id"])
        assert final["state_type"] == "COMPLETED", final["state_type"]

        def all_tasks():
            trs = api.call("POST", "/task_runs/filter", {"flow_runs": {"id": {"any_": [run["id"]]}}, "limit": 200}, expect=(200,))
            done = [t for t in trs if t["state_type"] == "COMPLETED"]
            return trs if len(done) == 200 else None
        trs = Baton.poll(all_tasks, "all 200 task runs COMPLETED", timeout=60)
        assert len({t["id"] for t in trs}) == 200

        # A run of the served deployment, created through the proxy after the kill, completes.
        fr = api.call("POST", f"/deployments/{dep['id']}/create_flow_run", {"parameters": {"x": 21}}, expect=(201,))
        Baton.poll(lambda: api.flow_run(fr["id"])["state_type"] == "COMPLETED" or None,
                   "the deployment run to complete", timeout=180)

        # The scheduler (first on the dead leader, then on the other replica) never created a
        # scheduled run twice.
        runs = api.call("POST", "/flow_runs/filter", {"flow_runs": {"deployment_id": {"any_": [dep["id"]]}}, "limit": 200}, expect=(200,))
        scheduled = [r for r in runs if r.get("auto_scheduled")]
        assert len(scheduled) >= 3, f"the scheduler made only {len(scheduled)} runs"
        dupes = [t for t, n in Counter(r["expected_start_time"] for r in scheduled).items() if n > 1]
        assert not dupes, f"scheduled twice: {dupes}"
        assert replicas[follower.port].proc.poll() is None, "the surviving replica died"
    finally:
        for p in (big_proc, served_proc):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGINT)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
        if proxy is not None:
            proxy.close()
        for r in (a, b):
            r.stop()
        print(tail(tmp_path / "served.out", 20))
