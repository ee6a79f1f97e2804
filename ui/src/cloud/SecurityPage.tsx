import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Card, Empty, ErrorBox, Loading, Time } from "../components/common";
import { notify } from "../components/toast";
import { cloudApi } from "./cloudApi";
import { useOptionalCloud } from "./CloudGate";

/**
 * The signed-in person's security: their browser sessions (end any), and
 * two-factor sign-in with an authenticator app (TOTP) and recovery codes.
 */
export function SecurityPage() {
  const cloud = useOptionalCloud();
  const qc = useQueryClient();
  const sessions = useQuery({ queryKey: ["cloud", "sessions"], queryFn: () => cloudApi.sessions(), enabled: !!cloud, retry: false });
  const totp = useQuery({ queryKey: ["cloud", "totp"], queryFn: () => cloudApi.totpStatus(), enabled: !!cloud, retry: false });
  const refresh = () => qc.invalidateQueries({ queryKey: ["cloud"] });
  const revoke = useMutation({
    mutationFn: (id: string) => cloudApi.revokeSession(id),
    onSuccess: async () => {
      notify("Session ended");
      await refresh();
    },
  });
  const [enrol, setEnrol] = useState<{ secret: string; otpauth_url: string } | null>(null);
  const [code, setCode] = useState("");
  const [codes, setCodes] = useState<string[] | null>(null);
  const begin = useMutation({ mutationFn: () => cloudApi.beginTotp(), onSuccess: (r) => setEnrol(r) });
  const confirm = useMutation({
    mutationFn: () => cloudApi.confirmTotp(code.trim()),
    onSuccess: async (r) => {
      setCodes(r.recovery_codes);
      setEnrol(null);
      setCode("");
      await refresh();
    },
  });
  const disable = useMutation({
    mutationFn: () => cloudApi.disableTotp(code.trim()),
    onSuccess: async () => {
      setCode("");
      notify("Two-factor sign-in is off");
      await refresh();
    },
  });
  if (!cloud) {
    return (
      <div className="page">
        <h1>Security</h1>
        <Empty title="Sessions and two-factor sign-in need cloud mode" />
      </div>
    );
  }
  return (
    <div className="page">
      <h1>Security</h1>
      <Card title="Two-factor sign-in">
        {totp.isPending && <Loading />}
        {totp.data && !enrol && !codes && (
          <>
            <p data-testid="totp-status">{totp.data.enabled ? "On: sign-in asks for a code from your authenticator app." : "Off."}</p>
            {!totp.data.enabled && (
              <button type="button" className="primary" onClick={() => begin.mutate()}>
                Set up an authenticator app
              </button>
            )}
            {totp.data.enabled && (
              <div style={{ display: "flex", gap: 12, alignItems: "flex-end" }}>
                <label className="field">
                  Current or recovery code
                  <input aria-label="Code to turn off" value={code} onChange={(e) => setCode(e.target.value)} />
                </label>
                <button type="button" onClick={() => disable.mutate()}>
                  Turn off
                </button>
              </div>
            )}
          </>
        )}
        {enrol && (
          <>
            <p>Add this key to your authenticator app (or open the otpauth link on the phone), then type the code it shows.</p>
            <pre className="code" data-testid="totp-secret">{enrol.secret}</pre>
            <p className="muted" style={{ wordBreak: "break-all" }}>
              {enrol.otpauth_url}
            </p>
            <div style={{ display: "flex", gap: 12, alignItems: "flex-end" }}>
              <label className="field">
                Code
                <input aria-label="Authenticator code" inputMode="numeric" value={code} onChange={(e) => setCode(e.target.value)} />
              </label>
              <button type="button" className="primary" onClick={() => confirm.mutate()}>
                Turn on
              </button>
            </div>
          </>
        )}
        {codes && (
          <div className="warn">
            <p>Two-factor sign-in is on. Keep these recovery codes somewhere safe: each works once, instead of a code, and they are shown only now.</p>
            <pre className="code" data-testid="recovery-codes">{codes.join("\n")}</pre>
            <button type="button" onClick={() => setCodes(null)}>
              Done
            </button>
          </div>
        )}
        {[begin, confirm, disable].map((m, i) => m.isError && <ErrorBox key={i} error={m.error} />)}
      </Card>
      <Card title="Sessions">
        {sessions.isPending && <Loading />}
        {sessions.isError && <ErrorBox error={sessions.error} />}
        {sessions.data && (
          <table className="table" data-testid="sessions">
            <tbody>
              {sessions.data.map((s) => (
                <tr key={s.id}>
                  <td>
                    signed in <Time iso={s.created} />
                  </td>
                  <td>{s.source_address}</td>
                  <td>{s.user_agent.slice(0, 60)}</td>
                  <td>
                    {s.current ? (
                      <strong>this browser</strong>
                    ) : (
                      <button type="button" className="ghost" onClick={() => revoke.mutate(s.id)}>
                        End
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </div>
  );
}
