// Cloud mode's identity and account endpoints (sign-in, workspaces, API
// keys). Browser writes carry the session's CSRF token; the workspace data
// pages keep using the shared client, pointed at the chosen workspace by
// CloudGate through configureApi.

import { ApiError } from "../api/client";

export interface User {
  id: string;
  email: string;
  name: string;
  is_bot: boolean;
}

export interface Session {
  user?: User;
  csrf_token: string;
  mode: "cloud" | "server";
}

export interface MeWorkspace {
  account_id: string;
  account_name: string;
  account_handle: string;
  workspace_id: string;
  workspace_name: string;
  workspace_description: string;
  workspace_handle: string;
  role: "owner" | "admin" | "developer" | "viewer";
}

export interface Workspace {
  id: string;
  account_id: string;
  name: string;
  handle: string;
  description: string;
  is_default: boolean;
  created: string;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  created: string;
  expires: string | null;
  last_used: string | null;
}

/** An account member; service accounts have is_bot. */
export interface Member {
  account_id: string;
  user_id: string;
  role: "owner" | "admin" | "developer" | "viewer" | "member";
  email: string;
  name: string;
  is_bot: boolean;
  created: string;
}

/** A team: members and their roles on workspaces. */
export interface Team {
  id: string;
  account_id: string;
  name: string;
  description: string;
  created: string;
  members: { user_id: string; email: string; name: string }[];
  workspaces: { workspace_id: string; role: string }[];
}

/** An open invitation (the link's token is never listed). */
export interface Invitation {
  id: string;
  account_id: string;
  email: string;
  role: string;
  team_id: string | null;
  created: string;
  expires: string;
}

/** A new invitation; link is set only when the server has no SMTP. */
export interface SentInvitation extends Invitation {
  email_sent: boolean;
  link?: string;
  email_error?: string;
}

/** What the accept page shows. */
export interface InvitationInfo {
  email: string;
  account_name: string;
  account_handle: string;
  role: string;
  team_name: string;
  expires: string;
  user_exists: boolean;
}

/** One audit log entry. */
export interface AuditEvent {
  id: string;
  account_id: string;
  occurred: string;
  workspace_id: string | null;
  actor_id: string | null;
  actor_name: string;
  actor_api_key_id: string | null;
  action: string;
  outcome: "success" | "failure" | "denied";
  target_type: string;
  target_id: string;
  target_name: string;
  source_address: string;
  detail: string;
}

/** One of the caller's browser sessions. */
export interface SessionItem {
  id: string;
  created: string;
  expires: string;
  source_address: string;
  user_agent: string;
  current: boolean;
}

/** A key as returned once, on creation or rotation. */
export interface NewApiKey extends ApiKey {
  key: string;
}

/** A configured single-sign-on provider (GET /api/auth/providers). */
export interface SsoProvider {
  name: string;
  display_name: string;
  kind: "oidc" | "google" | "github";
  start_url: string;
}

let csrfToken = "";

/** Remembers the session's CSRF token for later writes. */
export function setCsrfToken(token: string) {
  csrfToken = token;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let res: Response;
  try {
    res = await fetch("/api" + path, { method, headers, body: body === undefined ? null : JSON.stringify(body), credentials: "same-origin" });
  } catch {
    throw new ApiError(0, "Can't reach the Baton server");
  }
  if (!res.ok) {
    let detail = `${res.status} ${res.statusText}`;
    try {
      const data = (await res.json()) as { detail?: unknown };
      if (typeof data.detail === "string") detail = data.detail;
    } catch {
      // keep the status line
    }
    throw new ApiError(res.status, detail);
  }
  if (res.status === 204 || res.status === 202) return undefined as T;
  return (await res.json()) as T;
}

const ws = (accountId: string, workspaceId?: string) =>
  `/accounts/${encodeURIComponent(accountId)}/workspaces` + (workspaceId ? `/${encodeURIComponent(workspaceId)}` : "");

const botPath = (accountId: string, userId: string) =>
  `/accounts/${encodeURIComponent(accountId)}/service_accounts/${encodeURIComponent(userId)}`;

const acct = (accountId: string) => `/accounts/${encodeURIComponent(accountId)}`;

