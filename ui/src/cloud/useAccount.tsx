import { useState } from "react";
import { useOptionalCloud } from "./CloudGate";

/** The accounts the caller reaches and the one a page works on (with a picker). */
export function useAccount() {
  const cloud = useOptionalCloud();
  const accounts = [...new Map((cloud?.workspaces ?? []).map((w) => [w.account_id, w])).values()];
  const [chosen, setChosen] = useState("");
  const accountId = chosen || cloud?.current?.account_id || accounts[0]?.account_id || "";
  const picker =
    accounts.length > 1 ? (
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
    ) : null;
  return { cloud, accountId, picker };
}
