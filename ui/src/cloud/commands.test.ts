import { describe, expect, it } from "vitest";
import { cloudApiUrl, loginCommands, workspaceBase } from "./commands";

describe("login commands", () => {
  it("builds the Prefect and Baton commands for a workspace", () => {
    const c = loginCommands("http://host:4200/", "acme", "prod");
    expect(c.prefect).toBe("PREFECT_CLOUD_API_URL=http://host:4200/api prefect cloud login --key <YOUR-KEY> -w acme/prod");
    expect(c.baton).toBe("baton cloud login --url http://host:4200/api --key <YOUR-KEY> -w acme/prod");
  });
  it("strips trailing slashes from the origin", () => {
    expect(cloudApiUrl("https://b.example//")).toBe("https://b.example/api");
  });
  it("scopes the data API to the workspace", () => {
    expect(workspaceBase("a", "w")).toBe("/api/accounts/a/workspaces/w");
  });
});
