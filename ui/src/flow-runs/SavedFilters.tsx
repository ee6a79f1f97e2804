// Saved filters on the runs list, stored on the server with Prefect's saved
// searches (/saved_searches), so they follow the workspace, not the browser.
// A Baton filter is saved as one entry holding the list's query string.

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useNavigate, useSearchParams } from "react-router";
import { ApiError, api } from "../api/client";
import type { SavedSearch, SavedSearchFilter } from "../api/types";
import { Dialog } from "../components/Dialog";
import { notify, notifyError } from "../components/toast";

const OBJECT = "baton.flow_runs";

/** The runs-list query string a saved search holds, or null for searches saved by another UI. */
export function savedQuery(s: SavedSearch): string | null {
  const f = s.filters.find((x) => x.object === OBJECT && x.property === "query");
  return f && typeof f.value === "string" ? f.value : null;
}

export function toSavedFilters(query: string): SavedSearchFilter[] {
  return [{ object: OBJECT, property: "query", type: "string", operation: "equals", value: query }];
}

export function SavedFilters() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [naming, setNaming] = useState(false);
  const [name, setName] = useState("");
  const list = useQuery({ queryKey: ["saved_searches"], queryFn: ({ signal }) => api.savedSearches(signal), retry: false, staleTime: 30_000 });
  const current = new URLSearchParams(params);
  current.delete("page");
  const query = current.toString();
  const save = useMutation({
    mutationFn: () => api.saveSearch(name.trim(), toSavedFilters(query)),
    onSuccess: async () => {
      notify(`Saved filter "${name.trim()}"`);
      setNaming(false);
      setName("");
      await qc.invalidateQueries({ queryKey: ["saved_searches"] });
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => api.deleteSavedSearch(id),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["saved_searches"] }),
    onError: (err) => notifyError("Could not delete the saved filter", err),
  });
  if (list.isError && list.error instanceof ApiError && (list.error.status === 404 || list.error.status === 405)) {
    return <p className="muted small">Saved filters need the server's saved-searches API, which this server does not offer yet.</p>;
  }
  const ours = (list.data ?? []).filter((s) => savedQuery(s) !== null);
  const active = ours.find((s) => savedQuery(s) === query);
  return (
    <div className="saved-filters" data-testid="saved-filters">
      <label className="field inline">
        <span>Saved filters</span>
        <select
          value={active?.id ?? ""}
          onChange={(e) => {
            const s = ours.find((x) => x.id === e.target.value);
            if (s) void navigate({ search: savedQuery(s) ?? "" });
            else void navigate({ search: "" });
          }}
          name="saved-filter"
        >
          <option value="">{ours.length ? "Choose a saved filter" : "None saved yet"}</option>
          {ours.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
      </label>
      <button type="button" onClick={() => setNaming(true)} disabled={query === ""} title={query === "" ? "Set some filters first" : undefined}>
        Save current filter
      </button>
      {active && (
        <button type="button" className="ghost" onClick={() => remove.mutate(active.id)}>
          Delete “{active.name}”
        </button>
      )}
      <Dialog open={naming} title="Save this filter" onClose={() => setNaming(false)}>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (name.trim()) save.mutate();
          }}
        >
          <label className="field">
            <span>Name</span>
            <input type="text" value={name} onChange={(e) => setName(e.target.value)} required name="saved-name" />
          </label>
          {save.isError && <p className="form-error" role="alert">{save.error.message}</p>}
          <div className="dialog-actions">
            <button type="button" onClick={() => setNaming(false)}>
              Close
            </button>
            <button type="submit" className="primary" disabled={save.isPending || !name.trim()}>
              {save.isPending ? "Saving…" : "Save"}
            </button>
          </div>
        </form>
      </Dialog>
    </div>
  );
}
