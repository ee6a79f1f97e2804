"""Variables and artifacts with the real Prefect client and CLI (issue 10).

- `prefect variable set|get|ls|inspect|unset`, `Variable.get/set` inside a flow, and Prefect's validation
  (name rules, value size, duplicate names) answered with the same status codes.
- Every artifact kind from `create_*_artifact` inside flows and tasks (markdown, table, link, progress
  with its update, image), keyed histories and `/artifacts/{key}/latest`, and
  `prefect artifact ls|inspect|delete`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import Baton, assert_no_client_warnings

PREFECT_BIN = str(Path(sys.executable).with_name("prefect"))


def cli(api: Baton, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the real `prefect` CLI against the server; by default fail unless it exits 0."""
    p = subprocess.run([PREFECT_BIN, *args], env=api.client_env(), stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=90, cwd=str(api.work_dir))
    if ok:
        assert p.returncode == 0, f"prefect {' '.join(args)} -> {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p


def test_variable_cli(baton: Baton) -> None:
    cli(baton, "variable", "set", "cli_var", '{"region": "eu", "n": 3}', "--tag", "team-a")
    got = baton.call("GET", "/variables/name/cli_var")
    assert got["value"] == {"region": "eu", "n": 3} and got["tags"] == ["team-a"], got

    p = cli(baton, "variable", "set", "cli_var", "2", ok=False)
    assert p.returncode != 0 and "already exists" in p.stdout + p.stderr, p.stdout + p.stderr
    cli(baton, "variable", "set", "cli_var", "plain text", "--overwrite")
    assert baton.call("GET", "/variables/name/cli_var")["value"] == "plain text"

    assert "plain text" in cli(baton, "variable", "get", "cli_var").stdout
    assert "cli_var" in cli(baton, "variable", "ls").stdout
    inspected = cli(baton, "variable", "inspect", "cli_var").stdout
    assert "cli_var" in inspected and "plain text" in inspected, inspected

    cli(baton, "variable", "unset", "cli_var")
    baton.call("GET", "/variables/name/cli_var", expect=(404,))
    p = cli(baton, "variable", "unset", "cli_var", ok=False)
    assert p.returncode != 0 and "not found" in p.stdout + p.stderr


def test_variable_python(baton: Baton) -> None:
    run = baton.run_py('''
from prefect import flow
from prefect.variables import Variable

Variable.set("py_config", {"retries": 2, "targets": ["a", "b"]}, tags=["cfg"])

@flow
def uses_variables():
    cfg = Variable.get("py_config")
    missing = Variable.get("py_missing", default="fallback")
    Variable.set("py_counter", 1)
    Variable.set("py_counter", 2, overwrite=True)
    try:
        Variable.set("py_counter", 3)
        dup = "no error"
    except ValueError as exc:
        dup = str(exc)
    return {"cfg": cfg, "missing": missing, "counter": Variable.get("py_counter"), "dup": dup}

emit(uses_variables())
Variable.unset("py_counter")
emit_after = Variable.get("py_counter")
print("AFTER", emit_after)
''').ok()
    got = run.result()
    assert got["cfg"] == {"retries": 2, "targets": ["a", "b"]}, got
    assert got["missing"] == "fallback" and got["counter"] == 2, got
    assert "already exists" in got["dup"], got
    assert "AFTER None" in run.stdout
    assert_no_client_warnings(run)


def test_variable_validation(baton: Baton) -> None:
    baton.call("POST", "/variables/", {"name": "Bad Name", "value": 1}, expect=(422,))
    baton.call("POST", "/variables/", {"name": "x" * 256, "value": 1}, expect=(422,))
    baton.call("POST", "/variables/", {"name": "big", "value": "x" * 5000}, expect=(422,))
    baton.call("POST", "/variables/", {"name": "novalue"}, expect=(422,))
    v = baton.call("POST", "/variables/", {"name": "v-ok_1", "value": None}, expect=(201,))
    assert v["value"] is None and v["tags"] == []
    r = baton.http.post("/variables/", json={"name": "v-ok_1", "value": 2})
    assert r.status_code == 409 and "already exists" in r.json()["detail"], r.text
    baton.call("PATCH", f"/variables/{v['id']}", {"value": ["x"] * 2000}, expect=(422,))
    baton.call("PATCH", f"/variables/{v['id']}", {"value": [1, 2]}, expect=(204,))
    assert baton.call("GET", f"/variables/{v['id']}")["value"] == [1, 2]
    assert baton.call("POST", "/variables/count", {"variables": {"name": {"any_": ["v-ok_1"]}}}) == 1
    listed = baton.call("POST", "/variables/filter", {"variables": {"name": {"like_": "ok"}}, "sort": "NAME_DESC"})
    assert [x["name"] for x in listed] == ["v-ok_1"]
    baton.call("POST", "/variables/filter", {"sort": "NOPE"}, expect=(422,))
    baton.call("DELETE", f"/variables/{v['id']}", expect=(204,))
    baton.call("DELETE", f"/variables/{v['id']}", expect=(404,))


