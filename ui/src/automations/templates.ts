// The create form's templates for common automations: each turns a few
// inputs into a Prefect trigger (and a name), so nobody has to know the
// event names by heart.

import type { Action, Trigger } from "./api";

export type TemplateKind = "flow-run-state" | "work-pool-not-ready" | "deployment-not-started" | "custom-event";

export interface TemplateInputs {
  /** flow-run-state: the flow (id and name; empty id = any flow). */
  flowId?: string;
  flowName?: string;
  /** flow-run-state: the states to react to ("Failed", "Crashed", "Late"...). */
  states?: string[];
  /** work-pool-not-ready: the pool (empty = any pool). */
  workPoolId?: string;
  workPoolName?: string;
  /** deployment-not-started: the deployment and how long a run may wait. */
  deploymentId?: string;
  deploymentName?: string;
  minutes?: number;
  /** custom-event: the event name (wildcards allowed) and resource id pattern. */
  eventName?: string;
  resourceId?: string;
  threshold?: number;
  withinSeconds?: number;
}

export const TEMPLATES: { kind: TemplateKind; label: string }[] = [
  { kind: "flow-run-state", label: "A flow run enters a state (Failed, Crashed, Late…)" },
  { kind: "work-pool-not-ready", label: "A work pool goes not ready" },
  { kind: "deployment-not-started", label: "A deployment's run does not start in time" },
  { kind: "custom-event", label: "A custom event" },
];

export function buildTrigger(kind: TemplateKind, i: TemplateInputs): Trigger {
  switch (kind) {
    case "flow-run-state": {
      const states = i.states?.length ? i.states : ["Failed"];
      const t: Trigger = {
        type: "event", posture: "Reactive", threshold: 1, within: 0,
        expect: states.map((s) => `prefect.flow-run.${s}`),
        match: { "prefect.resource.id": "prefect.flow-run.*" },
      };
      if (i.flowId) t.match_related = { "prefect.resource.role": "flow", "prefect.resource.id": `prefect.flow.${i.flowId}` };
      return t;
    }
    case "work-pool-not-ready":
      return {
        type: "event", posture: "Reactive", threshold: 1, within: 0, expect: ["prefect.work-pool.not-ready"],
        match: { "prefect.resource.id": i.workPoolId ? `prefect.work-pool.${i.workPoolId}` : "prefect.work-pool.*" },
      };
    case "deployment-not-started": {
      const t: Trigger = {
        type: "event", posture: "Proactive", threshold: 1,
        within: Math.max(10, Math.round((i.minutes ?? 10) * 60)),
        after: ["prefect.flow-run.Scheduled"],
        expect: ["prefect.flow-run.Pending", "prefect.flow-run.Running", "prefect.flow-run.Cancelled", "prefect.flow-run.Cancelling"],
        for_each: ["prefect.resource.id"],
        match: { "prefect.resource.id": "prefect.flow-run.*" },
      };
      if (i.deploymentId) t.match_related = { "prefect.resource.role": "deployment", "prefect.resource.id": `prefect.deployment.${i.deploymentId}` };
      return t;
    }
    case "custom-event":
      return {
        type: "event", posture: "Reactive", threshold: Math.max(1, i.threshold ?? 1), within: Math.max(0, i.withinSeconds ?? 0),
        expect: [i.eventName?.trim() || "*"],
        match: i.resourceId?.trim() ? { "prefect.resource.id": i.resourceId.trim() } : {},
      };
  }
}

export function defaultName(kind: TemplateKind, i: TemplateInputs): string {
  switch (kind) {
    case "flow-run-state":
      return `${i.flowName ? `${i.flowName}: ` : ""}flow run ${(i.states?.length ? i.states : ["Failed"]).join(" or ")}`;
    case "work-pool-not-ready":
      return `Work pool ${i.workPoolName ?? "any"} not ready`;
    case "deployment-not-started":
      return `${i.deploymentName ?? "Any deployment"}: run not started within ${i.minutes ?? 10} min`;
    case "custom-event":
      return `On ${i.eventName || "any event"}`;
  }
}

/** The notification a failure automation sends (subject and body are templates). */
export function notificationAction(blockDocumentId: string): Action {
  return {
    type: "send-notification",
    block_document_id: blockDocumentId,
    subject: "Flow run {{ flow_run.name }} entered {{ flow_run.state.name }}",
    body: "Flow run {{ flow.name }}/{{ flow_run.name }} entered {{ flow_run.state.name }} at {{ flow_run.state.timestamp }}.\n{{ flow_run.state.message }}\n{{ flow_run | ui_url }}",
  };
}

/** The automation behind "notify me when this fails" on a flow or deployment page. */
export function failureNotification(kind: "flow" | "deployment", id: string, name: string, blockDocumentId: string) {
  const trigger: Trigger = {
    type: "event", posture: "Reactive", threshold: 1, within: 0,
    expect: ["prefect.flow-run.Failed", "prefect.flow-run.Crashed"],
    match: { "prefect.resource.id": "prefect.flow-run.*" },
    match_related: { "prefect.resource.role": kind, "prefect.resource.id": `prefect.${kind}.${id}` },
  };
  return { name: `Notify when ${name} fails`, description: `Created from the ${kind} page.`, trigger, actions: [notificationAction(blockDocumentId)] };
}
