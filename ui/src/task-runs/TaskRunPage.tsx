import { ArtifactsPanel } from "../artifacts/ArtifactsPanel";
import { useEffect } from "react";
import { Link, useParams } from "react-router";
import { useFlowRun, useTaskRun, useTaskRunStates } from "../api/queries";
import type { TaskRun, TaskRunInput } from "../api/types";
import { Card, Empty, ErrorBox, JsonBlock, KeyValues, Loading, StateBadge, Tags, TimeFull } from "../components/common";
import { StateHistory } from "../components/StateHistory";
import { LogsPanel } from "../logs/LogsPanel";
import { formatDuration, runDuration, shortId } from "../lib/format";
import { isRunning } from "../lib/states";
import { useNow } from "../lib/useNow";

export function TaskRunPage() {
  const { id = "" } = useParams();
  const q = useTaskRun(id);
  if (q.isPending) return <div className="page"><Loading /></div>;
  if (q.isError) return <div className="page"><ErrorBox error={q.error} retry={() => void q.refetch()} /></div>;
  return <TaskRunView run={q.data} />;
}

function InputRef({ input }: { input: TaskRunInput }) {
  switch (input.input_type) {
    case "task_run":
      return <Link to={`/runs/task-run/${input.id}`}>task run {shortId(input.id)}</Link>;
    case "flow_run":
      return <Link to={`/runs/flow-run/${input.id}`}>flow run {shortId(input.id)}</Link>;
    case "parameter":
      return <span>parameter <code>{input.name}</code></span>;
    case "constant":
      return <span>constant ({input.type})</span>;
  }
}

function TaskRunView({ run }: { run: TaskRun }) {
  const live = isRunning(run.state_type);
  const now = useNow(live ? 1000 : 30_000);
  const states = useTaskRunStates(run.id);
  const flowRun = useFlowRun(run.flow_run_id ?? "");
  useEffect(() => {
    document.title = `${run.name} · Baton`;
  }, [run.name]);
  const inputs = Object.entries(run.task_inputs).filter(([, v]) => v && v.length > 0);
  const policy = run.empirical_policy;
  return (
    <div className="page">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/runs">Runs</Link>
        {run.flow_run_id && (
          <>
            <span aria-hidden="true">›</span>
            <Link to={`/runs/flow-run/${run.flow_run_id}?tab=task-runs`}>{flowRun.data?.name ?? "flow run"}</Link>
          </>
        )}
      </nav>
      <header className="page-head">
        <h1>
          {run.name} <StateBadge type={run.state_type} name={run.state_name} />
        </h1>
      </header>
      {run.state?.message && <p className={`notice ${run.state_type === "FAILED" || run.state_type === "CRASHED" ? "bad" : ""}`}>{run.state.message}</p>}
      <div className="two-col">
        <Card title="Details">
          <KeyValues
            items={[
              ["Task run ID", <code key="id">{run.id}</code>],
              ["Task key", <code key="k">{run.task_key}</code>],
              ["Started", <TimeFull key="s" iso={run.start_time} now={now} />],
              ["Ended", <TimeFull key="e" iso={run.end_time} now={now} />],
              ["Duration", formatDuration(runDuration(run, now))],
              ["Run count", String(run.run_count)],
              ["Retries", `${policy?.retries ?? policy?.max_retries ?? 0} allowed`],
              ["Retry delay", Array.isArray(policy?.retry_delay) ? policy.retry_delay.map((d) => `${d}s`).join(", ") : `${policy?.retry_delay ?? policy?.retry_delay_seconds ?? 0}s`],
              ["Cache key", run.cache_key ? <code key="c">{run.cache_key}</code> : "—"],
              ["Cache expires", <TimeFull key="ce" iso={run.cache_expiration} now={now} />],
              ["Version", run.task_version ?? "—"],
              ["Tags", run.tags.length ? <Tags key="t" tags={run.tags} /> : "—"],
            ]}
          />
        </Card>
        <Card title="State history">
          {states.isError ? (
            <ErrorBox error={states.error} />
          ) : !states.data ? (
            <Loading />
          ) : (
            <StateHistory states={states.data} until={run.end_time ? Date.parse(run.end_time) : now} />
          )}
        </Card>
      </div>
      <Card title="Inputs">
        {inputs.length === 0 ? (
          <Empty title="No upstream inputs" />
        ) : (
          <dl className="kv">
            {inputs.map(([name, list]) => (
              <div key={name}>
                <dt>{name === "__parents__" ? "parent task" : name}</dt>
                <dd>
                  {(list ?? []).map((inp, i) => (
                    <span key={i} className="input-ref">
                      <InputRef input={inp} />
                    </span>
                  ))}
                </dd>
              </div>
            ))}
          </dl>
        )}
      </Card>
      <Card title="Result">
        {run.state?.data ? <JsonBlock value={run.state.data} /> : <p className="muted small">No persisted result recorded for this task run (results are kept when the task or flow persists them).</p>}
      </Card>
      <Card title="Artifacts">
        <ArtifactsPanel taskRunId={run.id} live={live} />
      </Card>
      <Card title="Logs">
        <LogsPanel filter={{ task_run_id: { any_: [run.id] } }} live={live} fileName={`${run.name}-logs.txt`} version={run.state?.id ?? ""} />
      </Card>
    </div>
  );
}
