import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type SyntheticEvent } from "react";
import { ApiError } from "../api/client";
import { Card, Empty, ErrorBox, Loading, Time } from "../components/common";
import { cloudApi, type NewApiKey } from "./cloudApi";

/** The caller's API keys: create (the secret is shown once), rotate, delete. */
export function ApiKeysPage() {
  const qc = useQueryClient();
  const keys = useQuery({ queryKey: ["cloud", "api-keys"], queryFn: () => cloudApi.apiKeys(), retry: false });
  const [name, setName] = useState("");
  const [expires, setExpires] = useState("");
  const [shown, setShown] = useState<NewApiKey | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: ["cloud", "api-keys"] });
  const create = useMutation({
    mutationFn: () => cloudApi.createApiKey(name, expires ? new Date(expires).toISOString() : null),
    onSuccess: async (k) => {
      setShown(k);
      setName("");
      setExpires("");
      await refresh();
    },
  });
  const rotate = useMutation({
    mutationFn: (id: string) => cloudApi.rotateApiKey(id),
    onSuccess: async (k) => {
      setShown(k);
      await refresh();
    },
  });
  const remove = useMutation({ mutationFn: (id: string) => cloudApi.deleteApiKey(id), onSuccess: refresh });
  const submit = (e: SyntheticEvent) => {
    e.preventDefault();
    create.mutate();
  };
  if (keys.isError && keys.error instanceof ApiError && keys.error.status === 404) {
    return (
      <div className="page">
        <h1>API keys</h1>
        <Empty title="API keys need cloud mode">Start the server with baton server start --mode cloud, or set BATON_API_KEY for a shared server key.</Empty>
      </div>
    );
  }
  return (
    <div className="page">
      <div className="page-head">
        <h1>API keys</h1>
      </div>
      {shown && (
        <Card title={`Key "${shown.name}"`} className="warn">
          <p>Copy it now: it is shown only once and cannot be read again.</p>
          <pre className="code" data-testid="new-api-key">{shown.key}</pre>
          <button type="button" onClick={() => setShown(null)}>
            Done
          </button>
        </Card>
      )}
      <Card title="Create a key">
        <form onSubmit={submit} style={{ display: "flex", gap: 12, flexWrap: "wrap", alignItems: "flex-end" }}>
          <label className="field">
            Name
            <input required value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <label className="field">
            Expires (optional)
            <input type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
          </label>
          <button type="submit" className="primary" disabled={create.isPending}>
            Create key
          </button>
        </form>
        {create.isError && <ErrorBox error={create.error} />}
      </Card>
      {keys.isPending && <Loading />}
      {keys.isError && <ErrorBox error={keys.error} retry={() => void keys.refetch()} />}
      {keys.data && keys.data.length === 0 && <Empty title="No API keys yet" />}
      {keys.data && keys.data.length > 0 && (
        <div className="table-wrap">
          <table className="table">
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
                    <button
                      type="button"
                      className="danger"
                      onClick={() => {
                        if (window.confirm(`Delete key ${k.name}? Machines using it stop working.`)) remove.mutate(k.id);
                      }}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
