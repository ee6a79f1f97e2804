import { describe, expect, it } from "vitest";
import { describeTrigger } from "./api";
import { buildTrigger, defaultName, failureNotification } from "./templates";

describe("automation templates", () => {
  it("a flow's failed or crashed runs", () => {
    const t = buildTrigger("flow-run-state", { flowId: "f1", flowName: "etl", states: ["Failed", "Crashed"] });
    expect(t.expect).toEqual(["prefect.flow-run.Failed", "prefect.flow-run.Crashed"]);
    expect(t.match_related).toEqual({ "prefect.resource.role": "flow", "prefect.resource.id": "prefect.flow.f1" });
    expect(t.posture).toBe("Reactive");
    expect(defaultName("flow-run-state", { flowName: "etl", states: ["Late"] })).toBe("etl: flow run Late");
  });

  it("a deployment's run that does not start in time is proactive, per run, at least 10 s", () => {
    const t = buildTrigger("deployment-not-started", { deploymentId: "d1", minutes: 0.05 });
    expect(t.posture).toBe("Proactive");
    expect(t.after).toEqual(["prefect.flow-run.Scheduled"]);
    expect(t.for_each).toEqual(["prefect.resource.id"]);
    expect(t.within).toBe(10);
    expect(buildTrigger("deployment-not-started", { minutes: 15 }).within).toBe(900);
  });

  it("a custom event with a threshold", () => {
    const t = buildTrigger("custom-event", { eventName: "acme.order.*", resourceId: "acme.shop.*", threshold: 3, withinSeconds: 60 });
    expect(t).toMatchObject({ expect: ["acme.order.*"], match: { "prefect.resource.id": "acme.shop.*" }, threshold: 3, within: 60 });
    expect(describeTrigger(t)).toBe("3 × acme.order.* within 1 min");
  });

  it("notify-me-when-this-fails", () => {
    const a = failureNotification("deployment", "d1", "nightly", "b1");
    expect(a.name).toBe("Notify when nightly fails");
    expect(a.trigger.match_related).toEqual({ "prefect.resource.role": "deployment", "prefect.resource.id": "prefect.deployment.d1" });
    expect(a.actions[0]).toMatchObject({ type: "send-notification", block_document_id: "b1" });
  });

  it("describes proactive triggers as absences", () => {
    expect(describeTrigger({ type: "event", posture: "Proactive", expect: ["hb"], after: ["start"], within: 600 })).toBe("No hb after start within 10 min");
  });
});
