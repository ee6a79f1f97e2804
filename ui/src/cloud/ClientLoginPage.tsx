import { useState } from "react";
import { useSearchParams } from "react-router";
import { ApiError } from "../api/client";
import { useOptionalCloud } from "./CloudGate";
import { cloudApi } from "./cloudApi";

/**
 * The browser half of `prefect cloud login` / `baton cloud login` without
 * --key: the CLI opens /auth/client?callback=http://localhost:PORT; once
 * signed in (any method) the user picks a workspace and authorizes, a new
 * API key is created and posted to the CLI's {callback}/success as
 * {"api_key": ..., "workspace": "account/workspace"}. The server creates a
 * key only for a callback on this machine.
 */
export function ClientLoginPage() {
  const cloud = useOptionalCloud();
  const [params] = useSearchParams();
  const callback = params.get("callback") ?? "";
  const [choice, setChoice] = useState("");
  const [state, setState] = useState<"idle" | "busy" | "done" | "cancelled">("idle");
  const [error, setError] = useState<string | null>(null);

  if (!cloud) {
    return (
      <div className="page" style={{ maxWidth: 520, margin: "10vh auto" }}>
        <h1>Log in from the command line</h1>
        <p role="alert" className="error">This server runs in server mode: no login is needed. Point the CLI at it with PREFECT_API_URL.</p>
      </div>
    );
  }
  const workspaces = cloud.workspaces;
  const picked = workspaces.find((w) => w.workspace_id === choice) ?? cloud.current ?? workspaces[0];

  const post = async (path: "success" | "failure", body: unknown) => {
    const res = await fetch(callback.replace(/\/$/, "") + "/" + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`the CLI's login server answered ${res.status}`);
  };

  const authorize = async () => {
    setState("busy");
    setError(null);
    try {
      const k = await cloudApi.clientKey(callback, picked?.workspace_id ?? null);
      await post("success", { api_key: k.key, workspace: k.workspace });
      setState("done");
    } catch (err) {
      setError(err instanceof ApiError ? err.message : `Could not reach the CLI at ${callback}: ${String(err)}`);
      setState("idle");
    }
  };
  const cancel = async () => {
    try {
      await post("failure", { reason: "Login was cancelled in the browser." });
    } catch {
      // the CLI is gone; nothing to tell it
    }
    setState("cancelled");
  };

  return (
    <div className="page" style={{ maxWidth: 520, margin: "10vh auto" }}>
      <h1>Log in from the command line</h1>
      {state === "done" ? (
        <p role="status">The CLI is logged in{picked ? ` (workspace ${picked.account_handle}/${picked.workspace_handle})` : ""}. You can close this tab and return to your terminal.</p>
      ) : state === "cancelled" ? (
        <p role="status">Login cancelled. You can close this tab.</p>
      ) : (
        <div className="card" style={{ display: "flex", flexDirection: "column", gap: 12 }}>
          <p>
            A command-line client on this machine ({callback || "no callback given"}) asks for an API key for {cloud.session.user?.email}. Only
            continue if you just ran <code>prefect cloud login</code> or <code>baton cloud login</code>.
          </p>
          <label className="field">
            Workspace
            <select value={picked?.workspace_id ?? ""} onChange={(e) => setChoice(e.target.value)}>
              {workspaces.map((w) => (
                <option key={w.workspace_id} value={w.workspace_id}>
                  {w.account_handle}/{w.workspace_handle}
                </option>
              ))}
            </select>
          </label>
          {error && (
            <p role="alert" className="error">
              {error}
            </p>
          )}
          <button type="button" className="primary" disabled={state === "busy" || !callback} onClick={() => void authorize()}>
            Authorize the CLI
          </button>
          <button type="button" className="ghost" disabled={state === "busy" || !callback} onClick={() => void cancel()}>
            Cancel
          </button>
        </div>
      )}
    </div>
  );
}
