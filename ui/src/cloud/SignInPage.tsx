import { useState, type SyntheticEvent } from "react";
import { ApiError } from "../api/client";
import { cloudApi } from "./cloudApi";
import { SsoButtons } from "./SsoButtons";

/** Sign in with e-mail and password, or create an account. */
export function SignInPage({ onSignedIn }: { onSignedIn: () => Promise<void> }) {
  const [mode, setMode] = useState<"signin" | "signup" | "forgot">("signin");
  // Two-factor sign-in: the server asks for a code after the password.
  const [totp, setTotp] = useState("");
  const [needTotp, setNeedTotp] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
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
      if (mode === "forgot") {
        await cloudApi.requestPasswordReset(email);
        setNotice(`If ${email} has a Baton user, a reset link is on its way.`);
        return;
      }
      if (mode === "signin") {
        try {
          await cloudApi.signIn(email, password, needTotp ? totp : undefined);
        } catch (err) {
          if (err instanceof ApiError && err.status === 401 && err.message.includes("two-factor code required")) {
            setNeedTotp(true);
            return;
          }
          throw err;
        }
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
      <h1>{mode === "signin" ? "Sign in to Baton" : mode === "signup" ? "Create your Baton account" : "Reset your password"}</h1>
      {mode === "signin" && <SsoButtons />}
      <form className="card" onSubmit={(e) => void submit(e)} style={{ display: "flex", flexDirection: "column", gap: 12 }}>
        <label className="field">
          E-mail
          <input type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        {mode !== "forgot" && (
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
        )}
        {mode === "signin" && needTotp && (
          <label className="field">
            Two-factor code (or a recovery code)
            <input autoComplete="one-time-code" autoFocus required value={totp} onChange={(e) => setTotp(e.target.value)} />
          </label>
        )}
        {notice && <p role="status">{notice}</p>}
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
          {mode === "signin" ? "Sign in" : mode === "signup" ? "Sign up" : "E-mail me a reset link"}
        </button>
        {mode === "signin" && (
          <button type="button" className="ghost" onClick={() => setMode("forgot")}>
            Forgot your password?
          </button>
        )}
        <button type="button" className="ghost" onClick={() => setMode(mode === "signin" ? "signup" : "signin")}>
          {mode === "signin" ? "No account yet? Sign up" : "Have an account? Sign in"}
        </button>
      </form>
    </div>
  );
}
