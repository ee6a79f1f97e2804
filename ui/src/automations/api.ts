// Automations: the types of Prefect 3's automation API and its calls, over
// the one request function of api/client.ts.

import { request } from "../api/client";
import type { EventPage } from "../api/types";

export type Posture = "Reactive" | "Proactive" | "Metric";

export type ResourceSpec = Record<string, string | string[]>;

export interface Trigger {
  type: "event" | "compound" | "sequence" | "metric";
  id?: string;
  match?: ResourceSpec;
  match_related?: ResourceSpec | ResourceSpec[];
  after?: string[];
  expect?: string[];
  for_each?: string[];
  posture?: Posture;
  threshold?: number;
  within?: number | null;
  triggers?: Trigger[];
  require?: number | "any" | "all";
  metric?: { name: string; threshold: number; operator: string; range: number; firing_for: number };
}

export interface Action {
  type: string;
  [field: string]: unknown;
}

export interface AutomationCore {
  name: string;
  description: string;
  enabled: boolean;
  tags: string[];
  trigger: Trigger;
  actions: Action[];
  actions_on_trigger: Action[];
  actions_on_resolve: Action[];
}

export interface Automation extends AutomationCore {
  id: string;
  created: string;
  updated: string;
}

export const automationsApi = {
  list: (signal?: AbortSignal) => request<Automation[]>("POST", "/automations/filter", { sort: "NAME_ASC", limit: 200 }, signal),
  get: (id: string, signal?: AbortSignal) => request<Automation>("GET", `/automations/${encodeURIComponent(id)}`, undefined, signal),
  create: (body: Partial<AutomationCore> & Pick<AutomationCore, "name" | "trigger" | "actions">) => request<Automation>("POST", "/automations/", body),
  replace: (id: string, body: AutomationCore) => request<undefined>("PUT", `/automations/${encodeURIComponent(id)}`, body),
  setEnabled: (id: string, enabled: boolean) => request<undefined>("PATCH", `/automations/${encodeURIComponent(id)}`, { enabled }),
  remove: (id: string) => request<undefined>("DELETE", `/automations/${encodeURIComponent(id)}`),
  /** The automation's firings and action outcomes, newest first (its prefect.automation.* events). */
  history: (id: string, signal?: AbortSignal) =>
    request<EventPage>("POST", "/events/filter", {
      filter: {
        any_resource: { id: [`prefect.automation.${id}`] },
        event: { prefix: ["prefect.automation.triggered", "prefect.automation.resolved", "prefect.automation.action."] },
        occurred: { since: new Date(Date.now() - 7 * 24 * 3600 * 1000).toISOString() },
        order: "DESC",
      },
      limit: 50,
    }, signal),
};

/** A one-line description of a trigger, as `prefect automation ls` gives it. */
export function describeTrigger(t: Trigger): string {
  if (t.type === "compound" || t.type === "sequence") {
    const n = t.triggers?.length ?? 0;
    return t.type === "sequence" ? `Sequence of ${n} triggers` : `${t.require === "any" ? "Any" : t.require === "all" ? "All" : t.require} of ${n} triggers`;
  }
  if (t.type === "metric" && t.metric) {
    return `Metric: ${t.metric.name} ${t.metric.operator} ${t.metric.threshold} over ${Math.round(t.metric.range / 60)} min`;
  }
  const expect = (t.expect ?? []).join(", ") || "any event";
  const within = t.within ? ` within ${formatSeconds(t.within)}` : "";
  if (t.posture === "Proactive") {
    const after = (t.after ?? []).length ? ` after ${(t.after ?? []).join(", ")}` : "";
    return `No ${expect}${after}${within}`;
  }
  const threshold = (t.threshold ?? 1) > 1 ? `${t.threshold} × ` : "";
  return `${threshold}${expect}${within}`;
}

export function formatSeconds(s: number): string {
  if (s % 3600 === 0 && s >= 3600) return `${s / 3600} h`;
  if (s % 60 === 0 && s >= 60) return `${s / 60} min`;
  return `${s} s`;
}

const ACTION_LABELS: Record<string, string> = {
  "do-nothing": "Do nothing",
  "run-deployment": "Run deployment",
  "pause-deployment": "Pause deployment",
  "resume-deployment": "Resume deployment",
  "cancel-flow-run": "Cancel flow run",
  "delete-flow-run": "Delete flow run",
  "change-flow-run-state": "Change flow run state",
  "suspend-flow-run": "Suspend flow run",
  "resume-flow-run": "Resume flow run",
  "pause-work-queue": "Pause work queue",
  "resume-work-queue": "Resume work queue",
  "pause-work-pool": "Pause work pool",
  "resume-work-pool": "Resume work pool",
  "pause-automation": "Pause automation",
  "resume-automation": "Resume automation",
  "send-notification": "Send notification",
  "call-webhook": "Call webhook",
};

export function actionLabel(a: Action): string {
  return ACTION_LABELS[a.type] ?? a.type;
}
