"""Result storage, caching and transactions with the real Prefect client (issue 10).

The client writes results itself; Baton serves the blocks and settings that make that work:
- `persist_result=True` with the default local storage, with a `LocalFileSystem` block
  (`PREFECT_DEFAULT_RESULT_STORAGE_BLOCK`), with the server default (`PUT /admin/storage`), and with an S3
  bucket through `prefect-aws` (`S3Bucket` + `AwsCredentials`) against moto's S3-compatible server, started
  here on a loopback port; `PREFECT_RESULTS_PERSIST_BY_DEFAULT` honoured.
- A result written by one process is read back by another through the flow run's final state.
- Cache policies (`INPUTS`, `TASK_SOURCE`, `cache_expiration`) reuse a cached result across runs.
- Transactions commit and roll back (hooks run; a committed transaction key is not run again).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import Baton, RunResult, assert_no_client_warnings, free_port


def run_env(baton: Baton, script: str, timeout: float = 120, **env: str) -> RunResult:
    """Run a client script with extra PREFECT_* settings."""
    path = baton.write_script(script)
    full = baton.client_env()
    full.update(env)
    p = subprocess.run([sys.executable, str(path)], env=full, cwd=str(path.parent), stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=timeout)
    path.with_suffix(".out").write_text(f"exit code {p.returncode}\n--- stdout ---\n{p.stdout}\n--- stderr ---\n{p.stderr}")
    return RunResult(p.returncode, p.stdout, p.stderr)


# Reads a flow run's result from another process: only the API and the result storage are shared.
READ_BACK = '''
import sys
from prefect.client.orchestration import get_client
with get_client(sync_client=True) as client:
    run = client.read_flow_run(sys.argv[1] if len(sys.argv) > 1 else FLOW_RUN_ID)
    emit({"state": run.state.type.value, "result": run.state.result(), "data": run.state.data.model_dump(mode="json") if hasattr(run.state.data, "model_dump") else str(run.state.data)})
'''

PRODUCER = '''
from prefect import flow, task
from prefect.runtime import flow_run

@task(persist_result=True)
def square(x):
    return {"square": x * x, "tag": TAG}

@flow(persist_result=True)
def produce(x: int):
    return square(x)

state = produce(7, return_state=True)
emit({"flow_run_id": str(state.state_details.flow_run_id), "result": state.result()})
'''


def produce_and_read(baton: Baton, tag: str, **env: str) -> dict:
    run = run_env(baton, PRODUCER.replace("TAG", repr(tag)), **env).ok()
    assert_no_client_warnings(run)
    made = run.result()
    assert made["result"] == {"square": 49, "tag": tag}, made
    back = run_env(baton, READ_BACK.replace("FLOW_RUN_ID", repr(made["flow_run_id"])), **env).ok().result()
    assert back["state"] == "COMPLETED" and back["result"] == {"square": 49, "tag": tag}, back
    return back


def test_default_local_storage(baton: Baton, tmp_path: Path) -> None:
    storage = tmp_path / "local-results"
    back = produce_and_read(baton, "local", PREFECT_LOCAL_STORAGE_PATH=str(storage))
    assert back["data"]["storage_block_id"] is None, back["data"]
    assert any(storage.iterdir()), "no result file under PREFECT_LOCAL_STORAGE_PATH"


def test_local_file_system_block_and_server_default(baton: Baton, tmp_path: Path) -> None:
    base = tmp_path / "lfs-results"
    run_env(baton, f'''
from prefect.filesystems import LocalFileSystem
LocalFileSystem(basepath={str(base)!r}).save("compat-results", overwrite=True)
''').ok()
    back = produce_and_read(baton, "lfs", PREFECT_DEFAULT_RESULT_STORAGE_BLOCK="local-file-system/compat-results",
                            PREFECT_LOCAL_STORAGE_PATH=str(tmp_path / "unused"))
    block = baton.call("GET", "/block_types/slug/local-file-system/block_documents/name/compat-results")
    assert back["data"]["storage_block_id"] == block["id"], back["data"]
    assert any(base.iterdir()), "no result file in the LocalFileSystem block's basepath"
    assert not (tmp_path / "unused").exists()

    # The server default (PUT /admin/storage), used when the client names no block; persisted by default.
    other = tmp_path / "server-default"
    run_env(baton, f'''
from prefect.filesystems import LocalFileSystem
LocalFileSystem(basepath={str(other)!r}).save("compat-server-default", overwrite=True)
''').ok()
    doc = baton.call("GET", "/block_types/slug/local-file-system/block_documents/name/compat-server-default")
    secret_type = baton.call("GET", "/block_types/slug/secret")
    assert baton.http.put("/admin/storage", json={"default_result_storage_block_id": doc["id"]}).status_code == 200
    try:
        assert baton.call("GET", "/admin/storage")["default_result_storage_block_id"] == doc["id"]
        run = run_env(baton, '''
from prefect import flow
@flow
def implicit():
    return "persisted-by-default"
state = implicit(return_state=True)
emit({"flow_run_id": str(state.state_details.flow_run_id)})
''', PREFECT_RESULTS_PERSIST_BY_DEFAULT="true").ok()
        fr = run.result()["flow_run_id"]
        back = run_env(baton, READ_BACK.replace("FLOW_RUN_ID", repr(fr))).ok().result()
        assert back["result"] == "persisted-by-default" and back["data"]["storage_block_id"] == doc["id"], back
        assert any(other.iterdir())
    finally:
        baton.call("DELETE", "/admin/storage", expect=(204,))
    assert baton.call("GET", "/admin/storage")["default_result_storage_block_id"] is None
    # A block without the write-path capability cannot be the default; an unknown one is a 404.
    secret = run_env(baton, '''
from prefect.blocks.system import Secret
Secret(value="x").save("not-storage", overwrite=True)
''').ok()
    sdoc = baton.call("GET", "/block_types/slug/secret/block_documents/name/not-storage")
    assert secret_type["slug"] == "secret"
    assert baton.http.put("/admin/storage", json={"default_result_storage_block_id": sdoc["id"]}).status_code == 422
    assert baton.http.put("/admin/storage", json={"default_result_storage_block_id": "00000000-0000-4000-8000-000000000001"}).status_code == 404


@pytest.fixture
def s3_server(tmp_path: Path):
    """moto's standalone S3-compatible server on a loopback port, stopped (by pid) at the end."""
    port = free_port()
    moto = Path(sys.executable).with_name("moto_server")
    log = open(tmp_path / "moto.log", "wb")
    proc = subprocess.Popen([str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env={**os.environ, "AWS_ACCESS_KEY_ID": "compat", "AWS_SECRET_ACCESS_KEY": "compat"})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not start: {(tmp_path / 'moto.log').read_text()[-2000:]}")
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def test_s3_bucket_via_prefect_aws(baton: Baton, s3_server: str, tmp_path: Path) -> None:
    run_env(baton, f'''
import boto3
from prefect_aws import AwsCredentials
from prefect_aws.client_parameters import AwsClientParameters
from prefect_aws.s3 import S3Bucket
boto3.client("s3", endpoint_url={s3_server!r}, region_name="us-east-1",
             aws_access_key_id="compat-key-id", aws_secret_access_key="compat-s3-secret").create_bucket(Bucket="compat-results")
creds = AwsCredentials(aws_access_key_id="compat-key-id", aws_secret_access_key="compat-s3-secret", region_name="us-east-1",
                       aws_client_parameters=AwsClientParameters(endpoint_url={s3_server!r}))
creds.save("compat-s3-creds", overwrite=True)
S3Bucket(bucket_name="compat-results", bucket_folder="results", credentials=AwsCredentials.load("compat-s3-creds")).save("compat-s3", overwrite=True)
''').ok()
    # No local path is shared between the two processes: the reader gets the result from S3 only.
    back = produce_and_read(baton, "s3", PREFECT_DEFAULT_RESULT_STORAGE_BLOCK="s3-bucket/compat-s3",
                            PREFECT_LOCAL_STORAGE_PATH=str(tmp_path / "must-stay-empty"))
    bucket = baton.call("GET", "/block_types/slug/s3-bucket/block_documents/name/compat-s3")
    assert back["data"]["storage_block_id"] == bucket["id"], back["data"]
    assert bucket["data"]["credentials"]["aws_secret_access_key"] == "********"
    objects = run_env(baton, f'''
import boto3
s3 = boto3.client("s3", endpoint_url={s3_server!r}, region_name="us-east-1",
                  aws_access_key_id="compat-key-id", aws_secret_access_key="compat-s3-secret")
emit([o["Key"] for o in s3.list_objects_v2(Bucket="compat-results").get("Contents", [])])
''').ok().result()
    assert objects and all(k.startswith("results/") for k in objects), objects
    assert not (tmp_path / "must-stay-empty").exists()


CACHED_FLOW = '''
import sys
from datetime import timedelta
from pathlib import Path
from prefect import flow, task
from prefect.cache_policies import INPUTS, TASK_SOURCE

COUNTER = Path(sys.argv[1])
EXPIRY = 15

def bump(name):
    COUNTER.mkdir(parents=True, exist_ok=True)
    with open(COUNTER / name, "a") as f:
        f.write("x")

@task(cache_policy=INPUTS, persist_result=True)
def by_inputs(x):
    bump("inputs")
    return x + 1

@task(cache_policy=TASK_SOURCE, persist_result=True)
def by_source():
    bump("source")
    return "source-result"

# INPUTS alone keys on the inputs only (two tasks with the same inputs share it), so add the source.
@task(cache_policy=INPUTS + TASK_SOURCE, cache_expiration=timedelta(seconds=EXPIRY), persist_result=True)
def expiring(x):
    bump("expiring")
    return x * 10

@flow
def cached_flow(x: int):
    return [by_inputs(x, return_state=True).name, by_source(return_state=True).name, expiring(x, return_state=True).name,
            by_inputs(x), by_source(), expiring(x)]

emit(cached_flow(5))
'''


def test_cache_policies_across_runs(baton: Baton, tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    env = {"PREFECT_LOCAL_STORAGE_PATH": str(tmp_path / "cache-results")}

    def run() -> list:
        path = baton.write_script(CACHED_FLOW)
        full = {**baton.client_env(), **env}
        p = subprocess.run([sys.executable, str(path), str(counter)], env=full, capture_output=True, text=True, timeout=120)
        r = RunResult(p.returncode, p.stdout, p.stderr).ok()
        assert_no_client_warnings(r)
        return r.result()

    first = run()
    first_done = time.monotonic()
    assert first[:3] == ["Completed", "Completed", "Completed"] and first[3:] == [6, "source-result", 50], first
    second = run()
    assert second[:3] == ["Cached", "Cached", "Cached"] and second[3:] == [6, "source-result", 50], second
    assert time.monotonic() - first_done < 15, "the second run took longer than the cache expiration"
    time.sleep(max(0.0, 16 - (time.monotonic() - first_done)))
    third = run()
    assert third[0] == "Cached" and third[1] == "Cached" and third[2] == "Completed", third
    # Each cached body ran once; the expiring one again after its expiration.
    count = lambda n: len((counter / n).read_text())  # noqa: E731
    assert (count("inputs"), count("source"), count("expiring")) == (1, 1, 2)
    # Baton recorded the cached task runs with Prefect's Cached state.
    runs = baton.call("POST", "/task_runs/filter", {"task_runs": {"state": {"name": {"any_": ["Cached"]}}}, "limit": 50})
    assert len(runs) >= 5, [r["state_name"] for r in runs]


TXN_FLOW = '''
import sys
from pathlib import Path
from prefect import flow, task
from prefect.transactions import transaction

OUT = Path(sys.argv[1])
FAIL = sys.argv[2] == "fail"

@task(persist_result=True)
def write_part(name):
    (OUT / name).write_text("written")
    return name

@write_part.on_rollback
def undo(txn):
    (OUT / "rolled-back").write_text("yes")

@write_part.on_commit
def done(txn):
    (OUT / "committed").write_text("yes")

@task
def maybe_fail():
    if FAIL:
        raise RuntimeError("boom")

@flow
def txn_flow():
    with transaction(key="compat-txn-" + sys.argv[2]) as txn:
        before = txn.is_committed()
        if not before:
            write_part("part-a")
        maybe_fail()
    return {"state": txn.state.value if hasattr(txn.state, "value") else str(txn.state), "committed_before": before}

try:
    emit({"outcome": txn_flow()})
except Exception as exc:
    emit({"outcome": "raised", "error": str(exc)})
'''


def test_transactions_commit_and_roll_back(baton: Baton, tmp_path: Path) -> None:
    env = {**baton.client_env(), "PREFECT_LOCAL_STORAGE_PATH": str(tmp_path / "txn-results")}

    def run(mode: str, out: Path) -> dict:
        out.mkdir(parents=True, exist_ok=True)
        path = baton.write_script(TXN_FLOW)
        p = subprocess.run([sys.executable, str(path), str(out), mode], env=env, capture_output=True, text=True, timeout=120)
        return RunResult(p.returncode, p.stdout, p.stderr).result()

    ok = tmp_path / "ok"
    assert run("ok", ok)["outcome"] == {"state": "COMMITTED", "committed_before": False}
    assert (ok / "committed").exists() and not (ok / "rolled-back").exists()
    failed = tmp_path / "failed"
    got = run("fail", failed)
    assert got["outcome"] == "raised" and "boom" in got["error"], got
    assert (failed / "rolled-back").exists() and not (failed / "committed").exists()
    # The committed transaction's key holds a record in result storage: a new run sees it committed.
    again = tmp_path / "again"
    assert run("ok", again)["outcome"]["committed_before"] is True
    assert not (again / "part-a").exists()
