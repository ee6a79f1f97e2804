import { describe, expect, it } from "vitest";
import { activeNavTo } from "./nav";

const targets = ["/dashboard", "/runs", "/automations", "/automations/webhooks", "/events"];

describe("activeNavTo", () => {
  it("highlights only the most specific entry", () => {
    expect(activeNavTo("/automations/webhooks", targets)).toBe("/automations/webhooks");
    expect(activeNavTo("/automations", targets)).toBe("/automations");
    expect(activeNavTo("/automations/automation/abc", targets)).toBe("/automations");
    expect(activeNavTo("/automations/create", targets)).toBe("/automations");
  });
  it("matches at segment boundaries only", () => {
    expect(activeNavTo("/runs/flow-run/1", targets)).toBe("/runs");
    expect(activeNavTo("/runsx", targets)).toBeUndefined();
    expect(activeNavTo("/eventsfoo", targets)).toBeUndefined();
    expect(activeNavTo("/settings", targets)).toBeUndefined();
  });
});
