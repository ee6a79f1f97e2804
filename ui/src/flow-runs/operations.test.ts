import { describe, expect, it } from "vitest";
import { canCancel, canRetry, cancelState, rejection, retryState } from "./operations";

describe("run operations", () => {
  it("cancels executing runs through CANCELLING and others at once", () => {
    expect(cancelState({ state_type: "RUNNING" }).type).toBe("CANCELLING");
    expect(cancelState({ state_type: "PENDING" }).type).toBe("CANCELLING");
    expect(cancelState({ state_type: "SCHEDULED" }).type).toBe("CANCELLED");
    expect(cancelState({ state_type: "PAUSED" }).type).toBe("CANCELLED");
    expect(canCancel("COMPLETED")).toBe(false);
  });
  it("retries finished deployment runs as AwaitingRetry due now", () => {
    expect(canRetry({ state_type: "FAILED", deployment_id: "d" })).toBe(true);
    expect(canRetry({ state_type: "FAILED", deployment_id: null })).toBe(false);
    expect(canRetry({ state_type: "RUNNING", deployment_id: "d" })).toBe(false);
    const s = retryState();
    expect([s.type, s.name]).toEqual(["SCHEDULED", "AwaitingRetry"]);
    expect(Math.abs(Date.parse(String(s.state_details.scheduled_time)) - Date.now())).toBeLessThan(5000);
  });
  it("explains refusals", () => {
    expect(rejection({ status: "ACCEPT" })).toBeNull();
    expect(rejection(undefined)).toBeNull();
    expect(rejection({ status: "REJECT", details: { reason: "This run cannot transition" } })).toBe("The server answered REJECT: This run cannot transition");
  });
});
