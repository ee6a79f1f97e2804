"""Blocks with the real Prefect client and CLI (issue 10).

- `prefect block register -m prefect.blocks.notifications`, `prefect block ls|type ls|inspect|delete`.
- `Block.save()` / `Block.load()` across processes, a custom block type registered by the client, nested
  blocks (an S3 bucket referencing AWS credentials) resolved like Prefect's `block_document_references`.
- Secrets: obfuscated unless `include_secrets`, posted-back obfuscated values keep the stored secret, and
  (on a private server) no secret value in clear in the SQLite file, its WAL, the server log or any answer
  without `include_secrets`; `baton secrets rotate-key` re-encrypts and the blocks still load.
- Bad input answered as the issue asks: 422 naming the unknown type/schema or the field that fails the
  schema, 409 for duplicates, 403 for protected types, 400 for a reference cycle.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BATON_BIN, Baton, BatonServer, assert_no_client_warnings, tail

PREFECT_BIN = str(Path(sys.executable).with_name("prefect"))


def cli(api: Baton, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    p = subprocess.run([PREFECT_BIN, *args], env=api.client_env(), stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=120, cwd=str(api.work_dir))
    if ok:
        assert p.returncode == 0, f"prefect {' '.join(args)} -> {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p


def test_block_cli(baton: Baton) -> None:
    out = cli(baton, "block", "register", "-m", "prefect.blocks.notifications").stdout
    assert "Successfully registered" in out, out
    slack = baton.call("GET", "/block_types/slug/slack-webhook")
    assert slack["name"] == "Slack Webhook"
    types = cli(baton, "block", "type", "ls").stdout
    assert "slack-webhook" in types and "secret" in types, types

    run = baton.run_py('''
from prefect.blocks.notifications import SlackWebhook
SlackWebhook(url="https://hooks.example.com/T000/B000/XXXX").save("cli-hook", overwrite=True)
emit({"ok": True})
''').ok()
    assert_no_client_warnings(run)
    listed = cli(baton, "block", "ls").stdout
    assert "slack-webhook/cli-hook" in listed, listed
    inspected = cli(baton, "block", "inspect", "slack-webhook/cli-hook").stdout
    assert "cli-hook" in inspected and "hooks.example.com" not in inspected, inspected
    cli(baton, "block", "delete", "slack-webhook/cli-hook")
    baton.call("GET", "/block_types/slug/slack-webhook/block_documents/name/cli-hook", expect=(404,))
    p = cli(baton, "block", "delete", "slack-webhook/cli-hook", ok=False)
    assert p.returncode != 0


# A custom block type, defined (as Prefect requires) in every process that loads it.
CUSTOM_BLOCK = '''
from pydantic import SecretStr
from prefect.blocks.core import Block
from prefect.types import SecretDict

class CompatDatabase(Block):
    _block_type_name = "Compat Database"
    host: str
    port: int = 5432
    password: SecretStr
    options: SecretDict = SecretDict({})
'''

SAVE_NESTED = CUSTOM_BLOCK + '''
from prefect.blocks.system import Secret
from prefect_aws import AwsCredentials
from prefect_aws.s3 import S3Bucket

Secret(value="secret-value-AAA111").save("compat-secret", overwrite=True)
creds = AwsCredentials(aws_access_key_id="AKIACOMPAT", aws_secret_access_key="aws-secret-BBB222")
creds.save("compat-creds", overwrite=True)
S3Bucket(bucket_name="compat-bucket", credentials=AwsCredentials.load("compat-creds")).save("compat-bucket", overwrite=True)
CompatDatabase(host="db.local", password="db-password-CCC333", options={"token": "opt-token-DDD444"}).save("compat-db", overwrite=True)
emit({"ok": True})
'''

LOAD_NESTED = CUSTOM_BLOCK + '''
from prefect.blocks.system import Secret
from prefect_aws.s3 import S3Bucket
db = Block.load("compat-database/compat-db")
bucket = S3Bucket.load("compat-bucket")
emit({
    "secret": Secret.load("compat-secret").get(),
    "aws": bucket.credentials.aws_secret_access_key.get_secret_value(),
    "bucket": bucket.bucket_name,
    "db_password": db.password.get_secret_value(),
    "db_options": db.options.get_secret_value(),
    "db_port": db.port,
})
'''


def test_save_load_nested_and_secrets(baton: Baton) -> None:
    assert_no_client_warnings(baton.run_py(SAVE_NESTED).ok())
    got = baton.run_py(LOAD_NESTED).ok().result()
    assert got == {"secret": "secret-value-AAA111", "aws": "aws-secret-BBB222", "bucket": "compat-bucket",
                   "db_password": "db-password-CCC333", "db_options": {"token": "opt-token-DDD444"}, "db_port": 5432}, got

    bucket = baton.call("GET", "/block_types/slug/s3-bucket/block_documents/name/compat-bucket")
    creds = baton.call("GET", "/block_types/slug/aws-credentials/block_documents/name/compat-creds")
    ref = bucket["block_document_references"]["credentials"]["block_document"]
    assert ref["id"] == creds["id"] and ref["name"] == "compat-creds" and ref["block_type"]["slug"] == "aws-credentials", ref
    assert bucket["data"]["credentials"]["aws_secret_access_key"] == "********", bucket["data"]
    assert bucket["data"]["credentials"]["aws_access_key_id"] == "AKIACOMPAT"
    assert bucket["block_schema"]["block_type"]["slug"] == "s3-bucket" and bucket["block_type_name"] == "S3 Bucket"
    clear = baton.call("GET", f"/block_documents/{bucket['id']}?include_secrets=true")
    assert clear["data"]["credentials"]["aws_secret_access_key"] == "aws-secret-BBB222"

    db = baton.call("GET", "/block_types/slug/compat-database/block_documents/name/compat-db")
    assert db["data"]["password"] == "********" and db["data"]["options"] == {"token": "********"}, db["data"]
    assert db["data"]["host"] == "db.local"
    # Posting the obfuscated values back (as a UI edit would) keeps the stored secrets.
    baton.call("PATCH", f"/block_documents/{db['id']}", {"data": {**db["data"], "host": "db2.local"}}, expect=(204,))
    got = baton.run_py(LOAD_NESTED).ok().result()
    assert got["db_password"] == "db-password-CCC333" and got["db_options"] == {"token": "opt-token-DDD444"}, got

    listed = baton.call("POST", "/block_documents/filter", {"block_types": {"slug": {"any_": ["compat-database"]}}})
    assert [d["name"] for d in listed] == ["compat-db"] and listed[0]["data"]["host"] == "db2.local"
    with_secrets = baton.call("POST", "/block_documents/filter", {"block_types": {"slug": {"any_": ["compat-database"]}}, "include_secrets": True})
    assert with_secrets[0]["data"]["password"] == "db-password-CCC333"
    assert baton.call("POST", "/block_documents/count", {"block_types": {"slug": {"any_": ["secret"]}}}) >= 1
    caps = baton.call("GET", "/block_capabilities")
    assert "write-path" in caps and "read-path" in caps, caps
    schemas = baton.call("POST", "/block_schemas/filter", {"block_schemas": {"block_capabilities": {"all_": ["write-path"]}}})
    assert any(s["block_type"]["slug"] == "local-file-system" for s in schemas)

    # Deleting the referenced credentials cascades to the reference (as Prefect's FK does).
    baton.call("DELETE", f"/block_documents/{creds['id']}", expect=(204,))
    after = baton.call("GET", f"/block_documents/{bucket['id']}")
    assert "credentials" not in after["block_document_references"], after


def test_block_bad_input(baton: Baton) -> None:
    bt = baton.call("POST", "/block_types/", {"name": "Compat Thing", "slug": "compat-thing"}, expect=(201,))
    baton.call("POST", "/block_types/", {"name": "Compat Thing", "slug": "compat-thing"}, expect=(409,))
    baton.call("POST", "/block_types/", {"name": "Prefect Thing", "slug": "prefect-thing"}, expect=(403,))
    baton.call("POST", "/block_types/", {"name": "Bad", "slug": "Bad Slug"}, expect=(422,))
    fields = {"title": "CompatThing", "type": "object", "required": ["size"],
              "properties": {"size": {"title": "Size", "type": "integer"}, "token": {"type": "string", "format": "password"}},
              "secret_fields": ["token"]}
    bs = baton.call("POST", "/block_schemas/", {"block_type_id": bt["id"], "fields": fields, "capabilities": []}, expect=(201,))
    same = baton.call("POST", "/block_schemas/", {"block_type_id": bt["id"], "fields": fields}, expect=(200,))
    assert same["id"] == bs["id"]
    assert baton.call("GET", f"/block_schemas/checksum/{bs['checksum']}")["id"] == bs["id"]
    baton.call("POST", "/block_schemas/", {"block_type_id": "00000000-0000-4000-8000-000000000000", "fields": {}}, expect=(404,))

    def doc(**kw):
        body = {"name": "thing-1", "block_type_id": bt["id"], "block_schema_id": bs["id"], "data": {"size": 3, "token": "t0k3n-EEE555"}}
        body.update(kw)
        return body

    r = baton.http.post("/block_documents/", json=doc(block_type_id="00000000-0000-4000-8000-000000000000"))
    assert r.status_code == 422 and "block_type_id" in r.text, r.text
    r = baton.http.post("/block_documents/", json=doc(block_schema_id="00000000-0000-4000-8000-000000000000"))
    assert r.status_code == 422 and "block_schema_id" in r.text, r.text
    r = baton.http.post("/block_documents/", json=doc(data={"size": "big"}))
    assert r.status_code == 422 and "data.size" in r.text and "t0k3n" not in r.text, r.text
    r = baton.http.post("/block_documents/", json=doc(data={"token": "t0k3n-EEE555"}))
    assert r.status_code == 422 and "data.size" in r.text and "t0k3n" not in r.text, r.text
    baton.call("POST", "/block_documents/", doc(name="Not Valid"), expect=(422,))
    d1 = baton.call("POST", "/block_documents/", doc(), expect=(201,))
    assert d1["data"]["token"] == "********"
    r = baton.http.post("/block_documents/", json=doc())
    assert r.status_code == 409, r.text
    d2 = baton.call("POST", "/block_documents/", doc(name="thing-2", data={"size": 1, "other": {"$ref": {"block_document_id": d1["id"]}}}), expect=(201,))
    # d1 -> d2 would close a cycle d2 -> d1.
    r = baton.http.patch(f"/block_documents/{d1['id']}", json={"data": {"size": 3, "back": {"$ref": {"block_document_id": d2["id"]}}}})
    assert r.status_code == 400 and "cycle" in r.text, r.text
    r = baton.http.post("/block_documents/", json=doc(name="thing-3", data={"size": 1, "x": {"$ref": {}}}))
    assert r.status_code == 400 and "block_document_id" in r.text, r.text

    # Protected system types cannot be deleted; deleting a type cascades to its documents.
    secret_type = baton.call("GET", "/block_types/slug/secret")
    assert secret_type["is_protected"] is True
    baton.call("DELETE", f"/block_types/{secret_type['id']}", expect=(403,))
    baton.call("POST", "/block_types/install_system_block_types", expect=(200,))
    baton.call("DELETE", f"/block_types/{bt['id']}", expect=(204,))
    baton.call("GET", f"/block_documents/{d1['id']}", expect=(404,))
    baton.call("GET", f"/block_schemas/{bs['id']}", expect=(404,))


SECRET_VALUES = ["secret-value-AAA111", "aws-secret-BBB222", "db-password-CCC333", "opt-token-DDD444"]


def scan(path: Path, needles: list[str]) -> list[str]:
    """The needles found in a file's bytes (as text, and base64'd would not be 'in clear')."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    return [n for n in needles if n.encode() in data]