export const cloudApi = {
  session: () => call<Session>("GET", "/auth/session"),
  signIn: (email: string, password: string, totp?: string) => call<Session>("POST", "/auth/signin", { email, password, ...(totp ? { totp } : {}) }),
  requestPasswordReset: (email: string) => call<undefined>("POST", "/auth/password_reset", { email }),
  confirmPasswordReset: (token: string, password: string) => call<undefined>("POST", "/auth/password_reset/confirm", { token, password }),
  inspectInvitation: (token: string) => call<InvitationInfo>("POST", "/auth/invitations/inspect", { token }),
  acceptInvitation: (token: string, name: string, password: string) =>
    call<{ csrf_token?: string }>("POST", "/auth/invitations/accept", { token, name, password }),

  teams: (accountId: string) => call<Team[]>("GET", `${acct(accountId)}/teams`),
  createTeam: (accountId: string, name: string) => call<Team>("POST", `${acct(accountId)}/teams`, { name }),
  deleteTeam: (accountId: string, teamId: string) => call<undefined>("DELETE", `${acct(accountId)}/teams/${encodeURIComponent(teamId)}`),
  addTeamMember: (accountId: string, teamId: string, userId: string) =>
    call<Team>("PUT", `${acct(accountId)}/teams/${encodeURIComponent(teamId)}/members/${encodeURIComponent(userId)}`),
  removeTeamMember: (accountId: string, teamId: string, userId: string) =>
    call<undefined>("DELETE", `${acct(accountId)}/teams/${encodeURIComponent(teamId)}/members/${encodeURIComponent(userId)}`),
  setTeamWorkspace: (accountId: string, teamId: string, workspaceId: string, role: string) =>
    call<undefined>("PUT", `${acct(accountId)}/teams/${encodeURIComponent(teamId)}/workspaces/${encodeURIComponent(workspaceId)}`, { role }),
  workspaces: (accountId: string) => call<Workspace[]>("GET", ws(accountId)),
  invitations: (accountId: string) => call<Invitation[]>("GET", `${acct(accountId)}/invitations`),
  invite: (accountId: string, body: { email: string; role: string; team_id?: string }) => call<SentInvitation>("POST", `${acct(accountId)}/invitations`, body),
  revokeInvitation: (accountId: string, id: string) => call<undefined>("DELETE", `${acct(accountId)}/invitations/${encodeURIComponent(id)}`),
  auditLog: (accountId: string, query: string) => call<AuditEvent[]>("GET", `${acct(accountId)}/audit_log${query}`),

  sessions: () => call<SessionItem[]>("GET", "/me/sessions"),
  revokeSession: (id: string) => call<undefined>("DELETE", `/me/sessions/${encodeURIComponent(id)}`),
  totpStatus: () => call<{ enabled: boolean }>("GET", "/me/totp"),
  beginTotp: () => call<{ secret: string; otpauth_url: string }>("POST", "/me/totp"),
  confirmTotp: (code: string) => call<{ recovery_codes: string[] }>("POST", "/me/totp/confirm", { code }),
  disableTotp: (code: string) => call<undefined>("POST", "/me/totp/disable", { code }),
  signUp: (body: { email: string; password: string; name?: string; account_handle?: string; workspace_handle?: string }) =>
    call<{ csrf_token: string; user: User }>("POST", "/auth/signup", body),
  signOut: () => call<undefined>("POST", "/auth/signout"),
  providers: () => call<SsoProvider[]>("GET", "/auth/providers"),
  clientKey: (callback: string, workspaceId: string | null) =>
    call<NewApiKey & { callback: string; workspace: string }>("POST", "/auth/client_key", { callback, workspace_id: workspaceId }),

  myWorkspaces: () => call<MeWorkspace[]>("GET", "/me/workspaces"),
  workspace: (accountId: string, workspaceId: string) => call<Workspace>("GET", ws(accountId, workspaceId)),
  createWorkspace: (accountId: string, body: { name: string; handle: string; description: string }) =>
    call<Workspace>("POST", ws(accountId), body),
  updateWorkspace: (accountId: string, workspaceId: string, body: { name?: string; handle?: string; description?: string }) =>
    call<Workspace>("PATCH", ws(accountId, workspaceId), body),
  deleteWorkspace: (accountId: string, workspaceId: string) => call<undefined>("DELETE", ws(accountId, workspaceId)),

  apiKeys: () => call<ApiKey[]>("GET", "/me/api_keys"),
  createApiKey: (name: string, expiration: string | null) => call<NewApiKey>("POST", "/me/api_keys", { name, expiration }),
  rotateApiKey: (id: string) => call<NewApiKey>("POST", `/me/api_keys/${encodeURIComponent(id)}/rotate`),
  deleteApiKey: (id: string) => call<undefined>("DELETE", `/me/api_keys/${encodeURIComponent(id)}`),

  members: (accountId: string) => call<Member[]>("GET", `/accounts/${encodeURIComponent(accountId)}/members`),
  createServiceAccount: (accountId: string, name: string, role: Member["role"]) =>
    call<{ user: User; role: Member["role"]; api_key: NewApiKey }>("POST", `/accounts/${encodeURIComponent(accountId)}/service_accounts`, { name, role }),
  deleteServiceAccount: (accountId: string, userId: string) => call<undefined>("DELETE", botPath(accountId, userId)),
  serviceAccountKeys: (accountId: string, userId: string) => call<ApiKey[]>("GET", `${botPath(accountId, userId)}/api_keys`),
  createServiceAccountKey: (accountId: string, userId: string, name: string, expiration: string | null) =>
    call<NewApiKey>("POST", `${botPath(accountId, userId)}/api_keys`, { name, expiration }),
  rotateServiceAccountKey: (accountId: string, userId: string, id: string) =>
    call<NewApiKey>("POST", `${botPath(accountId, userId)}/api_keys/${encodeURIComponent(id)}/rotate`),
  deleteServiceAccountKey: (accountId: string, userId: string, id: string) =>
    call<undefined>("DELETE", `${botPath(accountId, userId)}/api_keys/${encodeURIComponent(id)}`),
};
