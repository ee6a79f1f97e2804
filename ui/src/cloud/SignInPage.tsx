import { useState, type SyntheticEvent } from "react";
import { ApiError } from "../api/client";
import { cloudApi } from "./cloudApi";
import { SsoButtons } from "./SsoButtons";

/** Sign in with e-mail and password, or create an account. */
export function SignInPage({ onSignedIn }: { onSignedIn: () => Promise<void> }) {
  const [mode, setMode] = useState<"signin" | "signup">("signin");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [account, setAccount] = useState("");
  const [workspace, setWorkspace] = useState("default");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: SyntheticEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === "signin") {
        await cloudApi.signIn(email, password);
      } else {
        await cloudApi.signUp({ email, password, ...(account ? { account_handle: account } : {}), workspace_handle: workspace });
      }
      await onSignedIn();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="page" style={{ maxWidth: 420, margin: "10vh auto" }}>
      <h1>{mode === "signin" ? "Sign in to Baton" : "Create your Baton account"}</h1>
      {mode === "signin" && <SsoButtons />}
      <form className="card" onSubmit={(e) => void submit(e)} style={{ display: "flex", flexDirection: "column", gap: 12 }}>
        <label className="field">
          E-mail
          <input type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label className="field">
          Password
          <input
            type="password"
            autoComplete={mode === "signin" ? "current-password" : "new-password"}
            minLength={8}
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {mode === "signup" && (
          <>
            <label className="field">
              Account handle (lowercase letters, digits, dashes)
              <input pattern="[a-z0-9][a-z0-9-]*" value={account} placeholder="from your e-mail" onChange={(e) => setAccount(e.target.value)} />
            </label>
            <label className="field">
              First workspace handle
              <input pattern="[a-z0-9][a-z0-9-]*" required value={workspace} onChange={(e) => setWorkspace(e.target.value)} />
            </label>
          </>
        )}
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {mode === "signin" ? "Sign in" : "Sign up"}
        </button>
        <button type="button" className="ghost" onClick={() => setMode(mode === "signin" ? "signup" : "signin")}>
          {mode === "signin" ? "No account yet? Sign up" : "Have an account? Sign in"}
        </button>
      </form>
    </div>
  );
}