def test_secrets_never_in_clear_and_key_rotation(tmp_path: Path, needs_binary) -> None:
    server = BatonServer(tmp_path / "home", tmp_path / "server.log")
    env_debug = server.env()
    server.env = lambda: {**env_debug, "BATON_LOG_LEVEL": "debug"}  # type: ignore[method-assign]
    server.start()
    try:
        api = Baton(server.api_url, tmp_path / "work", server.log_path)
        assert_no_client_warnings(api.run_py(SAVE_NESTED).ok())
        assert api.run_py(LOAD_NESTED).ok().result()["aws"] == "aws-secret-BBB222"

        # Every answer without include_secrets, for every route that returns block data.
        answers = []
        for path in ["/block_documents/filter", "/block_documents/count"]:
            answers.append(api.http.post(path, json={}).text)
            answers.append(api.http.post(path, json={"block_documents": {"is_anonymous": None}}).text)
        docs = api.call("POST", "/block_documents/filter", {"block_documents": {"is_anonymous": None}})
        for d in docs:
            answers.append(api.http.get(f"/block_documents/{d['id']}").text)
            slug = d["block_type"]["slug"]
            answers.append(api.http.get(f"/block_types/slug/{slug}/block_documents").text)
            answers.append(api.http.get(f"/block_types/slug/{slug}/block_documents/name/{d['name']}").text)
        leaked = [v for v in SECRET_VALUES if any(v in a for a in answers)]
        assert not leaked, f"secret values in answers without include_secrets: {leaked}"
        clear = api.call("POST", "/block_documents/filter", {"block_documents": {"is_anonymous": None}, "include_secrets": True})
        assert all(any(v in str(d["data"]) for d in clear) for v in SECRET_VALUES), "include_secrets did not return the secrets"

        db = server.home / "baton.db"
        found = scan(db, SECRET_VALUES) + scan(Path(str(db) + "-wal"), SECRET_VALUES) + scan(server.log_path, SECRET_VALUES)
        assert not found, f"secret values in clear in the database, WAL or log: {found}"
        key_file = server.home / "secrets.key"
        assert key_file.stat().st_mode & 0o777 == 0o600
        old_key = key_file.read_text()
    finally:
        server.stop()
    found = scan(server.home / "baton.db", SECRET_VALUES) + scan(server.home / "baton.db-wal", SECRET_VALUES)
    assert not found, f"secret values in clear after shutdown: {found}"

    # Rotation with the server stopped; the blocks still load afterwards, under the new key.
    rot = subprocess.run([str(BATON_BIN), "secrets", "rotate-key"], env=server.env(), capture_output=True, text=True, timeout=60)
    assert rot.returncode == 0, rot.stdout + rot.stderr
    assert "re-encrypted" in rot.stdout, rot.stdout
    assert key_file.read_text() != old_key
    server.start()
    try:
        got = api.run_py(LOAD_NESTED).ok().result()
        assert got["aws"] == "aws-secret-BBB222" and got["db_password"] == "db-password-CCC333", got
    finally:
        server.stop()
    # The old key no longer opens anything: with it, the server answers an error instead of data.
    (server.home / "secrets.key").write_text(old_key)
    server.start()
    try:
        r = api.http.get("/block_types/slug/secret/block_documents/name/compat-secret")
        assert r.status_code >= 400 and "secret-value" not in r.text, r.text
    finally:
        server.stop()
        api.close()
    found = scan(server.log_path, SECRET_VALUES)
    assert not found, f"secret values in the server log: {found}\n{tail(server.log_path)}"
