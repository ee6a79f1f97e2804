import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type SyntheticEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { Card, Empty, ErrorBox, Loading } from "../components/common";
import { loginCommands } from "./commands";
import { cloudApi, type MeWorkspace } from "./cloudApi";
import { useOptionalCloud } from "./CloudGate";

const canManage = (w: MeWorkspace) => w.role === "owner" || w.role === "admin";

/** The workspaces the caller reaches, the switcher, and a create form. */
export function WorkspacesPage() {
  const cloud = useOptionalCloud();
  const qc = useQueryClient();
  const list = useQuery({ queryKey: ["cloud", "workspaces"], queryFn: () => cloudApi.myWorkspaces() });
  const accounts = [...new Map((list.data ?? []).filter(canManage).map((w) => [w.account_id, w])).values()];
  const [accountId, setAccountId] = useState("");
  const [name, setName] = useState("");
  const [handle, setHandle] = useState("");
  const [description, setDescription] = useState("");
  const create = useMutation({
    mutationFn: () => cloudApi.createWorkspace(accountId || accounts[0]?.account_id || "", { name, handle, description }),
    onSuccess: async () => {
      setName("");
      setHandle("");
      setDescription("");
      await qc.invalidateQueries({ queryKey: ["cloud"] });
    },
  });
  const submit = (e: SyntheticEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <div className="page">
      <div className="page-head">
        <h1>Workspaces</h1>
      </div>
      {list.isPending && <Loading />}
      {list.isError && <ErrorBox error={list.error} retry={() => void list.refetch()} />}
      {list.data && list.data.length === 0 && <Empty title="No workspaces yet" />}
      {list.data && list.data.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th>Workspace</th>
                <th>Description</th>
                <th>Your role</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.data.map((w) => (
                <tr key={w.workspace_id}>
                  <td>
                    <Link to={`/workspaces/${w.account_id}/${w.workspace_id}`}>
                      {w.account_handle}/{w.workspace_handle}
                    </Link>{" "}
                    <span className="muted">{w.workspace_name}</span>
                  </td>
                  <td>{w.workspace_description}</td>
                  <td>{w.role}</td>
                  <td>
                    {cloud && (cloud.current?.workspace_id === w.workspace_id ? (
                      <span className="muted">current</span>
                    ) : (
                      <button type="button" onClick={() => cloud.select(w)}>
                        Switch to
                      </button>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cloud && accounts.length > 0 && (
        <Card title="Create a workspace">
          <form onSubmit={submit} style={{ display: "flex", gap: 12, flexWrap: "wrap", alignItems: "flex-end" }}>
            {accounts.length > 1 && (
              <label className="field">
                Account
                <select value={accountId} onChange={(e) => setAccountId(e.target.value)}>
                  {accounts.map((a) => (
                    <option key={a.account_id} value={a.account_id}>
                      {a.account_handle}
                    </option>
                  ))}
                </select>
              </label>
            )}
            <label className="field">
              Name
              <input required value={name} onChange={(e) => setName(e.target.value)} />
            </label>
            <label className="field">
              Handle
              <input required pattern="[a-z0-9][a-z0-9-]*" value={handle} onChange={(e) => setHandle(e.target.value)} />
            </label>
            <label className="field grow">
              Description
              <input value={description} onChange={(e) => setDescription(e.target.value)} />
            </label>
            <button type="submit" className="primary" disabled={create.isPending}>
              Create
            </button>
          </form>
          {create.isError && <ErrorBox error={create.error} />}
        </Card>
      )}
    </div>
  );
}

/** One workspace: edit, delete, and the commands that connect a machine. */
export function WorkspacePage() {
  const { accountId = "", workspaceId = "" } = useParams();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const ws = useQuery({ queryKey: ["cloud", "workspace", accountId, workspaceId], queryFn: () => cloudApi.workspace(accountId, workspaceId) });
  const mine = useQuery({ queryKey: ["cloud", "workspaces"], queryFn: () => cloudApi.myWorkspaces() });
  const access = mine.data?.find((w) => w.workspace_id === workspaceId);
  const [edit, setEdit] = useState<{ name: string; handle: string; description: string } | null>(null);
  const save = useMutation({
    mutationFn: (body: { name: string; handle: string; description: string }) => cloudApi.updateWorkspace(accountId, workspaceId, body),
    onSuccess: async () => {
      setEdit(null);
      await qc.invalidateQueries({ queryKey: ["cloud"] });
    },
  });
  const remove = useMutation({
    mutationFn: () => cloudApi.deleteWorkspace(accountId, workspaceId),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ["cloud"] });
      void navigate("/workspaces");
    },
  });
  if (ws.isPending) return <Loading />;
  if (ws.isError) return <ErrorBox error={ws.error} retry={() => void ws.refetch()} />;
  const w = ws.data;
  const cmds = loginCommands(window.location.origin, access?.account_handle ?? "<account>", w.handle);
  const form = edit ?? { name: w.name, handle: w.handle, description: w.description };
  return (
    <div className="page">
      <div className="page-head">
        <h1>
          {access?.account_handle}/{w.handle}
        </h1>
        <Link to="/workspaces">All workspaces</Link>
      </div>
      <Card title="Connect a machine to this workspace">
        <p className="muted">Create an API key on the API keys page, then run one of:</p>
        <pre className="code" data-testid="prefect-login">{cmds.prefect}</pre>
        <pre className="code" data-testid="baton-login">{cmds.baton}</pre>
      </Card>
      {access && (access.role === "owner" || access.role === "admin") && (
        <Card title="Edit">
          <form
            onSubmit={(e) => {
              e.preventDefault();
              save.mutate(form);
            }}
            style={{ display: "flex", gap: 12, flexWrap: "wrap", alignItems: "flex-end" }}
          >
            <label className="field">
              Name
              <input required value={form.name} onChange={(e) => setEdit({ ...form, name: e.target.value })} />
            </label>
            <label className="field">
              Handle
              <input required pattern="[a-z0-9][a-z0-9-]*" value={form.handle} onChange={(e) => setEdit({ ...form, handle: e.target.value })} />
            </label>
            <label className="field grow">
              Description
              <input value={form.description} onChange={(e) => setEdit({ ...form, description: e.target.value })} />
            </label>
            <button type="submit" className="primary" disabled={save.isPending || !edit}>
              Save
            </button>
            <button
              type="button"
              className="danger"
              disabled={remove.isPending || w.is_default}
              onClick={() => {
                if (window.confirm(`Delete workspace ${w.handle} and everything in it?`)) remove.mutate();
              }}
            >
              Delete workspace
            </button>
          </form>
          {save.isError && <ErrorBox error={save.error} />}
          {remove.isError && <ErrorBox error={remove.error} />}
        </Card>
      )}
    </div>
  );
}