ARTIFACT_FLOW = '''
from prefect import flow, task
from prefect.artifacts import (
    create_image_artifact, create_link_artifact, create_markdown_artifact,
    create_progress_artifact, create_table_artifact, update_progress_artifact,
)
from prefect.runtime import flow_run

@task
def tabulate():
    return create_table_artifact(key="compat-table", table=[{"a": 1, "b": "x"}, {"a": 2, "b": "y"}],
                                 description="A table from a task")

@flow(name="artifact-maker")
def make():
    ids = {}
    ids["markdown"] = str(create_markdown_artifact(key="compat-report", markdown="# Report\\n\\n**bold** <b>x</b>",
                                                   description="first"))
    ids["markdown2"] = str(create_markdown_artifact(key="compat-report", markdown="# Report v2", description="second"))
    ids["table"] = str(tabulate())
    ids["link"] = str(create_link_artifact(key="compat-link", link="https://example.com/data.csv", link_text="data"))
    pid = create_progress_artifact(progress=0.0, key="compat-progress", description="progress")
    update_progress_artifact(artifact_id=pid, progress=75.0)
    ids["progress"] = str(pid)
    ids["image"] = str(create_image_artifact(image_url="https://example.com/chart.png", key="compat-image"))
    ids["flow_run_id"] = str(flow_run.id)
    return ids

emit(make())
'''


def test_artifacts_every_kind(baton: Baton) -> None:
    run = baton.run_py(ARTIFACT_FLOW).ok()
    assert_no_client_warnings(run)
    ids = run.result()
    fr = ids["flow_run_id"]

    md = baton.call("GET", f"/artifacts/{ids['markdown']}")
    assert md["type"] == "markdown" and md["key"] == "compat-report" and md["flow_run_id"] == fr, md
    assert "**bold**" in md["data"]
    latest = baton.call("GET", "/artifacts/compat-report/latest")
    assert latest["latest_id"] == ids["markdown2"] and latest["data"] == "# Report v2", latest

    table = baton.call("GET", f"/artifacts/{ids['table']}")
    assert table["type"] == "table" and table["task_run_id"], table
    rows = json.loads(table["data"]) if isinstance(table["data"], str) else table["data"]
    assert rows == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}], rows
    assert baton.task_run(table["task_run_id"])["flow_run_id"] == fr

    link = baton.call("GET", f"/artifacts/{ids['link']}")
    assert link["type"] == "markdown" and "https://example.com/data.csv" in link["data"], link
    prog = baton.call("GET", f"/artifacts/{ids['progress']}")
    assert prog["type"] == "progress" and prog["data"] == 75.0, prog
    img = baton.call("GET", f"/artifacts/{ids['image']}")
    assert img["type"] == "image" and img["data"] == "https://example.com/chart.png", img

    of_run = baton.call("POST", "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [fr]}}})
    assert {a["id"] for a in of_run} == {ids[k] for k in ("markdown", "markdown2", "table", "link", "progress", "image")}
    by_flow = baton.call("POST", "/artifacts/count", {"flows": {"name": {"any_": ["artifact-maker"]}}})
    assert by_flow >= 6
    keys = baton.call("POST", "/artifacts/latest/filter", {"artifacts": {"key": {"like_": "compat-"}}, "sort": "KEY_ASC"})
    assert [k["key"] for k in keys][:2] == ["compat-image", "compat-link"], keys
    assert baton.call("POST", "/artifacts/latest/count", {"artifacts": {"key": {"any_": ["compat-report"]}}}) == 1

    # The CLI: ls (latest per key), inspect (history of a key), delete (every version of a key).
    listed = cli(baton, "artifact", "ls").stdout
    assert "compat-report" in listed and "compat-table" in listed, listed
    inspected = cli(baton, "artifact", "inspect", "compat-report").stdout
    assert ids["markdown"] in inspected and ids["markdown2"] in inspected, inspected
    cli(baton, "artifact", "delete", "compat-report")
    baton.call("GET", "/artifacts/compat-report/latest", expect=(404,))
    baton.call("GET", f"/artifacts/{ids['markdown']}", expect=(404,))
    cli(baton, "artifact", "delete", "--id", ids["link"])
    baton.call("GET", f"/artifacts/{ids['link']}", expect=(404,))
    p = cli(baton, "artifact", "delete", "compat-report", ok=False)
    assert p.returncode != 0 and "not found" in p.stdout + p.stderr


def test_artifact_validation(baton: Baton) -> None:
    baton.call("POST", "/artifacts/", {"key": "Not_Valid", "data": 1}, expect=(422,))
    a = baton.call("POST", "/artifacts/", {"key": "meta", "data": {"x": 1}, "metadata_": {"long": "y" * 600}}, expect=(201,))
    assert a["metadata_"]["long"] == "y" * 500 + "...", a["metadata_"]
    baton.call("PATCH", f"/artifacts/{a['id']}", {"description": "changed"}, expect=(204,))
    assert baton.call("GET", "/artifacts/meta/latest")["description"] == "changed"
    baton.call("POST", "/artifacts/filter", {"sort": "BAD"}, expect=(422,))
    baton.call("DELETE", f"/artifacts/{a['id']}", expect=(204,))
    baton.call("PATCH", f"/artifacts/{a['id']}", {"description": "x"}, expect=(404,))
