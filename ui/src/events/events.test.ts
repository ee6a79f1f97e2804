import { describe, expect, it } from "vitest";
import { eventFilterFromParams, resourceHref } from "./EventsPage";

describe("events filter", () => {
  const now = Date.parse("2026-01-10T12:00:00Z");
  it("defaults to the past day without log events", () => {
    expect(eventFilterFromParams(new URLSearchParams(""), now)).toEqual({
      occurred: { since: "2026-01-09T12:00:00.000Z", until: "2026-01-10T12:01:00.000Z" },
      order: "DESC",
      event: { exclude_prefix: ["prefect.log.write"] },
    });
  });
  it("adds prefix, resource and window; logs on drops the exclusion", () => {
    const f = eventFilterFromParams(new URLSearchParams("event=prefect.flow-run.&resource=prefect.flow-run.x&window=1h&logs=1"), now);
    expect(f.event).toEqual({ prefix: ["prefect.flow-run."] });
    expect(f.any_resource).toEqual({ id_prefix: ["prefect.flow-run.x"] });
    expect(f.occurred?.since).toBe("2026-01-10T11:00:00.000Z");
  });
  it("shows one event for the link Prefect prints", () => {
    const f = eventFilterFromParams(new URLSearchParams("event_id=e1&day=2026-01-05"), now);
    expect(f.id).toEqual({ id: ["e1"] });
    expect(f.event).toBeUndefined();
    expect(f.occurred).toEqual({ since: "2026-01-04T00:00:00.000Z", until: "2026-01-07T00:00:00.000Z" });
  });
  it("links known resources", () => {
    const id = "0b7e3c1e-1111-4222-8333-944455556666";
    expect(resourceHref(`prefect.flow-run.${id}`)).toBe(`/runs/flow-run/${id}`);
    expect(resourceHref(`prefect.task-run.${id}`)).toBe(`/runs/task-run/${id}`);
    expect(resourceHref(`prefect.flow.${id}`)).toBe(`/flows/flow/${id}`);
    expect(resourceHref("prefect.deployment.x")).toBeNull();
  });
});
