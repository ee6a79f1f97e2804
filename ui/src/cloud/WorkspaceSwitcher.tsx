import { useNavigate } from "react-router";
import { cloudApi } from "./cloudApi";
import { useOptionalCloud } from "./CloudGate";

/** The sidebar's workspace picker and sign-out (cloud mode only). */
export function WorkspaceSwitcher() {
  const cloud = useOptionalCloud();
  const navigate = useNavigate();
  if (!cloud) return null;
  const value = cloud.current ? `${cloud.current.account_id}/${cloud.current.workspace_id}` : "";
  return (
    <div className="field">
      <label htmlFor="workspace-switcher">Workspace</label>
      <select
        id="workspace-switcher"
        value={value}
        onChange={(e) => {
          const w = cloud.workspaces.find((x) => `${x.account_id}/${x.workspace_id}` === e.target.value);
          if (w) {
            cloud.select(w);
            void navigate("/dashboard");
          }
        }}
      >
        {cloud.workspaces.map((w) => (
          <option key={w.workspace_id} value={`${w.account_id}/${w.workspace_id}`}>
            {w.account_handle}/{w.workspace_handle}
          </option>
        ))}
      </select>
      <span className="muted">{cloud.session.user?.email}</span>
      <button
        type="button"
        className="ghost"
        onClick={() => {
          void cloudApi.signOut().then(() => cloud.refresh());
        }}
      >
        Sign out
      </button>
    </div>
  );
}
