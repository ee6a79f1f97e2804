import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type SyntheticEvent } from "react";
import { ApiError } from "../api/client";
import { ConfirmDialog } from "../components/Dialog";
import { Card, Empty, ErrorBox, Loading, Time } from "../components/common";
import { notify } from "../components/toast";
import { cloudApi, type Member, type NewApiKey } from "./cloudApi";
import { useOptionalCloud } from "./CloudGate";

const ROLES: Member["role"][] = ["developer", "viewer", "admin", "owner"];

/** A secret shown once, after creating or rotating a key. */
function ShownKey({ shown, onDone }: { shown: { label: string; key: NewApiKey }; onDone: () => void }) {
  return (
    <Card title={shown.label} className="warn">
      <p>Copy it now: it is shown only once and cannot be read again.</p>
      <pre className="code" data-testid="new-api-key">{shown.key.key}</pre>
      <button type="button" onClick={onDone}>
        Done
      </button>
    </Card>
  );
}

/**
 * An account's service accounts (machine users for CI and workers): create one
 * with a role (its first key is shown once), manage each one's keys (create
 * with an expiry, rotate, revoke) and delete it. Account admins only.
 */
export function ServiceAccountsPage() {
  const cloud = useOptionalCloud();
  const accounts = [...new Map((cloud?.workspaces ?? []).map((w) => [w.account_id, w])).values()];
  const [chosen, setChosen] = useState("");
  const accountId = chosen || cloud?.current?.account_id || accounts[0]?.account_id || "";
  const qc = useQueryClient();
  const members = useQuery({ queryKey: ["cloud", "members", accountId], queryFn: () => cloudApi.members(accountId), enabled: !!accountId, retry: false });
  const bots = (members.data ?? []).filter((m) => m.is_bot);
  const [name, setName] = useState("");
  const [role, setRole] = useState<Member["role"]>("developer");
  const [shown, setShown] = useState<{ label: string; key: NewApiKey } | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<Member | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: ["cloud", "members", accountId] });
  const create = useMutation({
    mutationFn: () => cloudApi.createServiceAccount(accountId, name.trim(), role),
    onSuccess: async (res) => {
      setShown({ label: `Key of service account "${res.user.name}"`, key: res.api_key });
      setName("");
      await refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (m: Member) => cloudApi.deleteServiceAccount(accountId, m.user_id),
    onSuccess: async (_, m) => {
      notify(`Deleted service account ${m.name}`);
      setDeleting(null);
      await refresh();
    },
  });
  const submit = (e: SyntheticEvent) => {
    e.preventDefault();
    create.mutate();
  };
  if (!cloud) {
    return (
      <div className="page">
        <h1>Service accounts</h1>
        <Empty title="Service accounts need cloud mode">Start the server with baton server start --mode cloud, or set BATON_API_KEY for a shared server key.</Empty>
      </div>
    );
  }
  const forbidden = members.error instanceof ApiError && (members.error.status === 403 || members.error.status === 404);
  return (
    <div className="page">
      <div className="page-head">
        <h1>Service accounts</h1>
        {accounts.length > 1 && (
          <label className="field">
            Account
            <select value={accountId} onChange={(e) => setChosen(e.target.value)}>
              {accounts.map((w) => (
                <option key={w.account_id} value={w.account_id}>
                  {w.account_handle}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      <p className="muted">
        Machine users for CI, workers and scripts. Each has a role in the account and its own API keys (pnb_…); log a machine in with{" "}
        <code>baton cloud login --key KEY</code> or <code>prefect cloud login --key KEY</code>.
      </p>
      {shown && <ShownKey shown={shown} onDone={() => setShown(null)} />}
      {members.isPending && <Loading />}
      {members.isError && (forbidden ? <Empty title="Only account admins manage service accounts" /> : <ErrorBox error={members.error} retry={() => void members.refetch()} />)}
      {members.data && (
        <>
          <Card title="Create a service account">
            <form onSubmit={submit} style={{ display: "flex", gap: 12, flexWrap: "wrap", alignItems: "flex-end" }}>
              <label className="field">
                Name
                <input required value={name} onChange={(e) => setName(e.target.value)} />
              </label>
              <label className="field">
                Role
                <select value={role} onChange={(e) => setRole(e.target.value as Member["role"])}>
                  {ROLES.map((r) => (
                    <option key={r} value={r}>
                      {r}
                    </option>
                  ))}
                </select>
              </label>
              <button type="submit" className="primary" disabled={create.isPending}>
                Create service account
              </button>
            </form>
            {create.isError && <ErrorBox error={create.error} />}
          </Card>
          {bots.length === 0 ? (
            <Empty title="No service accounts yet" />
          ) : (
            <div className="table-wrap">
              <table className="table" data-testid="service-accounts">
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Role</th>
                    <th>Created</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {bots.map((b) => (
                    <tr key={b.user_id} data-service-account={b.name}>
                      <td>{b.name}</td>
                      <td>{b.role}</td>
                      <td>
                        <Time iso={b.created} />
                      </td>
                      <td style={{ whiteSpace: "nowrap" }}>
                        <button type="button" aria-expanded={open === b.user_id} onClick={() => setOpen(open === b.user_id ? null : b.user_id)}>
                          {open === b.user_id ? "Hide keys" : "Keys"}
                        </button>{" "}
                        <button type="button" className="danger" onClick={() => setDeleting(b)}>
                          Delete
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {open && bots.some((b) => b.user_id === open) && (
            <BotKeys accountId={accountId} bot={bots.find((b) => b.user_id === open) as Member} onShow={(label, key) => setShown({ label, key })} />
          )}
        </>
      )}
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete service account ${deleting?.name ?? ""}?`}
        body="Its API keys stop working at once. This cannot be undone."
        confirmLabel="Delete"
        danger
        busy={remove.isPending}
        error={remove.error}
        onConfirm={() => deleting && remove.mutate(deleting)}
        onClose={() => setDeleting(null)}
      />
    </div>
  );
}

/** One service account's keys: create (with an optional expiry), rotate, revoke. */
function BotKeys({ accountId, bot, onShow }: { accountId: string; bot: Member; onShow: (label: string, key: NewApiKey) => void }) {
  const qc = useQueryClient();
  const qk = ["cloud", "bot-keys", accountId, bot.user_id];
  const keys = useQuery({ queryKey: qk, queryFn: () => cloudApi.serviceAccountKeys(accountId, bot.user_id), retry: false });
  const [name, setName] = useState("");
  const [expires, setExpires] = useState("");
  const [revoking, setRevoking] = useState<{ id: string; name: string } | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: qk });
  const create = useMutation({
    mutationFn: () => cloudApi.createServiceAccountKey(accountId, bot.user_id, name.trim(), expires ? new Date(expires).toISOString() : null),
    onSuccess: async (k) => {
      onShow(`Key "${k.name}" of ${bot.name}`, k);
      setName("");
      setExpires("");
      await refresh();
    },
  });
  const rotate = useMutation({
    mutationFn: (id: string) => cloudApi.rotateServiceAccountKey(accountId, bot.user_id, id),
    onSuccess: async (k) => {
      onShow(`New secret for key "${k.name}" of ${bot.name}`, k);
      await refresh();
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => cloudApi.deleteServiceAccountKey(accountId, bot.user_id, id),
    onSuccess: async () => {
      setRevoking(null);
      await refresh();
    },
  });
  const submit = (e: SyntheticEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <Card title={`Keys of ${bot.name}`}>
      {keys.isPending && <Loading />}
      {keys.isError && <ErrorBox error={keys.error} retry={() => void keys.refetch()} />}
      {keys.data && keys.data.length === 0 && <Empty title="No keys: this service account cannot log in" />}
      {keys.data && keys.data.length > 0 && (
        <div className="table-wrap">
          <table className="table" data-testid="service-account-keys">
            <thead>
              <tr>
                <th>Name</th>
                <th>Key</th>
                <th>Created</th>
                <th>Last used</th>
                <th>Expires</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {keys.data.map((k) => (
                <tr key={k.id}>
                  <td>{k.name}</td>
                  <td>
                    <code>{k.prefix}…</code>
                  </td>
                  <td>
                    <Time iso={k.created} />
                  </td>
                  <td>{k.last_used ? <Time iso={k.last_used} /> : <span className="muted">never</span>}</td>
                  <td>{k.expires ? <Time iso={k.expires} /> : <span className="muted">never</span>}</td>
                  <td style={{ whiteSpace: "nowrap" }}>
                    <button type="button" onClick={() => rotate.mutate(k.id)} disabled={rotate.isPending}>
                      Rotate
                    </button>{" "}
                    <button type="button" className="danger" onClick={() => setRevoking({ id: k.id, name: k.name })}>
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {rotate.isError && <ErrorBox error={rotate.error} />}
      <form onSubmit={submit} style={{ display: "flex", gap: 12, flexWrap: "wrap", alignItems: "flex-end", marginTop: 12 }}>
        <label className="field">
          Key name
          <input required value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label className="field">
          Expires (optional)
          <input type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
        </label>
        <button type="submit" disabled={create.isPending}>
          Create key
        </button>
      </form>
      {create.isError && <ErrorBox error={create.error} />}
      <ConfirmDialog
        open={revoking !== null}
        title={`Revoke key ${revoking?.name ?? ""}?`}
        body="Machines using it stop working at once."
        confirmLabel="Revoke"
        danger
        busy={revoke.isPending}
        error={revoke.error}
        onConfirm={() => revoking && revoke.mutate(revoking.id)}
        onClose={() => setRevoking(null)}
      />
    </Card>
  );
}
