// The flow run page's actions: cancel, retry, pause, resume (with the input
// form when the run waits for input), change state with a message, delete.
// Each asks first, shows progress, and reports the server's answer.

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useNavigate } from "react-router";
import { ApiError, api } from "../api/client";
import type { FlowRun, JsonSchema, OrchestrationResult, StateType } from "../api/types";
import { ConfirmDialog, Dialog } from "../components/Dialog";
import { Loading } from "../components/common";
import { Markdown } from "../components/Markdown";
import { SchemaForm } from "../components/SchemaForm";
import { notify } from "../components/toast";
import { toFieldErrors } from "../lib/fieldErrors";
import { initialValues, validate } from "../lib/schemaForm";
import { STATE_TYPES } from "../api/types";
import { stateLabel } from "../lib/states";
import { canCancel, canRetry, cancelState, pauseState, rejection, retryState } from "./operations";

type Action = "cancel" | "retry" | "pause" | "resume" | "state" | "delete";

export function RunActions({ run }: { run: FlowRun }) {
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [open, setOpen] = useState<Action | null>(null);
  const [stateType, setStateType] = useState<StateType>("COMPLETED");
  const [message, setMessage] = useState("");
  const propose = async (a: Action): Promise<OrchestrationResult | undefined> => {
    switch (a) {
      case "cancel":
        return api.forceFlowRunState(run.id, cancelState(run), false);
      case "retry":
        return api.forceFlowRunState(run.id, retryState(), false);
      case "pause":
        return api.forceFlowRunState(run.id, pauseState(), false);
      case "resume":
        return api.resumeFlowRun(run.id);
      case "state":
        return api.forceFlowRunState(run.id, { type: stateType, name: stateLabel(stateType), message: message || "Set from the Baton UI" }, true);
      case "delete":
        await api.deleteFlowRun(run.id);
        return undefined;
    }
  };
  const refresh = () => qc.invalidateQueries({ queryKey: ["flow_runs"] }).then(() => qc.invalidateQueries({ queryKey: ["flow_run_states", run.id] }));

  const act = useMutation({
    mutationFn: async (a: Action): Promise<undefined> => {
      const why = rejection(await propose(a));
      if (why) throw new Error(why);
      return undefined;
    },
    onSuccess: async (_res, a) => {
      setOpen(null);
      if (a === "delete") {
        notify(`Flow run ${run.name} deleted`);
        await qc.invalidateQueries({ queryKey: ["flow_runs"] });
        void navigate("/runs");
        return;
      }
      const done: Record<Exclude<Action, "delete">, string> = {
        cancel: "Cancellation requested",
        retry: "Retry scheduled",
        pause: "Pause requested",
        resume: "Resumed",
        state: `State set to ${stateLabel(stateType)}`,
      };
      notify(`${done[a]} for ${run.name}`);
      await refresh();
    },
  });
  // A REJECT or ABORT answer surfaces as an error on the dialog.
  const error = act.error;

  const keyset = run.state?.state_details?.run_input_keyset ?? null;
  const paused = run.state_type === "PAUSED";
  const start = (a: Action) => {
    act.reset();
    setOpen(a);
  };
  return (
    <div className="actions" role="group" aria-label="Run actions">
      {paused && (
        <button type="button" className="primary" onClick={() => start("resume")}>
          Resume
        </button>
      )}
      {run.state_type === "RUNNING" && run.deployment_id && (
        <button type="button" onClick={() => start("pause")}>
          Pause
        </button>
      )}
      {canRetry(run) && (
        <button type="button" onClick={() => start("retry")}>
          Retry
        </button>
      )}
      {canCancel(run.state_type) && (
        <button type="button" className="danger" onClick={() => start("cancel")} disabled={run.state_type === "CANCELLING"}>
          Cancel run
        </button>
      )}
      <button type="button" onClick={() => start("state")}>
        Change state…
      </button>
      <button type="button" className="ghost danger-text" onClick={() => start("delete")}>
        Delete
      </button>

      {open === "resume" && keyset ? (
        <ResumeWithInput run={run} keyset={keyset} onClose={() => setOpen(null)} onDone={refresh} />
      ) : (
        <ConfirmDialog
          open={open !== null && open !== "state"}
          title={
            open === "cancel"
              ? `Cancel ${run.name}?`
              : open === "retry"
                ? `Retry ${run.name}?`
                : open === "pause"
                  ? `Pause ${run.name}?`
                  : open === "resume"
                    ? `Resume ${run.name}?`
                    : `Delete ${run.name}?`
          }
          body={
            open === "cancel" ? (
              <p>{run.state_type === "RUNNING" || run.state_type === "PENDING" ? "The run moves to Cancelling and its worker stops the process." : "The run is cancelled before it starts."}</p>
            ) : open === "retry" ? (
              <p>The run is scheduled again now, with the same parameters; its deployment's worker picks it up (run count {run.run_count} → {run.run_count + 1}).</p>
            ) : open === "pause" ? (
              <p>The run is suspended for up to five minutes and rescheduled when resumed.</p>
            ) : open === "resume" ? (
              <p>The run continues from where it paused.</p>
            ) : (
              <p>The run, its task runs, states and logs are removed for good.</p>
            )
          }
          confirmLabel={open === "cancel" ? "Cancel run" : open === "retry" ? "Retry" : open === "pause" ? "Pause" : open === "resume" ? "Resume" : "Delete"}
          danger={open === "cancel" || open === "delete"}
          busy={act.isPending}
          error={error}
          onConfirm={() => open && act.mutate(open)}
          onClose={() => setOpen(null)}
        />
      )}
      <Dialog open={open === "state"} title={`Change the state of ${run.name}`} onClose={() => setOpen(null)}>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            act.mutate("state");
          }}
        >
          <label className="field">
            <span>New state</span>
            <select value={stateType} onChange={(e) => setStateType(e.target.value as StateType)} name="state-type">
              {STATE_TYPES.map((t) => (
                <option key={t} value={t}>
                  {stateLabel(t)}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Message (optional)</span>
            <input type="text" value={message} onChange={(e) => setMessage(e.target.value)} name="state-message" />
          </label>
          <p className="muted small">The state is forced: orchestration rules do not apply.</p>
          {error && (
            <p className="form-error" role="alert">
              {error.message}
            </p>
          )}
          <div className="dialog-actions">
            <button type="button" onClick={() => setOpen(null)}>
              Close
            </button>
            <button type="submit" className="primary" disabled={act.isPending}>
              {act.isPending ? "Working…" : "Set state"}
            </button>
          </div>
        </form>
      </Dialog>
    </div>
  );
}

/** Resume a run that waits for input: the form comes from the input schema the flow stored. */
function ResumeWithInput({ run, keyset, onClose, onDone }: { run: FlowRun; keyset: Record<string, string>; onClose: () => void; onDone: () => Promise<unknown> }) {
  const schemaKey = keyset.schema;
  const descKey = keyset.description;
  const schema = useQuery({
    queryKey: ["flow_run_input", run.id, schemaKey],
    queryFn: ({ signal }) => api.flowRunInput(run.id, schemaKey ?? "", signal) as Promise<JsonSchema>,
    enabled: !!schemaKey,
  });
  const description = useQuery({
    queryKey: ["flow_run_input", run.id, descKey],
    queryFn: async ({ signal }) => {
      try {
        return await api.flowRunInput(run.id, descKey ?? "", signal);
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return null;
        throw e;
      }
    },
    enabled: !!descKey,
  });
  const [values, setValues] = useState<Record<string, unknown> | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const resume = useMutation({
    mutationFn: (input: Record<string, unknown>) => api.resumeFlowRun(run.id, input),
    onSuccess: async (res) => {
      const why = rejection(res);
      if (why) {
        setGeneral(why);
        return;
      }
      notify(`Resumed ${run.name} with input`);
      onClose();
      await onDone();
    },
    onError: (err) => {
      const fe = err instanceof ApiError ? toFieldErrors(err.detail, err.message) : { fields: {}, general: [String(err)] };
      setErrors(fe.fields);
      setGeneral(fe.general.join("; ") || null);
    },
  });
  const s = schema.data;
  const current = values ?? (s ? initialValues(s, {}) : {});
  return (
    <Dialog open title={`Resume ${run.name}`} onClose={onClose} wide>
      {schema.isPending ? (
        <Loading label="Loading the input form…" />
      ) : schema.isError ? (
        <p className="form-error" role="alert">
          Could not read the run's input schema: {schema.error.message}
        </p>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const errs = s ? validate(s, current) : {};
            setErrors(errs);
            setGeneral(null);
            if (Object.keys(errs).length === 0) resume.mutate(current);
          }}
          data-testid="resume-form"
        >
          {typeof description.data === "string" && description.data && <Markdown text={description.data} />}
          {s && <SchemaForm schema={s} values={current} onChange={setValues} errors={errors} />}
          {general && (
            <p className="form-error" role="alert">
              {general}
            </p>
          )}
          <div className="dialog-actions">
            <button type="button" onClick={onClose}>
              Close
            </button>
            <button type="submit" className="primary" disabled={resume.isPending}>
              {resume.isPending ? "Resuming…" : "Resume with this input"}
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
