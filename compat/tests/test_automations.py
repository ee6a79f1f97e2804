"""Automations with the real Prefect client and CLI (issue 18).

- `Automation(...).create()`, `Automation.read(...)`, update/disable, and Prefect's 422s for bad input;
  `prefect automation ls|inspect|pause|resume|delete`; template validation.
- `flow.serve(triggers=[DeploymentEventTrigger(...)])`: the deployment's trigger becomes an automation
  owned by the deployment (replaced when it is served again); a custom event emitted with `emit_event`
  from user code runs the deployment, with parameters rendered from the event; deleting the deployment
  deletes the automation.
- A proactive trigger fires when a flow run does not start in time, and its action changes the run's
  state through the orchestration rules.
- "A flow run of X fails -> send a notification": a Slack webhook block saved by the client delivers to a real
  HTTP receiver, Baton's smtp-email block to a real SMTP server (aiosmtpd), with the run's name rendered.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from conftest import Baton, tail

PREFECT_BIN = str(Path(sys.executable).with_name("prefect"))


def cli(baton: Baton, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    p = subprocess.run([PREFECT_BIN, *args], env=baton.client_env(), capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    if check:
        assert p.returncode == 0, f"prefect {' '.join(args)} exited {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p


def events_of(baton: Baton, resource_id: str, name: str) -> list[dict]:
    body = {"filter": {"event": {"name": [name]}, "resource": {"id": [resource_id]}}, "limit": 50}
    return baton.call("POST", "/events/filter", body, expect=(200,))["events"]


def test_automation_api_and_cli(baton: Baton):
    run = baton.run_py('''
from datetime import timedelta
from prefect.automations import Automation
from prefect.events.schemas.automations import EventTrigger, Posture
from prefect.events.actions import DoNothing, CancelFlowRun

a = Automation(
    name="compat-crud",
    description="made by the client",
    trigger=EventTrigger(expect={"compat.crud"}, match={"prefect.resource.id": "compat.*"}, posture=Posture.Reactive,
                         threshold=2, within=timedelta(seconds=30), for_each={"prefect.resource.id"}),
    actions=[DoNothing(), CancelFlowRun()],
).create()
read = Automation.read(id=a.id)
by_name = Automation.read(name="compat-crud")
read.description = "changed"
read.update()
read.disable()
after = Automation.read(id=a.id)
emit({"id": str(a.id), "same": by_name.id == a.id, "trigger": read.trigger.model_dump(mode="json"),
      "description": after.description, "enabled": after.enabled, "actions": [x.type for x in after.actions]})
''').ok()
    res = run.result()
    assert res["same"], res
    assert res["trigger"]["threshold"] == 2 and res["trigger"]["within"] == 30.0, res
    assert res["trigger"]["for_each"] == ["prefect.resource.id"], res
    assert res["description"] == "changed" and res["enabled"] is False, res
    assert res["actions"] == ["do-nothing", "cancel-flow-run"], res
    aid = res["id"]

    # The CLI.
    out = cli(baton, "automation", "ls").stdout
    assert "compat-crud" in out, out
    cli(baton, "automation", "resume", "compat-crud")
    assert baton.call("GET", f"/automations/{aid}")["enabled"] is True
    cli(baton, "automation", "pause", "compat-crud")
    assert baton.call("GET", f"/automations/{aid}")["enabled"] is False
    inspected = json.loads(cli(baton, "automation", "inspect", "compat-crud", "--json").stdout)
    assert inspected[0]["id"] == aid if isinstance(inspected, list) else inspected["id"] == aid, inspected
    cli(baton, "automation", "delete", "compat-crud")
    baton.call("GET", f"/automations/{aid}", expect=(404,))

    # Lifecycle events.
    names = [e["event"] for e in events_of(baton, f"prefect.automation.{aid}", "prefect.automation.created")]
    assert names == ["prefect.automation.created"], names

    # Bad input: Prefect's rules, 422 naming the field.
    r = baton.http.post("/automations/", json={"name": "bad", "trigger": {"type": "event", "posture": "Proactive", "within": 5}, "actions": []})
    assert r.status_code == 422 and "trigger.within" in r.text, r.text
    r = baton.http.post("/automations/", json={"name": "bad", "trigger": {"type": "event", "posture": "Reactive"},
                                               "actions": [{"type": "send-notification", "block_document_id": "6d1e1c2a-0000-4000-8000-000000000001", "body": "{{ oops"}]})
    assert r.status_code == 422 and "actions[0].body" in r.text, r.text
    r = baton.http.post("/templates/validate", json="Hello {{ flow_run.name }}")
    assert r.status_code == 204, r.text
    r = baton.http.post("/templates/validate", json="Hello {{ flow_run.name")
    assert r.status_code == 422 and r.json()["error"]["line"] == 1, r.text


SERVE_WITH_TRIGGER = '''
from prefect import flow, get_run_logger
from prefect.events import DeploymentEventTrigger

@flow(name="compat-triggered")
def triggered(x: str = "none"):
    get_run_logger().info("triggered with x=%s", x)
    return x

if __name__ == "__main__":
    triggered.serve(
        name="on-event",
        triggers=[DeploymentEventTrigger(
            name="compat-serve-trigger",
            expect={"compat.go"},
            match={"prefect.resource.id": "compat.thing.*"},
            parameters={"x": "{{ event.resource.id }}"},
        )],
    )
'''


def test_serve_trigger_runs_deployment_on_custom_event(baton: Baton, tmp_path: Path):
    script = baton.write_script(SERVE_WITH_TRIGGER, prelude=False)
    env = baton.client_env()
    env["PREFECT_RUNNER_POLL_FREQUENCY"] = "1"

    def serve() -> subprocess.Popen:
        with open(tmp_path / "serve.out", "ab") as fh:
            return subprocess.Popen([sys.executable, str(script)], env=env, cwd=str(script.parent), stdin=subprocess.DEVNULL,
                                    stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)

    def stop(p: subprocess.Popen) -> None:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)

    proc = serve()
    try:
        dep = Baton.poll(lambda: (baton.call("GET", "/deployments/name/compat-triggered/on-event", expect=(200, 404)) or {}).get("id")
                         and baton.call("GET", "/deployments/name/compat-triggered/on-event"),
                         "the served deployment", timeout=60)
        owner = f"prefect.deployment.{dep['id']}"
        owned = Baton.poll(lambda: baton.call("GET", f"/automations/related-to/{owner}", expect=(200,)),
                           "the deployment's trigger automation", timeout=30)
        assert len(owned) == 1 and owned[0]["name"] == "compat-serve-trigger", owned
        action = owned[0]["actions"][0]
        assert action["type"] == "run-deployment" and action["deployment_id"] == dep["id"], action

        baton.run_py('''
from prefect.events import emit_event
emit_event(event="compat.go", resource={"prefect.resource.id": "compat.thing.7"})
emit_event(event="compat.go", resource={"prefect.resource.id": "other.thing"})
emit({"ok": True})
''').ok()

        def completed():
            runs = baton.call("POST", "/flow_runs/filter", {"flow_runs": {"deployment_id": {"any_": [dep["id"]]}}}, expect=(200,))
            done = [r for r in runs if r["state_type"] == "COMPLETED"]
            return runs if done else None
        runs = Baton.poll(completed, "the triggered run to complete", timeout=90)
        assert len(runs) == 1, f"the unmatched event ran the deployment too: {runs}"
        assert runs[0]["parameters"] == {"x": "compat.thing.7"}, runs[0]["parameters"]
        aid = owned[0]["id"]
        assert events_of(baton, f"prefect.automation.{aid}", "prefect.automation.action.executed"), "no action.executed event"

        # Serving again replaces the deployment's trigger instead of adding one.
        stop(proc)
        proc = serve()
        Baton.poll(lambda: [a for a in baton.call("GET", f"/automations/related-to/{owner}", expect=(200,)) if a["id"] != aid],
                   "the re-served deployment's new trigger", timeout=60)
        assert len(baton.call("GET", f"/automations/related-to/{owner}", expect=(200,))) == 1
        baton.call("GET", f"/automations/{aid}", expect=(404,))
    finally:
        stop(proc)
        print(tail(tmp_path / "serve.out", 40))

    # Deleting the deployment deletes the automation it owns.
    baton.call("DELETE", f"/deployments/{dep['id']}", expect=(204,))
    assert baton.call("GET", f"/automations/related-to/{owner}", expect=(200,)) == []


def test_proactive_trigger_fires_when_run_does_not_start(baton: Baton):
    flow = baton.call("POST", "/flows/", {"name": "compat-never-starts"})
    dep = baton.call("POST", "/deployments/", {"name": "stuck", "flow_id": flow["id"]})
    auto = baton.call("POST", "/automations/", {
        "name": "compat-did-not-start",
        "trigger": {
            "type": "event", "posture": "Proactive",
            "after": ["prefect.flow-run.Scheduled"], "expect": ["prefect.flow-run.Running"],
            "for_each": ["prefect.resource.id"], "threshold": 1, "within": 10,
            "match_related": {"prefect.resource.role": "deployment", "prefect.resource.id": f"prefect.deployment.{dep['id']}"},
        },
        "actions": [{"type": "change-flow-run-state", "state": "CANCELLED", "message": "did not start within 10 s"}],
    }, expect=(201,))
    run = baton.call("POST", f"/deployments/{dep['id']}/create_flow_run", {"name": "compat-stuck-run"}, expect=(201,))

    def cancelled():
        r = baton.flow_run(run["id"])
        return r if r["state_type"] == "CANCELLED" else None
    r = Baton.poll(cancelled, "the proactive trigger to cancel the run that never started", timeout=45)
    assert r["state"]["message"] == "did not start within 10 s", r["state"]
    fired = events_of(baton, f"prefect.automation.{auto['id']}", "prefect.automation.triggered")
    assert len(fired) == 1, fired
    payload = fired[0]["payload"]
    assert payload["triggering_labels"] == {"prefect.resource.id": f"prefect.flow-run.{run['id']}"}, payload
    assert fired[0]["resource"]["prefect.posture"] == "Proactive", fired[0]


class _Receiver:
    """A real HTTP server on a loopback port recording the JSON bodies posted to it."""

    def __init__(self) -> None:
        import http.server
        import threading

        self.bodies: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                n = int(self.headers.get("Content-Length") or 0)
                outer.bodies.append(self.rfile.read(n).decode())
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_failed_run_notifies_http_receiver_and_smtp(baton: Baton):
    from aiosmtpd.controller import Controller
    from conftest import free_port

    class Inbox:
        def __init__(self) -> None:
            self.messages: list[tuple[list[str], str]] = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            self.messages.append((list(envelope.rcpt_tos), envelope.content.decode(errors="replace")))
            return "250 Message accepted for delivery"

    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    receiver = _Receiver()
    try:
        # A Slack webhook block saved by the real client, and Baton's smtp-email block.
        slack_id = baton.run_py(f'''
from prefect.blocks.notifications import SlackWebhook
emit({{"id": str(SlackWebhook(url={receiver.url!r}).save("compat-slack", overwrite=True))}})
''').ok().result()["id"]
        smtp_type = baton.call("GET", "/block_types/slug/smtp-email")
        schemas = baton.call("POST", "/block_schemas/filter", {"block_schemas": {"block_type_id": {"any_": [smtp_type["id"]]}}}, expect=(200,))
        email = baton.call("POST", "/block_documents/", {
            "name": "compat-oncall", "block_type_id": smtp_type["id"], "block_schema_id": schemas[0]["id"],
            "data": {"smtp_server": "127.0.0.1", "smtp_port": smtp.port, "smtp_type": "INSECURE",
                     "from_email": "baton@example.com", "to_emails": ["oncall@example.com"]}})

        auto = baton.call("POST", "/automations/", {
            "name": "compat-notify-on-failure",
            "trigger": {"type": "event", "posture": "Reactive", "expect": ["prefect.flow-run.Failed"],
                        "match": {"prefect.resource.id": "prefect.flow-run.*"},
                        "match_related": {"prefect.resource.role": "flow", "prefect.resource.name": "compat-doomed"}},
            "actions": [
                {"type": "send-notification", "block_document_id": slack_id,
                 "subject": "Flow run {{ flow_run.name }} failed", "body": "{{ flow.name }} ended {{ flow_run.state.name }}: {{ flow_run.state.message }}"},
                {"type": "send-notification", "block_document_id": email["id"],
                 "subject": "Flow run {{ flow_run.name }} failed", "body": "See {{ flow_run | ui_url }}"},
            ],
        }, expect=(201,))

        baton.run_py('''
from prefect import flow

@flow(name="compat-doomed", flow_run_name="compat-doomed-run")
def doomed():
    raise ValueError("it broke")

try:
    doomed()
except ValueError:
    pass
emit({"ok": True})
''').ok()

        bodies = Baton.poll(lambda: receiver.bodies, "the Slack-style notification", timeout=30)
        text = json.loads(bodies[0])["text"]
        assert text.startswith("Flow run compat-doomed-run failed\ncompat-doomed ended Failed"), text
        messages = Baton.poll(lambda: inbox.messages, "the email", timeout=30)
        rcpt, content = messages[0]
        assert rcpt == ["oncall@example.com"], rcpt
        assert "Subject: Flow run compat-doomed-run failed" in content, content
        assert "/runs/flow-run/" in content, content
        Baton.poll(lambda: len(events_of(baton, f"prefect.automation.{auto['id']}", "prefect.automation.action.executed")) == 2,
                   "both actions recorded as executed", timeout=10)
        assert len(receiver.bodies) == 1 and len(inbox.messages) == 1, "a notification was delivered twice"
    finally:
        receiver.close()
        smtp.stop()
