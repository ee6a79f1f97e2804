import { useQuery } from "@tanstack/react-query";
import { useState, type SyntheticEvent } from "react";
import { ApiError } from "../api/client";
import { cloudApi } from "./cloudApi";

/** The one-time token of a link (it travels in the fragment, never to a server log). */
function tokenFromHash(): string {
  return new URLSearchParams(window.location.hash.replace(/^#/, "")).get("token") ?? "";
}

function message(err: unknown): string {
  return err instanceof ApiError ? err.message : String(err);
}

/** Whether the path is one of the pages reached by an e-mailed link. */
export function isLinkPage(path: string): boolean {
  return path === "/invitation" || path === "/reset-password";
}

/** Renders the page of an e-mailed link. */
export function LinkPage({ signedIn, onDone }: { signedIn: boolean; onDone: () => Promise<void> }) {
  return window.location.pathname === "/invitation" ? <InvitationPage signedIn={signedIn} onDone={onDone} /> : <ResetPasswordPage />;
}

/** Accept an invitation: a new user picks a name and password; an existing one accepts signed in. */
function InvitationPage({ signedIn, onDone }: { signedIn: boolean; onDone: () => Promise<void> }) {
  const token = tokenFromHash();
  const info = useQuery({ queryKey: ["cloud", "invitation", token], queryFn: () => cloudApi.inspectInvitation(token), retry: false });
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const accept = async (e: SyntheticEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await cloudApi.acceptInvitation(token, name, password);
      window.history.replaceState(null, "", "/dashboard");
      await onDone();
      window.location.assign("/dashboard");
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="page" style={{ maxWidth: 460, margin: "10vh auto" }}>
      <h1>Join Baton</h1>
      {info.isPending && <p>Checking the invitation…</p>}
      {info.isError && (
        <p role="alert" className="error">
          {message(info.error)}
        </p>
      )}
      {info.data && (
        <form className="card" onSubmit={(e) => void accept(e)} style={{ display: "flex", flexDirection: "column", gap: 12 }}>
          <p data-testid="invitation-info">
            You are invited to <strong>{info.data.account_name}</strong> as {info.data.role}
            {info.data.team_name && <> in the team {info.data.team_name}</>} ({info.data.email}).
          </p>
          {info.data.user_exists && !signedIn && (
            <p>
              {info.data.email} already has a Baton user: <a href="/">sign in</a>, then open the link again.
            </p>
          )}
          {!info.data.user_exists && !signedIn && (
            <>
              <label className="field">
                Your name
                <input autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />
              </label>
              <label className="field">
                Choose a password
                <input type="password" autoComplete="new-password" minLength={8} required value={password} onChange={(e) => setPassword(e.target.value)} />
              </label>
            </>
          )}
          {error && (
            <p role="alert" className="error">
              {error}
            </p>
          )}
          {(signedIn || !info.data.user_exists) && (
            <button type="submit" className="primary" disabled={busy}>
              Accept the invitation
            </button>
          )}
        </form>
      )}
    </div>
  );
}

/** Choose a new password with a reset link. */
function ResetPasswordPage() {
  const token = tokenFromHash();
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const submit = async (e: SyntheticEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await cloudApi.confirmPasswordReset(token, password);
      setDone(true);
    } catch (err) {
      setError(message(err));
    }
  };
  return (
    <div className="page" style={{ maxWidth: 420, margin: "10vh auto" }}>
      <h1>Choose a new password</h1>
      {done ? (
        <p role="status">
          Your password is changed and every session was signed out. <a href="/">Sign in</a>.
        </p>
      ) : (
        <form className="card" onSubmit={(e) => void submit(e)} style={{ display: "flex", flexDirection: "column", gap: 12 }}>
          <label className="field">
            New password
            <input type="password" autoComplete="new-password" minLength={8} required value={password} onChange={(e) => setPassword(e.target.value)} />
          </label>
          {error && (
            <p role="alert" className="error">
              {error}
            </p>
          )}
          <button type="submit" className="primary">
            Set the password
          </button>
        </form>
      )}
    </div>
  );
}
