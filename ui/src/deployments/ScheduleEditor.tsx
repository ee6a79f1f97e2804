// Add or edit one deployment schedule: interval, cron or rrule, its time
// zone, and a live preview of the next runs (interval and cron) in the
// schedule's zone and in the user's.

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ApiError, api } from "../api/client";
import type { DeploymentSchedule, Schedule } from "../api/types";
import { Dialog } from "../components/Dialog";
import { notify } from "../components/toast";
import { formatAbsolute } from "../lib/format";
import { isCron, isInterval, nextRuns, parseCron } from "../lib/schedules";
import { allZones } from "../lib/timePrefs";

type Kind = "interval" | "cron" | "rrule";

function kindOf(s: Schedule | undefined): Kind {
  if (!s) return "interval";
  return isInterval(s) ? "interval" : isCron(s) ? "cron" : "rrule";
}

export function ScheduleEditor({ deploymentId, existing, onClose }: { deploymentId: string; existing: DeploymentSchedule | null; onClose: () => void }) {
  const qc = useQueryClient();
  const s = existing?.schedule;
  const [kind, setKind] = useState<Kind>(kindOf(s));
  const [interval, setInterval] = useState(s && isInterval(s) ? String(s.interval) : "3600");
  const [cron, setCron] = useState(s && isCron(s) ? s.cron : "0 9 * * *");
  const [rrule, setRrule] = useState(s && "rrule" in s ? s.rrule : "FREQ=DAILY;BYHOUR=9");
  const [zone, setZone] = useState(s?.timezone ?? "UTC");
  const [active, setActive] = useState(existing?.active ?? true);
  const [fieldError, setFieldError] = useState<{ field: string; message: string } | null>(null);

  let schedule: Schedule | null = null;
  let localError: { field: string; message: string } | null = null;
  if (kind === "interval") {
    const n = Number(interval);
    if (!(n > 0)) localError = { field: "interval", message: "Enter a number of seconds greater than 0" };
    else schedule = { interval: n, timezone: zone };
  } else if (kind === "cron") {
    try {
      parseCron(cron);
      schedule = { cron, timezone: zone, day_or: true };
    } catch (err) {
      localError = { field: "cron", message: err instanceof Error ? err.message : String(err) };
    }
  } else if (rrule.trim() === "") {
    localError = { field: "rrule", message: "Enter an RRULE" };
  } else {
    schedule = { rrule: rrule.trim(), timezone: zone };
  }
  let preview: number[] | null;
  try {
    preview = schedule ? nextRuns(schedule, Date.now(), 5) : [];
  } catch {
    preview = [];
  }

  const save = useMutation({
    mutationFn: async () => {
      if (!schedule) throw new Error(localError?.message ?? "Invalid schedule");
      if (existing) await api.updateSchedule(deploymentId, existing.id, { schedule, active });
      else await api.createSchedules(deploymentId, [{ schedule, active }]);
    },
    onSuccess: async () => {
      notify(existing ? "Schedule updated" : "Schedule added");
      await qc.invalidateQueries({ queryKey: ["deployments"] });
      await qc.invalidateQueries({ queryKey: ["flow_runs"] });
      onClose();
    },
    onError: (err) => {
      if (err instanceof ApiError && err.status === 422) {
        const m = /\b(interval|cron|rrule|timezone)\b/i.exec(err.message);
        setFieldError({ field: m?.[1]?.toLowerCase() === "timezone" ? "zone" : (m?.[1]?.toLowerCase() ?? kind), message: err.message });
      } else {
        setFieldError({ field: "", message: err instanceof Error ? err.message : String(err) });
      }
    },
  });
  const shown = fieldError ?? null;
  const errFor = (f: string) => (shown?.field === f ? shown.message : localError?.field === f ? localError.message : undefined);

  return (
    <Dialog open title={existing ? "Edit schedule" : "Add schedule"} onClose={onClose} wide>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setFieldError(null);
          save.mutate();
        }}
        data-testid="schedule-form"
      >
        <fieldset className="radio-row">
          <legend>Kind</legend>
          {(["interval", "cron", "rrule"] as const).map((k) => (
            <label key={k} className="check">
              <input type="radio" name="kind" value={k} checked={kind === k} onChange={() => setKind(k)} />
              {k === "interval" ? "Interval" : k === "cron" ? "Cron" : "RRule"}
            </label>
          ))}
        </fieldset>
        {kind === "interval" && <Field label="Every (seconds)" name="interval" value={interval} onChange={setInterval} error={errFor("interval")} type="number" />}
        {kind === "cron" && <Field label="Cron expression (minute hour day month weekday)" name="cron" value={cron} onChange={setCron} error={errFor("cron")} />}
        {kind === "rrule" && <Field label="RRULE (RFC 5545)" name="rrule" value={rrule} onChange={setRrule} error={errFor("rrule")} />}
        <label className="field">
          <span>Time zone</span>
          <select value={zone} onChange={(e) => setZone(e.target.value)} name="timezone" aria-invalid={errFor("zone") ? true : undefined}>
            {allZones().map((z) => (
              <option key={z} value={z}>
                {z}
              </option>
            ))}
          </select>
          {errFor("zone") && <span className="field-error">{errFor("zone")}</span>}
        </label>
        <label className="check">
          <input type="checkbox" checked={active} onChange={(e) => setActive(e.target.checked)} name="active" />
          Active
        </label>
        <div className="preview" aria-live="polite">
          <h3>Next runs</h3>
          {preview === null ? (
            <p className="muted small">No preview for RRules; the server computes their runs once saved.</p>
          ) : preview.length === 0 ? (
            <p className="muted small">—</p>
          ) : (
            <ol className="plain" data-testid="schedule-preview">
              {preview.map((t) => (
                <li key={t}>
                  {formatAbsolute(new Date(t).toISOString(), undefined, zone)}
                  <span className="muted"> · {formatAbsolute(new Date(t).toISOString())}</span>
                </li>
              ))}
            </ol>
          )}
        </div>
        {shown && shown.field === "" && (
          <p className="form-error" role="alert">
            {shown.message}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Close
          </button>
          <button type="submit" className="primary" disabled={save.isPending || schedule === null}>
            {save.isPending ? "Saving…" : existing ? "Save schedule" : "Add schedule"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function Field({ label, name, value, onChange, error, type = "text" }: { label: string; name: string; value: string; onChange: (v: string) => void; error: string | undefined; type?: string }) {
  return (
    <label className="field">
      <span>{label}</span>
      <input type={type} name={name} value={value} onChange={(e) => onChange(e.target.value)} aria-invalid={error ? true : undefined} />
      {error && <span className="field-error">{error}</span>}
    </label>
  );
}
