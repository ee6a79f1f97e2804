// "Notify me when this fails": one click on a flow or deployment page
// creates an automation that sends a notification through a chosen
// notification block when one of its runs fails or crashes.

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { contentApi } from "../api/content";
import { Dialog } from "../components/Dialog";
import { notify } from "../components/toast";
import { automationsApi } from "./api";
import { failureNotification } from "./templates";

/** The block documents that can send notifications. */
export function useNotificationBlocks() {
  return useQuery({
    queryKey: ["block-documents", "notify"],
    queryFn: async ({ signal }) => (await contentApi.blockDocuments({}, signal)).filter((b) => b.block_schema?.capabilities.includes("notify")),
  });
}

export function NotifyOnFailure({ kind, id, name }: { kind: "flow" | "deployment"; id: string; name: string }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" onClick={() => setOpen(true)}>Notify me when this fails</button>
      {open && <NotifyDialog kind={kind} id={id} name={name} onClose={() => setOpen(false)} />}
    </>
  );
}

function NotifyDialog({ kind, id, name, onClose }: { kind: "flow" | "deployment"; id: string; name: string; onClose: () => void }) {
  const blocks = useNotificationBlocks();
  const [block, setBlock] = useState("");
  const qc = useQueryClient();
  const create = useMutation({
    mutationFn: () => automationsApi.create(failureNotification(kind, id, name, block || (blocks.data?.[0]?.id ?? ""))),
    onSuccess: async () => {
      notify(`You will be notified when ${name} fails`);
      await qc.invalidateQueries({ queryKey: ["automations"] });
      onClose();
    },
  });
  const list = blocks.data ?? [];
  return (
    <Dialog open title={`Notify me when ${name} fails`} onClose={onClose}>
      {blocks.isPending ? (
        <p>Loading notification blocks…</p>
      ) : list.length === 0 ? (
        <div>
          <p>There is no notification block yet (Slack, Microsoft Teams, a custom webhook, SMTP email…).</p>
          <p><Link to="/blocks/catalog">Create one in the block catalogue</Link>, then come back.</p>
          <div className="dialog-actions"><button type="button" onClick={onClose}>Close</button></div>
        </div>
      ) : (
        <form className="form" onSubmit={(e) => { e.preventDefault(); create.mutate(); }}>
          <p>When a run of this {kind} fails or crashes, Baton sends its name, state and a link through:</p>
          <div className="field">
            <label htmlFor="notify-block">Notification block</label>
            <select id="notify-block" value={block || list[0]?.id} onChange={(e) => setBlock(e.target.value)}>
              {list.map((b) => <option key={b.id} value={b.id}>{b.name} ({b.block_type?.name ?? b.block_type_name})</option>)}
            </select>
          </div>
          {create.isError && <p className="form-error" role="alert">{create.error.message}</p>}
          <div className="dialog-actions">
            <button type="button" onClick={onClose}>Cancel</button>
            <button type="submit" className="primary" disabled={create.isPending}>{create.isPending ? "Creating…" : "Notify me"}</button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
