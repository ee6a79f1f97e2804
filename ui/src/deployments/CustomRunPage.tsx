// Custom run: a form generated from the deployment's parameter schema, plus
// a name, a start time (now or later), tags, the work queue and job-variable
// overrides. Local validation names each field; the server's 422 lands next
// to the field it names.

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { ApiError, api } from "../api/client";
import type { Deployment } from "../api/types";
import { ErrorBox, Loading } from "../components/common";
import { SchemaForm } from "../components/SchemaForm";
import { notify } from "../components/toast";
import { toFieldErrors } from "../lib/fieldErrors";
import { fromLocalInput, toLocalInput } from "../lib/format";
import { initialValues, validate } from "../lib/schemaForm";

export function CustomRunPage() {
  const { id = "" } = useParams();
  const q = useQuery({ queryKey: ["deployments", "one", id], queryFn: ({ signal }) => api.deployment(id, signal) });
  if (q.isPending) return <div className="page"><Loading /></div>;
  if (q.isError) return <div className="page"><ErrorBox error={q.error} retry={() => void q.refetch()} /></div>;
  return <CustomRunForm d={q.data} />;
}

function CustomRunForm({ d }: { d: Deployment }) {
  const navigate = useNavigate();
  const qc = useQueryClient();
  const schema = d.parameter_openapi_schema ?? { type: "object", properties: {} };
  const [values, setValues] = useState<Record<string, unknown>>(() => initialValues(schema, d.parameters));
  const [name, setName] = useState("");
  const [when, setWhen] = useState<"now" | "later">("now");
  const [at, setAt] = useState(() => toLocalInput(new Date(Date.now() + 3600_000).toISOString()));
  const [tags, setTags] = useState(d.tags.join(", "));
  const [queue, setQueue] = useState(d.work_queue_name ?? "");
  const [jobVars, setJobVars] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string[]>([]);
  const queues = useQuery({
    queryKey: ["work_queues", d.work_pool_name],
    queryFn: ({ signal }) => api.workQueues(d.work_pool_name ?? "", signal),
    enabled: !!d.work_pool_name,
    retry: false,
  });

  const submit = useMutation({
    mutationFn: (body: Parameters<typeof api.createDeploymentFlowRun>[1]) => api.createDeploymentFlowRun(d.id, body),
    onSuccess: async (run) => {
      notify(when === "now" ? `Started ${run.name}` : `Scheduled ${run.name}`);
      await qc.invalidateQueries({ queryKey: ["flow_runs"] });
      void navigate(`/runs/flow-run/${run.id}`);
    },
    onError: (err) => {
      if (err instanceof ApiError && (err.status === 422 || err.status === 409 || err.status === 400)) {
        const fe = toFieldErrors(err.detail, err.message);
        const fields: Record<string, string> = {};
        const rest = [...fe.general];
        for (const [k, v] of Object.entries(fe.fields)) {
          const key = k.replace(/^parameters\./, "");
          if (key === "name" || key === "tags" || key === "job_variables" || key === "work_queue_name") fields[`__${key}`] = v;
          else fields[key] = v;
        }
        setErrors(fields);
        setGeneral(rest);
      } else {
        setGeneral([err instanceof Error ? err.message : String(err)]);
      }
    },
  });

  const onSubmit = (e: React.SyntheticEvent) => {
    e.preventDefault();
    const errs = validate(schema, values);
    let jv: Record<string, unknown> | undefined;
    if (jobVars.trim()) {
      try {
        const parsed = JSON.parse(jobVars) as unknown;
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) errs.__job_variables = "must be a JSON object";
        else jv = parsed as Record<string, unknown>;
      } catch (err) {
        errs.__job_variables = `not valid JSON: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    const start = when === "later" ? fromLocalInput(at) : null;
    if (when === "later" && !start) errs.__when = "choose a date and time";
    setErrors(errs);
    setGeneral([]);
    if (Object.keys(errs).length) return;
    const body: Parameters<typeof api.createDeploymentFlowRun>[1] = {
      parameters: values,
      tags: tags.split(",").map((t) => t.trim()).filter(Boolean),
    };
    if (name.trim()) body.name = name.trim();
    if (jv) body.job_variables = jv;
    if (queue && queue !== d.work_queue_name) body.work_queue_name = queue;
    if (start) body.state = { type: "SCHEDULED", name: "Scheduled", state_details: { scheduled_time: start } };
    submit.mutate(body);
  };

  return (
    <div className="page narrow">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/deployments">Deployments</Link>
        <span aria-hidden="true">›</span>
        <Link to={`/deployments/deployment/${d.id}`}>{d.name}</Link>
      </nav>
      <header className="page-head">
        <h1>Custom run of {d.name}</h1>
      </header>
      <form className="card form" onSubmit={onSubmit} noValidate data-testid="custom-run-form">
        <h2>Parameters</h2>
        <SchemaForm schema={schema} values={values} onChange={setValues} errors={errors} />
        <h2>Run</h2>
        <div className="form-grid">
          <label className="field">
            <span>Run name (optional)</span>
            <input type="text" name="run-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="A generated name" aria-invalid={errors.__name ? true : undefined} />
            {errors.__name && <span className="field-error">{errors.__name}</span>}
          </label>
          <label className="field">
            <span>Tags (comma separated)</span>
            <input type="text" name="tags" value={tags} onChange={(e) => setTags(e.target.value)} />
            {errors.__tags && <span className="field-error">{errors.__tags}</span>}
          </label>
          {d.work_pool_name && (
            <label className="field">
              <span>Work queue</span>
              <select name="work-queue" value={queue} onChange={(e) => setQueue(e.target.value)}>
                {!queues.data?.some((q) => q.name === queue) && <option value={queue}>{queue || "default"}</option>}
                {(queues.data ?? []).map((q) => (
                  <option key={q.id} value={q.name}>
                    {q.name}
                  </option>
                ))}
              </select>
              {errors.__work_queue_name && <span className="field-error">{errors.__work_queue_name}</span>}
            </label>
          )}
        </div>
        <fieldset className="radio-row">
          <legend>Start</legend>
          <label className="check">
            <input type="radio" name="when" checked={when === "now"} onChange={() => setWhen("now")} />
            Now
          </label>
          <label className="check">
            <input type="radio" name="when" checked={when === "later"} onChange={() => setWhen("later")} />
            Later
          </label>
          {when === "later" && (
            <label className="field inline">
              <span>At</span>
              <input type="datetime-local" name="start-at" value={at} onChange={(e) => setAt(e.target.value)} aria-invalid={errors.__when ? true : undefined} />
              {errors.__when && <span className="field-error">{errors.__when}</span>}
            </label>
          )}
        </fieldset>
        <label className="field">
          <span>Job variable overrides (JSON object, optional)</span>
          <textarea className="code" name="job-variables" rows={3} value={jobVars} onChange={(e) => setJobVars(e.target.value)} placeholder={'{"env": {"LOG_LEVEL": "DEBUG"}}'} aria-invalid={errors.__job_variables ? true : undefined} />
          {errors.__job_variables && <span className="field-error">{errors.__job_variables}</span>}
        </label>
        {general.length > 0 && (
          <div className="form-error" role="alert">
            {general.map((g) => (
              <p key={g}>{g}</p>
            ))}
          </div>
        )}
        {Object.keys(errors).length > 0 && general.length === 0 && (
          <p className="form-error" role="alert">
            Fix the fields marked above.
          </p>
        )}
        <div className="dialog-actions">
          <Link className="button" to={`/deployments/deployment/${d.id}`}>
            Back
          </Link>
          <button type="submit" className="primary" disabled={submit.isPending}>
            {submit.isPending ? "Submitting…" : when === "now" ? "Run now" : "Schedule run"}
          </button>
        </div>
      </form>
    </div>
  );
}
