import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type SyntheticEvent } from "react";
import { ApiError } from "../api/client";
import { Card, Empty, ErrorBox, Loading, Time } from "../components/common";
import { notify } from "../components/toast";
import { cloudApi, type SentInvitation, type Team } from "./cloudApi";
import { useAccount } from "./useAccount";

const ACCOUNT_ROLES = ["member", "viewer", "developer", "admin", "owner"];
const WORKSPACE_ROLES = ["viewer", "developer", "admin", "owner"];

/**
 * People of an account: invitations by e-mail (with a role and a team),
 * the open ones with revoke, and teams that give their members roles on
 * workspaces. Account admins only.
 */
export function TeamsPage() {
  const { cloud, accountId, picker } = useAccount();
  const qc = useQueryClient();
  const enabled = !!accountId;
  const members = useQuery({ queryKey: ["cloud", "members", accountId], queryFn: () => cloudApi.members(accountId), enabled, retry: false });
  const teams = useQuery({ queryKey: ["cloud", "teams", accountId], queryFn: () => cloudApi.teams(accountId), enabled, retry: false });
  const invitations = useQuery({ queryKey: ["cloud", "invitations", accountId], queryFn: () => cloudApi.invitations(accountId), enabled, retry: false });
  const workspaces = useQuery({ queryKey: ["cloud", "account-workspaces", accountId], queryFn: () => cloudApi.workspaces(accountId), enabled, retry: false });
  const refresh = () => qc.invalidateQueries({ queryKey: ["cloud"] });

  const [email, setEmail] = useState("");
  const [role, setRole] = useState("member");
  const [teamId, setTeamId] = useState("");
  const [sent, setSent] = useState<SentInvitation | null>(null);
  const invite = useMutation({
    mutationFn: () => cloudApi.invite(accountId, { email: email.trim(), role, ...(teamId ? { team_id: teamId } : {}) }),
    onSuccess: async (res) => {
      setSent(res);
      setEmail("");
      notify(res.email_sent ? `Invitation sent to ${res.email}` : `Invitation created for ${res.email}`);
      await refresh();
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => cloudApi.revokeInvitation(accountId, id),
    onSuccess: async () => {
      notify("Invitation revoked");
      await refresh();
    },
  });
  const [teamName, setTeamName] = useState("");
  const createTeam = useMutation({
    mutationFn: () => cloudApi.createTeam(accountId, teamName.trim()),
    onSuccess: async () => {
      setTeamName("");
      await refresh();
    },
  });

  if (!cloud) {
    return (
      <div className="page">
        <h1>Members and teams</h1>
        <Empty title="Members and teams need cloud mode">Start the server with baton server start --mode cloud.</Empty>
      </div>
    );
  }
  const forbidden = invitations.error instanceof ApiError && (invitations.error.status === 403 || invitations.error.status === 404);
  const submitInvite = (e: SyntheticEvent) => {
    e.preventDefault();
    invite.mutate();
  };
  return (
    <div className="page">
      <div className="page-head">
        <h1>Members and teams</h1>
        {picker}
      </div>
      {(invitations.isPending || teams.isPending) && <Loading />}
      {invitations.isError && (forbidden ? <Empty title="Only account admins manage members and teams" /> : <ErrorBox error={invitations.error} />)}
      {invitations.data && (
        <>
          <Card title="Invite someone">
            <form onSubmit={submitInvite} style={{ display: "flex", gap: 12, flexWrap: "wrap", alignItems: "flex-end" }}>
              <label className="field">
                E-mail
                <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
              </label>
              <label className="field">
                Account role
                <select aria-label="Account role" value={role} onChange={(e) => setRole(e.target.value)}>
                  {ACCOUNT_ROLES.map((r) => (
                    <option key={r} value={r}>
                      {r}
                    </option>
                  ))}
                </select>
              </label>
              <label className="field">
                Team
                <select aria-label="Team" value={teamId} onChange={(e) => setTeamId(e.target.value)}>
                  <option value="">none</option>
                  {(teams.data ?? []).map((t) => (
                    <option key={t.id} value={t.id}>
                      {t.name}
                    </option>
                  ))}
                </select>
              </label>
              <button type="submit" className="primary" disabled={invite.isPending}>
                Send invitation
              </button>
            </form>
            <p className="muted">A member has no workspace of their own: their teams (and workspace roles) give them access.</p>
            {invite.isError && <ErrorBox error={invite.error} />}
            {sent?.link && (
              <p>
                No SMTP server is configured: pass this one-time link on yourself: <code data-testid="invitation-link">{sent.link}</code>
              </p>
            )}
            {sent?.email_error && <p className="error">The e-mail could not be sent: {sent.email_error}</p>}
          </Card>
          <Card title="Open invitations">
            {invitations.data.length === 0 ? (
              <p className="muted">None.</p>
            ) : (
              <table className="table" data-testid="invitations">
                <tbody>
                  {invitations.data.map((i) => (
                    <tr key={i.id}>
                      <td>{i.email}</td>
                      <td>{i.role}</td>
                      <td>
                        expires <Time iso={i.expires} />
                      </td>
                      <td>
                        <button type="button" className="ghost" onClick={() => revoke.mutate(i.id)}>
                          Revoke
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Card>
          <Card title="Teams">
            <form
              onSubmit={(e) => {
                e.preventDefault();
                createTeam.mutate();
              }}
              style={{ display: "flex", gap: 12, alignItems: "flex-end" }}
            >
              <label className="field">
                New team
                <input aria-label="New team" required value={teamName} onChange={(e) => setTeamName(e.target.value)} />
              </label>
              <button type="submit" disabled={createTeam.isPending}>
                Create team
              </button>
            </form>
            {createTeam.isError && <ErrorBox error={createTeam.error} />}
            {(teams.data ?? []).map((t) => (
              <TeamCard key={t.id} team={t} accountId={accountId} members={members.data ?? []} workspaces={workspaces.data ?? []} refresh={refresh} />
            ))}
          </Card>
        </>
      )}
    </div>
  );
}

function TeamCard({
  team,
  accountId,
  members,
  workspaces,
  refresh,
}: {
  team: Team;
  accountId: string;
  members: { user_id: string; email: string; is_bot: boolean }[];
  workspaces: { id: string; handle: string }[];
  refresh: () => Promise<void>;
}) {
  const [user, setUser] = useState("");
  const [ws, setWs] = useState("");
  const [role, setRole] = useState("developer");
  const act = useMutation({
    mutationFn: (f: () => Promise<unknown>) => f(),
    onSuccess: () => refresh(),
  });
  const wsName = (id: string) => workspaces.find((w) => w.id === id)?.handle ?? id;
  return (
    <div className="card" data-testid={`team-${team.name}`} style={{ marginTop: 12 }}>
      <h3>{team.name}</h3>
      <p>
        Members: {team.members.length === 0 ? "none" : team.members.map((m) => m.email || m.name).join(", ")}
        <br />
        Workspaces: {team.workspaces.length === 0 ? "none" : team.workspaces.map((w) => `${wsName(w.workspace_id)} (${w.role})`).join(", ")}
      </p>
      <div style={{ display: "flex", gap: 12, flexWrap: "wrap", alignItems: "flex-end" }}>
        <label className="field">
          Add member
          <select aria-label={`Add member to ${team.name}`} value={user} onChange={(e) => setUser(e.target.value)}>
            <option value="">choose…</option>
            {members
              .filter((m) => !m.is_bot && !team.members.some((x) => x.user_id === m.user_id))
              .map((m) => (
                <option key={m.user_id} value={m.user_id}>
                  {m.email}
                </option>
              ))}
          </select>
        </label>
        <button type="button" disabled={!user} onClick={() => act.mutate(() => cloudApi.addTeamMember(accountId, team.id, user))}>
          Add
        </button>
        <label className="field">
          Workspace
          <select aria-label={`Workspace for ${team.name}`} value={ws} onChange={(e) => setWs(e.target.value)}>
            <option value="">choose…</option>
            {workspaces.map((w) => (
              <option key={w.id} value={w.id}>
                {w.handle}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          Role
          <select aria-label={`Role for ${team.name}`} value={role} onChange={(e) => setRole(e.target.value)}>
            {WORKSPACE_ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <button type="button" disabled={!ws} onClick={() => act.mutate(() => cloudApi.setTeamWorkspace(accountId, team.id, ws, role))}>
          Grant
        </button>
        <button type="button" className="ghost" onClick={() => act.mutate(() => cloudApi.deleteTeam(accountId, team.id))}>
          Delete team
        </button>
      </div>
      {act.isError && <ErrorBox error={act.error} />}
    </div>
  );
}
